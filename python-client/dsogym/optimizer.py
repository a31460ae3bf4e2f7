"""The Java DSO optimizers for a policy of your own (OptimizerService, docs/protocol.md).

    import dsogym
    opt = dsogym.RemoteOptimizer("127.0.0.1:50051", theta0, algorithm="natural",
                                 feature_dim=obs_dim, preset="CartPole-v1")
    theta = opt.update(num_lanes=8, costs=-rewards, terminated=term, truncated=trunc,
                       log_probs=logp, scores=scores, features=z, next_features=z_next,
                       evaluate=lambda th: my_policy.log_probs_and_scores(th, batch))

You keep the policy and the env loop; each ``update`` sends one batch of n = K * N
transitions, step-major (index k * N + lane), and returns theta_{k+1} computed in Java by the
trainer's own code. An optimizer that needs ln P at a candidate theta (natural, pco,
chain-iteration) calls ``evaluate(theta)``, which must return ``(log_probs [n], scores [n, P])``
of the same batch at that theta (plus ``costs [n]`` and ``cost_gradients [n, P]`` with
``cost_depends_on_theta``). Errors raise the exceptions of ``dsogym.remote`` (an invalid batch
is a ``RemoteInvalidArgument``, a ValueError) and the session goes on.
"""

from __future__ import annotations

import itertools
import os
import queue
import socket
from typing import Any, Callable, Mapping, Sequence

import grpc
import numpy as np

from dsogym import codec
from dsogym.proto import optimizer_pb2_grpc, pb
from dsogym.remote import RemoteError, _raise
from dsogym.transport import PROTOCOL_VERSION, auth_token_from_env, channel_credentials, open_channel

__all__ = ["RemoteOptimizer"]

Evaluate = Callable[[np.ndarray], Sequence[Any]]


def _f64(x: Any, field: str, shape: tuple[int, ...] | None = None) -> Any:
    a = np.ascontiguousarray(x, dtype=np.float64)
    if shape is not None and a.shape != shape:
        raise ValueError(f"{field}: expected shape {shape}, actual {a.shape}")
    return codec.encode_tensor(a, field=field)


def _bool(x: Any, field: str) -> Any:
    return codec.encode_tensor(np.ascontiguousarray(x, dtype=np.bool_), field=field)


