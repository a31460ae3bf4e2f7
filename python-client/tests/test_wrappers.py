"""dsogym/NoisyPendulum-v1: Gymnasium's Pendulum plus N(0, σ²) on θ̇' after the clip, and
θ' = θ + θ̇'·dt with the noisy θ̇' (the Java Pendulum-v1 with process_noise)."""
import gymnasium as gym
import numpy as np
import pytest

import dsogym  # noqa: F401  (registers the env)
from dsogym.wrappers import PendulumProcessNoise


def residuals(env, steps, seed):
    """θ̇' minus Gymnasium's own noise-free update, over a run of random torques."""
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        th, thdot = env.unwrapped.state
        u = np.float32(rng.uniform(-2, 2))
        g, m, l, dt = env.unwrapped.g, env.unwrapped.m, env.unwrapped.l, env.unwrapped.dt
        expected = np.clip(thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt, -8, 8)
        obs, _, terminated, truncated, _ = env.step(np.array([u], dtype=np.float32))
        out.append(env.unwrapped.state[1] - expected)
        assert np.allclose(obs[2], env.unwrapped.state[1], atol=1e-6)  # obs of the noisy state
        assert env.unwrapped.state[0] == pytest.approx(th + env.unwrapped.state[1] * dt, abs=1e-12)
        if terminated or truncated:
            env.reset()
    return np.array(out)


def test_the_noise_is_gaussian_with_the_given_std():
    env = gym.make("dsogym/NoisyPendulum-v1", process_noise=0.05)
    r = residuals(env, 4000, seed=3)
    # mean within 4 SE of 0; std within 5% (SE of a std over 4000 draws ≈ 1.1%)
    assert abs(r.mean()) < 4 * 0.05 / np.sqrt(len(r))
    assert abs(r.std() / 0.05 - 1) < 0.05


def test_without_noise_it_is_gymnasium_pendulum():
    noisy = gym.make("dsogym/NoisyPendulum-v1", process_noise=0.0)
    plain = gym.make("Pendulum-v1")
    a, _ = noisy.reset(seed=5)
    b, _ = plain.reset(seed=5)
    for k in range(50):
        u = np.array([np.sin(k)], dtype=np.float32)
        a, *_ = noisy.step(u)
        b, *_ = plain.step(u)
        np.testing.assert_array_equal(a, b)


def test_bad_std_is_refused():
    with pytest.raises(ValueError, match="std"):
        PendulumProcessNoise(gym.make("Pendulum-v1"), -1.0)
