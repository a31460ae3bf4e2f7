"""RemoteEnv / RemoteVectorEnv over the wire against a Python-hosted EnvService
(dsogym.testing.PythonEnvServer): the client side of the protocol without Java."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import dsogym
from dsogym import RemoteEnv, RemoteVectorEnv
from dsogym.remote import RemoteFailedPrecondition, RemoteInvalidArgument, RemoteNotFound
from dsogym.testing import PythonEnvServer

import dsogym_test_envs  # noqa: F401  (registers Faulty-v0, Structured-v0)

ENV_IDS = ["CartPole-v1", "Pendulum-v1", "Structured-v0", "Faulty-v0"]


@pytest.fixture(scope="module")
def server():
    with PythonEnvServer(ENV_IDS) as s:
        yield s


def test_list_envs(server):
    specs = dsogym.list_envs(server.address)
    assert [s.id for s in specs] == ENV_IDS
    assert specs[1].action_space == gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "Structured-v0"])
def test_check_env(server, env_id):
    env = RemoteEnv(server.address, env_id)
    check_env(env, skip_render_check=True)
    env.close()


def test_a_render_mode_is_accepted_and_render_refuses(server):
    """Stable-Baselines3's make_vec_env calls gym.make(id, render_mode="rgb_array", ...) and
    falls back only on TypeError: the env must be made; only render() says it cannot draw."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns that rgb_array is not a listed mode
        env = gym.make("dsogym/Remote-v0", address=server.address, env_id="CartPole-v1",
                       render_mode="rgb_array")
    assert env.unwrapped.render_mode == "rgb_array"
    env.reset(seed=1)
    with pytest.raises(NotImplementedError, match="render_mode='rgb_array'"):
        env.unwrapped.render()
    env.close()
    plain = RemoteEnv(server.address, "CartPole-v1")
    assert plain.render() is None
    plain.close()


def test_gymnasium_make_and_make_vec(server):
    env = gym.make("dsogym/Remote-v0", address=server.address, env_id="CartPole-v1")
    obs, _ = env.reset(seed=3)
    ref = gym.make("CartPole-v1")
    ref_obs, _ = ref.reset(seed=3)
    np.testing.assert_array_equal(obs, ref_obs)
    for _ in range(30):
        o, r, te, tr, _ = env.step(1)
        ro, rr, rte, rtr, _ = ref.step(1)
        np.testing.assert_array_equal(o, ro)
        assert (r, te, tr) == (rr, rte, rtr)
        if te or tr:
            break
    env.close()
    envs = gym.make_vec("dsogym/Remote-v0", num_envs=3, vectorization_mode="vector_entry_point",
                        address=server.address, env_id="Pendulum-v1")
    assert isinstance(envs.unwrapped, RemoteVectorEnv) and envs.num_envs == 3
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (3, 3) and obs.flags.writeable
    envs.close()


def test_vector_env_same_step_matches_sync_vector_env(server):
    n = 2
    envs = RemoteVectorEnv(server.address, "Structured-v0", n, autoreset_mode=AutoresetMode.SAME_STEP)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    ref = gym.vector.SyncVectorEnv([lambda: gym.make("Structured-v0") for _ in range(n)],
                                   autoreset_mode=AutoresetMode.SAME_STEP)
    obs, info = envs.reset(seed=0, options={"start": 1})
    robs, rinfo = ref.reset(seed=0, options={"start": 1})
    np.testing.assert_array_equal(info["start"], rinfo["start"])
    for i in range(6):
        a = (np.full((n, 2), 0.25, np.float32), {"k": np.array([1, 1 + i % 2])})
        obs, rew, te, tr, info = envs.step(a)
        robs, rrew, rte, rtr, rinfo = ref.step(a)
        np.testing.assert_array_equal(obs["z_pos"], robs["z_pos"])
        np.testing.assert_array_equal(obs["parts"][1], robs["parts"][1])
        np.testing.assert_array_equal(rew, rrew)
        np.testing.assert_array_equal(te, rte)
        np.testing.assert_array_equal(tr, rtr)
        if "_final_obs" in rinfo:
            np.testing.assert_array_equal(info["_final_obs"], rinfo["_final_obs"])
            for lane in np.flatnonzero(rinfo["_final_obs"]):
                np.testing.assert_array_equal(info["final_obs"][lane]["z_pos"], rinfo["final_obs"][lane]["z_pos"])
        else:
            assert "_final_obs" not in info
    envs.close()


def test_errors_raise_and_the_session_stays_usable(server):
    with pytest.raises(RemoteNotFound, match="NoSuchEnv-v0"):
        RemoteEnv(server.address, "NoSuchEnv-v0")
    env = RemoteEnv(server.address, "Faulty-v0")
    with pytest.raises(RemoteFailedPrecondition):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(RemoteInvalidArgument, match=r"expected int64 shape \[1\], actual int64 \[1, 2\]"):
        env.step(np.array([0, 1]))
    with pytest.raises(RuntimeError, match="boom") as e:
        env.step(1)
    assert e.value.exception_type == "RuntimeError" and e.value.code == 13
    env.reset(seed=0)
    obs, r, te, tr, info = env.step(0)
    assert obs[0] == 1 and r == 1.0 and info == {"t": 1}
    env.step(0)
    _, _, _, tr, _ = env.step(0)
    assert tr
    with pytest.raises(RemoteFailedPrecondition, match="ended"):
        env.step(0)  # autoreset DISABLED: a reset is needed
    env.reset()
    env.close()
    env.close()  # idempotent


def test_unreachable_server_raises_connection_error():
    with pytest.raises(ConnectionError, match="not reachable"):
        RemoteEnv("127.0.0.1:1", "CartPole-v1", connect_timeout=0.5)


def test_mixed_none_seeds_need_a_server_that_declares_unseeded_lanes(server):
    """This stand-in server declares no capabilities, as an older dsogym: it would ignore
    ResetRequest.unseeded_lanes and seed those lanes with 0, so the client refuses, naming why."""
    envs = RemoteVectorEnv(server.address, "CartPole-v1", num_envs=3)
    try:
        with pytest.raises(ValueError, match="needs a server with the capability unseeded_lanes"):
            envs.reset(seed=[1, None, 2])
        envs.reset(seed=[1, 2, 3])  # seeding every lane, or none, works as before
        envs.reset(seed=None)
    finally:
        envs.close()
