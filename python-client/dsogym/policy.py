"""The numpy mirror of the Java policies (io.dsogym.policy): the same function of the same flat
theta, so that a Python worker can sample actions from the parameters the Java trainer sends
(worker-side inference) and Java can compute ln pi of the recorded actions itself.

Theta layout (io.dsogym.policy.PolicySpec): for each layer l of the MLP with sizes
[obs_dim, *hidden, outputs], W_l row-major [out_l x in_l] then b_l [out_l]; a Gaussian head
then appends log_std [outputs] (state-independent). Hidden layers apply tanh or relu; the
output layer is linear: the logits of a categorical head, the means of a Gaussian one.

The policy's input is the normalized observation
z = clip((x - mean) / sqrt(var + 1e-8), -clip, clip) (io.dsogym.policy.ObservationNormalizer)
when a :class:`Normalizer` is given, x itself otherwise.

:class:`MlpPolicy` is the reference function (batched over rows, allocating);
:class:`Sampler` is the per-step hot path of the collect loop: buffers preallocated for N lanes,
the noise of K steps drawn in one call, a handful of numpy calls per step and no Python loop
over lanes.

Every invalid argument raises ``ValueError`` naming the field, the expected and the actual
value.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["CATEGORICAL", "GAUSSIAN", "TANH", "RELU", "EPS", "num_params", "Normalizer",
           "MlpPolicy", "Sampler"]

CATEGORICAL = "categorical"
GAUSSIAN = "gaussian"
TANH = "tanh"
RELU = "relu"
EPS = 1e-8  # ObservationNormalizer.EPS
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def num_params(head: str, obs_dim: int, hidden: Sequence[int], outputs: int) -> int:
    """The length of theta (PolicySpec.numParams)."""
    sizes = [obs_dim, *hidden, outputs]
    n = sum(sizes[l + 1] * sizes[l] + sizes[l + 1] for l in range(len(sizes) - 1))
    return n + (outputs if head == GAUSSIAN else 0)


class Normalizer:
    """Frozen observation statistics: z = clip((x - mean) * inv_std, -clip, clip) with
    inv_std = 1 / sqrt(var + 1e-8), the exact arithmetic of ObservationNormalizer."""

    __slots__ = ("mean", "var", "clip", "inv_std")

    def __init__(self, mean: Sequence[float], var: Sequence[float], clip: float, field: str = "normalizer"):
        mean = np.array(mean, dtype=np.float64).reshape(-1)
        var = np.array(var, dtype=np.float64).reshape(-1)
        if mean.shape != var.shape:
            raise ValueError(f"{field}.var: expected {mean.size} values like mean, actual {var.size}")
        if not np.all(np.isfinite(mean)):
            raise ValueError(f"{field}.mean: expected finite values, actual {mean.tolist()}")
        if not np.all(np.isfinite(var)) or np.any(var < 0):
            raise ValueError(f"{field}.var: expected finite values >= 0, actual {var.tolist()}")
        if not (clip > 0):  # also rejects NaN
            raise ValueError(f"{field}.clip: expected > 0, actual {clip}")
        self.mean = mean
        self.var = var
        self.clip = float(clip)
        self.inv_std = 1.0 / np.sqrt(var + EPS)

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        z = np.subtract(x, self.mean, out=out) if out is not None else np.subtract(x, self.mean, dtype=np.float64)
        np.multiply(z, self.inv_std, out=z)
        np.maximum(z, -self.clip, out=z)
        np.minimum(z, self.clip, out=z)
        return z


class MlpPolicy:
    """pi(a | z, theta) for batches of rows z [B, obs_dim] (already normalized: see
    :meth:`normalize`). Theta is copied, so later writes to the caller's array change nothing.

    ``start`` is the Discrete space's start: the env action of index i is i + start.
    """

    def __init__(self, head: str, obs_dim: int, hidden: Sequence[int], activation: str | None,
                 outputs: int, theta: Sequence[float], normalizer: Normalizer | None = None,
                 version: int = 0, field: str = "policy"):
        hidden = [int(h) for h in hidden]
        if head not in (CATEGORICAL, GAUSSIAN):
            raise ValueError(f"{field}.head: expected {CATEGORICAL} or {GAUSSIAN}, actual {head!r}")
        if obs_dim <= 0 or outputs <= 0 or any(h <= 0 for h in hidden):
            raise ValueError(f"{field} sizes: expected positive sizes, actual obs_dim={obs_dim} "
                             f"hidden={hidden} outputs={outputs}")
        if hidden and activation not in (TANH, RELU):
            raise ValueError(f"{field}.activation: expected {TANH} or {RELU} for hidden layers "
                             f"{hidden}, actual {activation!r}")
        theta = np.array(theta, dtype=np.float64).reshape(-1)
        want = num_params(head, obs_dim, hidden, outputs)
        if theta.size != want:
            raise ValueError(f"{field}.theta: expected {want} values for {head} obs_dim={obs_dim} "
                             f"hidden={hidden} outputs={outputs}, actual {theta.size}")
        bad = np.flatnonzero(~np.isfinite(theta))
        if bad.size:
            raise ValueError(f"{field}.theta: expected finite values, actual {theta[bad[0]]} at "
                             f"index {int(bad[0])}")
        if normalizer is not None and normalizer.mean.size != obs_dim:
            raise ValueError(f"{field}.normalizer.mean: expected {obs_dim} values (obs_dim), "
                             f"actual {normalizer.mean.size}")
        self.head = head
        self.obs_dim = obs_dim
        self.hidden = hidden
        self.activation = activation if hidden else None
        self.outputs = outputs
        self.theta = theta
        self.normalizer = normalizer
        self.version = int(version)
        sizes = [obs_dim, *hidden, outputs]
        # W_l^T as contiguous [in x out] so that a batch is h @ W^T with no transposed views
        self.weights_t: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        off = 0
        for l in range(len(sizes) - 1):
            n_in, n_out = sizes[l], sizes[l + 1]
            w = theta[off:off + n_out * n_in].reshape(n_out, n_in)
            off += n_out * n_in
            self.weights_t.append(np.ascontiguousarray(w.T))
            self.biases.append(theta[off:off + n_out])
            off += n_out
        self.log_std = theta[off:off + outputs] if head == GAUSSIAN else None
        self.std = np.exp(self.log_std) if head == GAUSSIAN else None

    @property
    def action_dim(self) -> int:
        """Doubles per recorded action: 1 (the index) or outputs (PolicySpec.actionDim)."""
        return 1 if self.head == CATEGORICAL else self.outputs

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """Raw observations [B, obs_dim] -> the policy's input (float64)."""
        x = np.asarray(x).reshape(-1, self.obs_dim)
        return self.normalizer(x) if self.normalizer is not None else x.astype(np.float64)

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Logits (categorical) or means (Gaussian) [B, outputs] of normalized rows z."""
        h = np.asarray(z, dtype=np.float64).reshape(-1, self.obs_dim)
        last = len(self.weights_t) - 1
        for l, (wt, b) in enumerate(zip(self.weights_t, self.biases)):
            h = h @ wt + b
            if l < last:
                h = np.tanh(h) if self.activation == TANH else np.maximum(h, 0.0)
        return h

    def distribution_params(self, z: np.ndarray) -> np.ndarray:
        """Policy.distributionParams: the logits, or the means followed by log_std [B, 2*d]."""
        out = self.forward(z)
        if self.head == CATEGORICAL:
            return out
        return np.concatenate([out, np.broadcast_to(self.log_std, out.shape)], axis=1)

    def log_prob(self, z: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """ln pi(a | z) [B] of recorded actions [B, action_dim] (index, or unclipped sample)."""
        out = self.forward(z)
        a = np.asarray(actions, dtype=np.float64).reshape(out.shape[0], self.action_dim)
        if self.head == CATEGORICAL:
            m = out.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(out - m).sum(axis=1))
            return np.take_along_axis(out, a.astype(np.int64), axis=1)[:, 0] - lse
        u = (a - out) / self.std
        return (-0.5 * u * u - self.log_std - _HALF_LOG_2PI).sum(axis=1)

    def sampler(self, num_lanes: int, action_low=None, action_high=None, action_dtype=None,
                start: int = 0) -> "Sampler":
        return Sampler(self, num_lanes, action_low, action_high, action_dtype, start)


class Sampler:
    """The collect loop's per-step sampler for N lanes: normalize, forward, sample, in five or
    six numpy calls writing into preallocated buffers (at 16 lanes each call costs about as
    much as the arithmetic, so the count matters).

    Call :meth:`draw` once per chunk of K steps (all the noise in one Generator call), then
    :meth:`act` for k = 0..K-1. Categorical sampling is Gumbel-max (argmax of logits + Gumbel
    noise: exactly softmax sampling); a Gaussian sample is mean + std * eps with the noise
    pre-scaled. The recorded actions are :attr:`indices` [K, N] (categorical) or
    :attr:`samples` [K, N, d] (Gaussian, unclipped); ``act`` returns what the env gets: the
    index + start, or the sample clipped to the Box bounds in the Box's dtype.

    The arithmetic is rearranged, not approximated: the normalizer's shift moves into the
    first layer's bias (clip((x - m) s, -c, c) = clip(x s, m s - c, m s + c) - m s), and the
    output bias into the noise drawn for the chunk, so :meth:`logits` equals
    :meth:`MlpPolicy.forward` up to rounding (1e-12).
    """

    def __init__(self, policy: MlpPolicy, num_lanes: int, action_low=None, action_high=None,
                 action_dtype=None, start: int = 0):
        self.policy = policy
        self.n = num_lanes
        p = policy
        f8 = np.float64
        nm = p.normalizer
        self._weights = p.weights_t
        biases = [b.copy() for b in p.biases]
        if nm is not None:
            shift = nm.mean * nm.inv_std
            self._scale = nm.inv_std
            self._low = shift - nm.clip
            self._high = shift + nm.clip
            biases[0] -= shift @ p.weights_t[0]
            self._z = np.empty((num_lanes, p.obs_dim), f8)
        else:
            self._scale = None
            self._z = np.empty((num_lanes, p.obs_dim), f8)
        self._hidden_biases = biases[:-1]
        self._out_bias = biases[-1]
        self._relu = p.activation == RELU
        self._h = [np.empty((num_lanes, s), f8) for s in [*p.hidden, p.outputs]]
        self._steps = 0
        self.noise = np.empty((0, num_lanes, p.outputs), f8)
        self.indices = np.empty((0, num_lanes), np.int64)
        self.samples = np.empty((0, num_lanes, p.outputs), f8)
        self._categorical = p.head == CATEGORICAL
        self._start = int(start)
        self._env_index = np.empty(num_lanes, np.int64)
        if not self._categorical:
            dtype = np.dtype(action_dtype or np.float64)
            low = -np.inf if action_low is None else action_low
            high = np.inf if action_high is None else action_high
            self._act_low = np.broadcast_to(np.asarray(low, f8), (p.outputs,)).copy()
            self._act_high = np.broadcast_to(np.asarray(high, f8), (p.outputs,)).copy()
            self._env_action = np.empty((num_lanes, p.outputs), dtype)

    def draw(self, rng: np.random.Generator | None, steps: int, deterministic: bool = False) -> None:
        """Draws the noise of ``steps`` steps (plus the output bias) and sizes the
        recorded-action buffers. ``deterministic``: no noise (``rng`` unused), so :meth:`act`
        takes the argmax or the mean, as the Java ``Policy.mode``."""
        p = self.policy
        if steps != self._steps:
            self._steps = steps
            self.noise = np.empty((steps, self.n, p.outputs), np.float64)
            if self._categorical:
                self.indices = np.empty((steps, self.n), np.int64)
            else:
                self.samples = np.empty((steps, self.n, p.outputs), np.float64)
        if deterministic:
            self.noise[...] = 0.0
        elif self._categorical:
            # standard Gumbel noise: argmax(logits + G) is distributed as softmax(logits)
            self.noise[...] = rng.gumbel(size=self.noise.shape)
        else:
            rng.standard_normal(out=self.noise)
            np.multiply(self.noise, p.std, out=self.noise)
        np.add(self.noise, self._out_bias, out=self.noise)

    def _hidden(self, x: np.ndarray) -> np.ndarray:
        """The last hidden layer's output (or the normalized input of a linear policy)."""
        z = self._z
        if self._scale is not None:
            np.multiply(x, self._scale, out=z)
            z.clip(self._low, self._high, out=z)
        else:
            z[...] = x
        h = z
        for wt, b, buf in zip(self._weights, self._hidden_biases, self._h):
            np.dot(h, wt, out=buf)
            np.add(buf, b, out=buf)
            if self._relu:
                np.maximum(buf, 0.0, out=buf)
            else:
                np.tanh(buf, out=buf)
            h = buf
        return h

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits or means [N, outputs] of raw observations, by the sampler's arithmetic."""
        out = np.dot(self._hidden(x.reshape(self.n, self.policy.obs_dim)), self._weights[-1])
        return out + self._out_bias

    def act(self, x: np.ndarray, k: int) -> np.ndarray:
        """Samples step k's actions for raw observations x [N, obs_dim] (use
        ``x.reshape(N, -1)`` for other shapes); records them and returns the env's batched
        action (valid until the next call)."""
        out = self._h[-1]
        np.dot(self._hidden(x), self._weights[-1], out=out)
        if self._categorical:
            np.add(out, self.noise[k], out=out)
            idx = self.indices[k]
            out.argmax(1, out=idx)
            if self._start == 0:
                return idx
            return np.add(idx, self._start, out=self._env_index)
        a = self.samples[k]
        np.add(out, self.noise[k], out=a)
        return a.clip(self._act_low, self._act_high, out=self._env_action)
