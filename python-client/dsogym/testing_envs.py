"""Misbehaving Gymnasium envs for failure tests (the Java integration tests use them through
the ``module:EnvId`` convention):

    python -m dsogym.worker --env dsogym.testing_envs:Faulty-v0 \
        --env-kwargs '{"raise_at_step": 3}' ...

``Faulty-v0`` is a tiny counter env (observation: the step count since reset, as a Box float32
[1]; action: Discrete(2)) that can

* raise ``ValueError("boom at step K")`` from ``step`` when its step count reaches
  ``raise_at_step`` (0: never), and
* sleep ``stall_seconds`` inside ``step`` when its step count reaches ``stall_at_step``
  (0: never), to hold a request in flight, and
* return a NaN reward when its step count reaches ``nan_reward_at_step``, and an infinite
  observation when it reaches ``inf_observation_at_step`` (0: never), and
* put ``info_bytes`` bytes (uint8, the step count mod 256) in every info as ``payload``, for
  replies too big for a shared-memory region (0: an empty info).
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

__all__ = ["FaultyEnv"]


class FaultyEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, raise_at_step: int = 0, stall_at_step: int = 0, stall_seconds: float = 0.0,
                 nan_reward_at_step: int = 0, inf_observation_at_step: int = 0, info_bytes: int = 0):
        self.raise_at_step = int(raise_at_step)
        self.nan_reward_at_step = int(nan_reward_at_step)
        self.inf_observation_at_step = int(inf_observation_at_step)
        self.stall_at_step = int(stall_at_step)
        self.stall_seconds = float(stall_seconds)
        self.info_bytes = int(info_bytes)
        self.observation_space = gym.spaces.Box(0.0, 1e6, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self._t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self._t], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs(), self._info()

    def _info(self) -> dict:
        return {"payload": np.full(self.info_bytes, self._t % 256, np.uint8)} if self.info_bytes else {}

    def step(self, action):
        self._t += 1
        if self.stall_at_step and self._t == self.stall_at_step:
            time.sleep(self.stall_seconds)
        if self.raise_at_step and self._t == self.raise_at_step:
            raise ValueError(f"boom at step {self._t}")
        reward = float("nan") if self._t == self.nan_reward_at_step else 1.0
        obs = self._obs()
        if self._t == self.inf_observation_at_step:
            obs[0] = np.inf
        return obs, reward, False, False, self._info()


gym.register(id="Faulty-v0", entry_point=FaultyEnv, max_episode_steps=1000)
