"""Worker-side inference in the worker (``collect``): the trajectory replays exactly on an
independent SyncVectorEnv (both collect loops), episodes continue across collects and steps,
and every malformed or untimely collect is refused in-band without changing anything."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import dsogym_test_envs  # noqa: F401  (registers ShiftedWalk-v0)
from dsogym import codec
from dsogym.collect import CAPABILITY, DETERMINISTIC, LOOPS, policy_to_proto
from dsogym.policy import CATEGORICAL, GAUSSIAN, MlpPolicy, Normalizer, num_params
from dsogym.proto import pb
from dsogym.worker import Worker

INVALID_ARGUMENT, FAILED_PRECONDITION = 3, 9


def make_worker(env_id, n, mode=pb.SAME_STEP, loop="lanes", seed=0):
    w = Worker(env_id, n, collect_loop=loop)
    w.start(pb.ServerHello(protocol_version=pb.PROTOCOL_VERSION_1, worker_id="w-t", autoreset_mode=mode))
    if seed is not None:
        reply = w.handle(pb.ServerCommand(id=1, reset=pb.ResetRequest(seeds=[seed])))
        assert reply.WhichOneof("message") == "reset_result", reply
    return w


def policy_for(w, hidden=(), version=1, seed=0, normalize=True, activation="tanh"):
    obs_dim = int(np.prod(w.single_observation_space.shape))
    space = w.single_action_space
    head = CATEGORICAL if isinstance(space, gym.spaces.Discrete) else GAUSSIAN
    outputs = int(space.n) if head == CATEGORICAL else int(np.prod(space.shape))
    theta = np.random.default_rng(seed).normal(size=num_params(head, obs_dim, hidden, outputs))
    normalizer = Normalizer(np.zeros(obs_dim), np.full(obs_dim, 2.0), 5.0) if normalize else None
    return MlpPolicy(head, obs_dim, list(hidden), activation, outputs, theta, normalizer, version=version)


def collect(w, steps, policy=None, seed=None, cid=10, deterministic=False):
    req = pb.CollectRequest(steps_per_lane=steps, deterministic=deterministic)
    if policy is not None:
        policy_to_proto(policy, req.policy)
    if seed is not None:
        req.seed = seed
    return w.handle(pb.ServerCommand(id=cid, collect=req))


def decoded(reply):
    assert reply.WhichOneof("message") == "trajectory", reply.error
    t = reply.trajectory
    d = codec.decode_tensor
    return dict(obs=d(t.observations), actions=d(t.actions), rewards=d(t.rewards),
                terminated=d(t.terminated), truncated=d(t.truncated), ended=list(t.ended_indices),
                finals=d(t.final_observations), last=d(t.last_observations), version=t.policy_version,
                env_seconds=t.env_seconds, policy_seconds=t.policy_seconds)


def env_actions(space, recorded):
    if isinstance(space, gym.spaces.Discrete):
        return recorded[..., 0].astype(np.int64) + int(space.start)
    return np.clip(recorded, space.low, space.high).astype(space.dtype)


def replay(env_id, n, seed, chunks, space):
    """Steps an independent SAME_STEP SyncVectorEnv with the actions the worker's env got and
    checks every recorded observation, reward, flag and final observation."""
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)],
                                    autoreset_mode=AutoresetMode.SAME_STEP)
    obs, _ = envs.reset(seed=seed)
    for c in chunks:
        finals = iter(zip(c["ended"], c["finals"]))
        for k in range(len(c["rewards"])):
            np.testing.assert_array_equal(c["obs"][k], obs)
            obs, r, te, tr, info = envs.step(env_actions(space, c["actions"][k]))
            np.testing.assert_array_equal(c["rewards"][k], r)
            np.testing.assert_array_equal(c["terminated"][k], te)
            np.testing.assert_array_equal(c["truncated"][k], tr)
            for lane in np.flatnonzero(te | tr):
                index, final = next(finals)
                assert index == k * n + lane
                np.testing.assert_array_equal(final, info["final_obs"][lane])
        assert next(finals, None) is None
        np.testing.assert_array_equal(c["last"], obs)
    envs.close()


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("env_id, hidden", [("CartPole-v1", ()), ("Pendulum-v1", (8, 8)),
                                            ("dsogym_test_envs:ShiftedWalk-v0", (4,))])
def test_trajectory_replays_exactly_on_a_sync_vector_env(env_id, hidden, loop):
    n = 3
    w = make_worker(env_id, n, loop=loop, seed=5)
    p = policy_for(w, hidden, version=7)
    chunks = [decoded(collect(w, 40, p, seed=1)), decoded(collect(w, 25)), decoded(collect(w, 1))]
    c = chunks[0]
    obs_shape = w.single_observation_space.shape
    assert c["obs"].shape == (40, n, *obs_shape) and c["obs"].dtype == w.single_observation_space.dtype
    assert c["actions"].shape == (40, n, p.action_dim) and c["actions"].dtype == np.float64
    assert c["rewards"].shape == (40, n) and c["terminated"].dtype == np.bool_
    assert c["last"].shape == (n, *obs_shape)
    assert all(ch["version"] == 7 for ch in chunks)
    assert c["env_seconds"] > 0 and c["policy_seconds"] > 0
    replay(env_id.split(":")[-1], n, 5, chunks, w.single_action_space)
    if env_id.endswith("ShiftedWalk-v0"):
        flags = np.concatenate([ch["terminated"].ravel() for ch in chunks]), \
            np.concatenate([ch["truncated"].ravel() for ch in chunks])
        assert flags[0].any() and flags[1].any(), "both endings should occur"
        assert set(np.unique(c["actions"])) <= {0.0, 1.0, 2.0}  # indices, not env actions


def test_gaussian_actions_are_recorded_unclipped():
    w = make_worker("Pendulum-v1", 4)
    p = policy_for(w, normalize=False)
    p.log_std[:] = 1.5  # std 4.5 against bounds of 2: plenty of clipping
    p.std[:] = np.exp(1.5)
    c = decoded(collect(w, 50, p, seed=3))
    assert np.abs(c["actions"]).max() > 2.0


def test_same_seeds_same_trajectory_and_both_loops_agree():
    runs = []
    for loop in LOOPS:
        w = make_worker("CartPole-v1", 4, loop=loop, seed=11)
        runs.append(decoded(collect(w, 30, policy_for(w), seed=99)))
    for key in ("obs", "actions", "rewards", "terminated", "truncated", "finals", "last"):
        np.testing.assert_array_equal(runs[0][key], runs[1][key], err_msg=key)
    assert runs[0]["ended"] == runs[1]["ended"]


def test_policy_is_kept_until_replaced_and_the_generator_continues():
    w = make_worker("CartPole-v1", 2)
    assert decoded(collect(w, 5, policy_for(w, version=3), seed=1))["version"] == 3
    assert decoded(collect(w, 5))["version"] == 3
    assert decoded(collect(w, 5, policy_for(w, version=4, seed=1)))["version"] == 4


def test_collect_continues_from_steps_and_a_masked_reset_sees_current_observations():
    w = make_worker("CartPole-v1", 3)
    c = decoded(collect(w, 4, policy_for(w), seed=1))
    step = w.handle(pb.ServerCommand(id=20, step=pb.StepRequest(
        actions=codec.encode_value(np.zeros(3, np.int64)))))
    after_step = codec.decode_value(step.step_result.observations)
    c2 = decoded(collect(w, 3))
    np.testing.assert_array_equal(c2["obs"][0], after_step)
    mask = codec.encode_tensor(np.array([True, False, False]))
    reset = w.handle(pb.ServerCommand(id=21, reset=pb.ResetRequest(seeds=[1, 2, 3], mask=mask)))
    obs = codec.decode_value(reset.reset_result.observations)
    np.testing.assert_array_equal(obs[1:], c2["last"][1:])  # lanes not reset: where collect left them
    assert c["last"].shape == (3, 4)


def test_hello_declares_the_capability():
    w = Worker("CartPole-v1", 1)
    assert CAPABILITY in w.hello().hello.capabilities
    assert DETERMINISTIC in w.hello().hello.capabilities


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("env_id, hidden", [("CartPole-v1", (8,)), ("Pendulum-v1", (8, 8))])
def test_deterministic_collect_takes_the_mode_replays_exactly_and_leaves_the_generator(env_id, hidden, loop):
    """Each recorded action is the policy's argmax (exactly) or mean (the sampler's arithmetic
    is rearranged, so up to rounding) at the observation the policy saw; the env got exactly
    those actions (replay); nothing was drawn from the generator."""
    n = 3
    w = make_worker(env_id, n, loop=loop, seed=5)
    p = policy_for(w, hidden, version=2)
    c = decoded(collect(w, 60, p, deterministic=True))
    params = p.forward(p.normalize(c["obs"].reshape(60 * n, -1).astype(np.float64)))
    if p.head == CATEGORICAL:
        np.testing.assert_array_equal(c["actions"].reshape(-1), params.argmax(1))
    else:
        np.testing.assert_allclose(c["actions"].reshape(60 * n, -1), params, rtol=0, atol=1e-12)
    replay(env_id, n, 5, [c], w.single_action_space)
    decoded(collect(w, 4, seed=3))  # a stochastic collect seeds the generator
    state = w.inference.rng.bit_generator.state
    decoded(collect(w, 9, deterministic=True))
    assert w.inference.rng.bit_generator.state == state


def error_of(reply):
    assert reply.WhichOneof("message") == "error", reply
    return reply.error.code, reply.error.message


def proto_with(policy, **changes):
    msg = policy_to_proto(policy)
    for key, value in changes.items():
        if key == "theta":
            codec.encode_tensor(value, msg.theta)
        elif key == "normalizer_var":
            codec.encode_tensor(value, msg.normalizer.var)
        else:
            setattr(msg, key, value)
    return msg


def bad_requests(w):
    p = policy_for(w, version=50)
    obs_dim = p.obs_dim
    return [
        (pb.CollectRequest(steps_per_lane=0), INVALID_ARGUMENT,
         "collect.steps_per_lane: expected >= 1, actual 0"),
        (pb.CollectRequest(steps_per_lane=10**7), INVALID_ARGUMENT,
         "collect.steps_per_lane: expected at most"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, theta=np.zeros(3))), INVALID_ARGUMENT,
         f"collect.policy.theta: expected {p.theta.size} values"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, theta=np.zeros(p.theta.size, np.float32))),
         INVALID_ARGUMENT, "collect.policy.theta: expected FLOAT64"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, theta=np.full(p.theta.size, np.inf))),
         INVALID_ARGUMENT, "collect.policy.theta: expected finite values, actual inf at index 0"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, obs_dim=obs_dim + 1)), INVALID_ARGUMENT,
         f"collect.policy.obs_dim: expected {obs_dim}"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, outputs=3)), INVALID_ARGUMENT,
         "collect.policy.outputs: expected 2 (Discrete n), actual 3"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, head=pb.PolicyParams.GAUSSIAN)),
         INVALID_ARGUMENT, "collect.policy.head: expected CATEGORICAL"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, head=pb.PolicyParams.HEAD_UNSPECIFIED)),
         INVALID_ARGUMENT, "collect.policy.head: expected CATEGORICAL or GAUSSIAN, actual 0"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, normalizer_var=-np.ones(obs_dim))),
         INVALID_ARGUMENT, "collect.policy.normalizer.var: expected finite values >= 0"),
        (pb.CollectRequest(steps_per_lane=5, policy=proto_with(p, normalizer_var=np.ones(obs_dim + 1))),
         INVALID_ARGUMENT, f"collect.policy.normalizer.var: expected FLOAT64 shape [{obs_dim}]"),
        # the caller's loop adds a seed: a deterministic collect draws nothing, so a seed is refused
        (pb.CollectRequest(steps_per_lane=5, deterministic=True), INVALID_ARGUMENT,
         "collect.seed: expected absent when collect.deterministic is set (a deterministic collect "
         "draws no random numbers), actual 12345"),
    ]


def test_bad_collects_are_refused_and_change_nothing():
    reference = make_worker("CartPole-v1", 3)
    w = make_worker("CartPole-v1", 3)
    first = [decoded(collect(x, 6, policy_for(x, version=2), seed=4)) for x in (reference, w)]
    for req, code, message in bad_requests(w):
        req.seed = 12345  # a refused collect must not reseed either
        got_code, got_message = error_of(w.handle(pb.ServerCommand(id=30, collect=req)))
        assert got_code == code and message in got_message, (got_code, got_message)
    # same lanes, same policy (version 2), same generator: the same trajectory as the reference
    a, b = decoded(collect(reference, 8)), decoded(collect(w, 8))
    assert b["version"] == 2
    for key in ("obs", "actions", "rewards", "last"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(first[0]["actions"], first[1]["actions"])


def test_collect_needs_same_step_mode_a_reset_and_a_policy():
    w = make_worker("CartPole-v1", 2, mode=pb.NEXT_STEP)
    code, message = error_of(collect(w, 5, policy_for(w)))
    assert code == FAILED_PRECONDITION and "expected autoreset mode SAME_STEP" in message and "NEXT_STEP" in message
    w = make_worker("CartPole-v1", 2, seed=None)
    code, message = error_of(collect(w, 5, policy_for(w)))
    assert code == FAILED_PRECONDITION and "lanes [0, 1] have not been reset" in message
    w.handle(pb.ServerCommand(id=2, reset=pb.ResetRequest(seeds=[0])))
    code, message = error_of(collect(w, 5))
    assert code == FAILED_PRECONDITION and "collect.policy: expected a policy" in message
    assert decoded(collect(w, 5, policy_for(w)))["obs"].shape == (5, 2, 4)


def test_env_error_mid_collect_is_internal_and_requires_a_reset():
    w = make_worker("dsogym_test_envs:Faulty-v0", 2)
    # Faulty-v0 raises on action 1: a policy that always picks 1 (huge bias on logit 1)
    theta = np.zeros(num_params(CATEGORICAL, 2, [], 2))
    theta[-1] = 50.0
    p = MlpPolicy(CATEGORICAL, 2, [], None, 2, theta)
    code, message = error_of(collect(w, 5, p, seed=0))
    assert code == 13 and "RuntimeError" in message and "boom" in message
    code, message = error_of(collect(w, 5))
    assert code == FAILED_PRECONDITION and "not been reset" in message
    w.handle(pb.ServerCommand(id=3, reset=pb.ResetRequest(seeds=[0])))
    theta[-1] = -50.0  # always 0: fine
    assert decoded(collect(w, 5, MlpPolicy(CATEGORICAL, 2, [], None, 2, theta, version=2)))["version"] == 2


@pytest.mark.parametrize("shape", [(2, 2), ()])
def test_observations_of_any_box_shape_keep_their_shape_and_both_loops_agree(shape):
    """CartPole's [4] reshaped to [2, 2], or reduced to its cart position (shape ())."""
    def make():
        env = gym.make("CartPole-v1")
        if shape:
            return gym.wrappers.ReshapeObservation(env, shape)
        low, high = env.observation_space.low[0], env.observation_space.high[0]
        space = gym.spaces.Box(low, high, (), np.float32)
        return gym.wrappers.TransformObservation(env, lambda o: np.float32(o[0]), space)

    runs = []
    for loop in LOOPS:
        w = Worker("CartPole-v1", 3, env_fn=make, collect_loop=loop)
        w.start(pb.ServerHello(protocol_version=pb.PROTOCOL_VERSION_1, worker_id="w", autoreset_mode=pb.SAME_STEP))
        w.handle(pb.ServerCommand(id=1, reset=pb.ResetRequest(seeds=[3])))
        c = decoded(collect(w, 30, policy_for(w), seed=5))
        assert c["obs"].shape == (30, 3, *shape) and c["last"].shape == (3, *shape)
        assert c["finals"].shape[1:] == shape and len(c["finals"]) == len(c["ended"]) > 0
        runs.append(c)
    for key in ("obs", "actions", "rewards", "finals", "last"):
        np.testing.assert_array_equal(runs[0][key], runs[1][key], err_msg=key)
