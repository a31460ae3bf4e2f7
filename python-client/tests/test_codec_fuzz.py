"""Hypothesis property tests of the codec: round trips of every dtype and shape, nested dict
and tuple values and spaces; and malformed protobuf values refused with a clear ValueError
(or TypeError) naming the field, never another exception.

Bounded for CI (``max_examples``, ``deadline``); for a longer search run
``DSOGYM_HYPOTHESIS_EXAMPLES=5000 pytest python-client/tests/test_codec_fuzz.py``.
"""

import os

import numpy as np
from gymnasium import spaces
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dsogym import codec
from dsogym.proto import pb

BOUNDED = settings(
    max_examples=int(os.environ.get("DSOGYM_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,  # the first example pays numpy's and protobuf's warm-up
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("DSOGYM_HYPOTHESIS_EXAMPLES") is None,  # CI: the same examples
)

DTYPES = [np.dtype(d) for d in ("<f4", "<f8", "i1", "<i2", "<i4", "<i8", "u1", "<u2", "<u4",
                                "<u8", "?")]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


def arrays(dtype=st.sampled_from(DTYPES), shape=SHAPES):
    return hnp.arrays(dtype, shape)


def wire(message):
    """The message as the peer receives it: serialized and parsed again."""
    return type(message).FromString(message.SerializeToString())


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@BOUNDED
@given(arrays())
def test_tensor_round_trip_any_dtype_and_shape(a):
    b = codec.decode_tensor(wire(codec.encode_tensor(a)))
    assert same(a, b)


@BOUNDED
@given(arrays(dtype=st.sampled_from([d.newbyteorder(">") for d in DTYPES if d.itemsize > 1])))
def test_big_endian_arrays_arrive_as_the_same_numbers(a):
    b = codec.decode_tensor(wire(codec.encode_tensor(a)))
    assert b.dtype == a.dtype.newbyteorder("<") and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


keys = st.text(min_size=1, max_size=6)
values = st.recursive(
    arrays(),
    lambda inner: st.dictionaries(keys, inner, min_size=1, max_size=3)
    | st.lists(inner, min_size=1, max_size=3).map(tuple),
    max_leaves=6,
)


def assert_same_value(x, y):
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y)
        for k in x:
            assert_same_value(x[k], y[k])
    elif isinstance(x, tuple):
        assert isinstance(y, tuple) and len(x) == len(y)
        for u, v in zip(x, y):
            assert_same_value(u, v)
    else:
        assert same(x, y)


@BOUNDED
@given(values)
def test_nested_value_round_trip(x):
    assert_same_value(x, codec.decode_value(wire(codec.encode_value(x))))


# Spaces, and batched values sampled from them, checked against the space on decode.
leaf_spaces = st.one_of(
    st.builds(lambda n, start: spaces.Discrete(n, start=start), st.integers(1, 10), st.integers(-5, 5)),
    st.builds(lambda shape, dtype: spaces.Box(0, 3, shape=shape, dtype=dtype),
              hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
              st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8])),
    st.builds(lambda nvec: spaces.MultiDiscrete(nvec), st.lists(st.integers(1, 6), min_size=1, max_size=4)),
    st.builds(lambda n: spaces.MultiBinary(n), st.integers(1, 6)),
)
space_trees = st.recursive(
    leaf_spaces,
    lambda inner: st.dictionaries(keys, inner, min_size=1, max_size=3).map(spaces.Dict)
    | st.lists(inner, min_size=1, max_size=3).map(spaces.Tuple),
    max_leaves=5,
)


@BOUNDED
@given(space_trees, st.integers(0, 3), st.integers(0, 2**31))
def test_space_and_batched_sample_round_trip(space, n, seed):
    decoded = codec.decode_space(wire(codec.encode_space(space)))
    assert decoded == space
    space.seed(seed)
    batch = tuple_or_dict_stack([space.sample() for _ in range(n)], space, n)
    back = codec.decode_value(wire(codec.encode_value(batch, space)), decoded, batch=n)
    assert_same_value(batch, back)


def tuple_or_dict_stack(samples, space, n):
    """Stacks n samples of ``space`` into the batched structure (leading dimension n)."""
    if isinstance(space, spaces.Dict):
        return {k: tuple_or_dict_stack([s[k] for s in samples], sub, n) for k, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(tuple_or_dict_stack([s[i] for s in samples], sub, n) for i, sub in enumerate(space.spaces))
    return np.stack(samples) if n else np.zeros((0, *space.shape), dtype=space.dtype)


# Malformed values: any bytes that parse as the message, and fields a fuzzer can set directly.
def refused_cleanly(decode, field):
    try:
        decode()
    except (ValueError, TypeError) as e:
        assert field in str(e), f"expected a message naming {field!r}, got {e!r}"


malformed_tensors = st.builds(
    lambda dtype, shape, data: pb.Tensor(dtype=dtype, shape=shape, data=data),
    st.integers(-1, 14),
    st.lists(st.sampled_from([0, 1, 3, -1, 2**31, 2**62]) | st.integers(-(2**63), 2**63 - 1),
             max_size=5),
    st.binary(max_size=64),
)


@BOUNDED
@given(malformed_tensors)
# Found by this test: numpy's reshape refused the dimension without naming the field.
@example(pb.Tensor(dtype=pb.FLOAT32, shape=[0, 2**62], data=b""))
def test_malformed_tensor_is_refused_naming_the_field(t):
    refused_cleanly(lambda: codec.decode_tensor(wire(t), "step.actions"), "step.actions")


@BOUNDED
@given(st.binary(max_size=256), space_trees, st.integers(0, 3))
def test_arbitrary_value_bytes_are_decoded_or_refused(data, space, n):
    try:
        v = pb.Value.FromString(data)
    except Exception:  # protobuf's DecodeError: not the codec's input
        return
    refused_cleanly(lambda: codec.decode_value(v, None, None, "obs"), "obs")
    refused_cleanly(lambda: codec.decode_value(v, space, n, "obs"), "obs")


@BOUNDED
@given(st.binary(max_size=256))
def test_arbitrary_space_and_spec_bytes_are_decoded_or_refused(data):
    for message, decode, field in ((pb.Space, codec.decode_space, "space"),
                                   (pb.EnvSpec, codec.decode_env_spec, "spec.")):
        try:
            m = message.FromString(data)
        except Exception:
            continue
        refused_cleanly(lambda: decode(m), field)
