"""dsogym.ray and examples/ray_cluster.py on a real two-node Ray cluster started here: two
`ray start --block` process groups (head and worker node, one CPU set each, their own temp dirs
and ports), the real Java learner, real workers as Ray actors on real Gymnasium envs.

The example trains with its workers on both nodes; a worker's process killed mid-run is
restarted by Ray and the run finishes its budget; launch_workers' errors name their cause.
Needs the [ray] extra (conftest leaves this file out without it, and says so)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import ray

from dsogym.ray import launch_workers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ray_cluster.py"
RAY = Path(sys.executable).parent / "ray"
CPUS_PER_NODE = 2  # a training worker and the evaluation worker (three with --num-workers 2) fit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_node(args: list[str], log: Path) -> subprocess.Popen:
    """`ray start --block` in a process group of its own, so that stopping it ends every Ray
    process of this node (raylet, its workers, the GCS of the head) and nothing else."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.Popen([str(RAY), "start", "--block", "--disable-usage-stats", "--node-ip-address", "127.0.0.1",
                             "--num-cpus", str(CPUS_PER_NODE), "--object-store-memory", str(100 * 2**20),
                             "--dashboard-agent-listen-port", str(_free_port()), *args],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 90
    while "Ray runtime started" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_node(proc)
            raise RuntimeError(f"ray start {' '.join(args)} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    return proc


def _stop_node(proc: subprocess.Popen) -> None:
    """SIGTERM to the node's process group, then SIGKILL: `ray start --block` ignores the first."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
    proc.wait(10)


@pytest.fixture(scope="module")
def cluster():
    """The head and one worker node on this machine; yields the head's address."""
    root = Path(tempfile.mkdtemp(prefix="dsoray"))  # short: Ray's socket paths must fit 107 bytes
    port = _free_port()
    nodes = []
    try:
        nodes.append(_start_node(["--head", "--port", str(port), "--temp-dir", str(root / "h"),
                                  "--include-dashboard", "false", "--ray-client-server-port", str(_free_port()),
                                  "--dashboard-port", str(_free_port())], root / "head.log"))
        address = f"127.0.0.1:{port}"
        nodes.append(_start_node(["--address", address, "--temp-dir", str(root / "w")], root / "worker.log"))
        ray.init(address=address, log_to_driver=False)
        deadline = time.monotonic() + 60
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, f"expected 2 nodes, got {ray.nodes()}"
            time.sleep(0.2)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in reversed(nodes):
            _stop_node(proc)


def _learner_has_num_workers() -> bool:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import ray_cluster
    finally:
        sys.path.pop(0)
    from dsogym.launcher import find_jar, find_java
    return ray_cluster.train_supports(find_java(), find_jar(), "--num-workers")


def _example(address: str, out: Path, workers: int, max_steps: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(EXAMPLE), "--address", address, "--env", "CartPole-v1",
                             "--workers", str(workers), "--lanes", "4", "--max-steps", str(max_steps),
                             "--out", str(out), "--allow-plaintext"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def test_example_trains_with_workers_on_both_nodes(cluster, tmp_path):
    # two training workers where the learner has --num-workers, else one; plus the evaluation worker
    workers = 2 if _learner_has_num_workers() else 1
    out = tmp_path / "run"
    proc = _example(cluster, out, workers, max_steps=10_000)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] >= 10_000 and summary["source"] == "python", summary
    placed = json.loads((out / "ray_workers.json").read_text())
    assert len(placed["workers"]) == workers + 1, placed
    assert placed["nodes"] == 2, placed  # SPREAD: on both nodes
    assert len({w["node_id"] for w in placed["workers"]}) == 2, placed
    assert all(w["exit_code"] == 0 for w in placed["workers"]), placed  # closed by the learner at its end
    assert placed["restarts"] == 0, placed
    assert "[ray] summary:" in output
    if "workers" in summary:  # the learner's own count, where it reports one
        assert summary["workers"] == workers, summary


def test_worker_killed_mid_run_is_restarted_and_the_run_finishes(cluster, tmp_path):
    out = tmp_path / "run"
    # long enough (about 10 s of training here) that the kill lands mid-run, however late the
    # example relays the learner's lines: a 40k-step run once ended before it was noticed
    proc = _example(cluster, out, 1, max_steps=200_000)
    lines, pids, killed = [], {}, None
    try:
        for line in proc.stdout:
            lines.append(line)
            m = re.match(r"\[ray\] worker (\d+): node \S+ \(\S+\), pid (\d+)", line)
            if m:
                pids[int(m.group(1))] = int(m.group(2))
            if killed is None and len(pids) == 2 and line.startswith("[train] steps"):
                # the training worker: the first whose lanes the learner reset (the server logs
                # how each worker's resets and steps travel at its first one); the first to
                # connect may wait idle for the evaluation
                trained = re.findall(r"\(ray-(\d+)@[^)]*\): resets and steps", "".join(lines))
                killed = int(trained[0])
                os.kill(pids[killed], signal.SIGKILL)
        proc.wait(600)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines)
    assert killed is not None, output[-4000:]
    assert proc.returncode == 0, output[-4000:]
    assert re.search(r"\[train\] lost (the (env|evaluation) worker|worker \d+ of)", output), output[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] >= 200_000, summary
    placed = json.loads((out / "ray_workers.json").read_text())
    worker = placed["workers"][killed]
    assert worker["restarts"] == 1 and worker["pids"][0] == pids[killed] and worker["pid"] != pids[killed], placed
    assert worker["exit_code"] == 0, placed  # the restarted process served to the end


