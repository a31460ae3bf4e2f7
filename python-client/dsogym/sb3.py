"""Stable-Baselines3 adapter: lanes of a dsogym-hosted env as one SB3 ``VecEnv``.

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from dsogym.sb3 import RemoteVecEnv

    venv = VecMonitor(RemoteVecEnv("127.0.0.1:50051", "CartPole-v1", num_envs=8))
    PPO("MlpPolicy", venv).learn(100_000)

All lanes share one batched session (one round trip a step for every lane), which is what makes
it faster than SB3's DummyVecEnv or SubprocVecEnv over one ``dsogym/Remote-v0`` session per env.
The server resets ended lanes in the same step (Gymnasium's SAME_STEP autoreset), which is
SB3's contract: ``infos[i]["terminal_observation"]`` holds the last observation and
``infos[i]["TimeLimit.truncated"]`` says the episode was cut, not ended.

Needs the ``[sb3]`` extra (``pip install dsogym[sb3]``); SB3 brings torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from dsogym.remote import RemoteVectorEnv

__all__ = ["RemoteVecEnv"]


class RemoteVecEnv(VecEnv):
    """``num_envs`` lanes of ``env_id`` on the dsogym server at ``address``, as an SB3 VecEnv.

    Keyword arguments other than those named go to :class:`dsogym.RemoteVectorEnv` (``env_kwargs``,
    ``auth_token``, ``timeout``, ``tls_ca``...). Rendering is not served: ``render_mode`` is None.
    """

    def __init__(self, address: str, env_id: str, num_envs: int = 1, **session_kwargs: Any):
        if "autoreset_mode" in session_kwargs:
            raise ValueError("autoreset_mode: SB3's VecEnv contract needs SAME_STEP, which RemoteVecEnv "
                             f"sets itself; got {session_kwargs['autoreset_mode']!r}")
        self.venv = RemoteVectorEnv(address, env_id, num_envs, autoreset_mode=AutoresetMode.SAME_STEP,
                                    **session_kwargs)
        self.spec = self.venv.spec
        self._actions: np.ndarray | None = None
        super().__init__(num_envs, self.venv.single_observation_space, self.venv.single_action_space)

    # -- the VecEnv contract -----------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        seeds = list(self._seeds)
        options = self._options
        if any(o != options[0] for o in options):
            raise ValueError(f"set_options: the lanes of one session take the same reset options; got {options}")
        seed = None if all(s is None for s in seeds) else seeds
        obs, info = self.venv.reset(seed=seed, options=options[0] or None)
        self.reset_infos = _lane_infos(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait: no step_async before it")
        actions, self._actions = self._actions, None
        obs, rewards, terminated, truncated, info = self.venv.step(actions)
        dones = terminated | truncated
        infos = _lane_infos(info, self.num_envs)
        if dones.any():
            # SAME_STEP: `info` holds the new episodes' reset info, `final_info` the ended step's
            final_infos = _lane_infos(info.get("final_info", {}), self.num_envs)
            for i in np.flatnonzero(dones):
                self.reset_infos[i] = infos[i]
                infos[i] = final_infos[i]
                infos[i]["terminal_observation"] = info["final_obs"][i]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        # what SB3 itself asks for; the remote env's own attributes do not cross the wire
        known = {"render_mode": None, "spec": self.spec, "metadata": self.venv.metadata}
        if attr_name not in known:
            raise AttributeError(f"get_attr: {attr_name!r} is not served over the wire; "
                                 f"available: {', '.join(sorted(known))}")
        return [known[attr_name] for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"set_attr: the remote env's attributes cannot be set ({attr_name!r}); "
                             "pass env_kwargs when making it")

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        raise AttributeError(f"env_method: the remote env's methods are not served over the wire "
                             f"({method_name!r})")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]  # wrappers run on the server's side

    def get_images(self) -> Sequence[np.ndarray | None]:
        raise NotImplementedError("render: the dsogym server does not send frames")

    def __repr__(self) -> str:
        return f"RemoteVecEnv({self.venv!r})"


def _lane_infos(info: dict, n: int) -> list[dict[str, Any]]:
    """Gymnasium's vector info (values batched over lanes, `_key` masks) as SB3's per-lane dicts."""
    lanes: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, value in info.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        mask = info.get("_" + key)
        per_lane = _lane_infos(value, n) if isinstance(value, dict) else value
        for i in _masked(mask, n):
            lanes[i][key] = per_lane[i]
    return lanes


def _masked(mask: Any, n: int) -> Iterable[int]:
    return range(n) if mask is None else np.flatnonzero(np.asarray(mask))
