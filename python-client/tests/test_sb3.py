"""Stable-Baselines3 on envs hosted by the real Java server: dsogym.sb3.RemoteVecEnv (one batched
session) and SB3's own make_vec_env over dsogym/Remote-v0 (one session per env).

It needs the [sb3] extra (torch): scripts/test.sh runs it in a venv of its own that has the
extra; elsewhere conftest.py leaves it out and says so in pytest's header."""

import gymnasium as gym
import numpy as np
import pytest

from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.evaluation import evaluate_policy  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor  # noqa: E402

import dsogym  # noqa: E402
from dsogym.sb3 import RemoteVecEnv  # noqa: E402
from dsogym.testing import JavaServer, find_jar  # noqa: E402


@pytest.fixture(scope="module")
def address():
    with JavaServer(find_jar()) as server:
        yield server.address


def test_sb3_check_env_passes_on_remote_v0(address):
    env = gym.make("dsogym/Remote-v0", address=address, env_id="Pendulum-v1")
    sb3_check_env(env.unwrapped, warn=True, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_remote_vec_env_steps_as_dummy_vec_env_does(address, env_id):
    """SB3's own DummyVecEnv over one Remote-v0 session per lane is the reference: the same seeds
    and actions give the same observations, rewards, dones, terminal observations and
    TimeLimit.truncated flags, through several episode ends (the server resets ended lanes in
    the step, DummyVecEnv resets them itself)."""
    n = 3
    ours = RemoteVecEnv(address, env_id, num_envs=n)
    ref = DummyVecEnv([lambda: gym.make("dsogym/Remote-v0", address=address, env_id=env_id)] * n)
    for v in (ours, ref):
        v.seed(7)
    obs, ref_obs = ours.reset(), ref.reset()
    np.testing.assert_array_equal(obs, ref_obs)
    rng = np.random.default_rng(0)
    ends = truncations = 0
    for _ in range(700):
        actions = np.stack([ours.action_space.sample() for _ in range(n)])
        if env_id == "CartPole-v1":  # push one way often enough that episodes end quickly
            actions = (rng.random(n) < 0.8).astype(np.int64)
        obs, rew, done, infos = ours.step(actions)
        ref_obs, ref_rew, ref_done, ref_infos = ref.step(actions)
        np.testing.assert_array_equal(obs, ref_obs)
        np.testing.assert_allclose(rew, ref_rew, rtol=0, atol=0)
        np.testing.assert_array_equal(done, ref_done)
        for i in np.flatnonzero(done):
            np.testing.assert_array_equal(infos[i]["terminal_observation"], ref_infos[i]["terminal_observation"])
            assert infos[i]["TimeLimit.truncated"] == ref_infos[i]["TimeLimit.truncated"]
            ends += 1
            truncations += infos[i]["TimeLimit.truncated"]
    assert ends >= 3  # the test went through episode ends, not just steps
    if env_id == "Pendulum-v1":
        assert truncations == ends == 3 * n  # 700 steps: each lane cut at 200, 400 and 600
    ours.close()
    ref.close()


def test_ppo_learns_on_remote_vec_env(address):
    """A real PPO run through one batched session: CartPole's greedy return rises well above a
    random policy's ~20 within 20k steps (the zoo's CartPole hyperparameters, seed 0)."""
    venv = VecMonitor(RemoteVecEnv(address, "CartPole-v1", num_envs=8))
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                ent_coef=0.0, learning_rate=1e-3, clip_range=0.2, seed=0, device="cpu")
    model.learn(20_000)
    mean, _ = evaluate_policy(model, venv, n_eval_episodes=10, deterministic=True)
    assert mean > 100, mean
    assert len(model.ep_info_buffer) > 0  # VecMonitor saw episodes end through RemoteVecEnv
    venv.close()


def test_ppo_runs_on_make_vec_env_of_remote_v0(address):
    """SB3's first call of the issue: make_vec_env passes render_mode="rgb_array"."""
    venv = make_vec_env("dsogym/Remote-v0", n_envs=2, seed=0,
                        env_kwargs={"address": address, "env_id": "CartPole-v1"})
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps >= 256
    venv.close()


def test_ppo_runs_on_make_vec_env_of_the_registered_ids(address):
    """register_envs' ids carry the address, so SB3's make_vec_env needs nothing more."""
    assert "dsogym/CartPole-v1" in dsogym.register_envs(address)
    venv = make_vec_env("dsogym/CartPole-v1", n_envs=2, seed=0)
    assert venv.envs[0].spec.max_episode_steps == 500
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps >= 256
    venv.close()


def test_ppo_trains_on_a_mujoco_env_a_worker_serves_through_the_hub(address, spawn_worker):
    """MuJoCo in one process (a dsogym worker), SB3 in another, the Java server between them:
    RemoteVecEnv leases the worker's 4 lanes for its session."""
    import time

    spawn_worker("--server", address, "--env", "InvertedPendulum-v5", "--num-envs", "4")
    deadline = time.monotonic() + 60
    while "InvertedPendulum-v5" not in [s.id for s in dsogym.list_envs(address)]:
        assert time.monotonic() < deadline, "the worker did not connect within 60 s"
        time.sleep(0.1)
    venv = VecMonitor(RemoteVecEnv(address, "InvertedPendulum-v5", num_envs=4))
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, seed=0, device="cpu")
    model.learn(2048)
    assert model.num_timesteps == 2048 and len(model.ep_info_buffer) > 0
    venv.close()


def test_errors_name_what_went_wrong(address):
    with pytest.raises(ValueError, match="autoreset_mode"):
        RemoteVecEnv(address, "CartPole-v1", autoreset_mode="NextStep")
    venv = RemoteVecEnv(address, "CartPole-v1", num_envs=2)
    with pytest.raises(AttributeError, match="'gravity' is not served"):
        venv.get_attr("gravity")
    venv.set_options([{"a": 1}, {"a": 2}])
    with pytest.raises(ValueError, match="same reset options"):
        venv.reset()
    assert venv.get_attr("render_mode") == [None, None]
    assert venv.env_is_wrapped(gym.Wrapper) == [False, False]
    venv.close()



def test_the_ppo_baseline_evaluates_as_the_trainer_does():
    """scripts/ppo_baseline.py (scripts/compare.py's `ppo`): evaluations after the rollouts that
    cross each multiple of eval_every and at the end, each over whole episodes with equal quotas
    per lane, deterministic for a seed."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import ppo_baseline

    s = ppo_baseline.run("CartPole-v1", seed=0, max_steps=1000, eval_every=500, eval_episodes=5, threshold=475)
    # the zoo's CartPole rollout is 8 envs x 32 steps = 256 steps: an evaluation at 512, the first
    # rollout end past 500, and one at 1024, past 1000 and the end of the run, not repeated
    assert [steps for steps, _ in s["eval_curve"]] == [512, 1024]
    assert s["env_steps"] == 1024 and s["eval_mean_return"] == s["eval_curve"][-1][1]
    assert s["steps_to_threshold"] is None and s["best_eval"] == max(r for _, r in s["eval_curve"])

    class Random:  # a model stand-in whose deterministic action is a fixed push to the right
        def predict(self, obs, deterministic):
            assert deterministic
            return np.ones(len(obs), dtype=np.int64), None

    returns = ppo_baseline.evaluate(Random(), "CartPole-v1", episodes=5, seed=3, normalizer=None)
    assert len(returns) == 5 and returns == ppo_baseline.evaluate(Random(), "CartPole-v1", 5, 3, None)
    assert all(8 <= r <= 12 for r in returns)  # always pushing right topples the pole in ~10 steps
