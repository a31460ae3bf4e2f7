"""Conversions between numpy/Gymnasium objects and the wire protocol (proto/dsogym/v1).

Tensors travel as dtype + shape + little-endian C-order bytes. Decoding uses ``np.frombuffer``
on the message's bytes, so a decoded array is a read-only view that shares memory with the
message (no copy); copy it if you need to write to it.

Every malformed input raises ``ValueError`` (or ``TypeError`` for unsupported Python types)
with a message naming the field, the expected and the actual value.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from typing import Any, Mapping

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from dsogym.proto import pb

__all__ = [
    "DTYPE_TO_NUMPY",
    "NUMPY_TO_DTYPE",
    "encode_tensor",
    "decode_tensor",
    "encode_space",
    "decode_space",
    "encode_value",
    "decode_value",
    "encode_info",
    "decode_info",
    "env_spec_of",
    "SpecInfo",
    "decode_env_spec",
]

# numpy dtypes in little-endian byte order (what the wire carries)
DTYPE_TO_NUMPY: dict[int, np.dtype] = {
    pb.FLOAT32: np.dtype("<f4"),
    pb.FLOAT64: np.dtype("<f8"),
    pb.INT8: np.dtype("i1"),
    pb.INT16: np.dtype("<i2"),
    pb.INT32: np.dtype("<i4"),
    pb.INT64: np.dtype("<i8"),
    pb.UINT8: np.dtype("u1"),
    pb.UINT16: np.dtype("<u2"),
    pb.UINT32: np.dtype("<u4"),
    pb.UINT64: np.dtype("<u8"),
    pb.BOOL: np.dtype("?"),
}
# keyed by both byte orders so that big-endian arrays are recognized (and swapped on encode)
NUMPY_TO_DTYPE: dict[np.dtype, int] = {}
for _code, _dt in DTYPE_TO_NUMPY.items():
    NUMPY_TO_DTYPE[_dt] = _code
    NUMPY_TO_DTYPE[_dt.newbyteorder(">")] = _code
    NUMPY_TO_DTYPE[_dt.newbyteorder("=")] = _code

_DTYPE_NAME = {code: pb.DType.Name(code) for code in DTYPE_TO_NUMPY}
_MAX_DIMS = 32  # numpy's limit; anything larger is garbage


def _dtype_name(code: int) -> str:
    try:
        return pb.DType.Name(code)
    except ValueError:
        return str(code)


# ---------------------------------------------------------------------------------------------
# Tensors
# ---------------------------------------------------------------------------------------------


def encode_tensor(array: Any, out: Any = None, field: str = "tensor") -> Any:
    """numpy array (or anything np.asarray accepts) -> Tensor. Writes into ``out`` (a Tensor
    field of a message under construction) when given, which avoids a copy of the message."""
    a = array if type(array) is np.ndarray else np.asarray(array)
    code = NUMPY_TO_DTYPE.get(a.dtype)
    if code is None:
        raise TypeError(
            f"{field}: dtype expected one of {sorted(str(d) for d in DTYPE_TO_NUMPY.values())}, "
            f"actual {a.dtype}"
        )
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    t = pb.Tensor() if out is None else out
    t.dtype = code
    t.shape[:] = a.shape
    t.data = a.tobytes()  # C order, whatever the array's layout
    return t


def decode_tensor(t: Any, field: str = "tensor") -> np.ndarray:
    """Tensor -> read-only numpy array viewing the message's bytes (no copy)."""
    dtype = DTYPE_TO_NUMPY.get(t.dtype)
    if dtype is None:
        raise ValueError(
            f"{field}.dtype: expected one of {list(_DTYPE_NAME.values())}, actual {_dtype_name(t.dtype)}"
        )
    shape = tuple(t.shape)
    if len(shape) > _MAX_DIMS:
        raise ValueError(f"{field}.shape: expected at most {_MAX_DIMS} dimensions, actual {len(shape)}")
    n = 1
    for d in shape:
        if d < 0:
            raise ValueError(f"{field}.shape: expected non-negative dimensions, actual {list(shape)}")
        n *= d
    data = t.data
    if n * dtype.itemsize != len(data):
        raise ValueError(
            f"{field}.data: expected {n * dtype.itemsize} bytes ({_DTYPE_NAME[t.dtype]} shape "
            f"{list(shape)}), actual {len(data)}"
        )
    a = np.frombuffer(data, dtype=dtype)
    if t.dtype == pb.BOOL and n and a.view(np.uint8).max() > 1:
        raise ValueError(f"{field}.data: expected BOOL bytes 0 or 1, actual byte values up to "
                         f"{int(a.view(np.uint8).max())}")
    try:
        return a.reshape(shape)
    except ValueError as e:  # e.g. [0, 2**62]: no elements, but more than numpy can index
        raise ValueError(f"{field}.shape: expected a shape numpy can hold, actual {list(shape)} ({e})") from None


