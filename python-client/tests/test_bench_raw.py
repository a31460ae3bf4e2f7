"""dsogym.bench_raw: the bench's raw SyncVectorEnv baseline, one-shot and serving windows."""

import io
import json

from dsogym import bench_raw


def test_measure_steps_every_lane_for_the_window():
    result = bench_raw.measure("CartPole-v1", 3, seconds=0.05, warmup=0.01, seed=0)
    assert result["env"] == "CartPole-v1" and result["num_envs"] == 3
    assert result["steps"] > 0 and result["steps"] % (16 * 3) == 0  # whole blocks of 16 vector steps
    assert result["seconds"] >= 0.05
    assert abs(result["steps_per_sec"] - result["steps"] / result["seconds"]) < 1e-6


def test_serve_answers_one_measurement_per_line_and_refuses_a_bad_window():
    out = io.StringIO()
    bench_raw.serve("CartPole-v1", 2, warmup=0.01, seed=0,
                    lines=iter(["0.03\n", "\n", "soon\n", "-1\n", "0.03\n"]), out=out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert replies[0] == {"ready": True}
    assert [("error" in r) for r in replies[1:]] == [False, True, True, False]
    assert "'soon'" in replies[2]["error"] and "positive number of seconds" in replies[2]["error"]
    for r in (replies[1], replies[4]):
        assert r["num_envs"] == 2 and r["steps"] % 32 == 0 and r["steps_per_sec"] > 0
