"""dsogym.mujoco_warnings: MuJoCo's per-model warnings logged once, not printed per lane."""

import logging

import gymnasium as gym
import pytest

from dsogym import mujoco_warnings

mujoco = pytest.importorskip("mujoco")


@pytest.fixture
def restore_handler():
    before = mujoco.get_mju_user_warning()
    mujoco_warnings._seen.clear()
    yield
    mujoco.set_mju_user_warning(before)


def test_only_gymnasium_mujoco_envs_are_recognised():
    assert mujoco_warnings.is_mujoco_env("HalfCheetah-v5")
    assert not mujoco_warnings.is_mujoco_env("CartPole-v1")
    assert not mujoco_warnings.is_mujoco_env("NoSuchEnv-v0")


def test_a_warning_repeated_by_every_lane_is_logged_once(restore_handler, caplog):
    assert not mujoco_warnings.log_once("CartPole-v1"), "nothing installed for other envs"
    assert mujoco_warnings.log_once("HalfCheetah-v5")
    with caplog.at_level(logging.WARNING, logger="dsogym.mujoco"):
        envs = [gym.make("HalfCheetah-v5") for _ in range(3)]  # each compiles its model
        mujoco_warnings._warn("another text")
    for env in envs:
        env.close()
    texts = [r.getMessage() for r in caplog.records if r.name == "dsogym.mujoco"]
    # MuJoCo 3.x+ warns once per compile that HalfCheetah's XML uses 'settotalmass'
    assert len([t for t in texts if "settotalmass" in t]) == 1
    assert len(texts) == len(set(texts)), texts
    assert any("another text" in t for t in texts)