# ---------------------------------------------------------------------------------------------
# Spaces
# ---------------------------------------------------------------------------------------------


def encode_space(space: spaces.Space, out: Any = None) -> Any:
    """gymnasium space -> Space. Supports Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple."""
    s = pb.Space() if out is None else out
    if isinstance(space, spaces.Box):
        encode_tensor(np.asarray(space.low, dtype=space.dtype), s.box.low, "box.low")
        encode_tensor(np.asarray(space.high, dtype=space.dtype), s.box.high, "box.high")
    elif isinstance(space, spaces.Discrete):
        s.discrete.n = int(space.n)
        s.discrete.start = int(space.start)
    elif isinstance(space, spaces.MultiDiscrete):
        encode_tensor(np.asarray(space.nvec, dtype=np.int64), s.multi_discrete.nvec, "multi_discrete.nvec")
        encode_tensor(np.asarray(space.start, dtype=np.int64), s.multi_discrete.start, "multi_discrete.start")
    elif isinstance(space, spaces.MultiBinary):
        s.multi_binary.shape[:] = space.shape
    elif isinstance(space, spaces.Dict):
        s.dict.SetInParent()
        for key, sub in space.spaces.items():
            if not isinstance(key, str):
                raise TypeError(f"Dict space key: expected str, actual {type(key).__name__} {key!r}")
            e = s.dict.entries.add()
            e.key = key
            encode_space(sub, e.space)
    elif isinstance(space, spaces.Tuple):
        s.tuple.SetInParent()
        for sub in space.spaces:
            encode_space(sub, s.tuple.spaces.add())
    else:
        raise TypeError(
            f"space: expected Box, Discrete, MultiDiscrete, MultiBinary, Dict or Tuple, "
            f"actual {type(space).__name__}"
        )
    return s


