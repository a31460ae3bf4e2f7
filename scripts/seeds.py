#!/usr/bin/env python3
"""Trains one env over several seeds with `bin/dsogym train` and reports what the issues ask:
how many seeds reached the target, steps-to-threshold median and spread, final evaluation
return, wall-clock and env-steps/s. Writes the runs to runs/sweep-ENV-SOURCE/seedS and a JSON
summary (default results/train-ENV-SOURCE.json).

  .venv/bin/python scripts/seeds.py --env CartPole-v1 --source java --seeds 10
  .venv/bin/python scripts/seeds.py --env Pendulum-v1 --source java --seeds 5 -- --target-return -250

Arguments after `--` go to `bin/dsogym train` unchanged.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python-client"))
import dsogym  # noqa: E402


def split_train_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """Splits ARGS -- TRAIN_OPTIONS into the script's own arguments and the train options."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def train_options(extra: list[str], ap: argparse.ArgumentParser) -> dict:
    """--name value pairs -> {name_with_underscores: value} (dsogym.train's keywords)."""
    options = {}
    it = iter(extra)
    for flag in it:
        if not flag.startswith("--"):
            ap.error(f"extra train arguments: expected --option value pairs, got {flag!r}")
        options[flag[2:].replace("-", "_")] = next(it)
    return options


def main() -> int:
    argv, extra = split_train_options(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", required=True)
    ap.add_argument("--source", default="java", choices=["java", "python"])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="JSON summary path")
    ap.add_argument("--quiet", action="store_true", help="do not echo the runs' progress lines")
    ap.add_argument("--jar", default=None, help="the dsogym jar to run (default: target/dsogym.jar)")
    args = ap.parse_args(argv)
    options = train_options(extra, ap)

    tag = f"{args.env}-{args.source}"
    runs = []
    t0 = time.time()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        out = ROOT / "runs" / f"sweep-{tag}" / f"seed{seed}"
        echo = None if args.quiet else (lambda line: print("   ", line, flush=True) if "eval" in line or "lost" in line else None)
        s = dsogym.train(args.env, source=args.source, out=out, seed=seed, on_progress=echo, jar=args.jar,
                         **options)
        runs.append(s)
        print(f"seed {seed}: steps_to_threshold {s['steps_to_threshold']}, final eval "
              f"{s['eval_mean_return']:.1f} ± {s['eval_std_return']:.1f}, {s['wall_seconds']:.1f} s", flush=True)

    reached = [r["steps_to_threshold"] for r in runs if r["steps_to_threshold"] is not None]
    walls = [r["wall_seconds"] for r in runs]
    report = {
        "env_id": args.env, "source": args.source, "seeds": len(runs), "threshold": runs[0]["threshold"],
        "train_options": options,
        "reached": len(reached),
        "steps_to_threshold_median": statistics.median(reached) if reached else None,
        "steps_to_threshold_min": min(reached) if reached else None,
        "steps_to_threshold_max": max(reached) if reached else None,
        "final_eval_median": statistics.median(r["eval_mean_return"] for r in runs),
        "wall_seconds_median": statistics.median(walls),
        "env_steps_per_second_median": statistics.median(r["env_steps"] / r["wall_seconds"] for r in runs),
        "sweep_wall_seconds": time.time() - t0,
        "runs": runs,
    }
    path = Path(args.out) if args.out else ROOT / "results" / f"train-{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{tag}: {len(reached)}/{len(runs)} seeds reached {report['threshold']}; steps to threshold "
          f"median {report['steps_to_threshold_median']} (min {report['steps_to_threshold_min']}, max "
          f"{report['steps_to_threshold_max']}); final eval median {report['final_eval_median']:.1f}; "
          f"wall median {report['wall_seconds_median']:.1f} s; written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
