"""Test helpers: the real Java server as a context manager, and a minimal Python stand-in for
the server's WorkerService to drive workers in tests.

    with JavaServer() as server:          # java -jar target/dsogym.jar serve --port 0
        env = dsogym.RemoteEnv(server.address, "CartPole-v1")

    with WorkerDriver() as driver:        # a WorkerService on 127.0.0.1:<free port>
        proc = subprocess.Popen([sys.executable, "-m", "dsogym.worker", "--server", driver.address, ...])
        session = driver.accept(timeout=30)
        session.hello(autoreset_mode=pb.SAME_STEP)
        reply = session.command(reset=pb.ResetRequest(seeds=[0]))
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from dsogym.launcher import find_jar
from dsogym.proto import pb, pb_grpc

__all__ = ["JavaServer", "find_jar", "WorkerDriver", "WorkerSession", "PythonEnvServer"]

LISTENING_RE = re.compile(r"dsogym server listening on (\S+):(\d+)")


class JavaServer:
    """Starts ``java -jar dsogym.jar serve --port 0`` and stops it at exit.

    ``address`` is "HOST:PORT" parsed from the server's line
    "dsogym server listening on HOST:PORT". The server's output is kept in ``output``
    (a list of lines) for failing tests to show."""

    def __init__(self, jar: str | os.PathLike | None = None, extra_args: list[str] | None = None,
                 java: str | None = None, startup_timeout: float = 60.0):
        self.jar = Path(jar) if jar else find_jar()
        self.java = java or os.environ.get("DSOGYM_JAVA") or shutil.which("java") or "java"
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.address: str | None = None
        self.host: str | None = None
        self.port: int | None = None
        self.output: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self) -> "JavaServer":
        cmd = [self.java, "-jar", str(self.jar), "serve", "--port", "0", *self.extra_args]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, text=True, bufsize=1)
        found: queue.SimpleQueue = queue.SimpleQueue()

        def read():
            for line in self.process.stdout:
                self.output.append(line.rstrip("\n"))
                m = LISTENING_RE.search(line)
                if m:
                    found.put((m.group(1), int(m.group(2))))
            found.put(None)

        self._reader = threading.Thread(target=read, name="dsogym-java-server-output", daemon=True)
        self._reader.start()
        try:
            got = found.get(timeout=self.startup_timeout)
        except queue.Empty:
            got = None
        if got is None:
            self.stop()
            tail = "\n".join(self.output[-30:])
            raise RuntimeError(f"dsogym server did not print its listening line; command {cmd}; output:\n{tail}")
        self.host, self.port = got
        self.address = f"{self.host}:{self.port}"
        return self

    def stop(self, timeout: float = 10.0) -> None:
        p = self.process
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout)

    def __enter__(self) -> "JavaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# A Python stand-in for the Java server's WorkerService
# ---------------------------------------------------------------------------------------------


class WorkerSession:
    """One connected worker, driven from the test thread."""

    def __init__(self, hello: Any):
        self.worker_hello = hello.hello
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._next_id = 1
        self.ended = threading.Event()

    def hello(self, autoreset_mode: int = pb.NEXT_STEP, worker_id: str = "w-1",
              protocol_version: int = pb.PROTOCOL_VERSION_1) -> None:
        self._commands.put(pb.ServerCommand(hello=pb.ServerHello(
            protocol_version=protocol_version, worker_id=worker_id,
            autoreset_mode=autoreset_mode, max_message_bytes=64 << 20)))

    def send(self, **command: Any) -> int:
        """Queues a command without waiting (pipelining); returns its id."""
        cid = self._next_id
        self._next_id += 1
        self._commands.put(pb.ServerCommand(id=cid, **command))
        return cid

    def reply(self, timeout: float = 30.0) -> Any:
        """The next reply; None when the worker ended the stream."""
        r = self._replies.get(timeout=timeout)
        return r

    def command(self, timeout: float = 30.0, **command: Any) -> Any:
        cid = self.send(**command)
        r = self.reply(timeout)
        if r is not None and r.id != cid:
            raise AssertionError(f"reply id: expected {cid}, actual {r.id}")
        return r

    def end(self) -> None:
        """Ends the stream from the server side (as a server that goes away would)."""
        self._commands.put(None)


class _WorkerServicer(pb_grpc.WorkerServiceServicer):
    def __init__(self, sessions: queue.SimpleQueue):
        self._sessions = sessions

    def Connect(self, request_iterator, context):
        try:
            first = next(request_iterator)
        except StopIteration:
            return
        session = WorkerSession(first)
        self._sessions.put(session)

        def pump_replies():
            try:
                for msg in request_iterator:
                    session._replies.put(msg)
            except grpc.RpcError:
                pass
            session._replies.put(None)
            session.ended.set()

        threading.Thread(target=pump_replies, daemon=True).start()
        while context.is_active():
            try:
                cmd = session._commands.get(timeout=0.2)
            except queue.Empty:
                if session.ended.is_set():
                    return
                continue
            if cmd is None:
                return
            yield cmd


class WorkerDriver:
    """A WorkerService on loopback that hands each connecting worker to the test as a
    WorkerSession (``accept``)."""

    def __init__(self, host: str = "127.0.0.1"):
        self._sessions: queue.SimpleQueue = queue.SimpleQueue()
        opts = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=opts)
        pb_grpc.add_WorkerServiceServicer_to_server(_WorkerServicer(self._sessions), self._server)
        port = self._server.add_insecure_port(f"{host}:0")
        self.address = f"{host}:{port}"

    def accept(self, timeout: float = 60.0) -> WorkerSession:
        return self._sessions.get(timeout=timeout)

    def __enter__(self) -> "WorkerDriver":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop(grace=0.5)


# ---------------------------------------------------------------------------------------------
# A Python stand-in for the server's EnvService (envs hosted in this process)
# ---------------------------------------------------------------------------------------------


class _EnvServicer(pb_grpc.EnvServiceServicer):
    def __init__(self, env_ids: list[str]):
        self.env_ids = list(env_ids)

    def ListEnvs(self, request, context):
        from dsogym import codec
        import gymnasium as gym

        specs = []
        for env_id in self.env_ids:
            env = gym.make(env_id)
            specs.append(codec.env_spec_of(env, env_id=env_id))
            env.close()
        return pb.ListEnvsResponse(envs=specs)

    def Session(self, request_iterator, context):
        import gymnasium as gym

        from dsogym.worker import Worker

        worker = None
        try:
            for req in request_iterator:
                kind = req.WhichOneof("request")
                if kind == "hello":
                    yield pb.ClientResponse(id=req.id, hello=pb.ServerHello(protocol_version=pb.PROTOCOL_VERSION_1))
                elif kind == "make":
                    m = req.make
                    if m.env_id not in self.env_ids:
                        yield pb.ClientResponse(id=req.id, error=pb.Error(
                            code=5, message=f"make.env_id: expected one of {self.env_ids}, actual {m.env_id!r}"))
                        continue
                    if worker is not None:
                        worker.close()
                    import json as _json

                    worker = Worker(m.env_id, m.num_envs or 1, _json.loads(m.kwargs_json or "{}"))
                    mode = m.autoreset_mode or pb.NEXT_STEP
                    worker.start(pb.ServerHello(protocol_version=pb.PROTOCOL_VERSION_1, autoreset_mode=mode))
                    yield pb.ClientResponse(id=req.id, made=pb.MadeEnv(
                        spec=worker.spec, num_envs=worker.num_envs, autoreset_mode=mode))
                elif kind in ("reset", "step"):
                    if worker is None:
                        yield pb.ClientResponse(id=req.id, error=pb.Error(
                            code=9, message=f"{kind}: expected after make, actual before"))
                        continue
                    out = worker.handle(pb.ServerCommand(id=req.id, **{kind: getattr(req, kind)}))
                    which = out.WhichOneof("message")
                    yield pb.ClientResponse(id=req.id, **{which: getattr(out, which)})
                elif kind == "close":
                    yield pb.ClientResponse(id=req.id, closed=pb.CloseResult())
                    return
                else:
                    yield pb.ClientResponse(id=req.id, error=pb.Error(code=3, message="request: expected one of hello, make, reset, step, close; actual unset"))
        finally:
            if worker is not None:
                worker.close()


class PythonEnvServer:
    """An EnvService on loopback hosting Gymnasium envs of this process: the same protocol as
    the Java server's, to test clients without Java (no action-range validation)."""

    def __init__(self, env_ids: list[str], host: str = "127.0.0.1"):
        opts = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=opts)
        pb_grpc.add_EnvServiceServicer_to_server(_EnvServicer(env_ids), self._server)
        port = self._server.add_insecure_port(f"{host}:0")
        self.address = f"{host}:{port}"

    def __enter__(self) -> "PythonEnvServer":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop(grace=0.5)