def decode_space(s: Any, field: str = "space") -> spaces.Space:
    """Space -> gymnasium space (Dict keeps the wire's key order)."""
    kind = s.WhichOneof("kind")
    if kind == "box":
        low = decode_tensor(s.box.low, f"{field}.box.low")
        high = decode_tensor(s.box.high, f"{field}.box.high")
        if high.dtype != low.dtype or high.shape != low.shape:
            raise ValueError(
                f"{field}.box.high: expected dtype {low.dtype} shape {list(low.shape)} like low, "
                f"actual {high.dtype} {list(high.shape)}"
            )
        if low.dtype == np.bool_:
            raise ValueError(f"{field}.box.low.dtype: expected a numeric dtype, actual BOOL")
        return spaces.Box(low=low.copy(), high=high.copy(), shape=low.shape, dtype=low.dtype)
    if kind == "discrete":
        if s.discrete.n <= 0:
            raise ValueError(f"{field}.discrete.n: expected > 0, actual {s.discrete.n}")
        return spaces.Discrete(int(s.discrete.n), start=int(s.discrete.start))
    if kind == "multi_discrete":
        nvec = decode_tensor(s.multi_discrete.nvec, f"{field}.multi_discrete.nvec")
        start = decode_tensor(s.multi_discrete.start, f"{field}.multi_discrete.start")
        if nvec.dtype != np.int64:
            raise ValueError(f"{field}.multi_discrete.nvec.dtype: expected INT64, actual {nvec.dtype}")
        if start.size == 0 and nvec.size != 0:
            start = np.zeros_like(nvec)
        if start.dtype != np.int64 or start.shape != nvec.shape:
            raise ValueError(
                f"{field}.multi_discrete.start: expected INT64 shape {list(nvec.shape)}, "
                f"actual {start.dtype} {list(start.shape)}"
            )
        if np.any(nvec <= 0):
            raise ValueError(f"{field}.multi_discrete.nvec: expected all > 0, actual {nvec.tolist()}")
        return spaces.MultiDiscrete(nvec.copy(), start=start.copy())
    if kind == "multi_binary":
        shape = tuple(int(d) for d in s.multi_binary.shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"{field}.multi_binary.shape: expected non-negative, actual {list(shape)}")
        return spaces.MultiBinary(shape[0] if len(shape) == 1 else list(shape))
    if kind == "dict":
        items = []
        seen = set()
        for i, e in enumerate(s.dict.entries):
            if e.key in seen:
                raise ValueError(f"{field}.dict.entries[{i}].key: expected unique keys, actual duplicate {e.key!r}")
            seen.add(e.key)
            items.append((e.key, decode_space(e.space, f"{field}.dict[{e.key!r}]")))
        return spaces.Dict(OrderedDict(items))
    if kind == "tuple":
        return spaces.Tuple(
            [decode_space(sub, f"{field}.tuple[{i}]") for i, sub in enumerate(s.tuple.spaces)]
        )
    raise ValueError(f"{field}: expected one of box, discrete, multi_discrete, multi_binary, dict, tuple; actual unset")


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def _leaf_dtype(space: spaces.Space) -> np.dtype:
    return np.dtype(space.dtype)


def _as_leaf(x: Any, space: spaces.Space) -> np.ndarray:
    """The array to send for a leaf of ``space``: converted to the space's dtype when that is a
    safe (same-kind) cast, else left as is so that the receiver reports the mismatch."""
    a = x if type(x) is np.ndarray else np.asarray(x)
    want = _leaf_dtype(space)
    if a.dtype != want and np.can_cast(a.dtype, want, casting="same_kind"):
        a = a.astype(want)
    return a


def encode_value(x: Any, space: spaces.Space | None = None, out: Any = None, field: str = "value") -> Any:
    """A (possibly batched) value -> Value. With ``space`` the structure follows the space (Dict
    in its key order) and leaves are cast to the space's dtype where that is safe; without it,
    dicts/tuples/arrays are encoded as they are."""
    v = pb.Value() if out is None else out
    if space is None:
        if isinstance(x, Mapping):
            v.dict.SetInParent()
            for key, sub in x.items():
                e = v.dict.entries.add()
                e.key = key
                encode_value(sub, None, e.value, f"{field}[{key!r}]")
        elif isinstance(x, tuple):
            v.tuple.SetInParent()
            for i, sub in enumerate(x):
                encode_value(sub, None, v.tuple.items.add(), f"{field}[{i}]")
        else:
            encode_tensor(x, v.tensor, field)
        return v
    if isinstance(space, spaces.Dict):
        if not isinstance(x, Mapping):
            raise TypeError(f"{field}: expected a dict for a Dict space, actual {type(x).__name__}")
        v.dict.SetInParent()
        for key, sub in space.spaces.items():
            if key not in x:
                raise ValueError(f"{field}: expected key {key!r}, actual keys {list(x)}")
            e = v.dict.entries.add()
            e.key = key
            encode_value(x[key], sub, e.value, f"{field}[{key!r}]")
        return v
    if isinstance(space, spaces.Tuple):
        if not isinstance(x, (tuple, list)) or len(x) != len(space.spaces):
            raise TypeError(
                f"{field}: expected a tuple of {len(space.spaces)} for a Tuple space, actual {type(x).__name__}"
                + (f" of {len(x)}" if isinstance(x, (tuple, list)) else "")
            )
        v.tuple.SetInParent()
        for i, (sub, subspace) in enumerate(zip(x, space.spaces)):
            encode_value(sub, subspace, v.tuple.items.add(), f"{field}[{i}]")
        return v
    encode_tensor(_as_leaf(x, space), v.tensor, field)
    return v


