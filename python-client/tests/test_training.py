"""dsogym.train starts the real Java learner (bin/dsogym train) and returns its summary."""

import json

import pytest

import dsogym
from dsogym.training import TrainingFailed

SUMMARY_KEYS = {"env_id", "algo", "seed", "env_steps", "wall_seconds", "eval_mean_return",
                "eval_std_return", "steps_to_threshold"}


def test_train_java_source_writes_summary_metrics_checkpoint_and_plot(tmp_path):
    lines = []
    out = tmp_path / "run"
    summary = dsogym.train("CartPole-v1", source="java", out=out, seed=3, max_steps=2048,
                           num_envs=4, steps_per_lane=128, eval_every=1024, eval_episodes=3,
                           on_progress=lines.append)
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["env_id"] == "CartPole-v1" and summary["seed"] == 3
    assert summary["env_steps"] == 2048
    assert any(line.startswith("[train] steps") for line in lines)
    rows = dsogym.read_metrics(out)
    assert [r["env_steps"] for r in rows] == [512, 1024, 1536, 2048]
    assert rows[1]["eval_mean_return"] is not None and rows[0]["eval_mean_return"] is None
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert checkpoint["envSteps"] == 2048 and len(checkpoint["theta"]) == 2 * 4 + 2


def test_train_resume_continues_from_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    dsogym.train("CartPole-v1", source="java", out=out, max_steps=1024, num_envs=4,
                 steps_per_lane=128, eval_every=1024, eval_episodes=2)
    summary = dsogym.train(resume=out, max_steps=2048)
    assert summary["env_steps"] == 2048
    assert [r["iteration"] for r in dsogym.read_metrics(out)] == [1, 2, 3, 4]


def test_train_python_source_trains_through_a_local_gymnasium_worker(tmp_path):
    summary = dsogym.train("CartPole-v1", source="python", out=tmp_path / "run", max_steps=1024,
                           num_envs=4, steps_per_lane=64, eval_every=1024, eval_episodes=2)
    assert summary["env_steps"] == 1024 and summary["source"] == "python"


def test_train_bad_option_fails_naming_the_option(tmp_path):
    with pytest.raises(TrainingFailed) as err:
        dsogym.train("CartPole-v1", source="java", out=tmp_path / "run", gamma=1.5)
    assert "--gamma" in str(err.value) and "1.5" in str(err.value)


def test_train_without_env_id_is_rejected():
    with pytest.raises(ValueError, match="env_id"):
        dsogym.train()


@pytest.mark.parametrize("algo", ["pco", "natural", "chain-iteration"])
def test_surrogate_optimizers_learn_mujoco_inverted_pendulum_through_the_worker(tmp_path, algo):
    """A Gaussian policy on a real MuJoCo env served by a local Python worker (worker-side
    inference): a random policy balances ~5-10 steps; 16k steps of each optimizer get far more."""
    out = tmp_path / algo
    summary = dsogym.train("InvertedPendulum-v5", source="python", algo=algo, out=out, seed=0,
                           max_steps=16384, eval_every=8192, eval_episodes=4)
    assert summary["algo"] == algo and summary["inference"] == "worker"
    assert summary["eval_mean_return"] > 100, summary
    rows = dsogym.read_metrics(out)
    assert all(r["kl"] is not None and r["kl"] >= 0 for r in rows)
    changes = [r["surrogate_change"] for r in rows]
    if algo == "pco":  # minibatch epochs are not line-searched: lower on average, not every time
        assert sum(changes) / len(changes) < 0, changes
    else:  # natural and chain-iteration accept a step only if it lowers the surrogate
        assert all(c <= 0 for c in changes), changes
