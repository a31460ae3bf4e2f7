"""Real worker processes (python -m dsogym.worker) driven by a Python stand-in for the server's
WorkerService (dsogym.testing.WorkerDriver): handshake, reset/step against a local
SyncVectorEnv, the three autoreset modes, in-band errors, close, signals, a killed worker."""

import json
import signal

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from dsogym import codec
from dsogym.proto import pb
from dsogym.testing import WorkerDriver

TRANSPORTS = ["aio", "sync"]


@pytest.fixture
def driver():
    with WorkerDriver() as d:
        yield d


def connect(driver, spawn_worker, env, n, mode=pb.NEXT_STEP, transport="aio", extra=()):
    proc = spawn_worker("--server", driver.address, "--env", env, "--num-envs", str(n),
                        "--transport", transport, *extra)
    session = driver.accept(timeout=60)
    session.hello(autoreset_mode=mode)
    return proc, session


def local(env, n, mode):
    import dsogym_test_envs  # noqa: F401  (registers the test envs)

    return gym.vector.SyncVectorEnv([lambda: gym.make(env) for _ in range(n)], autoreset_mode=mode)


def step_cmd(actions, space):
    return pb.StepRequest(actions=codec.encode_value(actions, space))


def assert_obs(reply_value, expected, space, n):
    got = codec.decode_value(reply_value, space, n)
    if isinstance(expected, dict):
        for k in expected:
            assert_obs_leaf(got[k], expected[k])
    else:
        assert_obs_leaf(got, expected)


def assert_obs_leaf(got, expected):
    if isinstance(expected, tuple):
        for g, e in zip(got, expected):
            assert_obs_leaf(g, e)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hello_reset_step_match_a_local_sync_vector_env(driver, spawn_worker, transport):
    n = 3
    proc, s = connect(driver, spawn_worker, "CartPole-v1", n, transport=transport,
                      extra=("--name", "w-test"))
    h = s.worker_hello
    assert h.protocol_version == pb.PROTOCOL_VERSION_1 and h.num_envs == n and h.worker_name == "w-test"
    assert set(h.autoreset_modes) == {pb.NEXT_STEP, pb.SAME_STEP, pb.DISABLED}
    assert "reset_mask" in h.capabilities
    spec = codec.decode_env_spec(h.env)
    assert spec.id == "CartPole-v1" and spec.max_episode_steps == 500
    assert spec.action_space == gym.spaces.Discrete(2)

    ref = local("CartPole-v1", n, AutoresetMode.NEXT_STEP)
    obs, _ = ref.reset(seed=7)
    r = s.command(reset=pb.ResetRequest(seeds=[7]))
    assert r.WhichOneof("message") == "reset_result", r
    np.testing.assert_array_equal(codec.decode_value(r.reset_result.observations), obs)

    rng = np.random.default_rng(0)
    for _ in range(60):
        a = rng.integers(0, 2, n)
        obs, rew, term, trunc, _ = ref.step(a)
        r = s.command(step=step_cmd(a, spec.action_space))
        sr = r.step_result
        np.testing.assert_array_equal(codec.decode_value(sr.observations, spec.observation_space, n), obs)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)
        np.testing.assert_array_equal(codec.decode_tensor(sr.terminated), term)
        np.testing.assert_array_equal(codec.decode_tensor(sr.truncated), trunc)
        assert len(sr.ended_lanes) == 0

    r = s.command(close=pb.CloseRequest(reason="done"))
    assert r.WhichOneof("message") == "closed"
    assert proc.wait(20) == 0


