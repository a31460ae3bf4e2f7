"""The optimizer service from Python, against the real Java server: a numpy policy's batch gets
the natural-gradient step that numpy computes independently from the same scores; PCO runs its
epochs through evaluation round trips; bad batches raise clear errors and leave the session
usable; and the example trains CartPole (shrunk) through it."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import dsogym
from dsogym.remote import RemoteInvalidArgument
from dsogym.testing import JavaServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "remote_optimizer.py"


def _example():
    spec = importlib.util.spec_from_file_location("remote_optimizer_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server():
    with JavaServer() as s:
        yield s


@pytest.fixture(scope="module")
def example():
    return _example()


def _batch(example, lanes=4, steps=32, seed=0):
    """A synthetic batch of the example's softmax policy at a random theta: z, actions, costs, flags."""
    rng = np.random.default_rng(seed)
    policy = example.SoftmaxPolicy(4, 2)
    theta = rng.normal(0, 0.3, policy.num_params)
    n = lanes * steps
    z = rng.normal(size=(n, 4))
    a = policy.sample(theta, z, rng)
    costs = rng.normal(-1, 1, n)
    terminated = rng.random(n) < 0.05
    truncated = ~terminated & (rng.random(n) < 0.02)
    return policy, theta, z, a, costs, terminated, truncated


def _returns(costs, terminated, truncated, lanes, gamma):
    """Monte-Carlo discounted cost-to-go per lane (V-hat = 0: cuts and truncations bootstrap 0)."""
    g = np.zeros_like(costs)
    steps = len(costs) // lanes
    for lane in range(lanes):
        nxt = 0.0
        for k in reversed(range(steps)):
            i = k * lanes + lane
            if terminated[i] or truncated[i] or k == steps - 1:
                nxt = 0.0
            g[i] = costs[i] + gamma * nxt
            nxt = g[i]
    return g


def test_natural_gradient_step_equals_numpy(server, example):
    lanes, gamma, max_kl, damping = 4, 0.99, 0.01, 0.1
    policy, theta, z, a, costs, term, trunc = _batch(example, lanes)
    n, p = len(costs), policy.num_params
    logp, scores = policy.log_probs_and_scores(theta, z, a)
    asked = []

    def evaluate(th):
        asked.append(th)
        return policy.log_probs_and_scores(th, z, a)

    with dsogym.RemoteOptimizer(server.address, theta, algorithm="natural", feature_dim=0,
                                options={"gamma": gamma, "lambda": 1, "normalize-advantages": "false",
                                         "max-kl": max_kl, "cg-damping": damping}) as opt:
        got = opt.update(num_lanes=lanes, costs=costs, terminated=term, truncated=trunc, log_probs=logp,
                         scores=scores, values=np.zeros(n), next_values=np.zeros(n), evaluate=evaluate)
    # docs/math.md §4e with V-hat = 0: A_i = G_i / n, kappa_i = 1 / n, F = mean of s s^T
    g = scores.T @ (_returns(costs, term, trunc, lanes, gamma) / n)
    fisher = scores.T @ scores / n + damping * np.eye(p)
    w = np.linalg.solve(fisher, g)
    beta = math.sqrt(2 * max_kl / (w @ fisher @ w))
    assert len(asked) == 1, "the full step is accepted: one evaluation, at theta - beta w"
    np.testing.assert_allclose(asked[0], theta - beta * w, rtol=1e-7, atol=1e-9)
    # CG's 10 iterations on P = 10 solve the system to its 1e-10 residual, not to the last bit
    np.testing.assert_allclose(got, theta - beta * w, rtol=1e-7, atol=1e-9)


