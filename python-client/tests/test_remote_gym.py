"""Gymnasium details of Remote-v0, RemoteEnv and RemoteVectorEnv against the real Java server:
the spec's limits, pickling, per-lane seeds and SAME_STEP's final_info."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

import dsogym  # noqa: F401  (registers dsogym/Remote-v0)
from dsogym import RemoteEnv, RemoteVectorEnv
from dsogym.remote import RemoteFailedPrecondition
from test_java_server import java_server  # noqa: F401  (the session's real server)


def test_spec_carries_the_remote_envs_time_limit_and_reward_threshold(java_server):
    want = gym.spec("CartPole-v1")  # the Java-native env declares Gymnasium's values
    env = gym.make("dsogym/Remote-v0", address=java_server.address, env_id="CartPole-v1")
    try:
        assert (env.spec.max_episode_steps, env.spec.reward_threshold) == (500, 475.0) \
            == (want.max_episode_steps, want.reward_threshold)
        assert env.unwrapped.spec.max_episode_steps == 500 and env.spec.id == "dsogym/Remote-v0"
        # the server enforces the limit: make wraps no TimeLimit of its own around it
        assert "TimeLimit" not in [w.name for w in env.spec.additional_wrappers]
    finally:
        env.close()
    envs = gym.make_vec("dsogym/Remote-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        address=java_server.address, env_id="CartPole-v1")
    try:
        assert (envs.spec.max_episode_steps, envs.spec.reward_threshold) == (500, 475.0)
    finally:
        envs.close()
    pendulum = gym.make("dsogym/Remote-v0", address=java_server.address, env_id="Pendulum-v1")
    try:  # Gymnasium's Pendulum-v1 has a time limit and no threshold
        assert (pendulum.spec.max_episode_steps, pendulum.spec.reward_threshold) == (200, None)
    finally:
        pendulum.close()


def test_pickling_reconnects_to_a_new_session_that_steps(java_server):
    env = gym.make("dsogym/Remote-v0", address=java_server.address, env_id="CartPole-v1")
    envs = RemoteVectorEnv(java_server.address, "Pendulum-v1", num_envs=3,
                           autoreset_mode=gym.vector.AutoresetMode.SAME_STEP, env_kwargs={"g": 9.81})
    try:
        env.reset(seed=3)
        twin = pickle.loads(pickle.dumps(env))
        try:
            assert twin.unwrapped._vec._session is not env.unwrapped._vec._session
            assert twin.spec.max_episode_steps == 500 and twin.spec.kwargs == env.spec.kwargs
            with pytest.raises(RemoteFailedPrecondition):  # a new session: the episode is not carried
                twin.step(0)
            assert np.array_equal(twin.reset(seed=3)[0], env.reset(seed=3)[0])
            assert twin.step(1)[:4][1:] == env.step(1)[:4][1:]
        finally:
            twin.close()
        env.step(0)  # the original session is untouched

        vtwin = pickle.loads(pickle.dumps(envs))
        try:
            assert (vtwin.num_envs, vtwin.autoreset_mode, vtwin.remote_spec.kwargs.get("g")) == \
                (3, gym.vector.AutoresetMode.SAME_STEP, 9.81)
            obs, _ = vtwin.reset(seed=0)
            want, _ = envs.reset(seed=0)
            assert obs.tobytes() == want.tobytes()
            a = np.full((3, 1), 0.5, np.float32)
            assert vtwin.step(a)[0].tobytes() == envs.step(a)[0].tobytes()
        finally:
            vtwin.close()
    finally:
        env.close()
        envs.close()


def test_mixed_none_seeds_seed_the_int_lanes_and_draw_fresh_entropy_for_the_none_lanes(java_server):
    envs = RemoteVectorEnv(java_server.address, "CartPole-v1", num_envs=3)
    try:
        first, _ = envs.reset(seed=[1, None, 2])
        second, _ = envs.reset(seed=[1, None, 2])
        all_seeded, _ = envs.reset(seed=[1, 0, 2])
        for lane, seed in ((0, 1), (2, 2)):  # the seeded lanes reproduce Gymnasium's reset(seed)
            want, _ = gym.make("CartPole-v1").reset(seed=seed)
            assert first[lane].tobytes() == second[lane].tobytes() == want.tobytes()
        # the None lane is not seeded: it differs between resets and from the placeholder seed
        assert first[1].tobytes() != second[1].tobytes()
        assert first[1].tobytes() != all_seeded[1].tobytes()
        assert envs.single_observation_space.contains(first[1])
        envs.step(np.ones(3, np.int64))  # and the session goes on
    finally:
        envs.close()


def test_same_step_infos_have_gymnasiums_keys_and_masks_final_info_included(java_server):
    """The Java CartPole resets as Gymnasium's does, so both end their episodes on the same
    steps: the info dicts must then have the same keys, masks and final_info."""
    n, mode = 3, gym.vector.AutoresetMode.SAME_STEP
    envs = RemoteVectorEnv(java_server.address, "CartPole-v1", num_envs=n, autoreset_mode=mode)
    ref = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * n, autoreset_mode=mode)
    try:
        envs.reset(seed=5)
        ref.reset(seed=5)
        rng = np.random.default_rng(0)
        ended_steps = 0
        for _ in range(120):
            a = rng.integers(0, 2, n)
            obs, _, te, tr, info = envs.step(a)
            want_obs, _, _, _, want = ref.step(a)
            np.testing.assert_allclose(obs, want_obs, atol=1e-5)
            assert set(info) == set(want), (sorted(info), sorted(want))
            if "final_info" in want:
                ended_steps += 1
                np.testing.assert_array_equal(info["_final_info"], want["_final_info"])
                np.testing.assert_array_equal(info["_final_info"], te | tr)
                assert info["final_info"] == want["final_info"] == {}  # CartPole's info is empty
        assert ended_steps >= 3
    finally:
        envs.close()
        ref.close()
