"""dsogym workers as Ray actors: a Ray cluster hosts the envs of a Java learner.

    handle = dsogym.ray.launch_workers("10.0.0.5:50051", "HalfCheetah-v5", num_workers=10, num_envs=4)
    print(handle.placement())      # which node and process each worker runs on, its restarts
    ...                            # the learner trains; at its end it closes the workers
    handle.stop()

Each worker is an actor that reserves ``num_cpus`` of a node and serves ``num_envs`` lanes with
dsogym.worker's ``Worker`` and ``run`` in a thread of its own (so Ray's own signal handling in the
actor's main thread stays untouched), reconnecting when the stream drops. Ray places the actors
with its SPREAD strategy, over as many nodes as have the resources, and restarts an actor whose
process dies (``max_restarts``) on any node that has them: the new process connects to the
server as a new worker, which the learner takes as the replacement of the one it lost.

Needs the ``[ray]`` extra (``pip install "dsogym[ray]"``) on the driver and on every node, and
the server reachable from every node. examples/ray_cluster.py starts a learner and its workers
on a running cluster; docs/cluster.md has the plan for 100 workers on 10 hosts.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["launch_workers", "RayWorkers", "RayNotInstalled"]

_EXTRA_HINT = 'pip install "dsogym[ray]"'


class RayNotInstalled(ImportError):
    """Ray is not importable here: the [ray] extra is not installed."""


def _ray() -> Any:
    """The ray package (this module is dsogym.ray: the absolute import finds the real one)."""
    try:
        return importlib.import_module("ray")
    except ImportError as e:
        raise RayNotInstalled(f"dsogym.ray needs Ray, which is not installed in {sys.executable} "
                              f"({e}); install the [ray] extra: {_EXTRA_HINT}") from e


class WorkerActor:
    """One dsogym worker in a Ray actor: the lanes are made and the session starts in __init__,
    so a restarted actor (a new process, the same arguments) serves again by itself."""

    def __init__(self, index: int, server_address: str, env_id: str, num_envs: int,
                 env_kwargs: dict | None, auth_token: str, tls_ca: str | None, tls_cert: str | None,
                 tls_key: str | None):
        import ray

        from dsogym import worker as dsogym_worker
        from dsogym.transport import channel_credentials

        context = ray.get_runtime_context()
        self._info = {"index": index, "node_id": context.get_node_id(), "node_ip": ray.util.get_node_ip_address(), "pid": os.getpid(),
                      "restarted": context.was_current_actor_reconstructed}
        credentials = channel_credentials(tls_ca, tls_cert, tls_key)
        # named after the actor's place, so the learner's log says which node a worker is on
        name = f"ray-{index}@{self._info['node_ip']}:{os.getpid()}"
        self._worker = dsogym_worker.Worker(env_id, num_envs, env_kwargs, name=name, auth_token=auth_token)
        self._exit_code: int | None = None

        def serve() -> None:
            self._exit_code = dsogym_worker.run(self._worker, server_address, "aio", reconnect=True,
                                                credentials=credentials)

        self._thread = threading.Thread(target=serve, name=f"dsogym-worker-{index}", daemon=True)
        self._thread.start()

    def info(self) -> dict:
        """Where this worker runs, and its exit code once the server closed it (else None)."""
        return {**self._info, "exit_code": self._exit_code}


@dataclass
class WorkerPlacement:
    """Where one worker runs: its node, its current process, and the restarts seen so far."""
    index: int
    node_id: str
    node_ip: str
    pid: int
    restarts: int = 0
    exit_code: int | None = None
    alive: bool = True
    pids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"index": self.index, "node_id": self.node_id, "node_ip": self.node_ip, "pid": self.pid,
                "restarts": self.restarts, "exit_code": self.exit_code, "alive": self.alive,
                "pids": list(self.pids)}


class RayWorkers:
    """The handle of launch_workers: where the workers run, their restarts, and stop()."""

    def __init__(self, actors: list[Any], info_timeout: float):
        self.actors = actors
        self._info_timeout = info_timeout
        self._placements: list[WorkerPlacement | None] = [None] * len(actors)
        self._stopped = False

    def placement(self, timeout: float | None = None) -> list[WorkerPlacement]:
        """Asks each worker where it runs. A worker whose process changed since the last call was
        restarted by Ray (counted in ``restarts``); one Ray gave up on is ``alive=False``. Waits
        for a worker being restarted up to ``timeout`` (default: launch_workers' ready_timeout),
        then raises ray.exceptions.GetTimeoutError."""
        ray = _ray()
        refs = [a.info.remote() for a in self.actors]
        deadline = time.monotonic() + (self._info_timeout if timeout is None else timeout)
        for i, ref in enumerate(refs):
            known = self._placements[i]
            try:
                info = ray.get(ref, timeout=max(0.0, deadline - time.monotonic()))
            except ray.exceptions.RayActorError:
                if known is None:
                    known = self._placements[i] = WorkerPlacement(i, "", "", -1)
                known.alive = False
                continue
            if known is None:
                known = self._placements[i] = WorkerPlacement(i, info["node_id"], info["node_ip"], info["pid"])
                known.pids.append(info["pid"])
                known.restarts = int(info["restarted"])  # restarted before we first asked
            elif info["pid"] != known.pid:
                known.restarts += 1
                known.pids.append(info["pid"])
            known.node_id, known.node_ip, known.pid = info["node_id"], info["node_ip"], info["pid"]
            known.exit_code = info["exit_code"]
        return list(self._placements)  # type: ignore[arg-type]

    def nodes(self) -> set[str]:
        """The ids of the nodes the workers run on now."""
        return {p.node_id for p in self.placement()}

    def stop(self) -> None:
        """Ends every worker (no restart). Workers the server already closed have exited their
        session; the rest (e.g. reconnecting to a learner that is gone) are killed."""
        if self._stopped:
            return
        self._stopped = True
        ray = _ray()
        for a in self.actors:
            ray.kill(a, no_restart=True)

    def __enter__(self) -> RayWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def launch_workers(server_address: str, env_id: str, num_workers: int, num_envs: int, *,
                   env_kwargs: dict | None = None, num_cpus: float = 1.0, max_restarts: int = 10,
                   auth_token: str = "", tls_ca: str | None = None, tls_cert: str | None = None,
                   tls_key: str | None = None, ready_timeout: float = 120.0) -> RayWorkers:
    """Starts ``num_workers`` Ray actors, each a dsogym worker serving ``num_envs`` lanes of
    ``env_id`` (``python -m dsogym.worker --num-envs``) to the server at ``server_address``.

    Each actor reserves ``num_cpus`` CPUs; Ray spreads them over the nodes (SPREAD) and restarts
    one whose process dies up to ``max_restarts`` times (-1: always). ``auth_token`` and the TLS
    files (paths that must exist on every node) are the worker's ``--auth-token``/``--tls-*``.
    Connects to Ray with ``ray.init()`` if the caller has not. Waits until every worker has
    made its env, up to ``ready_timeout`` seconds.

    Raises RayNotInstalled without Ray, ValueError for bad arguments or a cluster that does not
    have the CPUs, and RuntimeError naming the worker and the cause when one cannot start
    (e.g. an unknown env id) or is not placed in time.
    """
    if num_workers < 1:
        raise ValueError(f"num_workers: expected >= 1, actual {num_workers}")
    if num_envs < 1:
        raise ValueError(f"num_envs: expected >= 1, actual {num_envs}")
    if not num_cpus > 0:
        raise ValueError(f"num_cpus: expected > 0, actual {num_cpus}")
    if max_restarts < -1:
        raise ValueError(f"max_restarts: expected -1 (always) or >= 0, actual {max_restarts}")
    ray = _ray()
    if not ray.is_initialized():
        ray.init()
    have = ray.cluster_resources().get("CPU", 0.0)
    need = num_workers * num_cpus
    if need > have:
        raise ValueError(f"num_workers x num_cpus: expected at most the cluster's {have:g} CPUs, actual "
                         f"{num_workers} x {num_cpus:g} = {need:g} (add nodes, or lower num_cpus)")
    actor_class = ray.remote(WorkerActor).options(
        num_cpus=num_cpus, scheduling_strategy="SPREAD", max_restarts=max_restarts,
        # info() may be called while Ray restarts the actor: it waits for the new process
        max_task_retries=-1 if max_restarts != 0 else 0)
    actors = [actor_class.remote(i, server_address, env_id, num_envs, env_kwargs, auth_token, tls_ca,
                                 tls_cert, tls_key) for i in range(num_workers)]
    handle = RayWorkers(actors, info_timeout=ready_timeout)
    pending = {a.info.remote(): i for i, a in enumerate(actors)}
    deadline = time.monotonic() + ready_timeout
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                raise RuntimeError(
                    f"launch_workers: workers {sorted(pending.values())} not started within {ready_timeout:g} s "
                    f"(each needs {num_cpus:g} CPU; available now: {ray.available_resources().get('CPU', 0):g} "
                    f"of {have:g}); see `ray status`")
            index = pending.pop(ready[0])
            try:
                ray.get(ready[0])
            except ray.exceptions.RayActorError as e:
                raise RuntimeError(f"launch_workers: worker {index} ({env_id} x {num_envs}) could not start: "
                                   f"{_creation_error(e)}") from e
    except BaseException:
        handle.stop()
        raise
    handle.placement()
    return handle


def _creation_error(e: Exception) -> str:
    """The exception raised in the actor's __init__ (e.g. gymnasium's for an unknown id), in one line."""
    cause = getattr(e, "cause", None) or getattr(e, "error", None) or e
    text = str(cause).strip().splitlines()
    return text[-1] if text else type(cause).__name__
