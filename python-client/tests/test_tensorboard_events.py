"""Training writes a TensorBoard events file next to metrics.csv. TensorBoard's own reader
(EventAccumulator) is the oracle: its scalars are metrics.csv's columns, row for row, at
step = env steps (float32, TensorBoard's scalar type)."""

import numpy as np
from tensorboard.backend.event_processing import event_accumulator

import dsogym

RUN = dict(source="java", num_envs=4, steps_per_lane=128, eval_every=1024, eval_episodes=2)


def tensorboard_scalars(run_dir):
    files = sorted(run_dir.glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    acc = event_accumulator.EventAccumulator(
        str(files[0]), size_guidance={event_accumulator.SCALARS: 0})  # 0: keep every event
    acc.Reload()
    assert acc.file_version == 2.0
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def metrics_as_scalars(run_dir):
    scalars = {}
    for row in dsogym.read_metrics(run_dir):
        for column, value in row.items():
            if value is not None:
                scalars.setdefault(column, []).append((row["env_steps"], float(np.float32(value))))
    return scalars


def test_events_hold_every_metrics_column_row_for_row(tmp_path):
    out = tmp_path / "run"
    dsogym.train("CartPole-v1", out=out, seed=1, max_steps=2048, **RUN)
    expected = metrics_as_scalars(out)
    assert {"train_mean_return", "eval_mean_return", "eval_std_return", "value_loss"} <= set(expected)
    assert [step for step, _ in expected["eval_mean_return"]] == [1024, 2048]
    assert tensorboard_scalars(out) == expected


def test_a_resumed_run_has_one_events_file_matching_its_metrics(tmp_path):
    out = tmp_path / "run"
    dsogym.train("CartPole-v1", out=out, seed=2, max_steps=1024, **RUN)
    dsogym.train(resume=out, max_steps=2048)
    expected = metrics_as_scalars(out)
    assert [step for step, _ in expected["iteration"]] == [512, 1024, 1536, 2048]
    assert tensorboard_scalars(out) == expected
