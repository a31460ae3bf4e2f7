"""The baseline of the bridge benchmark: raw gymnasium.vector.SyncVectorEnv in this process.

Steps N lanes of one env for a fixed wall time with actions drawn beforehand from the action
space, so the figure is env stepping alone (no policy, no transport): the strictest
baseline for the bridge. Prints one JSON object per measurement:
{"env": ..., "num_envs": N, "steps": S, "seconds": T, "steps_per_sec": S / T}

    python -m dsogym.bench_raw --env CartPole-v1 --num-envs 16 --seconds 5

With ``--serve`` the process builds and warms up its lanes once, prints {"ready": true}, then
measures once per line read from stdin (the line is the window in seconds) until stdin
closes: the bench interleaves these windows with the bridge's, so both figures of a ratio
are taken seconds apart, without a process start between them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import gymnasium as gym
import numpy as np

from dsogym import mujoco_warnings
from dsogym.transport import add_cpus_option, apply_cpus_option


class RawStepper:
    """N lanes of ``env_id`` in a SyncVectorEnv stepped with 256 pre-sampled actions."""

    def __init__(self, env_id: str, num_envs: int, seed: int):
        self.env_id = env_id
        self.num_envs = num_envs
        self.envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)])
        self.envs.action_space.seed(seed)
        self.actions = [self.envs.action_space.sample() for _ in range(256)]
        self.envs.reset(seed=seed)
        self.i = 0

    def run_for(self, seconds: float) -> dict:
        """Steps for ``seconds`` of wall time (checking the clock every 16 steps)."""
        envs, actions = self.envs, self.actions
        i = self.i
        steps = 0
        t0 = time.perf_counter()
        t_end = t0 + seconds
        while True:
            for _ in range(16):
                envs.step(actions[i % 256])
                i += 1
            steps += 16
            if time.perf_counter() >= t_end:
                break
        elapsed = time.perf_counter() - t0
        self.i = i
        return {"env": self.env_id, "num_envs": self.num_envs, "steps": steps * self.num_envs,
                "seconds": elapsed, "steps_per_sec": steps * self.num_envs / elapsed}

    def close(self) -> None:
        self.envs.close()


def measure(env_id: str, num_envs: int, seconds: float, warmup: float, seed: int) -> dict:
    stepper = RawStepper(env_id, num_envs, seed)
    try:
        stepper.run_for(warmup)
        return stepper.run_for(seconds)
    finally:
        stepper.close()


def serve(env_id: str, num_envs: int, warmup: float, seed: int, lines=sys.stdin, out=sys.stdout) -> None:
    """One measurement per line of ``lines`` (a window in seconds), answered on ``out``."""
    stepper = RawStepper(env_id, num_envs, seed)
    try:
        stepper.run_for(warmup)
        print(json.dumps({"ready": True}), file=out, flush=True)
        for line in lines:
            if not line.strip():
                continue
            try:
                seconds = float(line)
            except ValueError:
                seconds = float("nan")
            if not seconds > 0:
                print(json.dumps({"error": f"window: expected a positive number of seconds, "
                                           f"actual {line.strip()!r}"}), file=out, flush=True)
                continue
            print(json.dumps(stepper.run_for(seconds)), file=out, flush=True)
    finally:
        stepper.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--num-envs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", action="store_true",
                        help="measure once per stdin line (its window in seconds) until stdin closes")
    add_cpus_option(parser, "run on these CPUs only, as the bench's worker does")
    args = parser.parse_args(argv)
    apply_cpus_option(parser, args)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    mujoco_warnings.log_once(args.env)
    np.random.seed(args.seed)
    if args.serve:
        serve(args.env, args.num_envs, args.warmup, args.seed)
    else:
        print(json.dumps(measure(args.env, args.num_envs, args.seconds, args.warmup, args.seed)))


if __name__ == "__main__":
    main()