def decode_value(
    v: Any,
    space: spaces.Space | None = None,
    batch: int | None = None,
    field: str = "value",
) -> Any:
    """Value -> dict / tuple / ndarray (read-only views of the message's bytes).

    With ``space`` the structure, the leaf dtypes and shapes are checked against it: the shape
    is ``space.shape`` or, when ``batch`` is given, ``(batch, *space.shape)``. An unbatched
    Discrete leaf decodes to a numpy integer scalar.
    """
    kind = v.WhichOneof("kind")
    if space is None:
        if kind == "tensor":
            return decode_tensor(v.tensor, field)
        if kind == "dict":
            return {e.key: decode_value(e.value, None, None, f"{field}[{e.key!r}]") for e in v.dict.entries}
        if kind == "tuple":
            return tuple(decode_value(it, None, None, f"{field}[{i}]") for i, it in enumerate(v.tuple.items))
        raise ValueError(f"{field}: expected one of tensor, dict, tuple; actual unset")
    if isinstance(space, spaces.Dict):
        if kind != "dict":
            raise ValueError(f"{field}: expected dict for a Dict space, actual {kind or 'unset'}")
        keys = [e.key for e in v.dict.entries]
        if keys != list(space.spaces.keys()):
            raise ValueError(f"{field}: expected keys {list(space.spaces.keys())}, actual {keys}")
        return {
            e.key: decode_value(e.value, space.spaces[e.key], batch, f"{field}[{e.key!r}]")
            for e in v.dict.entries
        }
    if isinstance(space, spaces.Tuple):
        if kind != "tuple":
            raise ValueError(f"{field}: expected tuple for a Tuple space, actual {kind or 'unset'}")
        if len(v.tuple.items) != len(space.spaces):
            raise ValueError(f"{field}: expected {len(space.spaces)} items, actual {len(v.tuple.items)}")
        return tuple(
            decode_value(it, sub, batch, f"{field}[{i}]")
            for i, (it, sub) in enumerate(zip(v.tuple.items, space.spaces))
        )
    if kind != "tensor":
        raise ValueError(f"{field}: expected tensor for a {type(space).__name__} space, actual {kind or 'unset'}")
    a = decode_tensor(v.tensor, field)
    want_shape = space.shape if batch is None else (batch, *space.shape)
    want_dtype = _leaf_dtype(space)
    if a.dtype != want_dtype or a.shape != want_shape:
        raise ValueError(
            f"{field}: expected {want_dtype} shape {list(want_shape)}, actual {a.dtype} {list(a.shape)}"
        )
    if batch is None and a.ndim == 0 and isinstance(space, spaces.Discrete):
        return a[()]
    return a


# ---------------------------------------------------------------------------------------------
# Info
# ---------------------------------------------------------------------------------------------

_SKIP_INFO = frozenset(("final_obs", "_final_obs", "final_info", "_final_info"))


def encode_info(info: Mapping[str, Any], num_envs: int, out: Any = None) -> Any:
    """A vector env's info dict -> map<string, Tensor> (``out`` is the map field to fill).

    Keeps entries that are numeric or bool numpy arrays (or convertible) with leading dimension
    ``num_envs``, including gymnasium's ``_key`` masks; skips everything else (nested dicts,
    object arrays, strings, final_obs/final_info)."""
    result = {} if out is None else out
    for key, value in info.items():
        if key in _SKIP_INFO or not isinstance(key, str):
            continue
        if type(value) is not np.ndarray:
            if isinstance(value, (dict, str, bytes)) or value is None:
                continue
            try:
                value = np.asarray(value)
            except Exception:  # anything numpy cannot take is not sent
                continue
        if value.ndim == 0 or value.shape[0] != num_envs or value.dtype not in NUMPY_TO_DTYPE:
            continue
        if out is None:
            result[key] = encode_tensor(value, None, f"info[{key!r}]")
        else:
            encode_tensor(value, out[key], f"info[{key!r}]")
    return result