def test_launch_workers_names_an_env_that_cannot_be_made(cluster):
    with pytest.raises(RuntimeError, match=r"worker 0 \(NoSuchEnv-v0 x 2\) could not start: .*NoSuchEnv"):
        launch_workers("127.0.0.1:1", "NoSuchEnv-v0", 1, 2, ready_timeout=60)


def test_launch_workers_refuses_more_cpus_than_the_cluster_has(cluster):
    with pytest.raises(ValueError, match=rf"expected at most the cluster's {2 * CPUS_PER_NODE} CPUs, actual 3 x 2 = 6"):
        launch_workers("127.0.0.1:1", "CartPole-v1", 3, 2, num_cpus=2)


def test_launch_workers_checks_its_arguments():
    with pytest.raises(ValueError, match=r"num_workers: expected >= 1, actual 0"):
        launch_workers("127.0.0.1:1", "CartPole-v1", 0, 2)
    with pytest.raises(ValueError, match=r"num_envs: expected >= 1, actual 0"):
        launch_workers("127.0.0.1:1", "CartPole-v1", 1, 0)


def test_without_ray_the_error_names_the_extra():
    # a Python where `import ray` fails, as it does without the extra
    code = ("import sys; sys.modules['ray'] = None\n"
            "from dsogym.ray import launch_workers\n"
            "launch_workers('127.0.0.1:1', 'CartPole-v1', 1, 1)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "RayNotInstalled" in result.stderr and 'pip install "dsogym[ray]"' in result.stderr, result.stderr


def test_placement_counts_restarts_and_reports_a_worker_ray_gave_up_on(cluster):
    # no server needed: the workers keep reconnecting to a port nobody listens on
    restarted = launch_workers("127.0.0.1:1", "CartPole-v1", 1, 1, max_restarts=1)
    given_up = launch_workers("127.0.0.1:1", "CartPole-v1", 1, 1, max_restarts=0)
    try:
        for handle in (restarted, given_up):
            os.kill(handle.placement()[0].pid, signal.SIGKILL)
        first = restarted.placement()[0]
        assert first.alive and first.restarts == 1 and len(first.pids) == 2, first
        deadline = time.monotonic() + 60
        while given_up.placement()[0].alive:
            assert time.monotonic() < deadline, given_up.placement()
            time.sleep(0.2)
        assert given_up.placement()[0].restarts == 0
    finally:
        restarted.stop()
        given_up.stop()