def test_unseeded_lanes_draw_fresh_entropy_and_the_others_take_their_seeds(driver, spawn_worker):
    n = 3
    _, s = connect(driver, spawn_worker, "CartPole-v1", n, transport=TRANSPORTS[0])
    want, _ = local("CartPole-v1", n, AutoresetMode.NEXT_STEP).reset(seed=[1, 0, 2])
    got = [codec.decode_value(s.command(reset=pb.ResetRequest(seeds=[1, 0, 2], unseeded_lanes=[1]))
                              .reset_result.observations) for _ in range(2)]
    for obs in got:
        np.testing.assert_array_equal(obs[[0, 2]], want[[0, 2]])
    assert not np.array_equal(got[0][1], got[1][1]) and not np.array_equal(got[0][1], want[1])
    r = s.command(reset=pb.ResetRequest(seeds=[1], unseeded_lanes=[1]))
    assert r.error.code == 3 and "reset.unseeded_lanes: expected ascending lanes in [0, 3)" in r.error.message, r


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_same_step_reports_ended_lanes_and_final_observations(driver, spawn_worker, transport):
    n = 2
    _, s = connect(driver, spawn_worker, "dsogym_test_envs:Structured-v0", n, pb.SAME_STEP, transport)
    spec = codec.decode_env_spec(s.worker_hello.env)
    assert list(spec.observation_space.spaces) == ["z_pos", "image", "parts", "counter"]
    ref = local("Structured-v0", n, AutoresetMode.SAME_STEP)
    obs, info = ref.reset(seed=1, options={"start": 1})
    r = s.command(reset=pb.ResetRequest(seeds=[1], options_json=json.dumps({"start": 1})))
    assert_obs(r.reset_result.observations, obs, spec.observation_space, n)
    np.testing.assert_array_equal(codec.decode_tensor(r.reset_result.info["start"]), [1, 1])

    ended_seen = final_info_seen = 0
    for i in range(6):
        a = (np.full((n, 2), 0.5, np.float32), {"k": np.array([1, 1 + i % 2])})
        obs, rew, term, trunc, info = ref.step(a)
        r = s.command(step=step_cmd(a, spec.action_space))
        assert r.WhichOneof("message") == "step_result", r
        sr = r.step_result
        assert_obs(sr.observations, obs, spec.observation_space, n)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)
        np.testing.assert_array_equal(codec.decode_tensor(sr.terminated), term)
        ended = list(np.flatnonzero(term | trunc))
        assert list(sr.ended_lanes) == ended
        assert "final_obs" not in sr.info and "_final_obs" not in sr.info
        np.testing.assert_array_equal(codec.decode_tensor(sr.info["k"]), info["k"])
        # Gymnasium's final_info (the ended lanes' last-step info) travels as its own map
        want_final = {k: v for k, v in info.get("final_info", {}).items() if isinstance(v, np.ndarray)}
        assert set(sr.final_info) == set(want_final)
        for k, v in want_final.items():
            np.testing.assert_array_equal(codec.decode_tensor(sr.final_info[k]), v)
        final_info_seen += bool(want_final)
        if ended:
            ended_seen += 1
            final = codec.decode_value(sr.final_observations, spec.observation_space, len(ended))
            for j, lane in enumerate(ended):
                np.testing.assert_array_equal(final["z_pos"][j], info["final_obs"][lane]["z_pos"])
                assert final["parts"][0][j] == info["final_obs"][lane]["parts"][0]
    assert ended_seen >= 1 and final_info_seen >= 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_disabled_mode_refuses_steps_of_ended_lanes_until_a_masked_reset(driver, spawn_worker, transport):
    _, s = connect(driver, spawn_worker, "dsogym_test_envs:Faulty-v0", 2, pb.DISABLED, transport)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    zero = pb.StepRequest(actions=codec.encode_value(np.zeros(2, np.int64)))
    for _ in range(3):
        r = s.command(step=zero)
    assert list(codec.decode_tensor(r.step_result.truncated)) == [True, True]
    r = s.command(step=zero)
    assert r.error.code == 9 and "lanes [0, 1] ended" in r.error.message
    r = s.command(reset=pb.ResetRequest(mask=codec.encode_tensor(np.array([True, False]))))
    assert r.WhichOneof("message") == "reset_result"
    r = s.command(step=zero)
    assert r.error.code == 9 and "lanes [1] ended" in r.error.message
    s.command(reset=pb.ResetRequest(mask=codec.encode_tensor(np.array([False, True]))))
    r = s.command(step=zero)
    np.testing.assert_array_equal(codec.decode_value(r.step_result.observations)[:, 0], [1, 1])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_commands_get_invalid_argument_and_the_worker_keeps_serving(driver, spawn_worker, transport):
    _, s = connect(driver, spawn_worker, "CartPole-v1", 2, transport=transport)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    cases = [
        (pb.StepRequest(actions=codec.encode_value(np.zeros(3, np.int64))), "expected int64 shape [2], actual int64 [3]"),
        (pb.StepRequest(actions=codec.encode_value(np.zeros(2, np.float32))), "actual float32 [2]"),
        (pb.StepRequest(actions=pb.Value(tensor=pb.Tensor(dtype=pb.INT64, shape=[2], data=b"\0" * 3))), "expected 16 bytes"),
        (pb.StepRequest(actions=pb.Value(tensor=pb.Tensor(dtype=0, shape=[2]))), "dtype: expected one of"),
    ]
    for req, fragment in cases:
        r = s.command(step=req)
        assert r.error.code == 3, r
        assert fragment in r.error.message
    for req, fragment in [
        (pb.ResetRequest(seeds=[1, 2, 3]), "reset.seeds: expected 0, 1 or 2 elements, actual 3"),
        (pb.ResetRequest(options_json="{nope"), "reset.options_json: expected a JSON object"),
        (pb.ResetRequest(mask=codec.encode_tensor(np.array([1, 0], np.int64))), "reset.mask: expected BOOL shape [2]"),
        (pb.ResetRequest(mask=codec.encode_tensor(np.array([False, False]))), "at least one lane"),
    ]:
        r = s.command(reset=req)
        assert r.error.code == 3 and fragment in r.error.message, r
    r = s.command(step=pb.StepRequest(actions=codec.encode_value(np.ones(2, np.int64))))
    assert r.WhichOneof("message") == "step_result"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_exception_in_the_env_is_reported_in_band(driver, spawn_worker, transport):
    _, s = connect(driver, spawn_worker, "dsogym_test_envs:Faulty-v0", 1, transport=transport)
    r = s.command(step=pb.StepRequest(actions=codec.encode_value(np.zeros(1, np.int64))))
    assert r.error.code == 9 and r.error.exception_type == "ResetNeeded"  # step before reset
    s.command(reset=pb.ResetRequest(seeds=[0]))
    r = s.command(step=pb.StepRequest(actions=codec.encode_value(np.ones(1, np.int64))))
    e = r.error
    assert e.code == 13 and e.exception_type == "RuntimeError"
    assert "boom: action 1 is forbidden" in e.message and "may need a reset" in e.message
    assert "Traceback" in e.traceback and "dsogym_test_envs.py" in e.traceback
    s.command(reset=pb.ResetRequest())
    r = s.command(step=pb.StepRequest(actions=codec.encode_value(np.zeros(1, np.int64))))
    assert r.WhichOneof("message") == "step_result"


