"""The baseline of the bridge benchmark: raw gymnasium.vector.SyncVectorEnv in this process.

Steps N lanes of one env for a fixed wall time with actions drawn beforehand from the action
space, so the figure is env stepping alone (no policy, no transport): the strictest
baseline for the bridge. Prints one JSON object:
{"env": ..., "num_envs": N, "steps": S, "seconds": T, "steps_per_sec": S / T}

    python -m dsogym.bench_raw --env CartPole-v1 --num-envs 16 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np

from dsogym.transport import add_cpus_option, apply_cpus_option


def measure(env_id: str, num_envs: int, seconds: float, warmup: float, seed: int) -> dict:
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)])
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(256)]
    envs.reset(seed=seed)
    t_end = time.perf_counter() + warmup
    i = 0
    while time.perf_counter() < t_end:
        envs.step(actions[i % 256])
        i += 1
    steps = 0
    t0 = time.perf_counter()
    t_end = t0 + seconds
    while True:
        for _ in range(16):  # check the clock every 16 steps
            envs.step(actions[i % 256])
            i += 1
        steps += 16
        if time.perf_counter() >= t_end:
            break
    elapsed = time.perf_counter() - t0
    envs.close()
    return {
        "env": env_id,
        "num_envs": num_envs,
        "steps": steps * num_envs,
        "seconds": elapsed,
        "steps_per_sec": steps * num_envs / elapsed,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--num-envs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    add_cpus_option(parser, "run on these CPUs only, as the bench's worker does")
    args = parser.parse_args(argv)
    apply_cpus_option(parser, args)
    np.random.seed(args.seed)
    print(json.dumps(measure(args.env, args.num_envs, args.seconds, args.warmup, args.seed)))


if __name__ == "__main__":
    main()
