"""The hub: a Gymnasium env served by a Python worker, used by another client through the server.

Starts the Java server (target/dsogym.jar, built by scripts/setup.sh) on a free loopback port
and a worker process serving Gymnasium's Acrobot-v1 to it. The worker could run on any machine.
Then, as a client, registers the server's envs as Gymnasium ids and makes dsogym/Acrobot-v1,
checks it with Gymnasium's env checker, and plays one episode with random actions.

    .venv/bin/python examples/worker_env_from_python.py
"""

import subprocess
import sys
import time

import gymnasium as gym
from gymnasium.utils.env_checker import check_env

import dsogym
from dsogym.testing import JavaServer

with JavaServer() as server:
    worker = subprocess.Popen([sys.executable, "-m", "dsogym.worker", "--server", server.address,
                               "--env", "Acrobot-v1"])
    try:
        while not any(s.id == "Acrobot-v1" for s in dsogym.list_envs(server.address)):
            time.sleep(0.1)  # the worker starts Python and Gymnasium, then connects
        print("registered", dsogym.register_envs(server.address))
        env = gym.make("dsogym/Acrobot-v1")
        print("max_episode_steps", env.spec.max_episode_steps, "reward_threshold", env.spec.reward_threshold)
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
    finally:
        worker.terminate()
        worker.wait(10)
