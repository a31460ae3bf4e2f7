"""The slow-reader and head-of-line cases of issue 13, against a real server with a small heap.

    .venv/bin/python scripts/slow_reader.py                    # target/dsogym.jar, -Xmx512m
    .venv/bin/python scripts/slow_reader.py --jar OLD.jar --out before.json

It starts ``java -Xmx512m -jar JAR serve --port 0`` and, over loopback only:

1. measures the step latency of an ordinary session (CartPole-v1, one lane) for a while;
2. opens a slow reader: a session that makes CartPole-v1 with 4,096 lanes, then sends
   ``--steps`` step requests back to back and never reads a reply;
3. measures the ordinary session's latency again while the slow reader sits there, and
   whether the server is still up and serves a new session;
4. runs the head-of-line case: an LQR-v0 make of 0.8 MB (n = 400, 40 lanes) while another
   session steps, and reports the make's time and the other session's worst step.

It prints one JSON object (and writes it to ``--out``): the server's RSS at the start and the
end, the latencies, and the count of server log lines that say OutOfMemoryError or SEVERE.
Bounded in time: every phase has a deadline and the script stops the server at the end.
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python-client"))

import grpc  # noqa: E402
import numpy as np  # noqa: E402

from dsogym import RemoteVectorEnv  # noqa: E402
from dsogym.proto import pb, pb_grpc  # noqa: E402
from dsogym.transport import CHANNEL_OPTIONS, PROTOCOL_VERSION  # noqa: E402

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(jar: str, xmx: str) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen(["java", f"-Xmx{xmx}", "-jar", jar, "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, bufsize=1)
    lines: list[str] = []
    found: queue.SimpleQueue = queue.SimpleQueue()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            m = LISTENING.search(line)
            if m:
                found.put(f"{m.group(1)}:{m.group(2)}")
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    address = found.get(timeout=60)
    if address is None:
        raise RuntimeError("server did not start:\n" + "\n".join(lines[-20:]))
    return proc, address, lines


def latencies(address: str, seconds: float) -> list[float]:
    """Step latencies (ms) of an ordinary one-lane session, for ``seconds``."""
    env = RemoteVectorEnv(address, "CartPole-v1", num_envs=1, connect_timeout=10)
    try:
        env.reset(seed=0)
        out = []
        end = time.monotonic() + seconds
        actions = np.ones(1, dtype=np.int64)
        while time.monotonic() < end:
            t0 = time.perf_counter()
            env.step(actions)
            out.append((time.perf_counter() - t0) * 1e3)
        return out
    finally:
        env.close()


def summary(ms: list[float]) -> dict:
    if not ms:
        return {"steps": 0}
    s = sorted(ms)
    return {"steps": len(s), "p50_ms": round(statistics.median(s), 3),
            "p99_ms": round(s[min(len(s) - 1, int(0.99 * len(s)))], 3),
            "max_ms": round(s[-1], 3)}


def slow_reader(address: str, lanes: int, steps: int) -> tuple[grpc.Channel, object, dict]:
    """A session that sends ``steps`` steps and reads no reply. Returns its channel and call
    (kept alive by the caller) and how many requests its sender got out within 20 s."""
    channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    stub = pb_grpc.EnvServiceStub(channel)
    actions = pb.Value(tensor=pb.Tensor(dtype=pb.INT64, shape=[lanes],
                                        data=np.ones(lanes, dtype=np.int64).tobytes()))
    sent = {"requests": 0}

    def requests():
        yield pb.ClientRequest(id=1, hello=pb.ClientHello(protocol_version=PROTOCOL_VERSION))
        yield pb.ClientRequest(id=2, make=pb.MakeRequest(env_id="CartPole-v1", num_envs=lanes))
        yield pb.ClientRequest(id=3, reset=pb.ResetRequest(seeds=[0]))
        for i in range(steps):
            sent["requests"] = i + 1
            yield pb.ClientRequest(id=4 + i, step=pb.StepRequest(actions=actions))

    call = stub.Session(requests())  # the replies are never read
    deadline = time.monotonic() + 20
    last, still = -1, 0
    while time.monotonic() < deadline and sent["requests"] < steps:
        time.sleep(0.5)
        still = still + 1 if sent["requests"] == last else 0
        last = sent["requests"]
        if still >= 6:  # 3 s without progress: the server stopped reading it
            break
    return channel, call, sent


def head_of_line(address: str) -> dict:
    n, lanes = 400, 40
    eye = [[1 if i == j else 0 for j in range(n)] for i in range(n)]
    kwargs = {"A": eye, "B": [[0] for _ in range(n)], "W": eye}  # 0.96 MB of JSON
    size = len(json.dumps(kwargs))
    result: dict = {"kwargs_bytes": size, "lanes": lanes, "n": n}

    def make():
        t0 = time.perf_counter()
        try:
            env = RemoteVectorEnv(address, "LQR-v0", num_envs=lanes, env_kwargs=kwargs,
                                  connect_timeout=10)
            env.close()
            result["make_s"] = round(time.perf_counter() - t0, 3)
        except Exception as e:  # report, do not hide
            result["make_error"] = f"{type(e).__name__}: {e}"

    t = threading.Thread(target=make)
    t.start()
    during = latencies(address, 2.0)
    t.join(60)
    result["other_session"] = summary(during)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jar", default=str(ROOT / "target" / "dsogym.jar"))
    ap.add_argument("--xmx", default="512m")
    ap.add_argument("--lanes", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    proc, address, lines = start_server(args.jar, args.xmx)
    report: dict = {"jar": args.jar, "xmx": args.xmx, "lanes": args.lanes,
                    "steps_sent_by_slow_reader": args.steps}
    try:
        report["rss_mb_start"] = round(rss_mb(proc.pid), 1)
        report["before_slow_reader"] = summary(latencies(address, 2.0))
        channel, call, sent = slow_reader(address, args.lanes, args.steps)
        report["slow_reader_requests_out"] = sent["requests"]
        report["during_slow_reader"] = summary(latencies(address, 5.0))
        report["rss_mb_with_slow_reader"] = round(rss_mb(proc.pid), 1)
        report["head_of_line"] = head_of_line(address)
        report["server_alive"] = proc.poll() is None
        try:
            latencies(address, 0.2)
            report["new_session_served"] = True
        except Exception as e:
            report["new_session_served"] = f"{type(e).__name__}: {e}"
        report["rss_mb_end"] = round(rss_mb(proc.pid), 1) if proc.poll() is None else None
        call.cancel()
        channel.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.2)
        report["server_log_out_of_memory"] = sum("OutOfMemoryError" in x for x in lines)
        report["server_log_severe"] = sum("SEVERE" in x for x in lines)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