def decode_info(info: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """map<string, Tensor> -> dict of arrays (vector info: each [N, ...], ``_key`` masks BOOL)."""
    return {key: decode_tensor(t, f"info[{key!r}]") for key, t in info.items()}


def unbatch_info(info: Mapping[str, np.ndarray], lane: int = 0) -> dict[str, Any]:
    """The info of one lane from a vector info: keys whose ``_key`` mask is false are dropped."""
    out = {}
    for key, value in info.items():
        if key.startswith("_") and key[1:] in info:
            continue
        mask = info.get("_" + key)
        if mask is not None and not bool(mask[lane]):
            continue
        item = value[lane]
        out[key] = item[()] if isinstance(item, np.ndarray) and item.ndim == 0 else item
    return out


# ---------------------------------------------------------------------------------------------
# EnvSpec
# ---------------------------------------------------------------------------------------------


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return repr(o)


def env_spec_of(env: gym.Env, env_id: str | None = None, kwargs: Mapping[str, Any] | None = None) -> Any:
    """The EnvSpec message of a (single, unbatched) gymnasium env."""
    msg = pb.EnvSpec()
    spec = getattr(env, "spec", None)
    msg.id = env_id or (spec.id if spec is not None else type(env.unwrapped).__name__)
    encode_space(env.observation_space, msg.observation_space)
    encode_space(env.action_space, msg.action_space)
    if spec is not None:
        msg.max_episode_steps = int(spec.max_episode_steps or 0)
        if spec.reward_threshold is not None:
            msg.has_reward_threshold = True
            msg.reward_threshold = float(spec.reward_threshold)
    for key, value in (env.metadata or {}).items():
        msg.metadata[str(key)] = json.dumps(value, default=_json_default)
    if kwargs is None and spec is not None:
        kwargs = spec.kwargs
    msg.kwargs_json = json.dumps(dict(kwargs or {}), default=_json_default)
    return msg


class SpecInfo:
    """A decoded EnvSpec: gymnasium spaces and plain Python values."""

    __slots__ = ("id", "observation_space", "action_space", "max_episode_steps",
                 "reward_threshold", "metadata", "kwargs")

    def __init__(self, id, observation_space, action_space, max_episode_steps, reward_threshold,
                 metadata, kwargs):
        self.id = id
        self.observation_space = observation_space
        self.action_space = action_space
        self.max_episode_steps = max_episode_steps
        self.reward_threshold = reward_threshold
        self.metadata = metadata
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return (f"SpecInfo(id={self.id!r}, observation_space={self.observation_space}, "
                f"action_space={self.action_space}, max_episode_steps={self.max_episode_steps})")


def _loads(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"{field}: expected JSON text, actual {text!r} ({e})") from None


def decode_env_spec(msg: Any) -> SpecInfo:
    """EnvSpec -> SpecInfo (max_episode_steps None when 0, reward_threshold None when absent)."""
    reward_threshold = msg.reward_threshold if msg.has_reward_threshold else None
    if reward_threshold is not None and math.isnan(reward_threshold):
        reward_threshold = None
    return SpecInfo(
        id=msg.id,
        observation_space=decode_space(msg.observation_space, "spec.observation_space"),
        action_space=decode_space(msg.action_space, "spec.action_space"),
        max_episode_steps=msg.max_episode_steps or None,
        reward_threshold=reward_threshold,
        metadata={k: _loads(v, f"spec.metadata[{k!r}]") for k, v in msg.metadata.items()},
        kwargs=_loads(msg.kwargs_json, "spec.kwargs_json") if msg.kwargs_json else {},
    )
