"""Envs hosted by the dsogym server, used as ordinary Gymnasium envs (EnvService.Session):
its Java-native envs, and those its connected workers serve (the hub; ``register_envs``
registers ``dsogym/<EnvId>`` for each).

    import dsogym, gymnasium as gym
    env = gym.make("dsogym/Remote-v0", address="127.0.0.1:50051", env_id="CartPole-v1")
    envs = dsogym.RemoteVectorEnv("127.0.0.1:50051", "Pendulum-v1", num_envs=8,
                                  autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)

Each env holds one bidirectional stream: hello, make, then reset/step until close. Requests go
one at a time (the sync gRPC API: a queue-fed request iterator and ``next()`` on the replies).
An in-band Error reply raises a Python exception carrying the server's message, and the
session stays usable:

    INVALID_ARGUMENT (3)     -> RemoteInvalidArgument (a ValueError)
    NOT_FOUND (5)            -> RemoteNotFound (a gymnasium.error.Error and KeyError)
    FAILED_PRECONDITION (9)  -> RemoteFailedPrecondition (a RuntimeError, e.g. step before reset)
    RESOURCE_EXHAUSTED (8)   -> RemoteResourceExhausted (a RuntimeError: the server is full,
                                e.g. its --max-total-lanes are in use; may pass later)
    anything else            -> RemoteError (a RuntimeError)

A request over one of the server's own limits (``bin/dsogym serve --help`` lists them) names
the limit and the value: e.g. ``num_envs`` over ``--max-session-lanes`` is INVALID_ARGUMENT.

TLS: ``tls_ca="ca.pem"`` (and ``tls_cert``/``tls_key`` for a server that demands client
certificates). ``auth_token`` defaults to $DSOGYM_AUTH_TOKEN.

A dropped connection is resumed (``resume=True``, the default): the client reconnects within
the server's resume grace and the session goes on where it was; a resume that fails raises
``ConnectionError``. With ``timeout=SECONDS``, a reply that takes longer (a hung server) raises
``TimeoutError`` and closes the session.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import queue
import socket
import threading
import time
from typing import Any

import grpc
import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from dsogym import codec
from dsogym.proto import pb, pb_grpc
from dsogym.transport import (AUTORESET_FROM_PB, AUTORESET_TO_PB, PROTOCOL_VERSION, auth_token_from_env,
                              channel_credentials, open_channel)

__all__ = ["RemoteEnv", "RemoteVectorEnv", "RemoteError", "RemoteInvalidArgument",
           "RemoteNotFound", "RemoteFailedPrecondition", "RemoteResourceExhausted", "list_envs",
           "register_envs"]



# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class RemoteError(RuntimeError):
    """An in-band Error reply of the server. ``code`` is the grpc status code number."""

    def __init__(self, message: str, code: int = 2, exception_type: str = "", remote_traceback: str = ""):
        super().__init__(message)
        self.code = code
        self.exception_type = exception_type
        self.remote_traceback = remote_traceback

    def __str__(self) -> str:  # KeyError's str() would add quotes
        return self.args[0] if self.args else ""


class RemoteInvalidArgument(RemoteError, ValueError):
    """INVALID_ARGUMENT: a bad action, seed, option or kwarg; nothing changed on the server."""


class RemoteNotFound(RemoteError, gym.error.Error, KeyError):
    """NOT_FOUND: e.g. an env id the server does not know."""


class RemoteFailedPrecondition(RemoteError):
    """FAILED_PRECONDITION: e.g. step before reset, or a step of an ended lane without autoreset."""


class RemoteResourceExhausted(RemoteError):
    """RESOURCE_EXHAUSTED: the server is full (total lanes, memory); nothing changed."""


_ERRORS = {3: RemoteInvalidArgument, 5: RemoteNotFound, 8: RemoteResourceExhausted,
           9: RemoteFailedPrecondition}


def _raise(err: Any) -> None:
    cls = _ERRORS.get(err.code, RemoteError)
    raise cls(err.message or f"remote error with code {err.code}", err.code, err.exception_type, err.traceback)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"options: expected JSON-serializable values, actual {type(o).__name__}")


# ---------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------


# A session's channel reconnects soon after a broken connection (gRPC's default first backoff is
# 1 s), so that a resume does not wait long for a server that is back.
_RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000),
                      ("grpc.min_reconnect_backoff_ms", 100)]


class _Deadline:
    """Cancels the stream when an awaited reply is late: one watchdog thread per session, armed
    for each request (the sync API's ``next()`` on a stream takes no timeout)."""

    def __init__(self, cancel: Any):
        self._cancel = cancel
        self._cond = threading.Condition()
        self._due: float | None = None
        self._fired = False
        self._closed = False
        threading.Thread(target=self._watch, name="dsogym-session-deadline", daemon=True).start()

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._due = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self) -> bool:
        """Returns whether the deadline passed (and the stream was cancelled)."""
        with self._cond:
            self._due = None
            return self._fired

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                if self._due is None:
                    self._cond.wait()
                    continue
                left = self._due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._due = None
                self._fired = True
                self._cancel()