class RemoteOptimizer:
    """One OptimizerService session: theta_0, the algorithm and its options at the start, then
    one ``update`` per batch. ``options`` are `dsogym train` options without "--" (values as
    text or numbers), over the presets of ``preset`` (an env id) when given; ``self.options``
    holds every option in effect. ``feature_dim`` F > 0: batches carry V-hat's features and the
    server fits V-hat; 0: batches carry your own ``values`` and ``next_values``."""

    _END = object()

    def __init__(self, address: str, theta: Any, algorithm: str = "natural",
                 options: Mapping[str, Any] | None = None, preset: str = "", feature_dim: int = 0,
                 cost_depends_on_theta: bool = False, auth_token: str | None = None,
                 tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
                 connect_timeout: float = 30.0):
        self.address = address
        self.theta = np.array(theta, dtype=np.float64).reshape(-1)
        self._channel = open_channel(address, channel_credentials(tls_ca, tls_cert, tls_key))
        try:
            grpc.channel_ready_future(self._channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            self._channel.close()
            raise ConnectionError(f"dsogym server at {address}: not reachable within {connect_timeout} s") from None
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._replies = optimizer_pb2_grpc.OptimizerServiceStub(self._channel).Optimize(
            iter(self._requests.get, self._END))
        self._ids = itertools.count(1)
        self.closed = False
        open_msg = pb.OpenOptimizer(
            protocol_version=PROTOCOL_VERSION, client_name=f"python:{socket.gethostname()}:{os.getpid()}",
            auth_token=auth_token_from_env(auth_token), theta=_f64(self.theta, "theta"), algorithm=algorithm,
            options={k: str(v) for k, v in (options or {}).items()}, preset=preset, feature_dim=feature_dim,
            cost_depends_on_theta=cost_depends_on_theta)
        try:
            opened = self._final(self._send(open=open_msg)).opened
        except BaseException:
            self.close()
            raise
        self.algorithm = opened.algorithm
        self.options = dict(opened.options)
        self.num_params = opened.num_params
        self.max_batch_transitions = opened.max_batch_transitions
        self.cost_depends_on_theta = cost_depends_on_theta
        self.iteration = 0
        self.evaluations = 0  # evaluate round trips of the last update

    def _send(self, **request: Any) -> int:
        if self.closed:
            raise RemoteError(f"optimizer session with {self.address}: expected open, actual closed", 9)
        rid = next(self._ids)
        self._requests.put(pb.OptimizerRequest(id=rid, **request))
        return rid

    def _next(self) -> Any:
        try:
            return next(self._replies)
        except StopIteration:
            self.close()
            raise ConnectionError(f"dsogym server at {self.address} ended the optimizer session") from None
        except grpc.RpcError as e:
            self.close()
            raise ConnectionError(f"dsogym server at {self.address}: {e.code().name}: {e.details()}") from None

    def _final(self, rid: int) -> Any:
        reply = self._next()
        if reply.id != rid:
            self.close()
            raise ConnectionError(f"reply id: expected {rid}, actual {reply.id} (protocol violation)")
        if reply.WhichOneof("reply") == "error":
            _raise(reply.error)
        return reply

    def update(self, *, num_lanes: int, costs: Any, terminated: Any, truncated: Any, log_probs: Any,
               scores: Any, features: Any = None, next_features: Any = None, values: Any = None,
               next_values: Any = None, cost_gradients: Any = None, behaviour_log_probs: Any = None,
               evaluate: Evaluate | None = None) -> np.ndarray:
        """Sends one batch recorded under ``self.theta`` and returns theta_{k+1} (also in
        ``self.theta``). Arrays are per transition, step-major: [n] or [n, P] / [n, F]."""
        n = int(np.size(costs))
        p = self.num_params
        batch = pb.TransitionBatch(
            num_lanes=num_lanes, costs=_f64(costs, "batch.costs", (n,)),
            terminated=_bool(terminated, "batch.terminated"), truncated=_bool(truncated, "batch.truncated"),
            log_probs=_f64(log_probs, "batch.log_probs"), scores=_f64(scores, "batch.scores", (n, p)))
        for name, value in (("features", features), ("next_features", next_features), ("values", values),
                            ("next_values", next_values), ("cost_gradients", cost_gradients),
                            ("behaviour_log_probs", behaviour_log_probs)):
            if value is not None:
                getattr(batch, name).CopyFrom(_f64(value, f"batch.{name}"))
        rid = self._send(batch=batch)
        while True:
            reply = self._next()
            kind = reply.WhichOneof("reply")
            if kind == "error":  # the batch's, or a refused evaluation's (the session goes on)
                _raise(reply.error)
            if reply.id != rid:
                self.close()
                raise ConnectionError(f"reply id: expected {rid}, actual {reply.id} (protocol violation)")
            if kind == "update":
                self.theta = codec.decode_tensor(reply.update.theta, "update.theta").astype(np.float64)
                self.iteration = reply.update.iteration
                self.evaluations = reply.update.evaluations
                return self.theta.copy()
            if kind != "evaluate":
                self.close()
                raise ConnectionError(f"reply to batch #{rid}: expected update, evaluate or error, actual {kind}")
            self._answer(reply.evaluate, evaluate, n)

    def _answer(self, request: Any, evaluate: Evaluate | None, n: int) -> None:
        if evaluate is None:
            self.close()
            raise ValueError(f"evaluate: algorithm {self.algorithm} asks for ln P of the batch at a candidate "
                             "theta; pass evaluate=callable(theta) -> (log_probs, scores); the session is closed")
        theta = codec.decode_tensor(request.theta, "evaluate.theta").astype(np.float64)
        p = self.num_params
        try:
            got = evaluate(theta)
            result = pb.EvaluationResult(evaluation_id=request.evaluation_id,
                                         log_probs=_f64(got[0], "evaluation.log_probs", (n,)),
                                         scores=_f64(got[1], "evaluation.scores", (n, p)))
            if self.cost_depends_on_theta:
                result.costs.CopyFrom(_f64(got[2], "evaluation.costs", (n,)))
                result.cost_gradients.CopyFrom(_f64(got[3], "evaluation.cost_gradients", (n, p)))
        except BaseException:
            self.close()  # the server waits for this answer and nothing else: the session is over
            raise
        self._send(evaluation=result)  # no reply when accepted: the next is evaluate or update

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._requests.put(self._END)
        self._channel.close()

    def __enter__(self) -> "RemoteOptimizer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
