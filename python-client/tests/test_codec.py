"""Pure-Python round trips of the codecs: every dtype, every space type, values, info."""

from collections import OrderedDict

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from dsogym import codec
from dsogym.proto import pb

ALL_DTYPES = [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_tensor_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    a = (rng.random(shape) * 100).astype(dtype)
    t = codec.encode_tensor(a)
    assert t.dtype == codec.NUMPY_TO_DTYPE[np.dtype(dtype)]
    assert list(t.shape) == list(shape)
    assert len(t.data) == a.nbytes
    b = codec.decode_tensor(pb.Tensor.FromString(t.SerializeToString()))
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_tensor_is_little_endian_and_decoded_without_copy():
    t = codec.encode_tensor(np.array([1, 2], dtype=">i4"))  # big-endian input is swapped
    assert t.data == b"\x01\x00\x00\x00\x02\x00\x00\x00"
    a = codec.decode_tensor(t)
    assert not a.flags.writeable and not a.flags.owndata  # a view of the message's bytes
    np.testing.assert_array_equal(a, [1, 2])


def test_non_contiguous_array_encodes_in_c_order():
    a = np.arange(6, dtype=np.int64).reshape(2, 3).T
    np.testing.assert_array_equal(codec.decode_tensor(codec.encode_tensor(a)), a)


@pytest.mark.parametrize(
    "tensor, fragment",
    [
        (pb.Tensor(dtype=pb.DTYPE_UNSPECIFIED, shape=[1], data=b"\0"), "tensor.dtype: expected one of"),
        (pb.Tensor(dtype=99, shape=[1], data=b"\0"), "actual 99"),
        (pb.Tensor(dtype=pb.FLOAT32, shape=[2], data=b"\0" * 7), "tensor.data: expected 8 bytes (FLOAT32 shape [2]), actual 7"),
        (pb.Tensor(dtype=pb.INT64, shape=[-1], data=b""), "tensor.shape: expected non-negative"),
        (pb.Tensor(dtype=pb.BOOL, shape=[2], data=b"\x01\x07"), "expected BOOL bytes 0 or 1"),
        (pb.Tensor(dtype=pb.FLOAT64, shape=[1] * 40, data=b"\0" * 8), "at most 32 dimensions"),
    ],
)
def test_malformed_tensors_are_rejected(tensor, fragment):
    with pytest.raises(ValueError) as e:
        codec.decode_tensor(tensor)
    assert fragment in str(e.value)


def test_unsupported_dtype_is_rejected():
    with pytest.raises(TypeError, match="dtype expected one of"):
        codec.encode_tensor(np.array([1.0], dtype=np.float16))
    with pytest.raises(TypeError):
        codec.encode_tensor(np.array(["a"]))


SPACES = {
    "box_f32": spaces.Box(low=np.array([-1.0, -np.inf], np.float32), high=np.array([2.0, np.inf], np.float32)),
    "box_f64_2d": spaces.Box(-3.0, 3.0, shape=(2, 3), dtype=np.float64),
    "box_u8_image": spaces.Box(0, 255, shape=(4, 4, 3), dtype=np.uint8),
    "box_i32": spaces.Box(low=np.array([-5, 0]), high=np.array([5, 10]), dtype=np.int32),
    "box_scalar": spaces.Box(-1.0, 1.0, shape=(), dtype=np.float32),
    "discrete": spaces.Discrete(4),
    "discrete_start": spaces.Discrete(3, start=-1),
    "multi_discrete": spaces.MultiDiscrete([3, 4, 5]),
    "multi_discrete_start_2d": spaces.MultiDiscrete(np.array([[2, 3], [4, 5]]), start=np.array([[0, -1], [2, 3]])),
    "multi_binary": spaces.MultiBinary(5),
    "multi_binary_2d": spaces.MultiBinary([2, 3]),
    "dict_key_order": spaces.Dict(OrderedDict([("z", spaces.Discrete(2)), ("a", spaces.Box(-1, 1, (2,)))])),
    "tuple": spaces.Tuple([spaces.Discrete(2), spaces.MultiBinary(3)]),
    "nested": spaces.Dict(OrderedDict([
        ("pos", spaces.Box(-1, 1, (3,), dtype=np.float64)),
        ("parts", spaces.Tuple([spaces.Discrete(5, start=1), spaces.Dict({"k": spaces.MultiDiscrete([2, 2])})])),
    ])),
}


def _same_space(a, b):
    assert type(a) is type(b)
    if isinstance(a, spaces.Dict):
        assert list(a.spaces) == list(b.spaces)
        for k in a.spaces:
            _same_space(a[k], b[k])
    elif isinstance(a, spaces.Tuple):
        assert len(a.spaces) == len(b.spaces)
        for x, y in zip(a.spaces, b.spaces):
            _same_space(x, y)
    else:
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a == b


@pytest.mark.parametrize("name", list(SPACES))
def test_space_round_trip(name):
    space = SPACES[name]
    msg = pb.Space.FromString(codec.encode_space(space).SerializeToString())
    _same_space(space, codec.decode_space(msg))


@pytest.mark.parametrize("name", list(SPACES))
@pytest.mark.parametrize("batch", [None, 1, 3])
def test_value_round_trip(name, batch):
    space = SPACES[name]
    target = space if batch is None else batch_space(space, batch)
    target.seed(1)
    x = target.sample()
    msg = pb.Value.FromString(codec.encode_value(x, space).SerializeToString())
    y = codec.decode_value(msg, space, batch)
    assert target.contains(y)
    _assert_same_value(x, y)
    _assert_same_value(x, codec.decode_value(msg))  # structure alone, no space


def _assert_same_value(x, y):
    if isinstance(x, dict):
        assert sorted(x) == sorted(y)  # batch_space sorts Dict keys; the codec keeps the space's order
        for k in x:
            _assert_same_value(x[k], y[k])
    elif isinstance(x, tuple):
        assert len(x) == len(y)
        for a, b in zip(x, y):
            _assert_same_value(a, b)
    else:
        a, b = np.asarray(x), np.asarray(y)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_value_casts_python_scalars_to_the_space_dtype():
    v = codec.encode_value(1, spaces.Discrete(2))
    assert v.tensor.dtype == pb.INT64 and list(v.tensor.shape) == []
    v = codec.encode_value([0.5, 0.25], spaces.Box(-1, 1, (2,)))  # float64 list -> float32
    assert v.tensor.dtype == pb.FLOAT32
    v = codec.encode_value(np.array([1.5]), spaces.Box(-1, 1, (1,), dtype=np.int64))  # unsafe: kept
    assert v.tensor.dtype == pb.FLOAT64


@pytest.mark.parametrize(
    "space, value, fragment",
    [
        (spaces.Box(-1, 1, (2,)), codec.encode_value(np.zeros(3, np.float32)), "expected float32 shape [2], actual float32 [3]"),
        (spaces.Box(-1, 1, (2,)), codec.encode_value(np.zeros(2, np.float64)), "expected float32 shape [2], actual float64 [2]"),
        (spaces.Discrete(2), codec.encode_value({"a": np.int64(1)}), "expected tensor for a Discrete space, actual dict"),
        (SPACES["dict_key_order"], codec.encode_value({"a": np.zeros(2, np.float32), "z": np.int64(1)}), "expected keys ['z', 'a']"),
        (SPACES["tuple"], codec.encode_value((np.int64(1),)), "expected 2 items, actual 1"),
        (spaces.Discrete(2), pb.Value(), "actual unset"),
    ],
)
def test_value_mismatching_the_space_is_rejected(space, value, fragment):
    with pytest.raises(ValueError) as e:
        codec.decode_value(value, space)
    assert fragment in str(e.value)


def test_unbatched_discrete_decodes_to_numpy_scalar():
    y = codec.decode_value(codec.encode_value(np.int64(2), spaces.Discrete(3)), spaces.Discrete(3))
    assert isinstance(y, np.int64) and y == 2


def test_info_keeps_numeric_lane_arrays_and_skips_the_rest():
    info = {
        "x": np.arange(3.0),
        "_x": np.array([True, False, True]),
        "count": np.array([1, 2, 3], np.int32),
        "name": np.array(["a", "b", "c"], dtype=object),
        "wrong_len": np.zeros(2),
        "scalar": 3.0,
        "nested": {"a": np.zeros(3)},
        "final_obs": np.array([None, None, None], dtype=object),
        "_final_obs": np.array([False, False, False]),
        "list": [1, 2, 3],
    }
    msg = pb.StepResult()
    codec.encode_info(info, 3, msg.info)
    assert sorted(msg.info) == ["_x", "count", "list", "x"]
    back = codec.decode_info(msg.info)
    np.testing.assert_array_equal(back["x"], info["x"])
    assert back["_x"].dtype == np.bool_
    assert codec.unbatch_info(back, 1) == {"count": 2, "list": 2}
    assert codec.unbatch_info(back, 0) == {"x": 0.0, "count": 1, "list": 1}


def test_env_spec_round_trip():
    env = gym.make("CartPole-v1")
    msg = pb.EnvSpec.FromString(codec.env_spec_of(env).SerializeToString())
    spec = codec.decode_env_spec(msg)
    assert spec.id == "CartPole-v1"
    _same_space(env.observation_space, spec.observation_space)
    _same_space(env.action_space, spec.action_space)
    assert spec.max_episode_steps == 500 and spec.reward_threshold == 475.0
    assert spec.metadata["render_fps"] == 50
    assert spec.kwargs == {}
