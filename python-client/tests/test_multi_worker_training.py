"""train --num-workers with remote workers, one of them a genuine straggler: its chunks join later
batches, off-chain and ratio-corrected, while the batches close on the fast worker's chunks."""

import json

import dsogym

ENV = "dsogym_test_envs:SlowCartPole-v1"


def test_a_straggling_remote_workers_chunks_join_later_batches_off_chain(tmp_path, spawn_worker):
    out = tmp_path / "run"
    port = []

    def follow(line):
        if "listening on" in line and not port:
            port.append(line.split("listening on ")[1].split(";")[0])
            # 2 lanes x 32 steps x 3 ms: 0.19 s a chunk for the slow one, about ten of the fast
            # one's batches; the run (64 of them) lasts long enough for its chunks to come in
            for delay in (0.0, 0.003):
                spawn_worker("--server", port[0], "--env", ENV, "--num-envs", "2",
                             "--env-kwargs", json.dumps({"delay": delay}), "--name", f"delay-{delay}")
        if line.startswith(f"[train] {ENV} from python"):  # the evaluation's lanes come next
            spawn_worker("--server", port[0], "--env", ENV, "--num-envs", "2", "--name", "eval")

    summary = dsogym.train(ENV, source="python", out=out, workers="remote", port=0, num_workers=2,
                           batch_quorum=0.5, num_envs=4, steps_per_lane=32, max_steps=4096,
                           eval_every=100000, eval_episodes=2, target_return=475, on_progress=follow)
    assert summary["workers"] == 2 and summary["batch_quorum"] == 0.5
    assert summary["chunks_late"] >= 1, summary
    # every late chunk made its batch off-chain, learnt with the surrogate's ratios to its policy
    assert 1 <= summary["batches_off_chain"] <= summary["chunks_late"], summary
    sizes = [b - a for a, b in zip([0] + [r["env_steps"] for r in dsogym.read_metrics(out)],
                                   [r["env_steps"] for r in dsogym.read_metrics(out)])]
    assert 64 in sizes, sizes  # closed on the fast worker's 2 lanes x 32 steps alone
    assert any(s > 64 for s in sizes), sizes  # and with a late chunk beside them
