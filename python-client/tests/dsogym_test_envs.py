"""Small Python envs the tests serve through real worker processes (``--env dsogym_test_envs:ID``)."""

import time
from collections import OrderedDict

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class FaultyEnv(gym.Env):
    """Box(2) observations counting steps; action 1 makes step raise RuntimeError."""

    metadata = {"render_modes": []}

    def __init__(self):
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0, self.np_random.random()], np.float32), {}

    def step(self, action):
        if action == 1:
            raise RuntimeError("boom: action 1 is forbidden")
        self.t += 1
        return np.array([self.t, 0.0], np.float32), 1.0, False, self.t >= 3, {"t": self.t}


class StructuredEnv(gym.Env):
    """Dict/Tuple observations and actions of every leaf type; ends after `length` steps."""

    metadata = {"render_modes": []}

    def __init__(self, length=4):
        self.length = length
        self.observation_space = spaces.Dict(OrderedDict([
            ("z_pos", spaces.Box(-10, 10, (3,), np.float64)),
            ("image", spaces.Box(0, 255, (2, 2, 3), np.uint8)),
            ("parts", spaces.Tuple([spaces.Discrete(5, start=-2), spaces.MultiBinary(4),
                                     spaces.MultiDiscrete([3, 4], start=[1, -1])])),
            ("counter", spaces.Box(0, 1000, (), np.int32)),
        ]))
        self.action_space = spaces.Tuple([spaces.Box(-1, 1, (2,), np.float32),
                                          spaces.Dict({"k": spaces.Discrete(3, start=1)})])
        self.t = 0

    def _obs(self):
        return OrderedDict([
            ("z_pos", np.full(3, float(self.t))),
            ("image", np.full((2, 2, 3), self.t % 256, np.uint8)),
            ("parts", (np.int64(-2 + self.t % 5), np.array([1, 0, 1, self.t % 2], np.int8),
                       np.array([1, -1 + self.t % 4]))),
            ("counter", np.array(self.t, np.int32)),
        ])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = int((options or {}).get("start", 0))
        return self._obs(), {"start": self.t}

    def step(self, action):
        box, d = action
        assert self.action_space.contains(action), action
        self.t += int(d["k"])
        reward = float(np.sum(box))
        return self._obs(), reward, self.t >= self.length, False, {"k": int(d["k"])}


class ShiftedWalkEnv(gym.Env):
    """A noisy walk on a line for worker-side inference tests: Discrete(3, start=-1) actions
    (the env sees -1, 0, 1), observation [position, noise] (float32); terminates when
    |position| >= 3 and is truncated by its 7-step time limit, so both flags occur."""

    metadata = {"render_modes": []}

    def __init__(self):
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = spaces.Discrete(3, start=-1)
        self.pos = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = float(self.np_random.uniform(-1, 1))
        return np.array([self.pos, 0.0], np.float32), {}

    def step(self, action):
        assert self.action_space.contains(action), action
        noise = float(self.np_random.normal())
        self.pos += int(action) + 0.5 * noise
        return (np.array([self.pos, noise], np.float32), -abs(self.pos), abs(self.pos) >= 3, False,
                {"pos": self.pos})


class SlowCartPoleEnv(gym.Wrapper):
    """Gymnasium's CartPole-v1 with every step `delay` seconds slower: a straggling worker."""

    def __init__(self, delay=0.0):
        super().__init__(gym.make("CartPole-v1"))
        self.delay = delay

    def step(self, action):
        time.sleep(self.delay)
        return self.env.step(action)


gym.register("Faulty-v0", entry_point=FaultyEnv)
gym.register("SlowCartPole-v1", entry_point=SlowCartPoleEnv)
gym.register("ShiftedWalk-v0", entry_point=ShiftedWalkEnv, max_episode_steps=7)
gym.register("Structured-v0", entry_point=StructuredEnv)
