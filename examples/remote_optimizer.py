"""Train a numpy policy of your own with the Java DSO optimizers (OptimizerService).

The policy (a linear softmax over normalized observations, written below: nothing of
dsogym's own policies), the Gymnasium env and the sampling all stay in this Python process.
Each batch of K steps of N lanes goes to the Java server as chain transitions: costs
(-reward), terminated/truncated, ln pi(a|x) and its score, and V-hat's features (the server
fits V-hat). The server answers with theta_{k+1}; the natural gradient, PCO and Chain
Iteration ask, on the same stream, for ln pi and the scores of the batch at candidate thetas,
which ``policy.log_probs_and_scores`` answers.

    .venv/bin/python examples/remote_optimizer.py --algo natural --seed 0 --out runs/remote-natural

Starts the Java server (target/dsogym.jar) on a free loopback port unless ``--address`` is
given. Evaluates the deterministic policy (argmax) on 20 episodes every 5,000 env steps, as
``dsogym train`` does, and writes ``summary.json`` (``eval_mean_return``,
``steps_to_threshold``, ``env_steps``) and ``evals.csv`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

import dsogym
from dsogym.testing import JavaServer


class SoftmaxPolicy:
    """pi(a|z) = softmax(W z + b)_a; theta = W row-major [A, D], then b [A].

    The interface the training loop needs (examples/remote_optimizer_torch.py has another):
    num_params, initial_theta, sample, mode, log_probs_and_scores."""

    def __init__(self, obs_dim: int, n_actions: int, seed: int = 0):
        self.d, self.a = obs_dim, n_actions
        self.num_params = n_actions * obs_dim + n_actions

    def initial_theta(self) -> np.ndarray:
        return np.zeros(self.num_params)  # the uniform policy

    def _probs(self, theta: np.ndarray, z: np.ndarray) -> np.ndarray:
        w = theta[: self.a * self.d].reshape(self.a, self.d)
        logits = z @ w.T + theta[self.a * self.d:]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def sample(self, theta: np.ndarray, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = self._probs(theta, z)
        return (rng.random((len(z), 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(0, self.a - 1)

    def mode(self, theta: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self._probs(theta, z).argmax(axis=1)

    def log_probs_and_scores(self, theta: np.ndarray, z: np.ndarray, actions: np.ndarray):
        """ln pi(a_i|z_i) [n] and its gradient in theta [n, P]: (onehot(a) - pi) z^T, then (onehot(a) - pi)."""
        p = self._probs(theta, z)
        n = len(z)
        logp = np.log(p[np.arange(n), actions])
        g = -p
        g[np.arange(n), actions] += 1.0
        scores = np.concatenate([(g[:, :, None] * z[:, None, :]).reshape(n, -1), g], axis=1)
        return logp, scores


class Normalizer:
    """z = clip((x - mean) / sqrt(var + 1e-8), -10, 10) from running statistics, frozen within a batch."""

    def __init__(self, dim: int):
        self.mean, self.var, self.count = np.zeros(dim), np.ones(dim), 1e-4

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / np.sqrt(self.var + 1e-8), -10, 10)

    def update(self, xs: np.ndarray) -> None:
        m, v, k = xs.mean(axis=0), xs.var(axis=0), len(xs)
        total = self.count + k
        delta = m - self.mean
        self.mean = self.mean + delta * k / total
        self.var = (self.var * self.count + v * k + delta**2 * self.count * k / total) / total
        self.count = total


def evaluate(env_id: str, policy: Any, theta: np.ndarray, norm: Normalizer, episodes: int, seed: int) -> float:
    """The mean return of the argmax policy over ``episodes`` episodes, one per lane."""
    envs = gym.make_vec(env_id, num_envs=episodes, vectorization_mode="sync")
    obs, _ = envs.reset(seed=seed)
    returns, running, done = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not done.all():
        obs, r, term, trunc, _ = envs.step(policy.mode(theta, norm(obs)))
        running += np.where(done, 0.0, r)
        ended = (term | trunc) & ~done
        returns[ended] = running[ended]
        done |= ended
    envs.close()
    return float(returns.mean())


def train(args: argparse.Namespace, address: str, make_policy: Callable[..., Any]) -> dict:
    rng = np.random.default_rng(args.seed)
    envs = gym.make_vec(args.env, num_envs=args.num_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    policy = make_policy(obs_dim, int(envs.single_action_space.n), args.seed)
    norm = Normalizer(obs_dim)
    threshold = args.target_return if args.target_return is not None else gym.spec(args.env).reward_threshold
    n_lanes, k_steps = args.num_envs, args.steps_per_lane
    options = {"seed": args.seed, **dict(o.split("=", 1) for o in args.option)}
    opt = dsogym.RemoteOptimizer(address, policy.initial_theta(), algorithm=args.algo, options=options,
                                 preset=args.env, feature_dim=obs_dim)
    print(f"[remote] {args.env}, {args.algo} in Java at {address}; options {opt.options}")
    obs, _ = envs.reset(seed=args.seed)
    env_steps, next_eval, steps_to_threshold, eval_mean = 0, args.eval_every, None, float("nan")
    evals, start = [], time.monotonic()
    n = n_lanes * k_steps
    while env_steps < args.max_steps:
        x = np.empty((k_steps, n_lanes, obs_dim))
        x_next = np.empty_like(x)
        acts = np.empty((k_steps, n_lanes), dtype=np.int64)
        costs = np.empty((k_steps, n_lanes))
        term = np.empty((k_steps, n_lanes), dtype=bool)
        trunc = np.empty_like(term)
        for k in range(k_steps):
            x[k] = obs
            acts[k] = policy.sample(opt.theta, norm(obs), rng)
            obs, r, term[k], trunc[k], info = envs.step(acts[k])
            x_next[k] = obs
            if "_final_obs" in info:  # SAME_STEP: the ended lanes' last observations
                for lane in np.flatnonzero(info["_final_obs"]):
                    x_next[k, lane] = info["final_obs"][lane]
            costs[k] = -r
        z, z_next, a = norm(x.reshape(n, -1)), norm(x_next.reshape(n, -1)), acts.reshape(n)
        logp, scores = policy.log_probs_and_scores(opt.theta, z, a)
        opt.update(num_lanes=n_lanes, costs=costs.reshape(n), terminated=term.reshape(n),
                   truncated=trunc.reshape(n), log_probs=logp, scores=scores, features=z,
                   next_features=z_next, evaluate=lambda th: policy.log_probs_and_scores(th, z, a))
        norm.update(x.reshape(n, -1))  # after the update: V-hat's features stay fixed within a batch
        env_steps += n
        if env_steps >= next_eval or env_steps >= args.max_steps:
            eval_mean = evaluate(args.env, policy, opt.theta, norm, args.eval_episodes,
                                 args.seed + 1_000_000 + opt.iteration * 1_000)
            evals.append((env_steps, eval_mean))
            if steps_to_threshold is None and threshold is not None and eval_mean >= threshold:
                steps_to_threshold = env_steps
            while next_eval <= env_steps:
                next_eval += args.eval_every
            print(f"[remote] steps {env_steps:,} | eval {eval_mean:.1f} | evaluate round trips "
                  f"{opt.evaluations} in the last batch | {time.monotonic() - start:.0f}s", flush=True)
    opt.close()
    envs.close()
    return {"env_id": args.env, "algo": args.algo, "seed": args.seed, "env_steps": env_steps,
            "iterations": opt.iteration, "eval_episodes": args.eval_episodes, "eval_mean_return": eval_mean,
            "threshold": threshold, "steps_to_threshold": steps_to_threshold,
            "final_at_threshold": threshold is not None and eval_mean >= threshold,
            "wall_seconds": time.monotonic() - start, "evals": evals}


def main(argv: list[str] | None = None, make_policy: Callable[..., Any] = SoftmaxPolicy) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CartPole-v1", help="a Gymnasium env with a Discrete action space")
    p.add_argument("--algo", default="natural", choices=["gradient", "natural", "pco", "chain-iteration"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/remote-optimizer")
    p.add_argument("--max-steps", type=int, default=60_000)
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--steps-per-lane", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=5_000)
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--target-return", type=float, default=None, help="default: the env's reward threshold")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a `dsogym train` option for the optimizer, e.g. max-kl=0.02 (repeatable)")
    p.add_argument("--address", default=None, help="a running dsogym server; default: start one")
    args = p.parse_args(argv)
    if args.address:
        summary = train(args, args.address, make_policy)
    else:
        with JavaServer() as server:
            summary = train(args, server.address, make_policy)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"[remote] eval_mean_return {summary['eval_mean_return']:.1f}, steps_to_threshold "
          f"{summary['steps_to_threshold']}, env_steps {summary['env_steps']:,}; {out / 'summary.json'}")
    return summary


if __name__ == "__main__":
    main()
