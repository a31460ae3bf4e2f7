#!/usr/bin/env python3
"""Stable-Baselines3 PPO with RL Baselines3 Zoo's hyperparameters, evaluated as `bin/dsogym train`
evaluates: the deterministic action, EVAL_EPISODES whole episodes on min(EVAL_EPISODES, 32)
dedicated lanes with equal quotas, seeded SEED + 1,000,000 + 1,000 k at the k-th evaluation,
every EVAL_EVERY env steps (checked after each rollout) and at the end. scripts/compare.py runs
it as the algo `ppo`, with the budget and evaluation protocol of the dsogym runs beside it.

  .venv-sb3/bin/python scripts/ppo_baseline.py --env CartPole-v1 --seed 0 --max-steps 50000 \\
      --eval-every 5000 --eval-episodes 20 --threshold 475 --out runs/ppo/CartPole-v1/seed0

Needs the [sb3] extra. PPO steps Gymnasium's own env in this process (SB3's DummyVecEnv): the
fastest way PPO can step it, so the comparison does not charge PPO for the bridge.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

# RL Baselines3 Zoo, hyperparams/ppo.yml: the tuned entries (MuJoCo ones were tuned on the v3
# envs). "lin_X" is a schedule falling linearly from X to 0 over the run. normalize: VecNormalize
# of observations and rewards.
_MUJOCO_256 = {"log_std_init": -2, "ortho_init": False, "activation_fn": "relu",
               "net_arch": {"pi": [256, 256], "vf": [256, 256]}}
ZOO = {
    "CartPole": dict(n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                     ent_coef=0.0, learning_rate="lin_0.001", clip_range="lin_0.2"),
    "Pendulum": dict(n_envs=4, n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0,
                     learning_rate=1e-3, clip_range=0.2, use_sde=True, sde_sample_freq=4),
    "InvertedPendulum": dict(normalize=True, n_envs=1, batch_size=64, n_steps=32, gamma=0.999,
                             learning_rate=0.000222425, ent_coef=1.37976e-07, clip_range=0.4, n_epochs=5,
                             gae_lambda=0.9, max_grad_norm=0.3, vf_coef=0.19816),
    "InvertedDoublePendulum": dict(normalize=True, n_envs=1, batch_size=512, n_steps=128, gamma=0.98,
                                   learning_rate=0.000155454, ent_coef=1.05057e-06, clip_range=0.4,
                                   n_epochs=10, gae_lambda=0.8, max_grad_norm=0.5, vf_coef=0.695929),
    "HalfCheetah": dict(normalize=True, n_envs=1, batch_size=64, n_steps=512, gamma=0.98,
                        learning_rate=2.0633e-05, ent_coef=0.000401762, clip_range=0.1, n_epochs=20,
                        gae_lambda=0.92, max_grad_norm=0.8, vf_coef=0.58096, policy_kwargs=_MUJOCO_256),
    "Hopper": dict(normalize=True, n_envs=1, batch_size=32, n_steps=512, gamma=0.999,
                   learning_rate=9.80828e-05, ent_coef=0.00229519, clip_range=0.2, n_epochs=5,
                   gae_lambda=0.99, max_grad_norm=0.7, vf_coef=0.835671, policy_kwargs=_MUJOCO_256),
    "Walker2d": dict(normalize=True, n_envs=1, batch_size=32, n_steps=512, gamma=0.99,
                     learning_rate=5.05041e-05, ent_coef=0.000585045, clip_range=0.1, n_epochs=20,
                     gae_lambda=0.95, max_grad_norm=1, vf_coef=0.871923),
    "Swimmer": dict(normalize=True, gamma=0.9999),  # the zoo's MuJoCo defaults, γ raised
}


def zoo_hyperparameters(env_id: str) -> dict:
    for prefix, hp in ZOO.items():
        if env_id.startswith(prefix):
            return dict(hp)
    raise SystemExit(f"--env: the zoo has no tuned PPO for {env_id!r}; known: {', '.join(ZOO)}")


def _schedule(value):
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start
    return value


def evaluate(model, env_id: str, episodes: int, seed: int, normalizer) -> list[float]:
    """Deterministic returns of `episodes` whole episodes, equal quotas over the lanes."""
    lanes = min(episodes, 32)
    quota = [episodes // lanes + (i < episodes % lanes) for i in range(lanes)]
    env = gym.make_vec(env_id, num_envs=lanes, vectorization_mode="sync")
    obs, _ = env.reset(seed=seed)
    running, returns = np.zeros(lanes), []
    while len(returns) < episodes:
        x = normalizer.normalize_obs(obs) if normalizer is not None else obs
        actions, _ = model.predict(x, deterministic=True)
        obs, rewards, terminated, truncated, _ = env.step(actions)
        running += rewards
        for i in np.flatnonzero(terminated | truncated):
            if quota[i] > 0:
                returns.append(float(running[i]))
                quota[i] -= 1
            running[i] = 0.0
    env.close()
    return returns


def run(env_id: str, seed: int, max_steps: int, eval_every: int, eval_episodes: int,
        threshold: float | None, out: Path | None = None) -> dict:
    """Trains and evaluates; returns a summary shaped like `bin/dsogym train`'s summary.json,
    plus `eval_curve` [(env_steps, eval_mean_return)]. Writes OUT/summary.json when OUT is given."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)  # one core, as the dsogym learner; small MLPs gain little from more
    hp = zoo_hyperparameters(env_id)
    normalize = hp.pop("normalize", False)
    n_envs = hp.pop("n_envs", 1)
    for key in ("learning_rate", "clip_range"):
        if key in hp:
            hp[key] = _schedule(hp[key])
    if "policy_kwargs" in hp:
        kw = dict(hp["policy_kwargs"])
        kw["activation_fn"] = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[kw["activation_fn"]]
        hp["policy_kwargs"] = kw
    venv = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    if normalize:
        venv = VecNormalize(venv, gamma=hp.get("gamma", 0.99))
    model = PPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **hp)

    curve: list[tuple[int, float]] = []
    t0 = time.time()

    class Evaluations(BaseCallback):
        next_at = eval_every

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            if self.num_timesteps >= self.next_at:
                self.record()
                while self.next_at <= self.num_timesteps:
                    self.next_at += eval_every

        def record(self) -> None:
            normalizer = venv if normalize else None
            returns = evaluate(model, env_id, eval_episodes, seed + 1_000_000 + 1_000 * len(curve), normalizer)
            curve.append((int(self.num_timesteps), float(np.mean(returns))))

    callback = Evaluations()
    model.learn(max_steps, callback=callback)
    if not curve or curve[-1][0] != model.num_timesteps:
        callback.record()  # the final evaluation, as the trainer's at max steps
    wall = time.time() - t0
    reached = next((s for s, r in curve if threshold is not None and r >= threshold), None)
    summary = {"env_id": env_id, "algo": "ppo", "seed": seed, "source": "gymnasium",
               "env_steps": int(model.num_timesteps), "wall_seconds": wall,
               "eval_episodes": eval_episodes, "eval_mean_return": curve[-1][1], "threshold": threshold,
               "steps_to_threshold": reached, "best_eval": max(r for _, r in curve), "eval_curve": curve,
               "hyperparameters": "RL Baselines3 Zoo ppo.yml, " + env_id.split("-")[0]}
    venv.close()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, required=True)
    ap.add_argument("--eval-every", type=int, required=True)
    ap.add_argument("--eval-episodes", type=int, default=20)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    s = run(a.env, a.seed, a.max_steps, a.eval_every, a.eval_episodes, a.threshold, a.out)
    print(json.dumps({k: v for k, v in s.items() if k != "eval_curve"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
