#!/usr/bin/env python3
"""Runs every DSO optimizer (or those given) over several seeds on one env and writes, beside
each other, what each reached: a Markdown table (steps to threshold median and spread, final
evaluation return, wall-clock, env-steps/s), a JSON report and a learning-curve plot of the
evaluation return (median over seeds, with the 25-75% band).

  .venv/bin/python scripts/compare.py --env CartPole-v1 --source java --seeds 5
  .venv/bin/python scripts/compare.py --env InvertedPendulum-v5 --source python --seeds 5 --jobs 2

Writes results/compare-ENV-SOURCE.{json,md,png}; runs go to runs/compare-ENV-SOURCE/ALGO/seedS.
Arguments after `--` go to every `bin/dsogym train` unchanged (per-env and per-algorithm
defaults come from the trainer's presets).

`--algos ppo,...` adds Stable-Baselines3 PPO with RL Baselines3 Zoo's hyperparameters
(scripts/ppo_baseline.py), on the budget and evaluation protocol of the dsogym runs of the same
seed (so at least one DSO algo must run beside it, or have run into runs/compare-ENV-SOURCE/).
It needs the [sb3] extra: in this Python, or in .venv-sb3 (which scripts/test.sh makes).
"""
import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python-client"))
import dsogym  # noqa: E402
from seeds import split_train_options, train_options  # noqa: E402  (this folder is on sys.path)

ALGOS = ["gradient", "pco", "natural", "chain-iteration"]
BASELINES = ["ppo"]


def summarize(all_runs: list[dict]) -> dict:
    """Failed runs count as seeds that did not reach the threshold; the medians are of the others."""
    runs = [r for r in all_runs if "failed" not in r] or [{"eval_mean_return": float("nan"), "best_eval": float("nan"),
                                                           "wall_seconds": float("nan"), "env_steps": float("nan")}]
    reached = [r["steps_to_threshold"] for r in all_runs if r["steps_to_threshold"] is not None]
    # over every seed, a seed that never reached the threshold counting as infinitely slow:
    # the figure the issues' "median of N seeds" targets mean (None when the median did not reach)
    everyone = sorted(reached) + [float("inf")] * (len(all_runs) - len(reached))
    median_all = statistics.median(everyone)
    kept = [keeping(r) for r in all_runs if r.get("steps_to_threshold") is not None and r.get("eval_curve")]
    return {
        "seeds": len(all_runs),
        "failed": sum("failed" in r for r in all_runs),
        "reached": len(reached),
        "steps_to_threshold_median": statistics.median(reached) if reached else None,
        "steps_to_threshold_min": min(reached) if reached else None,
        "steps_to_threshold_max": max(reached) if reached else None,
        "steps_to_threshold_median_all_seeds": None if median_all == float("inf") else median_all,
        "final_eval_median": statistics.median(r["eval_mean_return"] for r in runs),
        "best_eval_median": statistics.median(r["best_eval"] for r in runs),
        # whether the target, once reached, was kept: a target reached and lost again is not met
        "final_below_threshold": sum(k["final_below"] for k in kept),
        "later_evals_below_threshold": sum(k["later_below"] for k in kept),
        "later_evals": sum(k["later"] for k in kept),
        "worst_after_reaching_median": statistics.median(k["worst_after"] for k in kept) if kept else None,
        "wall_seconds_median": statistics.median(r["wall_seconds"] for r in runs),
        "env_steps_per_second_median": statistics.median(r["env_steps"] / r["wall_seconds"] for r in runs),
    }


def keeping(run: dict) -> dict:
    """For a run that reached its threshold: the evaluations after the first one that reached it,
    how many of them fell below it, the worst of them, and whether the final one is below."""
    t = run["threshold"]
    curve = run["eval_curve"]
    first = next(i for i, (_, r) in enumerate(curve) if r >= t)
    later = [r for _, r in curve[first + 1:]]
    return {"later": len(later), "later_below": sum(r < t for r in later),
            "worst_after": min(later, default=curve[first][1]), "final_below": curve[-1][1] < t}


def eval_curve(run_dir: Path) -> list[tuple[float, float]]:
    return [(row["env_steps"], row["eval_mean_return"]) for row in dsogym.read_metrics(run_dir)
            if row["eval_mean_return"] is not None]


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def step_value(curve: list[tuple[float, float]], x: float) -> float | None:
    """The last evaluation at or before x (what a user would have had at that point)."""
    value = None
    for steps, ret in curve:
        if steps > x:
            break
        value = ret
    return value


