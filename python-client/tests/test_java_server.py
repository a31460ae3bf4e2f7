"""Integration tests against the real Java server (java -jar target/dsogym.jar serve --port 0),
started once per session: ListEnvs, gymnasium's env checker on every Java-native env,
CartPole-v1 and Pendulum-v1 cross-checked against Gymnasium step by step, the autoreset modes,
and error cases that must raise clear Python exceptions and leave the session usable.

Skipped when target/dsogym.jar is missing or predates the `serve` command."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import dsogym
from dsogym import RemoteEnv, RemoteVectorEnv
from dsogym.remote import RemoteError, RemoteFailedPrecondition, RemoteInvalidArgument, RemoteNotFound
from dsogym.testing import JavaServer, find_jar

JAVA_NATIVE = ["CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"]


@pytest.fixture(scope="session")
def java_server():
    try:
        jar = find_jar()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    server = JavaServer(jar)
    try:
        server.start()
    except RuntimeError as e:
        text = "\n".join(server.output)
        if "Could not find or load main class" in text or "Unknown command" in text or "Usage" in text[:200]:
            pytest.skip(f"{jar} does not have the `serve` command yet")
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def listed(java_server):
    return {s.id: s for s in dsogym.list_envs(java_server.address)}


def test_list_envs_has_the_java_native_envs(listed):
    assert set(JAVA_NATIVE) <= set(listed), sorted(listed)
    assert listed["CartPole-v1"].action_space == gym.spaces.Discrete(2)
    assert listed["CartPole-v1"].max_episode_steps == 500


def test_check_env_on_every_listed_env(java_server, listed):
    for env_id in sorted(listed):
        env = RemoteEnv(java_server.address, env_id)
        try:
            check_env(env, skip_render_check=True)
        except Exception as e:  # name the env in the failure
            raise AssertionError(f"check_env failed on {env_id}: {e}") from e
        finally:
            env.close()


@pytest.mark.parametrize("env_id", JAVA_NATIVE)
def test_values_have_the_declared_dtypes_and_shapes(java_server, env_id):
    envs = RemoteVectorEnv(java_server.address, env_id, num_envs=3, copy=False)
    obs, info = envs.reset(seed=[1, 2, 3])
    assert envs.observation_space.contains(obs)
    envs.action_space.seed(0)
    for _ in range(20):
        obs, rew, te, tr, info = envs.step(envs.action_space.sample())
        assert envs.observation_space.contains(obs)
        assert rew.dtype == np.float64 and rew.shape == (3,)
        assert te.dtype == np.bool_ and tr.dtype == np.bool_
    envs.close()


def _cross_check(java_server, env_id, state_of, make_actions, steps=100):
    """Same state, same actions -> same observations (1e-5), rewards and flags."""
    ref = gym.make(env_id)
    env = RemoteEnv(java_server.address, env_id)
    rng = np.random.default_rng(0)
    checked = 0
    episode = 0
    while checked < steps:
        ref.reset(seed=episode)
        state = state_of(rng)
        ref.unwrapped.state = np.array(state, dtype=np.float64)
        obs, _ = env.reset(seed=episode, options={"state": list(state)})
        ref_obs = ref.unwrapped._get_obs() if hasattr(ref.unwrapped, "_get_obs") else np.array(ref.unwrapped.state, np.float32)
        np.testing.assert_allclose(obs, ref_obs, atol=1e-5)
        while checked < steps:
            a = make_actions(rng)
            obs, r, te, tr, _ = env.step(a)
            ro, rr, rte, rtr, _ = ref.step(a)
            checked += 1
            np.testing.assert_allclose(obs, ro, atol=1e-5, err_msg=f"{env_id} step {checked}")
            assert math.isclose(r, rr, rel_tol=1e-6, abs_tol=1e-5), (checked, r, rr)
            assert (te, tr) == (rte, rtr), (checked, te, tr, rte, rtr)
            if te or tr:
                break
        episode += 1
    env.close()


def test_cartpole_matches_gymnasium(java_server):
    _cross_check(java_server, "CartPole-v1",
                 lambda rng: rng.uniform(-0.05, 0.05, 4),
                 lambda rng: int(rng.integers(0, 2)))


def test_pendulum_matches_gymnasium(java_server):
    _cross_check(java_server, "Pendulum-v1",
                 lambda rng: [rng.uniform(-np.pi, np.pi), rng.uniform(-1, 1)],
                 lambda rng: rng.uniform(-2, 2, 1).astype(np.float32))


def test_autoreset_modes_follow_gymnasium_semantics(java_server):
    n = 4
    for mode in AutoresetMode:
        envs = RemoteVectorEnv(java_server.address, "CartPole-v1", n, autoreset_mode=mode)
        assert envs.metadata["autoreset_mode"] == mode
        envs.reset(seed=0)
        ended_before = np.zeros(n, bool)
        saw_end = False
        for _ in range(200):
            if mode == AutoresetMode.DISABLED and ended_before.any():
                envs.reset(options={"reset_mask": ended_before})
                ended_before[:] = False
            obs, rew, te, tr, info = envs.step(np.ones(n, np.int64))
            if mode == AutoresetMode.NEXT_STEP:
                assert np.all(rew[ended_before] == 0) and not np.any((te | tr)[ended_before])
            ended = te | tr
            if mode == AutoresetMode.SAME_STEP and ended.any():
                np.testing.assert_array_equal(info["_final_obs"], ended)
                for lane in np.flatnonzero(ended):
                    assert envs.single_observation_space.contains(info["final_obs"][lane])
            saw_end |= bool(ended.any())
            ended_before = ended
        assert saw_end
        envs.close()


def test_error_cases_raise_and_the_session_stays_usable(java_server):
    with pytest.raises((RemoteNotFound, RemoteInvalidArgument), match="NoSuchEnv-v9"):
        RemoteEnv(java_server.address, "NoSuchEnv-v9")

    env = RemoteEnv(java_server.address, "CartPole-v1")
    with pytest.raises(RemoteFailedPrecondition):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(RemoteInvalidArgument):
        env.step(2)  # outside Discrete(2)
    with pytest.raises(RemoteInvalidArgument):
        env.step(np.array([0, 1]))  # wrong shape
    with pytest.raises((RemoteInvalidArgument, TypeError)):
        env.step(0.5)  # wrong dtype
    obs, r, te, tr, _ = env.step(1)  # still usable, state unchanged by the failures
    assert env.observation_space.contains(obs) and r == 1.0
    env.close()

    env = RemoteEnv(java_server.address, "Pendulum-v1")
    env.reset(seed=0)
    with pytest.raises(RemoteInvalidArgument):
        env.step(np.array([np.nan], np.float32))
    with pytest.raises(RemoteInvalidArgument, match="finite"):
        env.step(np.array([np.inf], np.float32))
    with pytest.raises(RemoteInvalidArgument):
        env.step(np.zeros((1, 2), np.float32))
    with pytest.raises(RemoteInvalidArgument):
        env.reset(options={"no_such_option": 1})
    # Outside [-2, 2]: clipped, as Gymnasium's Pendulum does, not refused.
    twin = RemoteEnv(java_server.address, "Pendulum-v1")
    twin.reset(seed=0)
    obs, r, *_ = env.step(np.array([5.0], np.float32))
    twin_obs, twin_r, *_ = twin.step(np.array([2.0], np.float32))
    assert np.array_equal(obs, twin_obs) and r == twin_r
    twin.close()
    obs, *_ = env.step(np.zeros(1, np.float32))
    assert env.observation_space.contains(obs)
    env.close()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_seeded_resets_match_gymnasium_bit_for_bit(java_server, env_id):
    """reset(seed=s) of the Java-native env over the wire gives Gymnasium's initial observation
    exactly, and so does the unseeded reset that follows (the generator's stream continues)."""
    remote = RemoteEnv(java_server.address, env_id)
    local = gym.make(env_id)
    for seed in [*range(200), 2**32 + 5, 2**63 - 1]:
        for s in (seed, None):
            got, _ = remote.reset(seed=s)
            want, _ = local.reset(seed=s)
            assert got.dtype == want.dtype == np.float32
            assert got.tobytes() == want.tobytes(), (env_id, seed, s, got, want)
    remote.close()


def test_errors_carry_the_server_message(java_server):
    env = RemoteEnv(java_server.address, "CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(RemoteError) as e:
        env.step(7)
    assert str(e.value) and e.value.code == 3
    env.close()


def test_sigterm_drains_the_server_idle_workers_exit_and_sessions_end_saying_why(spawn_worker):
    """SIGTERM to `serve --grace 1`: the idle worker is closed at once with the reason (it exits
    0), the open session is served during the grace period, then ends with a ConnectionError
    saying that the server is shutting down."""
    import signal
    import time

    server = JavaServer(find_jar(), extra_args=["--grace", "1"]).start()
    try:
        envs = RemoteVectorEnv(server.address, "CartPole-v1", num_envs=1)
        envs.reset(seed=0)
        worker = spawn_worker("--server", server.address, "--env", "CartPole-v1", "--num-envs", "1")
        deadline = time.monotonic() + 60
        while not any("connected, autoreset" in line for line in server.output):
            assert worker.poll() is None and time.monotonic() < deadline, "\n".join(server.output)
            time.sleep(0.05)

        server.process.send_signal(signal.SIGTERM)
        worker_output, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0, worker_output
        assert "closed by the server (dsogym server shutting down)" in worker_output, worker_output
        # the worker is gone, so the drain has begun; the session is still served
        envs.step(np.array([0]))
        with pytest.raises(ConnectionError, match=r"UNAVAILABLE: dsogym server shutting down \(its grace "
                                                  r"period of 1000 ms is over\)"):
            for _ in range(10_000):
                envs.step(np.array([0]))
                time.sleep(0.01)
        assert server.process.wait(30) == 143, "\n".join(server.output)
    finally:
        server.stop()


def test_a_hung_server_raises_timeout_error_within_the_client_deadline():
    """The server process is stopped (SIGSTOP) mid-session, its connection left open: a step
    with timeout=1 raises TimeoutError naming the request instead of blocking; the session is
    then closed, and the resumed server serves new sessions."""
    import signal
    import time

    server = JavaServer(find_jar()).start()
    try:
        warm = RemoteEnv(server.address, "CartPole-v1", timeout=60.0)  # a cold JVM on a busy machine
        warm.reset(seed=0)                                              # may take over 1 s to make
        warm.step(0)
        warm.close()
        env = RemoteEnv(server.address, "CartPole-v1", timeout=1.0)
        env.reset(seed=0)
        env.step(0)
        server.process.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            with pytest.raises(TimeoutError, match=r"no reply to step #5 within 1.0 s; the session is closed"):
                env.step(1)
            assert time.monotonic() - t0 < 30, "the deadline, not the connection's keepalive, ended the wait"
            with pytest.raises(RemoteFailedPrecondition, match="closed after a timeout"):
                env.step(1)
            env.close()  # returns at once: nothing more is awaited from the hung server
        finally:
            server.process.send_signal(signal.SIGCONT)
        again = RemoteEnv(server.address, "CartPole-v1", timeout=5.0)
        again.reset(seed=0)
        again.close()
    finally:
        server.stop()


def test_timeout_must_be_positive(java_server):
    with pytest.raises(ValueError, match=r"timeout: expected seconds > 0 or None \(no deadline\), actual 0"):
        RemoteEnv(java_server.address, "CartPole-v1", timeout=0)
