"""Use a Java-native env from Python as an ordinary gymnasium.Env.

Starts the Java server (target/dsogym.jar, built by scripts/setup.sh) on a free loopback
port, makes its CartPole-v1 through gymnasium.make("dsogym/Remote-v0", ...), checks it with
Gymnasium's env checker and plays one episode with random actions.

    .venv/bin/python examples/java_env_from_python.py
"""

import gymnasium as gym
from gymnasium.utils.env_checker import check_env

import dsogym  # noqa: F401  (registers dsogym/Remote-v0)
from dsogym.testing import JavaServer

with JavaServer() as server:
    print("Java server at", server.address, "hosts", [s.id for s in dsogym.list_envs(server.address)])
    env = gym.make("dsogym/Remote-v0", address=server.address, env_id="CartPole-v1")
    check_env(env.unwrapped)
    obs, info = env.reset(seed=42)
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += reward
        steps += 1
        done = terminated or truncated
    print(f"episode: {steps} steps, return {total}, terminated={terminated}, truncated={truncated}")
    env.close()