def plot(report: dict, curves: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for algo, per_seed in curves.items():
        grid = sorted({s for c in per_seed for s, _ in c})
        xs, med, lo, hi = [], [], [], []
        for x in grid:
            vals = [v for v in (step_value(c, x) for c in per_seed) if v is not None]
            if len(vals) < len(per_seed):
                continue
            xs.append(x)
            med.append(statistics.median(vals))
            lo.append(quantile(vals, 0.25))
            hi.append(quantile(vals, 0.75))
        line, = ax.plot(xs, med, label=f"{algo} ({len(per_seed)} seeds)")
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if report["threshold"] is not None:
        ax.axhline(report["threshold"], color="grey", linestyle="--", linewidth=1,
                   label=f"threshold {report['threshold']:g}")
    ax.set_xlabel("env steps")
    ax.set_ylabel("evaluation return (median, 25-75% band)")
    ax.set_title(f"{report['env_id']} from {report['source']}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def fmt_value(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def fmt_steps(s: dict) -> str:
    if s["steps_to_threshold_median"] is None:
        return "-"
    return (f"{s['steps_to_threshold_median']:,.0f} ({s['steps_to_threshold_min']:,}-"
            f"{s['steps_to_threshold_max']:,})")


def table(report: dict) -> str:
    lines = [f"# {report['env_id']} from {report['source']}: threshold {report['threshold']}", "",
             "| algo | seeds reaching threshold | steps to threshold, median of those (min-max) "
             "| median of all seeds | final eval, median | best eval, median "
             "| final eval below threshold (of those reaching) | later evals below threshold "
             "| worst eval after reaching, median | wall-clock median | env-steps/s median |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for algo, s in report["algos"].items():
        m = s["steps_to_threshold_median_all_seeds"]
        lines.append(f"| {algo} | {s['reached']}/{s['seeds']} | {fmt_steps(s)} | {'-' if m is None else f'{m:,.0f}'} "
                     f"| {s['final_eval_median']:.1f} "
                     f"| {s['best_eval_median']:.1f} | {s['final_below_threshold']}/{s['reached']} "
                     f"| {s['later_evals_below_threshold']} of {s['later_evals']} "
                     f"| {fmt_value(s['worst_after_reaching_median'])} "
                     f"| {s['wall_seconds_median']:.1f} s "
                     f"| {s['env_steps_per_second_median']:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    argv, extra = split_train_options(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", required=True)
    ap.add_argument("--source", default="java", choices=["java", "python"])
    ap.add_argument("--algos", default=",".join(ALGOS), help="comma-separated (default: all four)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds FIRST..FIRST+N-1")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (each is a Java process, "
                    "plus a Python worker with --source python)")
    ap.add_argument("--out", default=None, help="path prefix of the outputs (default results/compare-ENV-SOURCE)")
    ap.add_argument("--jar", default=None, help="the dsogym jar to run (default: target/dsogym.jar)")
    ap.add_argument("--from-json", default=None, metavar="REPORT",
                    help="re-render the table and plot of an earlier report (runs nothing)")
    if "--from-json" in argv:  # --env is not needed then
        for a in ap._actions:
            a.required = False
    args = ap.parse_args(argv)
    if args.from_json:
        return render(json.loads(Path(args.from_json).read_text()), Path(args.from_json).with_suffix(""))
    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = [a for a in algos if a not in ALGOS + BASELINES]
    if unknown:
        ap.error(f"--algos: expected names among {', '.join(ALGOS + BASELINES)}, got {', '.join(unknown)}")
    options = train_options(extra, ap)

    tag = f"{args.env}-{args.source}"
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    t0 = time.time()

    def run(job: tuple[str, int]) -> dict:
        algo, seed = job
        out = ROOT / "runs" / f"compare-{tag}" / algo / f"seed{seed}"
        if algo in BASELINES:
            return run_ppo(args.env, seed, out, ROOT / "runs" / f"compare-{tag}", algos)
        try:
            s = dsogym.train(args.env, source=args.source, out=out, seed=seed, algo=algo, jar=args.jar, **options)
        except dsogym.TrainingFailed as e:  # one failed run must not lose the others
            print(f"{algo} seed {seed}: FAILED: {e}\n  " + "\n  ".join(e.output[-10:]), flush=True)
            return {"algo": algo, "seed": seed, "failed": str(e), "steps_to_threshold": None}
        curve = eval_curve(out)
        s["best_eval"] = max(r for _, r in curve)
        s["eval_curve"] = curve
        print(f"{algo} seed {seed}: steps_to_threshold {s['steps_to_threshold']}, final eval "
              f"{s['eval_mean_return']:.1f}, best {s['best_eval']:.1f}, {s['wall_seconds']:.1f} s", flush=True)
        return s

    # the baselines last: they take their budget and evaluation protocol from the DSO runs
    jobs = [(a, s) for a in algos if a not in BASELINES for s in seeds]
    jobs += [(a, s) for a in algos if a in BASELINES for s in seeds]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run, [j for j in jobs if j[0] not in BASELINES]))
        results += list(pool.map(run, [j for j in jobs if j[0] in BASELINES]))

    by_algo = {a: [r for (ja, _), r in zip(jobs, results) if ja == a] for a in algos}
    report = {
        "env_id": args.env, "source": args.source,
        "threshold": next((r["threshold"] for r in results if "threshold" in r), None),
        "seeds": seeds, "train_options": options, "jobs": args.jobs,
        "sweep_wall_seconds": time.time() - t0,
        "algos": {a: summarize(rs) for a, rs in by_algo.items()},
        "runs": {a: rs for a, rs in by_algo.items()},
    }
    return render(report, Path(args.out) if args.out else ROOT / "results" / f"compare-{tag}")


def run_ppo(env_id: str, seed: int, out: Path, sweep_runs: Path, algos: list[str]) -> dict:
    """PPO (scripts/ppo_baseline.py) with the max steps, evaluation cadence, episodes and
    threshold of a dsogym run of the same seed: of this sweep's first DSO algo, else of an
    earlier sweep's (its checkpoint's config and its summary's threshold)."""
    import subprocess

    earlier = sorted(p.parent.parent.name for p in sweep_runs.glob(f"*/seed{seed}/checkpoint.json"))
    order = [a for a in algos if a not in BASELINES] + [a for a in earlier if a not in algos]
    configs = [sweep_runs / a / f"seed{seed}" / "checkpoint.json" for a in order
               if a not in BASELINES and (sweep_runs / a / f"seed{seed}" / "checkpoint.json").exists()]
    if not configs:
        raise SystemExit(f"ppo seed {seed}: no dsogym run of seed {seed} under {sweep_runs} to take the budget "
                         "and evaluation protocol from; add a DSO algo to --algos")
    c = json.loads(configs[0].read_text())["config"]
    cmd = [str(sb3_python()), str(ROOT / "scripts" / "ppo_baseline.py"), "--env", env_id, "--seed", str(seed),
           "--max-steps", str(c["maxSteps"]), "--eval-every", str(c["evalEvery"]),
           "--eval-episodes", str(c["evalEpisodes"]), "--out", str(out)]
    threshold = json.loads((configs[0].parent / "summary.json").read_text()).get("threshold")
    if threshold is not None:
        cmd += ["--threshold", str(threshold)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"ppo seed {seed}: FAILED\n  " + "\n  ".join(proc.stderr.splitlines()[-10:]), flush=True)
        return {"algo": "ppo", "seed": seed, "failed": proc.stderr[-2000:], "steps_to_threshold": None}
    s = json.loads((out / "summary.json").read_text())
    s["eval_curve"] = [tuple(p) for p in s["eval_curve"]]
    print(f"ppo seed {seed}: steps_to_threshold {s['steps_to_threshold']}, final eval {s['eval_mean_return']:.1f}, "
          f"best {s['best_eval']:.1f}, {s['wall_seconds']:.1f} s (budget and protocol of {configs[0].parent.parent.name})",
          flush=True)
    return s


def sb3_python() -> Path:
    try:
        import stable_baselines3  # noqa: F401
        return Path(sys.executable)
    except ImportError:
        venv = ROOT / ".venv-sb3" / "bin" / "python"
        if venv.exists():
            return venv
        raise SystemExit("--algos ppo needs the [sb3] extra: pip install -e 'python-client[sb3]' "
                         "(or run scripts/test.sh once, which makes .venv-sb3)")


def render(report: dict, prefix: Path) -> int:
    """Writes PREFIX.json, .md and .png from a report (its summaries recomputed from its runs)."""
    report["algos"] = {a: summarize(rs) for a, rs in report["runs"].items()}
    prefix.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{prefix}.json").write_text(json.dumps(report, indent=2) + "\n")
    Path(f"{prefix}.md").write_text(table(report))
    plot(report, {a: [r["eval_curve"] for r in rs if "eval_curve" in r] for a, rs in report["runs"].items()},
         Path(f"{prefix}.png"))
    print(table(report))
    print(f"written {prefix}.json, {prefix}.md, {prefix}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
