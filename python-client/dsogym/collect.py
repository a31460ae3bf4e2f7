"""Worker-side inference: the closed loop of a numpy policy and the worker's vector env, K steps
at a time (the ``collect`` command, capability "worker_inference").

The server sends the policy (``PolicyParams``: sizes, theta, normalizer statistics) when it
changed; the worker samples every action itself and replies once per K steps with the
recorded trajectory, so the per-step gRPC round trip disappears. The recorded action is the
categorical index or the unclipped Gaussian sample (the env gets index + start, or the sample
clipped to the Box), so Java computes ln pi of exactly what was sampled.

Everything is preallocated per (K, N); a step costs the lanes' own env steps plus about ten
numpy calls on [N, ...] arrays (see :class:`WorkerInference` for the two loops).
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np

from dsogym import codec
from dsogym.lanes import gather, lane_loop_possible, step_lanes
from dsogym.policy import CATEGORICAL, GAUSSIAN, RELU, TANH, MlpPolicy, Normalizer, Sampler
from dsogym.proto import pb

__all__ = ["CAPABILITY", "DETERMINISTIC", "LOOPS", "Chunk", "WorkerInference", "policy_from_proto", "policy_to_proto",
           "max_steps_per_lane"]

CAPABILITY = "worker_inference"
# collects of the policy's deterministic action (CollectRequest.deterministic), for evaluations
DETERMINISTIC = "deterministic_collect"

_HEADS = {pb.PolicyParams.CATEGORICAL: CATEGORICAL, pb.PolicyParams.GAUSSIAN: GAUSSIAN}
_ACTIVATIONS = {pb.PolicyParams.TANH: TANH, pb.PolicyParams.RELU: RELU}


def _vector(t: Any, n: int, field: str) -> np.ndarray:
    """A FLOAT64 tensor of n elements (shape [n])."""
    if t.dtype != pb.FLOAT64 or tuple(t.shape) != (n,) or len(t.data) != 8 * n:
        raise ValueError(f"{field}: expected FLOAT64 shape [{n}], actual "
                         f"{pb.DType.Name(t.dtype) if t.dtype in pb.DType.values() else t.dtype} "
                         f"shape {list(t.shape)} with {len(t.data)} bytes")
    return np.frombuffer(t.data, np.float64)


def policy_from_proto(msg: Any, observation_space: gym.Space, action_space: gym.Space,
                      field: str = "collect.policy") -> MlpPolicy:
    """PolicyParams -> MlpPolicy, checked against the env's spaces. Raises ValueError."""
    head = _HEADS.get(msg.head)
    if head is None:
        raise ValueError(f"{field}.head: expected CATEGORICAL or GAUSSIAN, actual {msg.head}")
    obs_dim = int(np.prod(observation_space.shape))
    if msg.obs_dim != obs_dim:
        raise ValueError(f"{field}.obs_dim: expected {obs_dim} (the observation space "
                         f"{observation_space}), actual {msg.obs_dim}")
    if head == CATEGORICAL:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"{field}.head: expected GAUSSIAN for the action space {action_space}, actual CATEGORICAL")
        if msg.outputs != int(action_space.n):
            raise ValueError(f"{field}.outputs: expected {int(action_space.n)} (Discrete n), actual {msg.outputs}")
    else:
        if not isinstance(action_space, gym.spaces.Box):
            raise ValueError(f"{field}.head: expected CATEGORICAL for the action space {action_space}, actual GAUSSIAN")
        if msg.outputs != int(np.prod(action_space.shape)):
            raise ValueError(f"{field}.outputs: expected {int(np.prod(action_space.shape))} (the Box's "
                             f"element count), actual {msg.outputs}")
    hidden = list(msg.hidden)
    activation = _ACTIVATIONS.get(msg.activation)
    if hidden and activation is None:
        raise ValueError(f"{field}.activation: expected TANH or RELU for hidden layers {hidden}, "
                         f"actual {msg.activation}")
    if any(h <= 0 for h in hidden):
        raise ValueError(f"{field}.hidden: expected sizes > 0, actual {hidden}")
    if not msg.HasField("theta"):
        raise ValueError(f"{field}.theta: expected a FLOAT64 tensor, actual none")
    t = msg.theta
    if t.dtype != pb.FLOAT64 or len(t.shape) != 1 or len(t.data) != 8 * (t.shape[0] if t.shape else -1):
        raise ValueError(f"{field}.theta: expected FLOAT64 of shape [num_params], actual "
                         f"dtype {t.dtype} shape {list(t.shape)} with {len(t.data)} bytes")
    theta = np.frombuffer(t.data, np.float64)
    normalizer = None
    nm = msg.normalizer
    if nm.enabled:
        normalizer = Normalizer(_vector(nm.mean, obs_dim, f"{field}.normalizer.mean"),
                                _vector(nm.var, obs_dim, f"{field}.normalizer.var"),
                                nm.clip, f"{field}.normalizer")
    return MlpPolicy(head, obs_dim, hidden, activation, int(msg.outputs), theta, normalizer,
                     version=msg.version, field=field)


