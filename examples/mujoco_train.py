"""Train a Gaussian policy on a Gymnasium MuJoCo env served by a Python worker, with the Java
DSO learner, in one command. The worker runs the policy with numpy (worker-side inference);
observations are normalized and actions clipped to the env's bounds only at the env.

    .venv/bin/python examples/mujoco_train.py InvertedPendulum-v5            # its default: natural
    .venv/bin/python examples/mujoco_train.py Walker2d-v5                    # natural, 64x64 MLP
    .venv/bin/python examples/mujoco_train.py HalfCheetah-v5 --algo pco       # linear policy
    .venv/bin/python examples/mujoco_train.py InvertedPendulum-v5 --algo chain-iteration --seed 3

Per-env defaults (optimizer, batch shape, policy, learning rate, gamma, trust region) are the trainer's
presets, listed in docs/training.md; any `bin/dsogym train` option can follow as --name value.
Ends by printing the summary and where the metrics and the learning-curve plot are.
"""
import argparse
import sys
from pathlib import Path

import dsogym

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("env", nargs="?", default="InvertedPendulum-v5",
                help="a Gymnasium MuJoCo env id (default InvertedPendulum-v5)")
ap.add_argument("--algo", default=None, choices=["gradient", "pco", "natural", "chain-iteration"],
                help="the optimizer (default: the env's, from the trainer's presets)")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--out", default=None, help="run directory (default runs/ENV-ALGO-seedS)")
args, rest = ap.parse_known_args()
if len(rest) % 2:
    ap.error(f"extra train options: expected --name value pairs, got {rest}")
options = {rest[i][2:].replace("-", "_"): rest[i + 1] for i in range(0, len(rest), 2)}

algo = {"algo": args.algo} if args.algo else {}
out = Path(args.out or f"runs/{args.env}-{args.algo or 'default'}-seed{args.seed}")
summary = dsogym.train(args.env, source="python", seed=args.seed, out=out, **algo,
                       on_progress=lambda line: print(line, flush=True) if line.startswith("[train]") else None,
                       **options)
print(f"\n{args.env} with {summary['algo']}: final evaluation {summary['eval_mean_return']:.1f} "
      f"± {summary['eval_std_return']:.1f} after {summary['env_steps']:,} env steps "
      f"({summary['wall_seconds']:.0f} s); threshold {summary['threshold']} reached at "
      f"{summary['steps_to_threshold']} steps")
print(f"metrics: {out / 'metrics.csv'}; learning curve: {out / 'learning_curve.png'}")
sys.exit(0)