def test_pipelined_commands_are_answered_in_order(driver, spawn_worker):
    _, s = connect(driver, spawn_worker, "CartPole-v1", 4)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    ids = [s.send(step=pb.StepRequest(actions=codec.encode_value(np.zeros(4, np.int64)))) for _ in range(20)]
    assert [s.reply().id for _ in ids] == ids


def test_a_killed_worker_ends_its_stream(driver, spawn_worker):
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 2)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    proc.kill()
    assert s.reply(timeout=30) is None  # the stream ended; the server side sees it at once
    assert s.ended.wait(10)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_worker_cleanly(driver, spawn_worker, transport, sig):
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 1, transport=transport)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    proc.send_signal(sig)
    assert proc.wait(20) == 0, proc.stdout.read()
    assert s.reply(timeout=10) is None


def test_the_worker_exits_when_the_server_ends_the_stream(driver, spawn_worker):
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 1)
    s.command(reset=pb.ResetRequest(seeds=[0]))
    s.end()
    assert proc.wait(20) == 1


def test_reconnect_after_the_stream_ends(driver, spawn_worker):
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 1, extra=("--reconnect",))
    s.command(reset=pb.ResetRequest(seeds=[0]))
    s.end()
    s2 = driver.accept(timeout=30)
    s2.hello(autoreset_mode=pb.SAME_STEP)
    r = s2.command(reset=pb.ResetRequest(seeds=[0]))
    assert r.WhichOneof("message") == "reset_result"
    assert s2.command(close=pb.CloseRequest()).WhichOneof("message") == "closed"
    assert proc.wait(20) == 0


