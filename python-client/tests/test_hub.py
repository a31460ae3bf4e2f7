"""The hub: envs served by Python workers, used by clients through the real Java server.

Real parts only: ``java -jar target/dsogym.jar serve`` with real ``python -m dsogym.worker``
processes hosting Gymnasium envs, and clients (Remote-v0, register_envs' ids, RemoteVectorEnv)
in this process or in a child process that gets killed. One server per test, so that workers
and sessions never leak from one test into the next.

Skipped when target/dsogym.jar is missing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import dsogym
from dsogym import RemoteEnv, RemoteVectorEnv
from dsogym.remote import RemoteError, RemoteInvalidArgument, RemoteNotFound, RemoteResourceExhausted, _Session
from dsogym.testing import JavaServer, find_jar

CONNECT_TIMEOUT = 60.0
UNAVAILABLE = 14


@pytest.fixture
def server():
    try:
        jar = find_jar()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    # a killed client's session is kept 1 s for resuming, then its worker comes back
    with JavaServer(jar, extra_args=["--resume-grace", "1"]) as s:
        yield s


@pytest.fixture
def worker(server, spawn_worker):
    """Starts a worker serving ``env_id`` and waits until the server has it."""

    def start(env_id: str, num_envs: int = 1, *extra: str):
        before = _connected(server, env_id)
        proc = spawn_worker("--server", server.address, "--env", env_id, "--num-envs", str(num_envs), *extra)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while _connected(server, env_id) <= before:
            if proc.poll() is not None:
                raise AssertionError(f"the {env_id} worker exited ({proc.returncode}): {proc.stdout.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {env_id} worker connected within {CONNECT_TIMEOUT} s")
            time.sleep(0.05)
        return proc

    return start


def _connected(server: JavaServer, env_id: str) -> int:
    pattern = re.compile(rf"worker w-\d+ \([^)]*, {re.escape(env_id)} x \d+\) connected")
    return sum(1 for line in list(server.output) if pattern.search(line))


def test_worker_hosted_acrobot_passes_check_env_through_remote_v0(server, worker):
    worker("Acrobot-v1")
    env = gym.make("dsogym/Remote-v0", address=server.address, env_id="Acrobot-v1")
    try:
        assert env.spec.max_episode_steps == 500
        assert env.spec.reward_threshold == -100.0
        # with the render check: the worker's env lists render modes, the remote one none (it
        # draws no frames), so the checker makes no second env that the one worker could not serve
        check_env(env.unwrapped)
        assert env.metadata["render_modes"] == []
    finally:
        env.close()


def test_register_envs_gives_one_gymnasium_id_per_served_env(server, worker):
    worker("Acrobot-v1")
    ids = dsogym.register_envs(server.address)
    assert {"dsogym/Acrobot-v1", "dsogym/CartPole-v1", "dsogym/Pendulum-v1"} <= set(ids), ids
    spec = gym.spec("dsogym/Acrobot-v1")
    assert (spec.max_episode_steps, spec.reward_threshold) == (500, -100.0)
    env = gym.make("dsogym/Acrobot-v1")
    try:
        assert env.spec.max_episode_steps == 500
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


# the worker's resets and steps through shared memory (capability shm_steps), or on the stream
TRANSPORTS = {"shm": (), "grpc": ("--no-shm",)}


def _assert_transport(server: JavaServer, env_id: str, transport: str) -> None:
    """The server's log line on how the worker serving ``env_id`` got its resets and steps."""
    lines = [line for line in list(server.output) if f", {env_id} x " in line and "resets and steps" in line]
    want = "through shared memory" if transport == "shm" else "on the stream"
    assert len(lines) == 1 and want in lines[0], lines


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_registered_env_steps_as_the_local_env_and_truncates_once_at_500(server, worker, transport):
    """gym.make's TimeLimit (from the spec) and the worker's own one count the same steps, so
    the trajectory, truncation at step 500 included, is Gymnasium's own, bit for bit."""
    worker("Acrobot-v1", 1, *TRANSPORTS[transport])
    dsogym.register_envs(server.address)
    remote, local = gym.make("dsogym/Acrobot-v1"), gym.make("Acrobot-v1")
    try:
        for seed in (3, 4):  # the second episode runs on the lane the first one truncated
            obs_r, _ = remote.reset(seed=seed)
            obs_l, _ = local.reset(seed=seed)
            np.testing.assert_array_equal(obs_r, obs_l)
            for t in range(1, 501):
                a = t % 3
                got, want = remote.step(a), local.step(a)
                np.testing.assert_array_equal(got[0], want[0])
                assert got[1:4] == want[1:4], f"step {t}: {got[1:4]} != {want[1:4]}"
                if got[2] or got[3]:
                    break
            assert (t, got[3]) == (500, True), f"ended at step {t}, truncated {got[3]}"
        _assert_transport(server, "Acrobot-v1", transport)
    finally:
        remote.close()
        local.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_remote_vector_env_over_a_worker_matches_sync_vector_env(server, worker, mode, transport):
    worker("CartPole-v1", num_envs=4)  # Gymnasium's CartPole through a worker, not the Java one
    served = [s for s in dsogym.list_envs(server.address) if s.id == "CartPole-v1"]
    assert len(served) == 1  # the Java-native id takes precedence; listed once
    worker("MountainCar-v0", 4, *TRANSPORTS[transport])
    remote = RemoteVectorEnv(server.address, "MountainCar-v0", num_envs=4, autoreset_mode=mode)
    local = gym.make_vec("MountainCar-v0", num_envs=4, vectorization_mode="sync",
                         vector_kwargs={"autoreset_mode": mode})
    try:
        np.testing.assert_array_equal(remote.reset(seed=7)[0], local.reset(seed=7)[0])
        for t in range(210):  # past the 200-step limit: every lane truncates and resets
            a = np.array([t % 3, 0, 1, 2])
            got, want = remote.step(a), local.step(a)
            for g, w in zip(got[:4], want[:4]):
                np.testing.assert_array_equal(g, w)
            if mode == AutoresetMode.SAME_STEP and "final_obs" in want[4]:
                np.testing.assert_array_equal(got[4]["_final_obs"], want[4]["_final_obs"])
        _assert_transport(server, "MountainCar-v0", transport)
    finally:
        remote.close()
        local.close()