def test_pco_runs_its_epochs_through_evaluations(server, example):
    policy, theta, z, a, costs, term, trunc = _batch(example, seed=1)
    logp, scores = policy.log_probs_and_scores(theta, z, a)
    asked = []

    def evaluate(th):
        asked.append(th.copy())
        return policy.log_probs_and_scores(th, z, a)

    with dsogym.RemoteOptimizer(server.address, theta, algorithm="pco", feature_dim=4,
                                options={"epochs": 3, "minibatches": 2, "lr": 0.01}) as opt:
        assert opt.options["epochs"] == "3" and opt.num_params == policy.num_params
        for k in range(2):
            new = opt.update(num_lanes=4, costs=costs, terminated=term, truncated=trunc, log_probs=logp,
                             scores=scores, features=z, next_features=z, evaluate=evaluate)
            # one evaluation per Adam step (3 x 2): each step's theta is read once, by the next
            # minibatch's ratios or the epoch's KL; the first step reads theta_k from the batch
            assert opt.evaluations == 6 and opt.iteration == k + 1
            assert not np.allclose(new, theta)
            theta = new
            logp, scores = policy.log_probs_and_scores(theta, z, a)
    assert len(asked) == 12 and all(np.all(np.isfinite(t)) for t in asked)


def test_bad_batches_raise_and_the_session_goes_on(server, example):
    policy, theta, z, a, costs, term, trunc = _batch(example, seed=2)
    n = len(costs)
    logp, scores = policy.log_probs_and_scores(theta, z, a)
    with dsogym.RemoteOptimizer(server.address, theta, algorithm="gradient", feature_dim=4) as opt:
        bad = costs.copy()
        bad[3] = np.inf
        with pytest.raises(RemoteInvalidArgument, match=r"batch.costs: expected finite values, got Infinity at flat index 3"):
            opt.update(num_lanes=4, costs=bad, terminated=term, truncated=trunc, log_probs=logp, scores=scores,
                       features=z, next_features=z)
        with pytest.raises(RemoteInvalidArgument, match=r"batch.next_features: expected \[n, F\] = \[128, 4\] \(open.feature_dim\), 512 values, got 384"):
            opt.update(num_lanes=4, costs=costs, terminated=term, truncated=trunc, log_probs=logp, scores=scores,
                       features=z, next_features=z[:, :3])
        with pytest.raises(RemoteInvalidArgument, match=r"batch.features.shape: expected \[n, F\] = \[128, F\], got \[4, 128\]"):
            opt.update(num_lanes=4, costs=costs, terminated=term, truncated=trunc, log_probs=logp, scores=scores,
                       features=z.T, next_features=z)
        with pytest.raises(ValueError, match=r"batch.scores: expected shape \(128, 10\), actual \(10, 128\)"):
            opt.update(num_lanes=4, costs=costs, terminated=term, truncated=trunc, log_probs=logp,
                       scores=scores.T, features=z, next_features=z)
        assert opt.iteration == 0 and np.array_equal(opt.theta, theta)
        new = opt.update(num_lanes=4, costs=costs, terminated=term, truncated=trunc, log_probs=logp,
                         scores=scores, features=z, next_features=z)
        assert opt.iteration == 1 and opt.evaluations == 0 and not np.allclose(new, theta)
    with pytest.raises(RemoteInvalidArgument, match="open.options: expected names among .*got 'num-envs'"):
        dsogym.RemoteOptimizer(server.address, theta, options={"num-envs": 8})


@pytest.mark.parametrize("algo", ["natural", "pco"])
def test_example_trains_cartpole_through_the_service(server, example, tmp_path, algo):
    summary = example.main(["--algo", algo, "--seed", "0", "--max-steps", "6144", "--eval-every", "3072",
                            "--eval-episodes", "5", "--address", server.address, "--out", str(tmp_path)])
    written = (tmp_path / "summary.json").read_text()
    assert '"eval_mean_return"' in written and '"steps_to_threshold"' in written
    assert summary["env_steps"] == 6144 and summary["iterations"] == 12
    # theta_0 = 0 always pushes left (about 9 steps) and a random policy lasts about 22; measured
    # at 6,144 steps (seed 0, deterministic): natural 500 and pco 500 (92 at lr 0.03)
    assert summary["eval_mean_return"] > 50, summary
