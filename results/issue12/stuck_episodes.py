"""The final policy of a Pendulum-v1 run, measured over N deterministic episodes of
Gymnasium's Pendulum (reset seeds 5000..5000+N-1): the true mean return, how many episodes
end below -600 (stuck: the torque mean beyond ±2 holds the pendulum still), and for the first
three of those where they end and the unclipped mean there (docs/results.md, "Keeping the
target: Pendulum").

    PYTHONPATH=python-client .venv/bin/python results/issue12/stuck_episodes.py RUN_DIR [N]
"""
import json
import math
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

from dsogym.policy import MlpPolicy, Normalizer

run = json.loads((Path(sys.argv[1]) / "checkpoint.json").read_text())
policy = MlpPolicy("gaussian", 3, run["config"]["policyHidden"], "tanh", 1, run["theta"],
                   Normalizer(run["obsMean"], run["obsVar"], 10.0))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
sigma = float(policy.std[0])
env = gym.make("Pendulum-v1")
returns, stuck, means = [], [], []
for ep in range(n):
    obs, _ = env.reset(seed=5000 + ep)
    total, tail = 0.0, []
    for _ in range(200):
        mean = float(policy.forward(policy.normalize(obs[None]))[0, 0])
        means.append(abs(mean))
        obs, reward, _, _, _ = env.step(np.array([min(2.0, max(-2.0, mean))]))
        total += reward
        tail = (tail + [(abs(math.atan2(obs[1], obs[0])), mean)])[-20:]
    returns.append(total)
    if total < -600:
        stuck.append((ep, total, tail))
returns, means = np.array(returns), np.array(means)
print(f"{n} episodes: mean {returns.mean():.1f}, std {returns.std():.1f}, worst {returns.min():.0f}; "
      f"below -600: {len(stuck)}; states with |mean| > 2: {(means > 2).mean():.1%}, > 3: {(means > 3).mean():.1%}")
for ep, total, tail in stuck[:3]:
    mu = np.mean([m for _, m in tail])
    inside = np.mean([math.erfc((abs(m) - 2) / sigma / math.sqrt(2)) / 2 for _, m in tail])
    print(f"  episode {ep}: {total:.0f}; last 20 steps |theta| {np.mean([t for t, _ in tail]):.2f}, "
          f"unclipped mean {mu:.2f}, sigma {sigma:.3f}, samples inside the bound {inside:.1%}")
