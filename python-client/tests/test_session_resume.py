"""Session resume through a real TCP connection that is cut mid-episode: a TCP proxy between
the client and the Java server drops every connection, and the client's session goes on through
a new one (same lanes, same episode: a bit-identical trajectory), with the step whose reply
was lost answered from the server's stored reply, not run twice.

Skipped when target/dsogym.jar is missing."""

from __future__ import annotations

import socket
import threading
import time

import grpc
import numpy as np
import pytest

from dsogym import RemoteVectorEnv
from dsogym.proto import pb, pb_grpc
from dsogym.remote import RemoteResourceExhausted
from dsogym.testing import JavaServer, find_jar

LANES = 256  # a step's reply is then over 4 KB (observations alone: 256 x 4 float32)
STEPS = 30


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target "HOST:PORT", byte for byte, one thread per
    direction. ``cut()`` drops every connection (the listener stays); ``down()`` also stops
    listening until ``up()``; ``cut_after_reply(n)`` swallows the server's next bytes and cuts
    once ``n`` of them came (a reply the server sent and the client never got)."""

    def __init__(self, target: str):
        self.target = target
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._swallow_until: int | None = None
        self._swallowed = 0
        self.accepted = 0
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def up(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._listener.close()
        self.cut()

    def cut(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
            self._swallow_until = None
        for c in conns:
            _drop(c)

    def cut_after_reply(self, nbytes: int) -> None:
        with self._lock:
            self._swallowed = 0
            self._swallow_until = nbytes

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            host, port = self.target.rsplit(":", 1)
            server = socket.create_connection((host, int(port)))
            with self._lock:
                self.accepted += 1
                self._conns += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_server:
                    with self._lock:
                        swallowing = self._swallow_until is not None
                        if swallowing:
                            self._swallowed += len(data)
                            done = self._swallowed >= self._swallow_until
                    if swallowing:
                        if done:
                            threading.Thread(target=self.cut, daemon=True).start()
                        continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _drop(src)
            _drop(dst)


def _drop(conn: socket.socket) -> None:
    """Closes a connection that another thread may be reading: shutdown() first, since close()
    alone neither wakes that thread nor sends the FIN while it reads."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


def _jar():
    try:
        return find_jar()
    except FileNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def server():
    with JavaServer(_jar()) as s:
        yield s


@pytest.fixture
def proxy(server):
    p = TcpProxy(server.address)
    yield p
    p.down()


def _trajectory(env: RemoteVectorEnv, on_step=lambda t: None) -> list:
    rng = np.random.default_rng(3)
    obs, _ = env.reset(seed=11)
    out = [obs]
    for t in range(STEPS):
        on_step(t)
        obs, rew, term, trunc, _ = env.step(rng.integers(0, 2, size=LANES))
        out.append((obs, rew, term, trunc))
    return out


def _assert_identical(a: list, b: list) -> None:
    assert len(a) == len(b)
    np.testing.assert_array_equal(a[0], b[0])
    for t, (x, y) in enumerate(zip(a[1:], b[1:])):
        for u, v in zip(x, y):
            assert u.dtype == v.dtype and np.array_equal(u, v), f"step {t} differs"


def test_a_cut_connection_resumes_the_episode_and_a_lost_reply_is_not_run_twice(server, proxy):
    direct = RemoteVectorEnv(server.address, "CartPole-v1", num_envs=LANES)
    expected = _trajectory(direct)
    direct.close()

    def cut(t: int) -> None:
        if t == 10:
            proxy.cut()  # between requests: the next step goes out on a broken connection
        if t == 20:
            proxy.cut_after_reply(4096)  # this step runs on the server; its reply is lost

    resumed_before = sum("resumed" in line for line in server.output)
    env = RemoteVectorEnv(proxy.address, "CartPole-v1", num_envs=LANES)
    got = _trajectory(env, cut)
    env.close()
    _assert_identical(expected, got)
    assert proxy.accepted >= 3, "a connection, then a new one after each cut"
    deadline = time.monotonic() + 10
    while sum("resumed" in line for line in server.output) - resumed_before < 2:
        assert time.monotonic() < deadline, "\n".join(server.output[-20:])
        time.sleep(0.05)


def test_without_resume_a_cut_connection_raises_connection_error(server, proxy):
    env = RemoteVectorEnv(proxy.address, "CartPole-v1", num_envs=2, resume=False)
    env.reset(seed=0)
    proxy.cut()
    with pytest.raises(ConnectionError, match="UNAVAILABLE"):
        env.step(np.zeros(2, dtype=np.int64))
    env.close()


@pytest.fixture(scope="module")
def short_grace_server():
    with JavaServer(_jar(), extra_args=["--resume-grace", "1", "--max-total-lanes", "8"]) as s:
        yield s


def test_when_the_grace_ends_the_resume_fails_and_the_lanes_are_freed(short_grace_server):
    proxy = TcpProxy(short_grace_server.address)
    env = RemoteVectorEnv(proxy.address, "CartPole-v1", num_envs=8)
    env.reset(seed=0)
    with pytest.raises(RemoteResourceExhausted, match="--max-total-lanes"):
        RemoteVectorEnv(short_grace_server.address, "CartPole-v1", num_envs=8)
    proxy.down()
    with pytest.raises(ConnectionError, match=r"could not be resumed within the server's resume "
                                              r"grace of 1 s"):
        env.step(np.zeros(8, dtype=np.int64))
    env.close()
    deadline = time.monotonic() + 10
    while True:  # the server's grace ends about when the client's does
        try:
            again = RemoteVectorEnv(short_grace_server.address, "CartPole-v1", num_envs=8)
            break
        except RemoteResourceExhausted:
            assert time.monotonic() < deadline, "the kept session's lanes were not freed"
            time.sleep(0.1)
    again.close()


def test_a_restarted_server_refuses_the_resume_with_a_clear_error(server, short_grace_server):
    proxy = TcpProxy(server.address)
    try:
        env = RemoteVectorEnv(proxy.address, "CartPole-v1", num_envs=2)
        env.reset(seed=0)
        proxy.target = short_grace_server.address  # another server behind the same address
        proxy.cut()
        with pytest.raises(ConnectionError, match=r"refused to resume it: hello.resume_id: expected "
                                                  r"the id of a session this server keeps"):
            env.step(np.zeros(2, dtype=np.int64))
        env.close()
    finally:
        proxy.down()


def test_a_wrong_resume_id_is_refused_naming_the_field(server):
    with grpc.insecure_channel(server.address) as channel:
        replies = pb_grpc.EnvServiceStub(channel).Session(iter([pb.ClientRequest(id=1, hello=pb.ClientHello(
            protocol_version=pb.PROTOCOL_VERSION_1, resume_id="0" * 32))]))
        reply = next(replies)
    assert reply.error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert "hello.resume_id" in reply.error.message and "got an unknown one" in reply.error.message
