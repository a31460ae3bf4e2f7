"""Shared-memory steps (capability shm_steps), the worker's side: real worker processes driven by
dsogym.testing.WorkerDriver, with this test playing the server's part of the region (a file in
/dev/shm written and read as the Java server does). The Java side and the contract over both
transports are tested in Java (SharedMemoryStepsTest, PythonWorker*ContractTest) and in
test_hub.py."""

from __future__ import annotations

import mmap
import os
import secrets
import socket
import struct
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from dsogym import codec, shm
from dsogym.proto import pb
from dsogym.testing import WorkerDriver

TRANSPORTS = ["aio", "sync"]
INVALID_ARGUMENT, FAILED_PRECONDITION = 3, 9

pytestmark = pytest.mark.skipif(not shm.supported(), reason="shared-memory steps need x86-64 Linux with /dev/shm")


class ServerRegion:
    """The server's side of a region, as RemoteVectorEnv/SharedMemoryRegion run it in Java."""

    def __init__(self, request_capacity: int = 4096, reply_capacity: int = 65536, packed: tuple | None = None):
        """``packed``: (lanes, observation dtype, observation shape) for an offer of packed step
        replies, which ``reply`` then decodes into the WorkerMessage they stand for."""
        self.packed = packed
        self.formats: list[int] = []
        self.path = f"{shm.DIRECTORY}/dsogym-test-{os.getpid()}-{secrets.token_hex(8)}"
        self.request_capacity = request_capacity
        self.size = shm.HEADER_BYTES + request_capacity + reply_capacity
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, self.size)
            self.mm = mmap.mmap(fd, self.size)
        finally:
            os.close(fd)
        self.token = secrets.token_bytes(shm.TOKEN_BYTES)
        self.mm[:shm.TOKEN_BYTES] = self.token
        self.words = np.frombuffer(self.mm, "<i8", count=shm.HEADER_BYTES // 8)
        self.doorbell_path = self.path + ".sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.doorbell_path)
        self.listener.listen(1)
        self.listener.settimeout(30)
        self.bell: socket.socket | None = None

    def offer(self) -> pb.SharedMemoryOffer:
        return pb.SharedMemoryOffer(path=self.path, size_bytes=self.size, request_capacity=self.request_capacity,
                                    doorbell_path=self.doorbell_path, packed_step_replies=self.packed is not None)

    def send(self, cid: int, **command) -> None:
        if self.bell is None:
            self.bell, _ = self.listener.accept()  # the worker connected before it answered the offer
        data = pb.ServerCommand(id=cid, **command).SerializeToString()
        self.mm[shm.HEADER_BYTES:shm.HEADER_BYTES + len(data)] = data
        struct.pack_into("<i", self.mm, shm.REQUEST_LENGTH, len(data))
        self.words[shm.REQUEST_SEQ // 8] = cid
        try:  # the rings of earlier replies (this side spins), so that they never fill the socket
            self.bell.recv(4096, socket.MSG_DONTWAIT)
        except BlockingIOError:
            pass
        self.bell.send(b"\x01")

    def reply(self, cid: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while self.words[shm.REPLY_SEQ // 8] != cid:
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to command {cid} in the region within {timeout} s")
        length, form = struct.unpack_from("<ii", self.mm, shm.REPLY_LENGTH)
        start = shm.HEADER_BYTES + self.request_capacity
        self.formats.append(form)
        if form == 0:
            return pb.WorkerMessage.FromString(self.mm[start:start + length])
        assert form == 1 and self.packed is not None, f"reply format {form}"
        return self._unpack_step(cid, bytes(self.mm[start:start + length]))

    def _unpack_step(self, cid: int, data: bytes):
        """A packed step (docs/protocol.md): K and 4 zero bytes, N float64 rewards, N
        observations, K final observations, N + N flag bytes, K int32 ended lanes."""
        n, dtype, shape = self.packed
        dtype = np.dtype(dtype)
        element = int(np.prod(shape)) * dtype.itemsize
        k, zero = struct.unpack_from("<ii", data, 0)
        assert zero == 0 and 0 <= k <= n
        assert len(data) == 8 + 8 * n + n * element + k * element + 2 * n + 4 * k
        at = 8
        rewards = np.frombuffer(data, "<f8", n, at)
        at += 8 * n
        obs = np.frombuffer(data, dtype, n * element // dtype.itemsize, at).reshape(n, *shape)
        at += n * element
        finals = np.frombuffer(data, dtype, k * element // dtype.itemsize, at).reshape(k, *shape)
        at += k * element
        flags = np.frombuffer(data, np.uint8, 2 * n, at)
        assert set(flags.tolist()) <= {0, 1}
        ended = np.frombuffer(data, "<i4", k, at + 2 * n)
        m = pb.WorkerMessage(id=cid)
        r = m.step_result
        codec.encode_value(obs, None, r.observations)
        codec.encode_tensor(rewards, r.rewards)
        codec.encode_tensor(flags[:n].astype(bool), r.terminated)
        codec.encode_tensor(flags[n:].astype(bool), r.truncated)
        r.ended_lanes.extend(ended.tolist())
        if k:
            codec.encode_value(finals, None, r.final_observations)
        return m

    def command(self, cid: int, **command):
        self.send(cid, **command)
        return self.reply(cid)

    def close(self) -> None:
        for path in (self.path, self.doorbell_path):
            if os.path.exists(path):
                os.unlink(path)
        self.listener.close()
        if self.bell is not None:
            self.bell.close()


@pytest.fixture
def driver():
    with WorkerDriver() as d:
        yield d


@pytest.fixture
def region():
    r = ServerRegion()
    yield r
    r.close()


def connect(driver, spawn_worker, env, n, mode=pb.SAME_STEP, transport="aio", extra=()):
    proc = spawn_worker("--server", driver.address, "--env", env, "--num-envs", str(n), "--transport", transport,
                        *extra)
    session = driver.accept(timeout=60)
    session.hello(autoreset_mode=mode)
    return proc, session


@pytest.mark.parametrize("transport, packed", [(t, False) for t in TRANSPORTS] + [("aio", True)])
def test_steps_through_the_region_match_a_local_sync_vector_env(driver, spawn_worker, transport, packed):
    """With packed step replies offered, the steps that omit info come packed (format 1) and
    carry the same arrays; resets, steps with info and errors stay messages (format 0)."""
    n = 3
    region = ServerRegion(packed=(n, np.float32, (4,)) if packed else None)
    try:
        _check_steps_through_the_region(driver, spawn_worker, region, transport, n)
    finally:
        region.close()
    omit_info_steps = [f for t, f in zip(range(100, 202), region.formats) if t % 2 == 0 and 101 <= t <= 200]
    info_steps = [f for t, f in zip(range(100, 202), region.formats) if t % 2 == 1 or t in (100, 201)]
    assert len(region.formats) == 102
    assert set(omit_info_steps) == {1 if packed else 0}
    assert set(info_steps) == {0}


def _check_steps_through_the_region(driver, spawn_worker, region, transport, n):
    proc, s = connect(driver, spawn_worker, "CartPole-v1", n, transport=transport)
    assert shm.CAPABILITY in s.worker_hello.capabilities
    r = s.command(shm_offer=region.offer())
    assert r.WhichOneof("message") == "shm_accepted", r
    assert r.shm_accepted.token == region.token  # read from the file: the co-location proof

    ref = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(n)],
                                   autoreset_mode=AutoresetMode.SAME_STEP)
    obs, _ = ref.reset(seed=5)
    r = region.command(100, reset=pb.ResetRequest(seeds=[5]))
    np.testing.assert_array_equal(codec.decode_value(r.reset_result.observations), obs)
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(101, 201):
        a = rng.integers(0, 2, n)
        obs, rew, term, trunc, info = ref.step(a)
        r = region.command(t, step=pb.StepRequest(actions=codec.encode_value(a), omit_info=t % 2 == 0))
        assert r.id == t
        sr = r.step_result
        np.testing.assert_array_equal(codec.decode_value(sr.observations), obs)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)
        np.testing.assert_array_equal(codec.decode_tensor(sr.terminated), term)
        np.testing.assert_array_equal(codec.decode_tensor(sr.truncated), trunc)
        lanes = np.flatnonzero(term | trunc)
        assert list(sr.ended_lanes) == lanes.tolist()
        if len(lanes):
            ended += len(lanes)
            np.testing.assert_array_equal(codec.decode_value(sr.final_observations), info["final_obs"][lanes].tolist())
    assert ended > 0, "no episode ended: the final observations went untested"

    # errors come back through the region too, and the stream still carries other commands
    r = region.command(201, step=pb.StepRequest(actions=codec.encode_value(np.zeros(n + 1, np.int64))))
    assert r.error.code == INVALID_ARGUMENT and "step.actions" in r.error.message, r
    assert s.command(close=pb.CloseRequest(reason="done")).WhichOneof("message") == "closed"
    assert proc.wait(20) == 0, proc.stdout.read()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_reply_too_big_for_the_region_comes_on_the_stream(driver, spawn_worker, transport):
    region = ServerRegion(reply_capacity=4096)
    try:
        _, s = connect(driver, spawn_worker, "dsogym.testing_envs:Faulty-v0", 2, transport=transport,
                       extra=("--env-kwargs", '{"info_bytes": 20000}'))
        assert s.command(shm_offer=region.offer()).WhichOneof("message") == "shm_accepted"
        region.send(50, reset=pb.ResetRequest(seeds=[0]))
        r = s.reply()
        assert r.id == 50 and r.WhichOneof("message") == "reset_result", r
        assert region.words[shm.REPLY_SEQ // 8] == 0, "nothing was published in the region"
        r = region.command(51, step=pb.StepRequest(actions=codec.encode_value(np.zeros(2, np.int64)), omit_info=True))
        assert codec.decode_value(r.step_result.observations).tolist() == [[1.0], [1.0]]
    finally:
        region.close()


def test_offers_the_worker_cannot_take_are_refused_and_change_nothing(driver, spawn_worker, region):
    _, s = connect(driver, spawn_worker, "CartPole-v1", 1)
    r = s.command(shm_offer=pb.SharedMemoryOffer(path="/etc/passwd", size_bytes=4096, request_capacity=64))
    assert r.error.code == INVALID_ARGUMENT and "shm_offer.path" in r.error.message, r
    missing = f"{shm.DIRECTORY}/dsogym-missing-{secrets.token_hex(8)}"
    r = s.command(shm_offer=pb.SharedMemoryOffer(path=missing, size_bytes=4096, request_capacity=64))
    assert r.error.code == FAILED_PRECONDITION and "cannot open" in r.error.message, r
    wrong_size = region.offer()
    wrong_size.size_bytes += 4096
    r = s.command(shm_offer=wrong_size)
    assert r.error.code == FAILED_PRECONDITION and "size_bytes" in r.error.message, r
    # the stream serves as before, and a good offer is still taken once
    assert s.command(reset=pb.ResetRequest(seeds=[0])).WhichOneof("message") == "reset_result"
    assert s.command(shm_offer=region.offer()).WhichOneof("message") == "shm_accepted"
    r = s.command(shm_offer=region.offer())
    assert r.error.code == FAILED_PRECONDITION and "one per stream" in r.error.message, r


def test_a_worker_started_with_no_shm_neither_declares_nor_takes_a_region(driver, spawn_worker, region):
    _, s = connect(driver, spawn_worker, "CartPole-v1", 1, extra=("--no-shm",))
    assert shm.CAPABILITY not in s.worker_hello.capabilities
    r = s.command(shm_offer=region.offer())
    assert r.error.code == FAILED_PRECONDITION and "shm_steps" in r.error.message, r


def test_an_idle_region_costs_the_worker_little_cpu(driver, spawn_worker, region):
    """Without commands the worker sleeps in the doorbell's recv instead of spinning (a spinning
    worker would use a whole core)."""
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 1)
    assert s.command(shm_offer=region.offer()).WhichOneof("message") == "shm_accepted"
    region.command(10, reset=pb.ResetRequest(seeds=[0]))
    time.sleep(0.5)
    before = _cpu_seconds(proc.pid)
    time.sleep(2.0)
    used = _cpu_seconds(proc.pid) - before
    assert used < 0.5, f"the idle worker used {used:.2f} CPU seconds in 2 s"
    assert region.command(11, step=pb.StepRequest(actions=codec.encode_value(np.zeros(1, np.int64)))).step_result


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