class _Session:
    """One EnvService.Session: ``call(**request)`` sends one request and returns its reply,
    raising for an Error reply or a dropped stream, and with a ``timeout`` (seconds)
    TimeoutError for a reply that does not come in time.

    With ``resume`` (the default), a stream that breaks (UNAVAILABLE: a connection reset, a
    restarted proxy) is replaced within the server's resume grace: a new stream's hello carries
    the session's resume id, and the request in flight is sent again with the same id, which
    the server answers from its stored reply if it had already run it. The caller sees only
    the reply. A resume that fails (the grace is over, the server restarted) raises
    ConnectionError saying why."""

    _END = object()

    def __init__(self, address: str, auth_token: str | None = None, client_name: str | None = None,
                 connect_timeout: float = 30.0, timeout: float | None = None, resume: bool = True,
                 credentials: grpc.ChannelCredentials | None = None):
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout: expected seconds > 0 or None (no deadline), actual {timeout!r}")
        self.address = address
        self.timeout = timeout
        self._auth_token = auth_token_from_env(auth_token)
        self._client_name = client_name or f"python:{socket.gethostname()}:{os.getpid()}"
        self._channel = open_channel(address, credentials, _RECONNECT_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            self._channel.close()
            raise ConnectionError(f"dsogym server at {address}: not reachable within {connect_timeout} s") from None
        self._stub = pb_grpc.EnvServiceStub(self._channel)
        self._deadline = _Deadline(lambda: self._responses.cancel()) if timeout is not None else None
        self._open_stream()
        self._ids = itertools.count(1)
        self.closed = False
        self._closed_why = "closed"
        self._resume_id = ""
        hello = self.call(hello=self._hello()).hello
        if hello.protocol_version != PROTOCOL_VERSION:
            self.close()
            raise ConnectionError(f"server hello protocol_version: expected 1, actual {hello.protocol_version}")
        self.server_hello = hello
        self._resume_id = hello.resume_id if resume else ""
        self.resume_grace = hello.resume_grace_ms / 1000.0

    def _hello(self, resume_id: str = "") -> Any:
        return pb.ClientHello(protocol_version=PROTOCOL_VERSION, client_name=self._client_name,
                              auth_token=self._auth_token, resume_id=resume_id)

    def _open_stream(self) -> None:
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._responses = self._stub.Session(iter(self._requests.get, self._END))

    def call(self, resume: bool = True, **request: Any) -> Any:
        if self.closed:
            raise RemoteFailedPrecondition(f"session with {self.address}: expected open, actual {self._closed_why}", 9)
        rid = next(self._ids)
        req = pb.ClientRequest(id=rid, **request)
        what = f"{next(iter(request))} #{rid}"
        while True:
            try:
                resp = self._exchange(req, what)
                break
            except grpc.RpcError as e:
                if not (resume and self._resumable(e)):
                    self._abandon()
                    raise ConnectionError(f"dsogym server at {self.address}: {e.code().name}: {e.details()}") from None
                self._resume(f"{e.code().name}: {e.details()}")  # then send the request again
        if resp.WhichOneof("response") == "error":
            _raise(resp.error)
        return resp

    def _exchange(self, req: Any, what: str) -> Any:
        """Sends one request on the current stream and returns its reply (an Error one too)."""
        self._requests.put(req)
        try:
            resp = self._next_reply(what)
        except StopIteration:
            self._abandon()
            raise ConnectionError(f"dsogym server at {self.address} ended the session") from None
        if resp.id != req.id:
            self._abandon()
            raise ConnectionError(f"reply id: expected {req.id}, actual {resp.id} (protocol violation)")
        return resp

    def _resumable(self, e: grpc.RpcError) -> bool:
        """A broken stream of a resumable session; not a stream the server ended itself."""
        if not self._resume_id or e.code() != grpc.StatusCode.UNAVAILABLE:
            return False
        trailers = dict(getattr(e, "trailing_metadata", lambda: None)() or ())
        return trailers.get("dsogym-session") != "closed"

    def _resume(self, broken: str) -> None:
        """Reattaches the session from a new stream, retrying until the grace is over."""
        self._requests.put(self._END)  # ends the broken stream's request thread
        grace = self.resume_grace
        until = time.monotonic() + grace
        delay, last = 0.05, broken
        while True:
            left = until - time.monotonic()
            if left <= 0:
                self._give_up(f"its stream broke ({broken}) and it could not be resumed within "
                              f"the server's resume grace of {grace:g} s (last: {last})")
            try:
                grpc.channel_ready_future(self._channel).result(timeout=left)
                self._open_stream()
                resp = self._exchange(pb.ClientRequest(id=0, hello=self._hello(self._resume_id)), "hello (resume)")
            except grpc.FutureTimeoutError:
                last = "the server was not reachable"
                continue
            except grpc.RpcError as e:
                self._requests.put(self._END)
                last = f"{e.code().name}: {e.details()}"
                if not self._resumable(e):
                    self._give_up(f"its stream broke ({broken}) and resuming it failed ({last})")
                time.sleep(min(delay, max(0.0, until - time.monotonic())))
                delay = min(2 * delay, 1.0)
                continue
            if resp.WhichOneof("response") == "error":
                self._give_up(f"its stream broke ({broken}) and the server refused to resume it: "
                              f"{resp.error.message}")
            return

    def _give_up(self, why: str) -> None:
        self._abandon()
        self._closed_why = f"closed: {why}"
        raise ConnectionError(f"dsogym server at {self.address}: session lost: {why}") from None

    def _next_reply(self, what: str) -> Any:
        """The next reply, within ``timeout`` when one is set."""
        if self._deadline is None:
            return next(self._responses)
        self._deadline.arm(self.timeout)
        try:
            resp = next(self._responses)
        except grpc.RpcError:
            if self._deadline.disarm():
                self._timed_out(what)
            raise
        if self._deadline.disarm():  # the reply came as the stream was being cancelled
            self._timed_out(what)
        return resp

    def _timed_out(self, what: str) -> None:
        why = f"dsogym server at {self.address}: no reply to {what} within {self.timeout} s"
        self._abandon()
        self._closed_why = f"closed after a timeout ({why})"
        raise TimeoutError(f"{why}; the session is closed") from None

    def _abandon(self) -> None:
        self.closed = True
        self._requests.put(self._END)
        if self._deadline is not None:
            self._deadline.close()
        self._channel.close()

    def close(self, reason: str = "client closed") -> None:
        if self.closed:
            return
        try:  # not resumed: a session whose close was cut off closes at the end of its grace
            self.call(close=pb.CloseRequest(reason=reason), resume=False)
        except (RemoteError, ConnectionError, TimeoutError):
            pass
        finally:
            self._finish_close()

    def _finish_close(self) -> None:
        self.closed = True
        self._requests.put(self._END)
        try:
            while True:  # let the server end the stream (within the timeout, when one is set)
                self._next_reply("the end of the stream")
        except (StopIteration, grpc.RpcError, TimeoutError):
            pass
        if self._deadline is not None:
            self._deadline.close()
        self._channel.close()


def list_envs(address: str, timeout: float = 30.0, auth_token: str | None = None,
              tls_ca: str | None = None, tls_cert: str | None = None,
              tls_key: str | None = None) -> list[codec.SpecInfo]:
    """The envs the server can make (EnvService.ListEnvs); the token and TLS files as for
    RemoteVectorEnv."""
    with open_channel(address, channel_credentials(tls_ca, tls_cert, tls_key)) as channel:
        resp = pb_grpc.EnvServiceStub(channel).ListEnvs(
            pb.ListEnvsRequest(auth_token=auth_token_from_env(auth_token)), timeout=timeout,
            wait_for_ready=True)
    return [codec.decode_env_spec(s) for s in resp.envs]


_LIST_ENVS_KWARGS = ("auth_token", "tls_ca", "tls_cert", "tls_key")


def register_envs(address: str, **kwargs: Any) -> list[str]:
    """Registers one Gymnasium id per env the server lists, ``dsogym/<EnvId>`` (a "/" in the
    server's id becomes "-"): its Java-native envs and those its workers serve (the hub), e.g.
    ``dsogym/Acrobot-v1``. Returns the ids registered; registering again replaces them.

    Each EnvSpec carries the env's ``max_episode_steps`` and ``reward_threshold``, and its kwargs
    ``address``, ``env_id`` and ``kwargs`` (RemoteEnv's options: auth_token, tls_*, timeout, ...),
    so ``gym.make("dsogym/Acrobot-v1")`` and ``gym.make_vec(..., num_envs=4)`` need no more;
    keywords given there override them. The server enforces the time limit; the TimeLimit that
    ``gym.make`` adds from the spec counts the same steps from the same resets (one lane, reset
    by the client), so it truncates at the same step and changes nothing. A larger
    ``max_episode_steps`` passed to ``gym.make`` cannot lift the server's limit."""
    listed = list_envs(address, **{k: kwargs[k] for k in _LIST_ENVS_KWARGS if k in kwargs})
    ids = []
    for info in listed:
        gym_id = "dsogym/" + info.id.replace("/", "-")
        if gym_id in gym.registry:
            del gym.registry[gym_id]  # the server's envs may have changed since
        gym.register(gym_id, entry_point="dsogym.remote:RemoteEnv",
                     vector_entry_point="dsogym.remote:_registered_vector_env",
                     max_episode_steps=info.max_episode_steps, reward_threshold=info.reward_threshold,
                     kwargs={"address": address, "env_id": info.id, **kwargs})
        ids.append(gym_id)
    return ids


def _registered_vector_env(num_envs: int = 1, max_episode_steps: int | None = None, **kwargs: Any) -> Any:
    """The vector entry point of register_envs' ids: gym.make_vec passes the spec's
    max_episode_steps, which the server already enforces; any other value is refused."""
    env = RemoteVectorEnv(num_envs=num_envs, **kwargs)
    limit = env.remote_spec.max_episode_steps
    if max_episode_steps is not None and max_episode_steps != limit:
        env.close()
        raise ValueError(f"max_episode_steps: expected {limit} (the limit the server enforces for "
                         f"{env.remote_spec.id}) or None, actual {max_episode_steps}")
    return env


def _with_remote_limits(spec: Any, remote: codec.SpecInfo) -> Any:
    """``spec`` (what gymnasium.make set: Remote-v0's registration, which cannot know the
    remote env) with the remote env's max_episode_steps and reward_threshold where it has none.
    The server enforces the time limit itself, so make adds no TimeLimit wrapper of its own."""
    if spec is None:
        return None
    changes = {}
    if spec.max_episode_steps is None and remote.max_episode_steps is not None:
        changes["max_episode_steps"] = remote.max_episode_steps
    if spec.reward_threshold is None and remote.reward_threshold is not None:
        changes["reward_threshold"] = remote.reward_threshold
    return dataclasses.replace(spec, **changes) if changes else spec


class _RemoteBase:
    """What RemoteEnv and RemoteVectorEnv share: ``spec``, the assigned EnvSpec completed by
    _with_remote_limits (gymnasium.make assigns ``env.unwrapped.spec`` after construction),
    and pickling by reconnecting."""

    _assigned_spec: Any = None
    _init_kwargs: dict

    def __reduce__(self):
        """Pickles the constructor's arguments (address, env id, kwargs, options; an auth_token
        passed explicitly too) and the spec: unpickling opens a NEW session on the server. The
        episode state is not carried: reset the unpickled env before stepping it."""
        return _reconnect, (type(self), self._init_kwargs, self._assigned_spec)

    @property
    def spec(self) -> Any:
        return _with_remote_limits(self._assigned_spec, self.remote_spec)

    @spec.setter
    def spec(self, value: Any) -> None:
        self._assigned_spec = value


def _reconnect(cls: type, init_kwargs: dict, spec: Any) -> Any:
    env = cls(**init_kwargs)
    env.spec = spec
    return env


# ---------------------------------------------------------------------------------------------
# Vector env
# ---------------------------------------------------------------------------------------------


def _copy_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _copy_tree(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_copy_tree(v) for v in x)
    return np.array(x)  # writable copy


class RemoteVectorEnv(_RemoteBase, gym.vector.VectorEnv):
    """``num_envs`` lanes of an env hosted by the dsogym server, as a Gymnasium VectorEnv.

    Args:
        address: "HOST:PORT" of the server.
        env_id: an id the server lists (e.g. "CartPole-v1").
        num_envs: number of lanes.
        autoreset_mode: gymnasium.vector.AutoresetMode (or its value string); the server runs it.
            In SAME_STEP mode ``info["final_obs"]``/``info["_final_obs"]`` hold the last
            observations of the lanes that ended and ``info["final_info"]``/
            ``info["_final_info"]`` their last steps' info, as SyncVectorEnv does.
        env_kwargs: keyword arguments of the remote env (sent as JSON).
        copy: return writable copies of observations (True, like SyncVectorEnv) or read-only
            views of the reply's bytes (False, no copy).
        auth_token: for a server that demands one; None: $DSOGYM_AUTH_TOKEN, if set.
        tls_ca: TLS: the CA file (PEM) that signed the server's certificate.
        tls_cert, tls_key: mutual TLS: this client's certificate and key (PEM files).
        connect_timeout: seconds to wait for the server to accept the connection.
        timeout: seconds each reply (make, reset, step, close) may take; a later one raises
            TimeoutError and closes the session (a hung server). None: no deadline.
        resume: when the connection breaks, reconnect and resume the session (same lanes, same
            episodes) within the server's ``--resume-grace``, sending the request in flight
            again; the server answers a request it already ran from its stored reply, so no
            step runs twice. A resume that fails raises ConnectionError saying why. False: a
            broken connection raises ConnectionError at once.

    Pickling (and deepcopy) reconnects: the unpickled env opens a new session with the same
    arguments; the episode state is not carried, so reset it before stepping.
    """

    def __init__(self, address: str, env_id: str, num_envs: int = 1,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 env_kwargs: dict | None = None, copy: bool = True, auth_token: str | None = None,
                 connect_timeout: float = 30.0, timeout: float | None = None, resume: bool = True,
                 tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None):
        self._init_kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        mode = autoreset_mode if isinstance(autoreset_mode, AutoresetMode) else AutoresetMode(autoreset_mode)
        self.copy = copy
        self._session = _Session(address, auth_token=auth_token, connect_timeout=connect_timeout,
                                 timeout=timeout, resume=resume,
                                 credentials=channel_credentials(tls_ca, tls_cert, tls_key))
        try:
            made = self._session.call(make=pb.MakeRequest(
                env_id=env_id, num_envs=num_envs,
                kwargs_json=json.dumps(env_kwargs or {}, default=_json_default),
                autoreset_mode=AUTORESET_TO_PB[mode],
            )).made
        except BaseException:
            self._session.close()
            raise
        self.remote_spec = codec.decode_env_spec(made.spec)
        self.num_envs = made.num_envs or num_envs
        if self.num_envs != num_envs:
            self._session.close()
            raise RuntimeError(f"made num_envs: expected {num_envs}, actual {self.num_envs}")
        self.autoreset_mode = AUTORESET_FROM_PB.get(made.autoreset_mode, mode)
        self.single_observation_space = self.remote_spec.observation_space
        self.single_action_space = self.remote_spec.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        # no render modes: remote envs draw no frames (a worker's env may list some it has)
        self.metadata = {**self.remote_spec.metadata, "render_modes": [], "autoreset_mode": self.autoreset_mode}
        self.render_mode = None
        self._address = address

    # -- gymnasium API ---------------------------------------------------------------------

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        req = self._reset_request(seed, options)
        r = self._session.call(reset=req).reset_result
        obs = codec.decode_value(r.observations, self.single_observation_space, self.num_envs, "observations")
        return (_copy_tree(obs) if self.copy else obs), self._info(r.info)

    def step(self, actions: Any):
        value = codec.encode_value(actions, self.single_action_space, field="actions")
        r = self._session.call(step=pb.StepRequest(actions=value)).step_result
        N = self.num_envs
        obs = codec.decode_value(r.observations, self.single_observation_space, N, "observations")
        rewards = codec.decode_tensor(r.rewards, "rewards").astype(np.float64)  # writable copy
        terminated = codec.decode_tensor(r.terminated, "terminated").copy()
        truncated = codec.decode_tensor(r.truncated, "truncated").copy()
        info = self._info(r.info)
        if r.ended_lanes:
            ended = list(r.ended_lanes)
            final = codec.decode_value(r.final_observations, self.single_observation_space, len(ended),
                                       "final_observations")
            final_obs = np.full(N, None, dtype=object)
            mask = np.zeros(N, dtype=np.bool_)
            for j, lane in enumerate(ended):
                final_obs[lane] = _copy_tree(_lane(final, j))
                mask[lane] = True
            info["final_obs"] = final_obs
            info["_final_obs"] = mask
            # as Gymnasium's SAME_STEP: the ended lanes' last-step info, masked by the lanes
            info["final_info"] = self._info(r.final_info)
            info["_final_info"] = mask.copy()
        return (_copy_tree(obs) if self.copy else obs), rewards, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        self._session.close()

    # -- helpers ---------------------------------------------------------------------------

    def _reset_request(self, seed: Any, options: dict | None) -> Any:
        req = pb.ResetRequest()
        if seed is None:
            pass
        elif isinstance(seed, (int, np.integer)):
            req.seeds.append(int(seed))
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed: expected an int or {self.num_envs} seeds, actual {len(seeds)}")
            if any(s is not None for s in seeds):  # None lanes draw fresh entropy, as in Gymnasium
                if None in seeds and "unseeded_lanes" not in self._session.server_hello.capabilities:
                    # an older server ignores the field and would seed those lanes with 0
                    raise ValueError(f"seed: None among seeds {seeds} needs a server with the capability "
                                     f"unseeded_lanes; this one has {list(self._session.server_hello.capabilities)} "
                                     "(an older dsogym): seed every lane or none")
                req.seeds.extend(0 if s is None else int(s) for s in seeds)
                req.unseeded_lanes.extend(i for i, s in enumerate(seeds) if s is None)
        if options:
            options = dict(options)
            mask = options.pop("reset_mask", None)
            if mask is not None:
                codec.encode_tensor(np.asarray(mask), req.mask, "options['reset_mask']")
            if options:
                req.options_json = json.dumps(options, default=_json_default)
        return req

    def _info(self, info_map: Any) -> dict:
        if not info_map:
            return {}
        info = codec.decode_info(info_map)
        return {k: np.array(v) for k, v in info.items()} if self.copy else info

    def __repr__(self) -> str:
        return (f"RemoteVectorEnv({self._address!r}, {self.remote_spec.id!r}, num_envs={self.num_envs}, "
                f"autoreset_mode={self.autoreset_mode.name})")


def _lane(x: Any, i: int) -> Any:
    if isinstance(x, dict):
        return {k: _lane(v, i) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_lane(v, i) for v in x)
    return x[i]


# ---------------------------------------------------------------------------------------------
# Single env
# ---------------------------------------------------------------------------------------------


def _batch1(x: Any, space: spaces.Space) -> Any:
    """One action -> the batch of one lane, leaves cast to the space's dtype where safe."""
    if isinstance(space, spaces.Dict):
        if not isinstance(x, dict):
            raise TypeError(f"action: expected a dict for {space}, actual {type(x).__name__}")
        return {k: _batch1(v, space.spaces[k]) if k in space.spaces else v for k, v in x.items()}
    if isinstance(space, spaces.Tuple):
        if not isinstance(x, (tuple, list)) or len(x) != len(space.spaces):
            raise TypeError(f"action: expected a tuple of {len(space.spaces)} for {space}, actual {x!r}")
        return tuple(_batch1(v, sub) for v, sub in zip(x, space.spaces))
    return codec._as_leaf(x, space)[None]


def _unbatch1(x: Any, space: spaces.Space, copy: bool) -> Any:
    if isinstance(space, spaces.Dict):
        return {k: _unbatch1(x[k], sub, copy) for k, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_unbatch1(v, sub, copy) for v, sub in zip(x, space.spaces))
    item = x[0]
    if isinstance(space, spaces.Discrete):
        return item[()] if isinstance(item, np.ndarray) else item  # np.int64 scalar
    return np.array(item) if copy else item


class RemoteEnv(_RemoteBase, gym.Env):
    """One lane of an env hosted by the dsogym server, as a ``gymnasium.Env``.

    ``timeout`` (seconds, default None: none) bounds each reply, ``resume`` (default True)
    resumes the session after a broken connection, and ``auth_token``, ``tls_ca``,
    ``tls_cert`` and ``tls_key`` secure the connection, as in RemoteVectorEnv.
    The server runs it with autoreset DISABLED: after ``terminated`` or ``truncated`` call
    ``reset()``; a step before that raises RemoteFailedPrecondition. Values are unbatched
    (a Discrete observation is a numpy int64 scalar). Pickling reconnects, as for
    RemoteVectorEnv: a new session, whose episode must be started with ``reset()``.

    Also made by ``gymnasium.make("dsogym/Remote-v0", address=..., env_id=..., **env_kwargs)``.
    """

    def __init__(self, address: str, env_id: str, env_kwargs: dict | None = None,
                 auth_token: str | None = None, copy: bool = True, connect_timeout: float = 30.0,
                 timeout: float | None = None, resume: bool = True, render_mode: str | None = None,
                 tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
                 **more_env_kwargs: Any):
        # Accepted as Gymnasium envs accept a mode they cannot draw (Stable-Baselines3's
        # make_vec_env passes render_mode="rgb_array" first): render() is what refuses.
        kwargs = {**(env_kwargs or {}), **more_env_kwargs}
        self._init_kwargs = {k: v for k, v in locals().items()
                             if k not in ("self", "__class__", "kwargs", "env_kwargs", "more_env_kwargs")}
        self._init_kwargs["env_kwargs"] = kwargs
        self._vec = RemoteVectorEnv(address, env_id, num_envs=1, autoreset_mode=AutoresetMode.DISABLED,
                                    env_kwargs=kwargs, copy=False, auth_token=auth_token,
                                    connect_timeout=connect_timeout, timeout=timeout, resume=resume,
                                    tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key)
        self.copy = copy
        self.remote_spec = self._vec.remote_spec
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space
        self.metadata = {**self.remote_spec.metadata, "render_modes": []}  # as RemoteVectorEnv's
        self.metadata.pop("autoreset_mode", None)
        self.render_mode = render_mode
        self.reward_range = (-float("inf"), float("inf"))
        self._closed = False

    def render(self):
        """None without a render mode; remote envs do not draw frames yet."""
        if self.render_mode is None:
            return None
        raise NotImplementedError(f"render: remote envs do not render yet "
                                  f"(render_mode={self.render_mode!r})")

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)  # keeps gymnasium's np_random contract for local sampling
        if options and "reset_mask" in options:
            raise ValueError("options['reset_mask']: expected absent for a single env, actual present")
        obs, info = self._vec.reset(seed=seed, options=options)
        return _unbatch1(obs, self.observation_space, self.copy), codec.unbatch_info(info)

    def step(self, action: Any):
        batched = _batch1(action, self.action_space)
        obs, rewards, terminated, truncated, info = self._vec.step(batched)
        return (_unbatch1(obs, self.observation_space, self.copy), float(rewards[0]),
                bool(terminated[0]), bool(truncated[0]), codec.unbatch_info(info))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._vec.close()

    def __repr__(self) -> str:
        return f"RemoteEnv({self._vec._address!r}, {self.remote_spec.id!r})"
