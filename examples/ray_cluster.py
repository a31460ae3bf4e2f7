"""Trains on a running Ray cluster: the Java learner here, its env workers as Ray actors.

    ray start --head ...; ray start --address HEAD:6379 ...      # on each host, once
    python examples/ray_cluster.py --address HEAD:6379 --env CartPole-v1 --workers 2 \
        --max-steps 50000 --out runs/ray-cp [--lanes 4] [--allow-plaintext | --tls-cert ...] [-- TRAIN OPTIONS]

1. Connects to the cluster (``ray.init(address=...)``).
2. Starts ``dsogym train --workers remote`` on this host, listening on --bind (default: the
   address Ray knows this node by, so every node reaches it) on a free port, with a fresh
   auth token (the server requires one beyond loopback; the workers get it as an argument).
3. Starts --workers training workers of --lanes lanes each, plus one for the learner's
   evaluation lanes, with dsogym.ray.launch_workers: spread over the nodes, restarted by Ray
   if their process dies (the learner takes the restarted one as the replacement).
4. Streams the learner's console, then writes OUT/ray_workers.json (the node, processes and
   restarts of each worker), stops the workers and prints the summary.

Several training workers need a learner with ``train --num-workers``; without it, --workers 1.
Needs the [ray] extra here and on every node (``pip install "dsogym[ray]"``), and java and
the jar here (dsogym.launcher.find_jar: the wheel's or the checkout's target/dsogym.jar).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

import ray

from dsogym.launcher import find_jar, find_java
from dsogym.ray import launch_workers

LISTENING = re.compile(r"dsogym: listening on (\S+);")


def train_supports(java: str, jar: Path, option: str) -> bool:
    """Whether this jar's `train` has ``option`` (its --help lists every option)."""
    out = subprocess.run([java, "-jar", str(jar), "train", "--help"], capture_output=True, text=True)
    return re.search(rf"(^|[\s,]){re.escape(option)}\b", out.stdout + out.stderr) is not None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def watch(learner: subprocess.Popen, workers) -> int:
    """Waits for the learner, asking the workers where they run every few seconds (so each
    restart is seen). A worker Ray gave up on (its restarts used up) would leave the learner
    waiting for a replacement for an hour: stop the learner instead."""
    while True:
        try:
            return learner.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        try:
            dead = [p.index for p in workers.placement(timeout=5) if not p.alive]
        except ray.exceptions.GetTimeoutError:
            continue  # a worker being restarted
        if dead:
            print(f"[ray] workers {dead} died and Ray will not restart them; stopping the learner", flush=True)
            learner.terminate()
            return learner.wait(90) or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="the Ray cluster's HOST:PORT (ray start --head --port)")
    parser.add_argument("--env", required=True, help="Gymnasium env id, made on the nodes")
    parser.add_argument("--workers", type=int, default=1, help="training workers (one more serves evaluation)")
    parser.add_argument("--lanes", type=int, default=4, help="env lanes per worker")
    parser.add_argument("--max-steps", type=int, required=True, help="training budget in env steps")
    parser.add_argument("--out", required=True, help="the run's directory")
    parser.add_argument("--bind", default=None, help="the learner's listen address (default: this node's Ray IP)")
    parser.add_argument("--num-cpus", type=float, default=1.0, help="CPUs each worker reserves")
    parser.add_argument("--max-restarts", type=int, default=10, help="restarts per worker (-1: always)")
    parser.add_argument("--allow-plaintext", action="store_true",
                        help="beyond loopback without TLS (a trusted network: the token travels in clear)")
    parser.add_argument("--tls-cert", help="the learner's certificate (PEM), with --tls-key and --tls-ca")
    parser.add_argument("--tls-key", help="its private key (PEM, PKCS#8)")
    parser.add_argument("--tls-ca", help="the CA that signed it, a path that exists on every node")
    parser.add_argument("train_options", nargs="*", help="more `dsogym train` options, after --")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers: expected >= 1, actual {args.workers}")
    if args.lanes < 1:
        parser.error(f"--lanes: expected >= 1, actual {args.lanes}")
    tls = [args.tls_cert, args.tls_key, args.tls_ca]
    if any(tls) and not all(tls):
        parser.error("--tls-cert, --tls-key, --tls-ca: expected all three or none")

    java, jar = find_java(), find_jar()
    several = train_supports(java, jar, "--num-workers")
    if args.workers > 1 and not several:
        parser.error(f"--workers: this learner ({jar}) takes one remote training worker (its train has no "
                     f"--num-workers): expected 1, actual {args.workers}")

    ray.init(address=args.address, log_to_driver=False)
    # SIGTERM (after ray.init, which installs its own handlers): end through `finally`, which
    # stops the learner (it checkpoints) and the workers, rather than leave them running
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    bind = args.bind or ray.util.get_node_ip_address()
    if not is_loopback(bind) and not all(tls) and not args.allow_plaintext:
        parser.error(f"--bind {bind} is beyond loopback: expected --tls-cert/--tls-key/--tls-ca, or "
                     f"--allow-plaintext on a trusted network")
    token = secrets.token_urlsafe(24)
    cmd = [java, "-jar", str(jar), "train", "--env", args.env, "--source", "python", "--workers", "remote",
           "--bind", bind, "--port", "0", "--max-steps", str(args.max_steps), "--out", args.out,
           "--num-envs", str(args.workers * args.lanes)]
    if several:
        cmd += ["--num-workers", str(args.workers)]
    if all(tls):
        cmd += ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key]
    elif not is_loopback(bind):
        cmd += ["--allow-plaintext"]
    cmd += args.train_options
    print("[ray] learner:", " ".join(cmd), flush=True)
    learner = subprocess.Popen(cmd, env={**os.environ, "DSOGYM_AUTH_TOKEN": token}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    listening = threading.Event()
    address: list[str] = []

    def relay() -> None:  # the learner's console, and the address it listens on
        assert learner.stdout is not None
        for line in learner.stdout:
            print(line, end="", flush=True)
            m = LISTENING.search(line)
            if m and not listening.is_set():
                address.append(m.group(1))
                listening.set()
        listening.set()  # the learner exited before listening

    threading.Thread(target=relay, daemon=True).start()
    workers = None
    try:
        listening.wait()
        if not address:
            print(f"[ray] the learner exited before listening (code {learner.wait()})", flush=True)
            return 1
        host, port = address[0].rsplit(":", 1)
        target = f"{ray.util.get_node_ip_address()}:{port}" if host in ("0.0.0.0", "[::]", "::") else address[0]
        workers = launch_workers(target, args.env, args.workers + 1, args.lanes, num_cpus=args.num_cpus,
                                 max_restarts=args.max_restarts, auth_token=token, tls_ca=args.tls_ca)
        for p in workers.placement():
            print(f"[ray] worker {p.index}: node {p.node_id[:12]} ({p.node_ip}), pid {p.pid}", flush=True)
        code = watch(learner, workers)
        placement = [p.as_dict() for p in workers.placement()]
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "ray_workers.json").write_text(json.dumps(
            {"ray_address": args.address, "learner": address[0], "training_workers": args.workers,
             "lanes_per_worker": args.lanes, "nodes": len({p["node_id"] for p in placement}),
             "restarts": sum(p["restarts"] for p in placement), "workers": placement}, indent=2) + "\n")
        print(f"[ray] {len(placement)} workers on {len({p['node_id'] for p in placement})} nodes, "
              f"{sum(p['restarts'] for p in placement)} restarts; {Path(args.out) / 'ray_workers.json'}", flush=True)
        if code != 0:
            print(f"[ray] the learner failed with exit code {code}", flush=True)
            return code
        summary = json.loads((Path(args.out) / "summary.json").read_text())
        print("[ray] summary:", json.dumps(summary), flush=True)
        return 0
    finally:
        if learner.poll() is None:
            learner.terminate()  # SIGTERM: the learner checkpoints and closes its workers
            learner.wait(90)
        if workers is not None:
            workers.stop()


if __name__ == "__main__":
    sys.exit(main())
