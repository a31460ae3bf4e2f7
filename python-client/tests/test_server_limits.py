"""The Java server's resource limits as a Python client sees them: a request over a limit
raises an exception naming the limit and the value, and the session stays usable.

Skipped when target/dsogym.jar is missing."""

import pytest

from dsogym import RemoteVectorEnv
from dsogym.remote import RemoteInvalidArgument, RemoteResourceExhausted
from dsogym.testing import JavaServer, find_jar


@pytest.fixture(scope="module")
def small_server():
    try:
        jar = find_jar()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    server = JavaServer(jar, extra_args=["--max-session-lanes", "8", "--max-total-lanes", "10",
                                         "--max-matrix-dim", "16"])
    server.start()
    yield server
    server.stop()


def test_lanes_over_the_session_limit_name_the_limit(small_server):
    with pytest.raises(RemoteInvalidArgument, match=r"--max-session-lanes.*got 9"):
        RemoteVectorEnv(small_server.address, "CartPole-v1", num_envs=9)


def test_lanes_over_the_total_limit_are_resource_exhausted_until_some_are_freed(small_server):
    first = RemoteVectorEnv(small_server.address, "CartPole-v1", num_envs=8)
    try:
        with pytest.raises(RemoteResourceExhausted, match=r"--max-total-lanes"):
            RemoteVectorEnv(small_server.address, "CartPole-v1", num_envs=4)
        first.reset(seed=0)  # the refusal changed nothing for the other session
        first.step(first.action_space.sample())
    finally:
        first.close()
    again = RemoteVectorEnv(small_server.address, "CartPole-v1", num_envs=4)
    again.close()


def test_a_matrix_over_the_size_limit_names_the_limit(small_server):
    n = 20
    a = [[0.0] * n for _ in range(n)]
    b = [[1.0] for _ in range(n)]
    with pytest.raises(RemoteInvalidArgument, match=r"kwargs_json\.A.*--max-matrix-dim.*got 20"):
        RemoteVectorEnv(small_server.address, "LQR-v0", num_envs=1, env_kwargs={"A": a, "B": b})
    ok = RemoteVectorEnv(small_server.address, "LQR-v0", num_envs=2,
                         env_kwargs={"A": [row[:4] for row in a[:4]], "B": b[:4]})
    ok.reset(seed=1)
    ok.close()
