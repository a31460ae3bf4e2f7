"""Gymnasium wrappers that the Java experiments serve through a worker.

``PendulumProcessNoise`` adds Gaussian process noise to Gymnasium's Pendulum-v1, so that its
transitions have a density: what system identification needs (docs/math.md §6, §10). The
noise goes on θ̇' after Gymnasium's velocity clip, and θ' = θ + θ̇'·dt is taken with the noisy
θ̇', exactly as the Java Pendulum-v1 with ``process_noise`` does: θ' is then a function of the
state and θ̇', and the transition density in the physical parameters is that of θ̇'.
``noisy_pendulum`` is registered as ``dsogym/NoisyPendulum-v1``.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

NOISY_PENDULUM_ID = "dsogym/NoisyPendulum-v1"


class PendulumProcessNoise(gym.Wrapper):
    """Gymnasium's Pendulum with N(0, std²) added to θ̇' after each step (drawn from the env's
    own ``np_random``, seeded by ``reset(seed=...)``) and θ' recomputed from the noisy θ̇'."""

    def __init__(self, env: gym.Env, std: float):
        super().__init__(env)
        if not (np.isfinite(std) and std >= 0):
            raise ValueError(f"std: expected a finite number >= 0, actual {std!r}")
        if not hasattr(env.unwrapped, "_get_obs") or not hasattr(env.unwrapped, "dt"):
            raise ValueError(f"env: expected Gymnasium's PendulumEnv, actual "
                             f"{type(env.unwrapped).__name__}")
        self.std = float(std)

    def step(self, action):
        base = self.env.unwrapped
        theta = float(base.state[0])
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self.std > 0:
            thdot = float(base.state[1]) + self.std * base.np_random.standard_normal()
            base.state = np.array([theta + thdot * base.dt, thdot])
            obs = base._get_obs()
        return obs, reward, terminated, truncated, info


def noisy_pendulum(process_noise: float = 0.05, **kwargs) -> gym.Env:
    """Gymnasium's Pendulum-v1 (``kwargs`` such as ``g`` go to it) with process noise on θ̇."""
    return PendulumProcessNoise(gym.make("Pendulum-v1", **kwargs), process_noise)
