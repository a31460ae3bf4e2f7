"""The lane loop's packers (dsogym.lanes): the bytes a step reply carries must be exactly those
numpy and Gymnasium's concatenate give, whatever scalar types an env returns; the fast paths
only skip work. The worker-level equality with SyncVectorEnv is test_worker.py's
test_steps_that_omit_info_run_lane_by_lane_with_sync_vector_env_results."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import concatenate, create_empty_array

from dsogym.lanes import packed_flags, packed_rewards, stack_rows

REWARDS = [
    [1.0, 0.0, -2.5, 1e300],                                   # CartPole: Python floats
    [np.float64(0.25), np.float64(-3.0)],                      # MuJoCo: numpy float64
    [np.float32(0.1), 3, True, np.int64(-7)],                  # float32 (widened exactly), ints, a bool
    [np.array(1.5), 2.0],                                      # a 0-d array
    [],
]


@pytest.mark.parametrize("rewards", REWARDS, ids=range(len(REWARDS)))
def test_packed_rewards_are_numpys_float64_bytes(rewards):
    assert packed_rewards(rewards) == np.array(rewards, np.float64).tobytes()


def test_a_reward_struct_cannot_read_gets_numpys_error():
    with pytest.raises((TypeError, ValueError)):
        packed_rewards([1.0, "high"])


FLAGS = [
    [False, True, False],                                      # what Gymnasium envs return
    [np.True_, np.False_],                                     # numpy bools: numpy's way
    [0, 1, 2, -1],                                             # truthy ints: 2 and -1 are True
    [1.0, 0.0],                                                # floats
    [],
]


@pytest.mark.parametrize("flags", FLAGS, ids=range(len(FLAGS)))
def test_packed_flags_are_numpys_bool_bytes(flags):
    data = packed_flags(flags)
    assert data == np.array(flags, np.bool_).tobytes()
    assert set(data) <= {0, 1}


@pytest.mark.parametrize("rows, dtype", [
    ([np.arange(4, dtype=np.float32) + i for i in range(3)], np.float32),
    ([np.arange(4, dtype=np.float64) / 3 + i for i in range(5)], np.float32),   # cast as concatenate casts
    ([np.ones((2, 3), np.float64) * i for i in range(2)], np.float64),
    ([np.float32(i) for i in range(3)], np.float32),                             # shape () Box
])
def test_stack_rows_matches_gymnasiums_concatenate(rows, dtype):
    shape = np.shape(rows[0])
    space = gym.spaces.Box(-10, 10, shape, dtype)
    expected = concatenate(space, rows, create_empty_array(space, n=len(rows)))
    got = stack_rows(rows, np.empty((len(rows), *shape), dtype))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_stack_rows_refuses_a_cast_concatenate_refuses():
    rows = [np.array([0.5, 1.5]), np.array([2.5, 3.5])]
    space = gym.spaces.Box(0, 10, (2,), np.int64)
    with pytest.raises(TypeError):
        concatenate(space, rows, create_empty_array(space, n=2))
    with pytest.raises(TypeError):
        stack_rows(rows, np.empty((2, 2), np.int64))