def test_exit_codes_for_an_unknown_env_and_an_unreachable_server(spawn_worker):
    p = spawn_worker("--server", "127.0.0.1:1", "--env", "NoSuchEnv-v0", "--num-envs", "1")
    assert p.wait(60) == 2
    assert "NoSuchEnv" in p.stdout.read()
    p = spawn_worker("--server", "127.0.0.1:1", "--env", "CartPole-v1", "--num-envs", "1")
    assert p.wait(60) == 1
    assert "UNAVAILABLE" in p.stdout.read()


def test_a_mujoco_env_is_served(driver, spawn_worker):
    pytest.importorskip("mujoco")
    n = 2
    _, s = connect(driver, spawn_worker, "InvertedPendulum-v5", n, pb.SAME_STEP)
    spec = codec.decode_env_spec(s.worker_hello.env)
    ref = local("InvertedPendulum-v5", n, AutoresetMode.SAME_STEP)
    obs, _ = ref.reset(seed=5)
    r = s.command(reset=pb.ResetRequest(seeds=[5]))
    np.testing.assert_array_equal(codec.decode_value(r.reset_result.observations, spec.observation_space, n), obs)
    a = np.full((n, 1), 0.1, np.float32)
    for _ in range(10):
        obs, rew, *_ = ref.step(a)
        sr = s.command(step=step_cmd(a, spec.action_space)).step_result
        np.testing.assert_array_equal(codec.decode_value(sr.observations, spec.observation_space, n), obs)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "InvertedPendulum-v5"])
def test_steps_that_omit_info_run_lane_by_lane_with_sync_vector_env_results(driver, spawn_worker, env_id):
    """StepRequest.omit_info (what the Java trainer sends): the worker's lane loop must give
    exactly SyncVectorEnv's SAME_STEP observations, rewards, flags and final observations,
    with no info, and leave the vector env consistent for info steps and masked resets."""
    if env_id.startswith("Inverted"):
        pytest.importorskip("mujoco")
    n = 4
    _, s = connect(driver, spawn_worker, env_id, n, pb.SAME_STEP)
    spec = codec.decode_env_spec(s.worker_hello.env)
    ref = local(env_id, n, AutoresetMode.SAME_STEP)
    ref.reset(seed=3)
    s.command(reset=pb.ResetRequest(seeds=[3]))
    ref.action_space.seed(4)
    ended_steps = 0
    for k in range(300):
        a = ref.action_space.sample()
        omit = k % 7 != 0  # every 7th step takes SyncVectorEnv's own path, with info
        if k == 150:  # a masked reset in between re-batches the lanes' observations
            mask = np.array([True, False, True, False])
            obs, _ = ref.reset(seed=11, options={"reset_mask": mask})
            r = s.command(reset=pb.ResetRequest(seeds=[11], mask=codec.encode_tensor(mask)))
            np.testing.assert_array_equal(codec.decode_value(r.reset_result.observations, spec.observation_space, n), obs)
        obs, rew, term, trunc, info = ref.step(a)
        req = step_cmd(a, spec.action_space)
        req.omit_info = omit
        r = s.command(step=req)
        assert r.WhichOneof("message") == "step_result", r
        sr = r.step_result
        np.testing.assert_array_equal(codec.decode_value(sr.observations, spec.observation_space, n), obs)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)
        np.testing.assert_array_equal(codec.decode_tensor(sr.terminated), term)
        np.testing.assert_array_equal(codec.decode_tensor(sr.truncated), trunc)
        ended = list(np.flatnonzero(term | trunc))
        assert list(sr.ended_lanes) == ended
        if ended:
            ended_steps += 1
            final = codec.decode_value(sr.final_observations, spec.observation_space, len(ended))
            np.testing.assert_array_equal(final, np.stack([info["final_obs"][lane] for lane in ended]))
        if omit:
            assert len(sr.info) == 0
    assert ended_steps >= 5