def policy_to_proto(policy: MlpPolicy, out: Any = None) -> Any:
    """MlpPolicy -> PolicyParams (what the Java server sends; for Python-side drivers and tests)."""
    msg = pb.PolicyParams() if out is None else out
    msg.head = pb.PolicyParams.CATEGORICAL if policy.head == CATEGORICAL else pb.PolicyParams.GAUSSIAN
    msg.obs_dim = policy.obs_dim
    msg.hidden[:] = policy.hidden
    msg.activation = {TANH: pb.PolicyParams.TANH, RELU: pb.PolicyParams.RELU}.get(
        policy.activation, pb.PolicyParams.ACTIVATION_UNSPECIFIED)
    msg.outputs = policy.outputs
    codec.encode_tensor(policy.theta, msg.theta, "policy.theta")
    if policy.normalizer is not None:
        nm = policy.normalizer
        msg.normalizer.enabled = True
        codec.encode_tensor(nm.mean, msg.normalizer.mean, "policy.normalizer.mean")
        codec.encode_tensor(nm.var, msg.normalizer.var, "policy.normalizer.var")
        msg.normalizer.clip = nm.clip
    msg.version = policy.version
    return msg


def max_steps_per_lane(observation_space: gym.Space, num_envs: int, action_dim: int, limit: int) -> int:
    """The largest K whose trajectory reply surely fits in ``limit`` bytes, counting a final
    observation for every step (as if every step ended an episode)."""
    obs_bytes = int(np.prod(observation_space.shape)) * np.dtype(observation_space.dtype).itemsize
    per_step = 2 * obs_bytes + 8 * action_dim + 8 + 2 + 5  # x, final x, a, r, flags, index
    return max(0, (limit - 4096 - num_envs * obs_bytes) // (num_envs * per_step))


class Chunk:
    """The arrays of one collect; views of buffers reused by the next collect."""

    __slots__ = ("observations", "actions", "rewards", "terminated", "truncated", "ended",
                 "final_observations", "last_observations", "env_seconds", "policy_seconds")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


LOOPS = ("lanes", "vector")


class WorkerInference:
    """The worker's policy, generator and collect buffers for N lanes of one env.

    ``unsupported`` says why the env cannot run worker-side inference (None when it can): the
    policy needs a Box observation space and a Discrete or Box action space.

    Two loops run the same closed loop. ``lanes`` (the default) is :func:`dsogym.lanes.step_lanes`:
    SyncVectorEnv's SAME_STEP semantics without the info dicts a trajectory does not carry.
    ``vector`` calls the vector env's ``step`` (any VectorEnv; used when the lane loop is not
    possible).
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, num_envs: int,
                 loop: str = "lanes"):
        if loop not in LOOPS:
            raise ValueError(f"loop: expected one of {LOOPS}, actual {loop!r}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.n = num_envs
        self.loop = loop
        self.unsupported: str | None = None
        if not isinstance(observation_space, gym.spaces.Box):
            self.unsupported = f"a Box observation space, actual {observation_space}"
        elif not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            self.unsupported = f"a Discrete or Box action space, actual {action_space}"
        self.policy: MlpPolicy | None = None
        self.sampler: Sampler | None = None
        self.rng: np.random.Generator | None = None
        self._steps = -1
        self._obs: np.ndarray | None = None

    def install(self, policy: MlpPolicy | None, rng: np.random.Generator | None) -> None:
        """Replaces the policy and/or the generator (each only when given)."""
        if policy is not None:
            space = self.action_space
            if isinstance(space, gym.spaces.Box):
                self.sampler = policy.sampler(self.n, space.low.reshape(-1), space.high.reshape(-1), space.dtype)
            else:
                self.sampler = policy.sampler(self.n, start=int(space.start))
            self.policy = policy
        if rng is not None:
            self.rng = rng
        elif self.rng is None:
            self.rng = np.random.default_rng()  # never seeded: the OS's entropy

    def _buffers(self, steps: int) -> None:
        if steps == self._steps:
            return
        space = self.observation_space
        # row K holds the observations after the last step: obs[k + 1] is always x_{k+1}
        self._obs = np.empty((steps + 1, self.n, *space.shape), space.dtype)
        self._steps = steps

    def collect(self, envs: gym.vector.VectorEnv, observations: np.ndarray, steps: int,
                deterministic: bool = False) -> Chunk:
        """Runs K = ``steps`` steps of the SAME_STEP vector env from ``observations`` [N, ...]
        (the lanes' current observations). Needs :meth:`install` first. ``deterministic``:
        the policy's argmax or mean instead of samples; the generator is not touched."""
        self._buffers(steps)
        n = self.n
        obs = self._obs
        self.sampler.draw(self.rng, steps, deterministic)
        obs[0] = observations
        ended: list[int] = []
        finals: list[np.ndarray] = []
        perf = time.perf_counter
        t_start = perf()
        if self.loop == "lanes" and lane_loop_possible(envs, n):
            rewards, terminated, truncated, env_seconds = self._lane_loop(envs, steps, ended, finals)
        else:
            rewards, terminated, truncated, env_seconds = self._vector_loop(envs, steps, ended, finals)
        space = self.observation_space
        if finals:
            final_observations = np.stack(finals).astype(space.dtype, copy=False)
        else:
            final_observations = np.empty((0, *space.shape), space.dtype)
        if self.policy.head == CATEGORICAL:
            actions = self.sampler.indices.astype(np.float64).reshape(steps, n, 1)
        else:
            actions = self.sampler.samples
        chunk = Chunk(observations=obs[:steps], actions=actions, rewards=rewards,
                      terminated=terminated, truncated=truncated, ended=ended,
                      final_observations=final_observations, last_observations=obs[steps],
                      env_seconds=env_seconds, policy_seconds=0.0)
        chunk.policy_seconds = perf() - t_start - env_seconds
        return chunk

    def _vector_loop(self, envs, steps, ended, finals):
        n = self.n
        obs = self._obs
        flat = obs.reshape(steps + 1, n, -1)  # the policy's [N, obs_dim] rows, same memory
        # SyncVectorEnv returns fresh reward/flag arrays each step: keep them, stack once
        rewards: list[np.ndarray] = []
        terminated: list[np.ndarray] = []
        truncated: list[np.ndarray] = []
        act, step, perf = self.sampler.act, envs.step, time.perf_counter
        env_seconds = 0.0
        for k in range(steps):
            a = act(flat[k], k)
            t0 = perf()
            o, r, te, tr, info = step(a)
            env_seconds += perf() - t0
            obs[k + 1] = o  # o may be the env's own buffer (copy=False)
            rewards.append(r)
            terminated.append(te)
            truncated.append(tr)
            final_mask = info.get("_final_obs")
            if final_mask is not None:
                final = info["final_obs"]
                for lane in np.flatnonzero(final_mask):
                    ended.append(k * n + int(lane))
                    finals.append(final[lane])
        return (np.stack(rewards).astype(np.float64, copy=False), np.stack(terminated),
                np.stack(truncated), env_seconds)

    def _lane_loop(self, envs, steps, ended, finals):
        n = self.n
        obs = self._obs
        flat = obs.reshape(steps + 1, n, -1)
        rewards: list = []
        flags_te: list = []
        flags_tr: list = []
        act, perf = self.sampler.act, time.perf_counter
        env_seconds = 0.0
        for k in range(steps):
            a = act(flat[k], k)
            t0 = perf()
            step_lanes(envs, a, rewards, flags_te, flags_tr, ended, finals, base=k * n)
            gather(envs, obs[k + 1])
            env_seconds += perf() - t0
        shape = (steps, n)
        return (np.array(rewards, np.float64).reshape(shape), np.array(flags_te, np.bool_).reshape(shape),
                np.array(flags_tr, np.bool_).reshape(shape), env_seconds)
