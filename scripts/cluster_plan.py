"""The figures of docs/cluster.md's plan for 100 workers on 10 hosts.

Message sizes are measured on the real protocol: a real dsogym Worker with SAME_STEP lanes of
the env answers a real CollectRequest that carries the policy, and the sizes are protobuf's
ByteSize of the ServerCommand and of the WorkerMessage reply (gRPC adds 5 bytes a message and
HTTP/2 9 bytes a frame of up to 16 KB: under 0.1%). The learner's cost per transition comes
from results/jmh.json, its measured training rate from results/bench-train.json, and one
worker's rate from results/bench.json.

    .venv/bin/python scripts/cluster_plan.py [--out results/cluster-plan.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np

from dsogym.collect import policy_to_proto
from dsogym.policy import CATEGORICAL, GAUSSIAN, MlpPolicy, Normalizer, num_params
from dsogym.proto import pb
from dsogym.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
WORKERS, HOSTS = 100, 10
# (env, policy hidden sizes, steps per lane K of one collect request, lanes per worker N)
CASES = [("CartPole-v1", (), 64, 4), ("HalfCheetah-v5", (), 256, 4), ("HalfCheetah-v5", (64, 64), 64, 4),
         ("HalfCheetah-v5", (256, 256), 64, 4)]


def policy_of(w: Worker, hidden: tuple[int, ...]) -> MlpPolicy:
    obs_dim = int(np.prod(w.single_observation_space.shape))
    space = w.single_action_space
    head = CATEGORICAL if isinstance(space, gym.spaces.Discrete) else GAUSSIAN
    outputs = int(space.n) if head == CATEGORICAL else int(np.prod(space.shape))
    theta = np.random.default_rng(0).normal(0, 0.1, num_params(head, obs_dim, list(hidden), outputs))
    normalizer = Normalizer(np.zeros(obs_dim), np.ones(obs_dim), 10.0)
    return MlpPolicy(head, obs_dim, list(hidden), "tanh", outputs, theta, normalizer, version=1)


def messages(env_id: str, hidden: tuple[int, ...], steps: int, lanes: int) -> dict:
    """The sizes of one collect of `steps` x `lanes` in the steady state (the second collect of
    a run, so episodes end at their natural rate: CartPole's early ones, HalfCheetah's at 1000)."""
    w = Worker(env_id, lanes)
    w.start(pb.ServerHello(protocol_version=pb.PROTOCOL_VERSION_1, worker_id="plan", autoreset_mode=pb.SAME_STEP))
    w.handle(pb.ServerCommand(id=1, reset=pb.ResetRequest(seeds=[0])))
    policy = policy_of(w, hidden)
    with_policy = pb.ServerCommand(id=2, collect=pb.CollectRequest(steps_per_lane=steps, seed=0))
    policy_to_proto(policy, with_policy.collect.policy)
    w.handle(with_policy)
    reply = w.handle(pb.ServerCommand(id=3, collect=pb.CollectRequest(steps_per_lane=steps)))
    assert reply.WhichOneof("message") == "trajectory", reply.error
    w.close()
    t = reply.trajectory
    return {"env": env_id, "hidden": list(hidden), "steps_per_lane": steps, "lanes": lanes,
            "obs_dtype": str(w.single_observation_space.dtype), "params": int(policy.theta.size),
            "collect_request_bytes": pb.ServerCommand(id=3, collect=pb.CollectRequest(steps_per_lane=steps)).ByteSize(),
            "policy_bytes": with_policy.collect.policy.ByteSize(),
            "trajectory_bytes": reply.ByteSize(), "episodes_ended": len(t.ended_indices),
            "bytes_per_env_step": reply.ByteSize() / (steps * lanes)}


def jmh(name: str, **params: str) -> float:
    """A JMH score in µs per transition."""
    for r in json.loads((ROOT / "results" / "jmh.json").read_text()):
        if r["benchmark"].endswith("." + name) and all(r.get("params", {}).get(k) == v for k, v in params.items()):
            return r["primaryMetric"]["score"] / 1000.0
    raise KeyError(f"{name} {params} not in results/jmh.json")


def learner() -> list[dict]:
    """The update's cost per transition: PCO's 10 epochs (or one gradient step) plus V̂'s 10
    refit epochs (its 64x64 MLP, minibatch 64); decoding and ln π rebuilding are not counted."""
    value_fit = jmh("valueFitStep", minibatch="64")
    measured = {(r["env_id"], r["algo"]): r["train_steps_per_s_without_eval"]
                for r in json.loads((ROOT / "results" / "bench-train.json").read_text())["train"]}
    rows = []
    for env, algo, policy, shape, update in [
            ("CartPole-v1", "gradient", "linear", "cartpole", jmh("surrogateGradient", policy="linear", shape="cartpole")),
            ("HalfCheetah-v5", "pco", "linear", "halfcheetah", 10 * jmh("pcoEpoch", policy="linear", shape="halfcheetah")),
            ("HalfCheetah-v5", "pco", "mlp64x64", "halfcheetah", 10 * jmh("pcoEpoch", policy="mlp64x64", shape="halfcheetah"))]:
        us = update + 10 * value_fit
        rows.append({"env": env, "algo": algo, "policy": policy, "policy_update_us": update,
                     "value_fit_us": 10 * value_fit, "us_per_transition": us, "ceiling_steps_per_s": 1e6 / us,
                     "bench_train_no_eval_steps_per_s": measured.get((env, algo)) if policy == "linear" else None})
    return rows


def worker_rates() -> dict:
    """One worker's worker-side env steps/s (one core, 16 lanes) from the bridge bench."""
    rows = json.loads((ROOT / "results" / "bench.json").read_text())["results"]
    return {r["env"]: r["worker_steps_per_sec"] for r in rows if r["lanes"] == 16}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "cluster-plan.json"))
    args = parser.parse_args()
    plan = {"workers": WORKERS, "hosts": HOSTS, "messages": [messages(*c) for c in CASES],
            "learner": learner(), "worker_steps_per_s": worker_rates()}
    print("| env | policy | params | K x N | request (no θ) | θ send | reply | bytes / env step | θ to 100 workers |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for m in plan["messages"]:
        print(f"| {m['env']} | {'x'.join(map(str, m['hidden'])) or 'linear'} | {m['params']:,} | "
              f"{m['steps_per_lane']} x {m['lanes']} | {m['collect_request_bytes']} B | {m['policy_bytes']:,} B | "
              f"{m['trajectory_bytes']:,} B | {m['bytes_per_env_step']:.1f} | {WORKERS * m['policy_bytes'] / 1e6:.2f} MB |")
    print("\n| env | algo | policy | update µs/transition | V̂ refit | total | learner ceiling steps/s | bench-train no-eval |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in plan["learner"]:
        measured = r["bench_train_no_eval_steps_per_s"]
        print(f"| {r['env']} | {r['algo']} | {r['policy']} | {r['policy_update_us']:.2f} | {r['value_fit_us']:.1f} | "
              f"{r['us_per_transition']:.1f} | {r['ceiling_steps_per_s']:,.0f} | {f'{measured:,.0f}' if measured else ''} |")
    print("\none worker's worker-side steps/s (16 lanes, one core):",
          {k: round(v) for k, v in plan["worker_steps_per_s"].items()})
    Path(args.out).write_text(json.dumps(plan, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