def test_cpus_pins_the_worker_and_a_bad_list_is_refused(driver, spawn_worker):
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    cpu = max(os.sched_getaffinity(0))
    proc, s = connect(driver, spawn_worker, "CartPole-v1", 1, extra=("--cpus", str(cpu)))
    assert os.sched_getaffinity(proc.pid) == {cpu}
    s.command(close=pb.CloseRequest())
    assert proc.wait(20) == 0
    p = spawn_worker("--server", driver.address, "--env", "CartPole-v1", "--cpus", "1-x")
    assert p.wait(60) == 2
    assert "--cpus: expected a CPU list such as 1 or 0,2-3, actual '1-x'" in p.stdout.read()
    p = spawn_worker("--server", driver.address, "--env", "CartPole-v1", "--cpus", "4096")
    assert p.wait(60) == 2
    assert "--cpus: expected CPUs among" in p.stdout.read()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_configure_makes_fresh_lanes_in_the_new_mode(driver, spawn_worker, transport):
    n = 2
    _, s = connect(driver, spawn_worker, "CartPole-v1", n, mode=pb.SAME_STEP, transport=transport)
    assert "configure" in s.worker_hello.capabilities
    space = gym.spaces.Discrete(2)
    assert s.command(reset=pb.ResetRequest(seeds=[5])).WhichOneof("message") == "reset_result"
    r = s.command(configure=pb.ConfigureRequest(autoreset_mode=pb.NEXT_STEP))
    assert r.WhichOneof("message") == "configured", r
    # fresh lanes: a step needs a reset first
    r = s.command(step=step_cmd(np.zeros(n, np.int64), space))
    assert r.WhichOneof("message") == "error" and r.error.code == 9, r
    # and then they run NEXT_STEP, as a local SyncVectorEnv in that mode does
    ref = local("CartPole-v1", n, AutoresetMode.NEXT_STEP)
    obs, _ = ref.reset(seed=5)
    r = s.command(reset=pb.ResetRequest(seeds=[5]))
    np.testing.assert_array_equal(codec.decode_value(r.reset_result.observations), obs)
    for t in range(40):  # constant pushes end the episodes within 40 steps, then restart them
        a = np.full(n, t % 2 if t > 20 else 0, np.int64)
        obs, rew, term, trunc, _ = ref.step(a)
        sr = s.command(step=step_cmd(a, space)).step_result
        np.testing.assert_array_equal(codec.decode_value(sr.observations, ref.single_observation_space, n), obs)
        np.testing.assert_array_equal(codec.decode_tensor(sr.rewards), rew)
        np.testing.assert_array_equal(codec.decode_tensor(sr.terminated), term)
        assert len(sr.ended_lanes) == 0  # not SAME_STEP any more
    r = s.command(configure=pb.ConfigureRequest(autoreset_mode=7))  # from a newer protocol
    assert r.WhichOneof("message") == "error" and r.error.code == 3, r
    assert "configure.autoreset_mode" in r.error.message
    r = s.command(step=step_cmd(np.zeros(n, np.int64), space))  # the refusal changed nothing
    np.testing.assert_array_equal(codec.decode_tensor(r.step_result.rewards), ref.step(np.zeros(n, np.int64))[1])