def test_make_vec_of_a_registered_id(server, worker):
    worker("Acrobot-v1", num_envs=3)
    dsogym.register_envs(server.address)
    envs = gym.make_vec("dsogym/Acrobot-v1", num_envs=3)
    try:
        assert isinstance(envs.unwrapped, RemoteVectorEnv) and envs.num_envs == 3
        obs, _ = envs.reset(seed=0)
        assert obs.shape == (3, 6)
    finally:
        envs.close()
    with pytest.raises(ValueError, match=r"max_episode_steps: expected 500 .* actual 100"):
        gym.make_vec("dsogym/Acrobot-v1", num_envs=3, max_episode_steps=100)


def test_an_unknown_id_names_the_ids_available(server, worker):
    worker("Acrobot-v1")
    with pytest.raises(RemoteNotFound) as e:
        RemoteEnv(server.address, "Acrobat-v1")
    message = str(e.value)
    assert "'Acrobat-v1'" in message and "CartPole-v1" in message and "Acrobot-v1" in message, message


def test_lane_count_and_kwargs_must_match_the_worker(server, worker):
    worker("Acrobot-v1", num_envs=2)
    with pytest.raises(RemoteInvalidArgument, match=r"make\.num_envs: .*\[2\]\), got 1"):
        RemoteEnv(server.address, "Acrobot-v1")
    with pytest.raises(RemoteInvalidArgument, match=r"make\.kwargs_json: expected \{\} or the kwargs"):
        RemoteVectorEnv(server.address, "Acrobot-v1", num_envs=2, env_kwargs={"render_mode": "rgb_array"})


def test_a_busy_worker_is_a_clear_error_and_comes_back_when_the_session_ends(server, worker):
    worker("Acrobot-v1")
    first, second = RemoteEnv(server.address, "Acrobot-v1"), RemoteEnv(server.address, "Acrobot-v1")
    try:
        first.reset(seed=0)
        with pytest.raises(RemoteResourceExhausted, match=r"'Acrobot-v1' x 1: all 1 worker\(s\) serving it are busy"):
            second.reset(seed=0)
        first.close()
        obs, _ = second.reset(seed=0)  # the same worker, fresh, now second's
        assert obs.shape == (6,)
    finally:
        first.close()
        second.close()


def test_a_worker_killed_mid_session_is_an_in_band_error(server, worker):
    proc = worker("Acrobot-v1")
    env = RemoteEnv(server.address, "Acrobot-v1", timeout=60)
    try:
        env.reset(seed=0)
        env.step(0)
        proc.kill()
        proc.wait(10)
        with pytest.raises(RemoteError) as e:
            env.step(0)
        assert e.value.code == UNAVAILABLE, e.value
        assert "disconnected" in str(e.value), e.value
        with pytest.raises(RemoteError):  # the session answers on, in band
            env.reset(seed=1)
    finally:
        env.close()


CLIENT = textwrap.dedent("""
    import sys, dsogym
    env = dsogym.RemoteEnv(sys.argv[1], "Acrobot-v1")
    env.reset(seed=0)
    print("holding the worker", flush=True)
    sys.stdin.read()
""")


def test_a_killed_client_gives_its_worker_back(server, worker):
    worker("Acrobot-v1")
    client = subprocess.Popen([sys.executable, "-c", CLIENT, server.address], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert client.stdout.readline().strip() == "holding the worker"
        env = RemoteEnv(server.address, "Acrobot-v1")
        with pytest.raises(RemoteResourceExhausted):
            env.reset(seed=0)
        client.kill()
        client.wait(10)
        # the server keeps the dead client's session for its resume grace (1 s), then the
        # worker comes back to the pool
        deadline = time.monotonic() + 60
        while True:
            try:
                obs, _ = env.reset(seed=0)
                break
            except RemoteResourceExhausted:
                assert time.monotonic() < deadline, "the killed client's worker never came back"
                time.sleep(0.1)
        assert obs.shape == (6,)
        env.close()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)


def test_the_server_hello_to_clients_carries_no_worker_fields(server):
    session = _Session(server.address)
    try:
        hello = session.server_hello
        assert hello.worker_id == "" and hello.autoreset_mode == 0
        assert "worker_inference" not in hello.capabilities and "configure" not in hello.capabilities
        assert "worker_hosted_envs" in hello.capabilities
    finally:
        session.close()
