"""A worker: hosts N lanes of a Gymnasium env for the Java server (WorkerService.Connect).

    python -m dsogym.worker --server HOST:PORT --env CartPole-v1 --num-envs 16 \
        [--env-kwargs JSON] [--auth-token-file FILE] [--tls-ca FILE] [--name NAME] [--reconnect]
        [--cpus LIST]

The worker is a gRPC *client*: it opens the stream, sends a WorkerHello (protocol version 1,
the EnvSpec of one lane, N, the autoreset modes it can run, its capabilities), waits for the
ServerHello that picks the autoreset mode, builds ``gymnasium.vector.SyncVectorEnv`` in that
mode and then answers the server's reset/step/close commands, one reply per command, in order.
In SAME_STEP mode it also answers ``collect`` (worker-side inference, see dsogym.collect): K
steps of every lane with actions sampled here from the policy the server sent, one reply.

An env id of the form ``module:EnvId`` imports ``module`` first (gymnasium's convention), which
is how a worker serves envs registered by your own code.

Errors never kill the stream: a malformed command gets an in-band Error with code
INVALID_ARGUMENT (3) and changes nothing; an exception raised inside the env gets code
INTERNAL (13) with the exception's type, message and traceback, and the worker keeps serving
(the vector env may then need a reset; the message says so).

Security: the token comes from ``--auth-token-file``, $DSOGYM_AUTH_TOKEN or ``--auth-token``
(visible in the process list); ``--tls-ca`` connects over TLS to a server with that CA's
certificate, and ``--tls-cert``/``--tls-key`` add a client certificate (mutual TLS).

Transport: the serving loop runs on ``grpc.aio`` (``--transport aio``, the default); the sync
API with a queue-fed request iterator is kept as ``--transport sync`` for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any, Callable, NamedTuple

import grpc
import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import concatenate, create_empty_array

from dsogym import codec, mujoco_warnings, shm
from dsogym.collect import CAPABILITY as WORKER_INFERENCE
from dsogym.collect import DETERMINISTIC as DETERMINISTIC_COLLECT
from dsogym.collect import WorkerInference, max_steps_per_lane, policy_from_proto
from dsogym.lanes import gather, lane_loop_possible, packed_flags, packed_rewards, stack_rows, step_lanes
from dsogym.proto import pb, pb_grpc
from dsogym.transport import (AUTH_TOKEN_VARIABLE, AUTORESET_FROM_PB, MAX_MESSAGE_BYTES, PROTOCOL_VERSION,
                              add_cpus_option, apply_cpus_option, channel_credentials, open_aio_channel,
                              open_channel)

log = logging.getLogger("dsogym.worker")

# "configure": the server may rebuild the lanes in another autoreset mode (a client session of
# the hub takes the worker in its own mode, and gives it back fresh in the handshake's mode)
CAPABILITIES = ("reset_mask", "same_step_final_observations", "info_tensors", WORKER_INFERENCE, "configure",
                "unseeded_lanes", DETERMINISTIC_COLLECT)

# grpc status code numbers
INVALID_ARGUMENT = 3
FAILED_PRECONDITION = 9
INTERNAL = 13


class LaneStep(NamedTuple):
    """A lane-loop step's results before any encoding (``Worker.handle(cmd, packed=True)``):
    the batched observations (the worker's own buffer: copy before the next step), rewards as
    float64 bytes, the flags as BOOL bytes, the lanes that ended and their final observations
    stacked [len(ended), *obs_shape] (None when none ended)."""
    id: int
    observations: np.ndarray
    rewards: bytes
    terminated: bytes
    truncated: bytes
    ended: list
    final_observations: np.ndarray | None


class RequestError(ValueError):
    """A malformed command: reported as INVALID_ARGUMENT, nothing changed."""


class PreconditionFailed(RuntimeError):
    """A command the worker's state does not allow (FAILED_PRECONDITION), nothing changed."""


class ResetRequired(PreconditionFailed):
    """A step the lanes' state does not allow (FAILED_PRECONDITION), nothing changed."""


def _error(code: int, message: str, exc: BaseException | None = None) -> Any:
    err = pb.Error(code=code, message=message)
    if exc is not None:
        err.exception_type = type(exc).__name__
        err.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return err


class _LeafCodec:
    """Fast path for a space that is a single tensor (Box, Discrete, MultiDiscrete,
    MultiBinary): the dtype code, the batched shape and the byte count computed once."""

    def __init__(self, space: gym.Space, num_envs: int):
        self.dtype = np.dtype(space.dtype)
        self.code = codec.NUMPY_TO_DTYPE[self.dtype]
        self.shape = (num_envs, *space.shape)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize

    def decode(self, t: Any) -> np.ndarray | None:
        """The array, or None when the tensor does not match (the slow path then explains)."""
        if t.dtype == self.code and len(t.data) == self.nbytes and tuple(t.shape) == self.shape:
            return np.frombuffer(t.data, self.dtype).reshape(self.shape)
        return None

    def encode(self, a: np.ndarray, t: Any) -> None:
        if a.dtype != self.dtype:
            a = a.astype(self.dtype)
        t.dtype = self.code
        t.shape.extend(a.shape)
        t.data = a.tobytes()


def _is_leaf(space: gym.Space) -> bool:
    return not isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple))


class Worker:
    """The transport-free part of a worker: the vector env and the command handler.

    ``handle(command) -> WorkerMessage`` never raises for a bad command or a failing env; it
    returns an Error reply instead. Construct it, send ``hello()``, call ``start(server_hello)``,
    then ``handle`` each command.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        env_kwargs: dict | None = None,
        name: str | None = None,
        auth_token: str = "",
        env_fn: Callable[[], gym.Env] | None = None,
        collect_loop: str = "lanes",
        shared_memory: bool | None = None,
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs: expected >= 1, actual {num_envs}")
        self.env_id = env_id
        self.num_envs = num_envs
        self.env_kwargs = dict(env_kwargs or {})
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.auth_token = auth_token
        # capability "shm_steps" (dsogym.shm): declared where this machine can serve a region
        self.shared_memory = shm.supported() if shared_memory is None else shared_memory
        self._env_fn = env_fn or (lambda: gym.make(env_id, **self.env_kwargs))
        # one env made now for the spec; it becomes lane 0 of the vector env
        self._first_env: gym.Env | None = self._env_fn()
        self.single_observation_space = self._first_env.observation_space
        self.single_action_space = self._first_env.action_space
        self.spec = codec.env_spec_of(self._first_env, env_id=env_id.split(":")[-1], kwargs=self.env_kwargs)
        self.envs: gym.vector.SyncVectorEnv | None = None
        self.autoreset_mode = AutoresetMode.NEXT_STEP
        self.worker_id = ""
        self.closed = False
        self.close_reason = ""  # the server's CloseRequest.reason, e.g. "dsogym server shutting down"
        N = num_envs
        self._obs_leaf = _LeafCodec(self.single_observation_space, N) if _is_leaf(self.single_observation_space) else None
        self._act_leaf = _LeafCodec(self.single_action_space, N) if _is_leaf(self.single_action_space) else None
        self._shape_n = [N]
        self._ended = np.zeros(N, dtype=np.bool_)  # DISABLED mode: lanes that need a reset
        # worker-side inference: the lanes' current observations and which were ever reset
        self._obs: Any = None
        self._lane_step_buffer: np.ndarray | None = None
        self._was_reset = np.zeros(N, dtype=np.bool_)
        self.inference = WorkerInference(self.single_observation_space, self.single_action_space, N,
                                         loop=collect_loop)

    # -- handshake -------------------------------------------------------------------------

    def hello(self) -> Any:
        return pb.WorkerMessage(hello=pb.WorkerHello(
            protocol_version=PROTOCOL_VERSION,
            worker_name=self.name,
            env=self.spec,
            num_envs=self.num_envs,
            autoreset_modes=[pb.NEXT_STEP, pb.SAME_STEP, pb.DISABLED],
            capabilities=list(CAPABILITIES) + ([shm.CAPABILITY] if self.shared_memory else []),
            auth_token=self.auth_token,
        ))

    def start(self, hello: Any) -> None:
        """Applies the ServerHello: checks the version, builds the vector env in its mode."""
        if hello.protocol_version != PROTOCOL_VERSION:
            raise RuntimeError(
                f"server hello protocol_version: expected {pb.ProtocolVersion.Name(PROTOCOL_VERSION)}, "
                f"actual {hello.protocol_version}"
            )
        mode = AUTORESET_FROM_PB.get(hello.autoreset_mode)
        if mode is None:
            raise RuntimeError(f"server hello autoreset_mode: expected NEXT_STEP, SAME_STEP or DISABLED, actual {hello.autoreset_mode}")
        self.worker_id = hello.worker_id
        if self.envs is not None and mode == self.autoreset_mode:
            return  # a reconnect in the same mode keeps the lanes (the server resets them)
        self._build(mode)

    def _build(self, mode: AutoresetMode) -> None:
        """(Re)builds the vector env in ``mode``: lanes made anew, none of them reset yet."""
        if self.envs is not None:
            self.envs.close()
            self._first_env = None
            self.envs = None
        self._ended[:] = False
        self._was_reset[:] = False
        self._obs = None
        self.autoreset_mode = mode
        first = self._first_env
        self._first_env = None
        fns = [(lambda e=first: e) if (i == 0 and first is not None) else self._env_fn for i in range(self.num_envs)]
        # copy=False: observations are serialized at once, so gymnasium's deepcopy is waste
        self.envs = gym.vector.SyncVectorEnv(fns, copy=False, autoreset_mode=mode)
        # steps that omit info run lane by lane where that loop can (Box observations, a
        # single-tensor action space, SAME_STEP); the batched observations land here
        space = self.single_observation_space
        self._lane_step_buffer = None
        if (isinstance(space, gym.spaces.Box) and self._act_leaf is not None
                and lane_loop_possible(self.envs, self.num_envs)):
            self._lane_step_buffer = np.empty((self.num_envs, *space.shape), space.dtype)

    # -- commands --------------------------------------------------------------------------

    def handle(self, cmd: Any, packed: bool = False) -> Any:
        """One command -> its reply (with the echoed id). With ``packed``, a step that runs the
        lane loop returns its ``LaneStep`` instead (dsogym.shm writes it into a region as is)."""
        kind = cmd.WhichOneof("command")
        try:
            if kind == "step":
                return self._step(cmd, packed)
            if kind == "collect":
                return self._collect(cmd)
            if kind == "reset":
                return self._reset(cmd)
            if kind == "configure":
                return self._configure(cmd)
            if kind == "close":
                self.close_reason = cmd.close.reason
                self.close()
                return pb.WorkerMessage(id=cmd.id, closed=pb.CloseResult())
            if kind == "hello":
                raise RequestError("command: expected reset, step, collect, configure or close after the handshake, actual a second hello")
            raise RequestError("command: expected one of reset, step, collect, configure, close; actual unset")
        except RequestError as e:
            return pb.WorkerMessage(id=cmd.id, error=_error(INVALID_ARGUMENT, str(e), e))
        except (gym.error.ResetNeeded, PreconditionFailed) as e:
            return pb.WorkerMessage(id=cmd.id, error=_error(FAILED_PRECONDITION, str(e), e))
        except Exception as e:  # raised inside the env (or encoding its output)
            log.warning("env raised in %s: %s: %s", kind, type(e).__name__, e)
            msg = (f"{type(e).__name__} raised by env {self.env_id!r} in {kind}: {e} "
                   f"(the worker keeps serving; its vector env may need a reset)")
            return pb.WorkerMessage(id=cmd.id, error=_error(INTERNAL, msg, e))

    def _configure(self, cmd: Any) -> Any:
        """Fresh lanes in the requested mode, and no policy or generator left from before."""
        self._require_envs()
        mode = AUTORESET_FROM_PB.get(cmd.configure.autoreset_mode)
        if mode is None:
            raise RequestError(f"configure.autoreset_mode: expected NEXT_STEP, SAME_STEP or DISABLED, "
                               f"actual {cmd.configure.autoreset_mode}")
        self._build(mode)
        self.inference = WorkerInference(self.single_observation_space, self.single_action_space,
                                         self.num_envs, loop=self.inference.loop)
        return pb.WorkerMessage(id=cmd.id, configured=pb.ConfigureResult())

    def _require_envs(self) -> gym.vector.SyncVectorEnv:
        if self.envs is None:
            raise RequestError("command: expected after the ServerHello, actual before it")
        return self.envs

    def _reset(self, cmd: Any) -> Any:
        envs = self._require_envs()
        req = cmd.reset
        N = self.num_envs
        seeds = list(req.seeds)
        if not seeds:
            seed = None
        elif len(seeds) == 1:
            seed = int(seeds[0])
        elif len(seeds) == N:
            seed = [int(s) for s in seeds]
        else:
            raise RequestError(f"reset.seeds: expected 0, 1 or {N} elements, actual {len(seeds)}")
        unseeded = list(req.unseeded_lanes)
        if unseeded:
            if len(seeds) != N or unseeded != sorted(set(unseeded)) or not 0 <= unseeded[0] <= unseeded[-1] < N:
                raise RequestError(f"reset.unseeded_lanes: expected ascending lanes in [0, {N}) with {N} "
                                   f"seeds, actual {unseeded} with {len(seeds)} seeds")
            for lane in unseeded:
                seed[lane] = None  # Gymnasium's None: fresh entropy
        options = None
        partial_mask = None
        if req.options_json:
            try:
                options = json.loads(req.options_json)
            except ValueError as e:
                raise RequestError(f"reset.options_json: expected a JSON object, actual {req.options_json!r} ({e})") from None
            if not isinstance(options, dict):
                raise RequestError(f"reset.options_json: expected a JSON object, actual {type(options).__name__}")
        if req.HasField("mask"):
            try:
                mask = codec.decode_tensor(req.mask, "reset.mask")
            except ValueError as e:
                raise RequestError(str(e)) from None
            if mask.dtype != np.bool_ or mask.shape != (N,):
                raise RequestError(f"reset.mask: expected BOOL shape [{N}], actual {mask.dtype} {list(mask.shape)}")
            if not mask.any():
                raise RequestError("reset.mask: expected at least one lane marked true, actual none")
            if not mask.all():
                partial_mask = mask
                options = dict(options or {})
                options["reset_mask"] = mask
        obs, info = envs.reset(seed=seed, options=options)
        if partial_mask is not None:
            self._ended[partial_mask] = False
            self._was_reset[partial_mask] = True
        else:
            self._ended[:] = False
            self._was_reset[:] = True
        self._obs = obs
        reply = pb.WorkerMessage(id=cmd.id)
        r = reply.reset_result
        self._encode_obs(obs, r.observations)
        if info:
            codec.encode_info(info, N, r.info)
        return reply

    def _step(self, cmd: Any, packed: bool = False) -> Any:
        envs = self._require_envs()
        actions = None
        if self._act_leaf is not None and cmd.step.actions.HasField("tensor"):
            actions = self._act_leaf.decode(cmd.step.actions.tensor)
        if actions is None:
            try:
                actions = codec.decode_value(cmd.step.actions, self.single_action_space, self.num_envs, "step.actions")
            except (ValueError, TypeError) as e:
                raise RequestError(str(e)) from None
        if cmd.step.omit_info and self._lane_step_buffer is not None:
            lane_step = self._step_lanes(cmd.id, envs, actions)
            return lane_step if packed else self.lane_step_message(lane_step)
        if self.autoreset_mode == AutoresetMode.DISABLED:
            if self._ended.any():
                raise ResetRequired(
                    f"step: lanes {np.flatnonzero(self._ended).tolist()} ended and autoreset is DISABLED; "
                    f"expected a reset of those lanes (reset.mask) before the next step")
            obs, rewards, terminated, truncated, info = envs.step(actions)
            np.logical_or(terminated, truncated, out=self._ended)
        else:
            obs, rewards, terminated, truncated, info = envs.step(actions)
        self._obs = obs
        reply = pb.WorkerMessage(id=cmd.id)
        r = reply.step_result
        self._encode_obs(obs, r.observations)
        self._encode_lane_values(r, rewards.astype(np.float64, copy=False).tobytes(),
                                 terminated.tobytes(), truncated.tobytes())
        if info:
            if "_final_obs" in info:
                ended = np.flatnonzero(info["_final_obs"])
                if len(ended):
                    final = info["final_obs"]
                    self._encode_finals(ended.tolist(), [final[i] for i in ended], r)
            if not cmd.step.omit_info:
                codec.encode_info(info, self.num_envs, r.info)
                if "final_info" in info:
                    codec.encode_info(info["final_info"], self.num_envs, r.final_info)
        return reply

    def _step_lanes(self, cmd_id: int, envs: gym.vector.SyncVectorEnv, actions: np.ndarray) -> LaneStep:
        """A SAME_STEP step without info, lane by lane (dsogym.lanes): the same observations,
        rewards, flags and final observations as SyncVectorEnv.step, without its info dicts."""
        rewards: list = []
        terminated: list = []
        truncated: list = []
        ended: list = []
        finals: list = []
        step_lanes(envs, actions, rewards, terminated, truncated, ended, finals)
        self._obs = obs = gather(envs, self._lane_step_buffer)
        space = self.single_observation_space
        # stacked as gymnasium's concatenate does, at a fifth of its cost (10 µs of most 64-lane
        # CartPole steps, where a few lanes end)
        final_obs = stack_rows(finals, np.empty((len(ended), *space.shape), space.dtype)) if ended else None
        return LaneStep(cmd_id, obs, packed_rewards(rewards), packed_flags(terminated), packed_flags(truncated),
                        ended, final_obs)

    def lane_step_message(self, s: LaneStep) -> Any:
        """A ``LaneStep`` as the stream carries it."""
        reply = pb.WorkerMessage(id=s.id)
        r = reply.step_result
        self._obs_leaf.encode(s.observations, r.observations.tensor)
        self._encode_lane_values(r, s.rewards, s.terminated, s.truncated)
        if s.ended:
            r.ended_lanes.extend(s.ended)
            self._obs_leaf.encode(s.final_observations, r.final_observations.tensor)
        return reply

    def _encode_lane_values(self, r: Any, rewards: bytes, terminated: bytes, truncated: bytes) -> None:
        """A StepResult's rewards (FLOAT64 [N]) and flags (BOOL [N]) from their packed bytes."""
        for t, code, data in ((r.rewards, pb.FLOAT64, rewards), (r.terminated, pb.BOOL, terminated),
                              (r.truncated, pb.BOOL, truncated)):
            t.dtype = code
            t.shape.extend(self._shape_n)
            t.data = data

    def _encode_finals(self, ended: list[int], finals: list, r: Any) -> None:
        space = self.single_observation_space
        r.ended_lanes.extend(ended)
        batch = concatenate(space, finals, create_empty_array(space, n=len(ended)))
        codec.encode_value(batch, space, r.final_observations, "final_observations")

    def _collect(self, cmd: Any) -> Any:
        """K steps of every lane under the worker's policy (worker-side inference). Everything
        is checked before anything changes: a rejected collect leaves the lanes, the policy
        and the generator as they were."""
        envs = self._require_envs()
        req = cmd.collect
        if self.autoreset_mode != AutoresetMode.SAME_STEP:
            raise PreconditionFailed(
                f"collect: expected autoreset mode SAME_STEP (every step a real transition, final "
                f"observations reported), actual {self.autoreset_mode.name}; the server picks the "
                f"mode in its hello")
        inference = self.inference
        if inference.unsupported is not None:
            raise PreconditionFailed(f"collect: worker-side inference needs {inference.unsupported}")
        steps = req.steps_per_lane
        if steps < 1:
            raise RequestError(f"collect.steps_per_lane: expected >= 1, actual {steps}")
        if req.deterministic and req.HasField("seed"):
            raise RequestError(f"collect.seed: expected absent when collect.deterministic is set (a deterministic "
                               f"collect draws no random numbers), actual {req.seed}")
        never = np.flatnonzero(~self._was_reset)
        if never.size:
            raise PreconditionFailed(f"collect: lanes {never.tolist()} have not been reset (never, or not "
                                     f"since an env error in a collect); expected a reset first")
        policy = None
        if req.HasField("policy"):
            try:
                policy = policy_from_proto(req.policy, self.single_observation_space, self.single_action_space)
            except ValueError as e:
                raise RequestError(str(e)) from None
        elif inference.policy is None:
            raise PreconditionFailed("collect.policy: expected a policy (none was sent before), actual none")
        action_dim = (policy or inference.policy).action_dim
        most = max_steps_per_lane(self.single_observation_space, self.num_envs, action_dim, MAX_MESSAGE_BYTES)
        if steps > most:
            raise RequestError(f"collect.steps_per_lane: expected at most {most} for {self.num_envs} lanes "
                               f"(a reply must fit in {MAX_MESSAGE_BYTES} bytes), actual {steps}")
        rng = np.random.default_rng(req.seed) if req.HasField("seed") else None
        inference.install(policy, rng)
        try:
            chunk = inference.collect(envs, self._obs, steps, req.deterministic)
        except BaseException:
            # the lanes moved an unknown number of steps: the next collect needs a reset first
            self._was_reset[:] = False
            raise
        self._obs = chunk.last_observations
        reply = pb.WorkerMessage(id=cmd.id)
        t = reply.trajectory
        t.steps_per_lane = steps
        enc = codec.encode_tensor
        enc(chunk.observations, t.observations, "trajectory.observations")
        enc(chunk.actions, t.actions, "trajectory.actions")
        enc(chunk.rewards, t.rewards, "trajectory.rewards")
        enc(chunk.terminated, t.terminated, "trajectory.terminated")
        enc(chunk.truncated, t.truncated, "trajectory.truncated")
        t.ended_indices.extend(chunk.ended)
        enc(chunk.final_observations, t.final_observations, "trajectory.final_observations")
        enc(chunk.last_observations, t.last_observations, "trajectory.last_observations")
        t.policy_version = inference.policy.version
        t.env_seconds = chunk.env_seconds
        t.policy_seconds = chunk.policy_seconds
        return reply

    def _encode_obs(self, obs: Any, out: Any) -> None:
        if self._obs_leaf is not None:
            self._obs_leaf.encode(obs, out.tensor)
        else:
            codec.encode_value(obs, self.single_observation_space, out, "observations")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.envs is not None:
            self.envs.close()
        elif self._first_env is not None:
            self._first_env.close()


# ---------------------------------------------------------------------------------------------
# Transports
# ---------------------------------------------------------------------------------------------


class ServerClosed(Exception):
    """The server ended the stream (or the connection dropped) without a CloseRequest."""


async def serve_aio(worker: Worker, target: str, credentials: grpc.ChannelCredentials | None = None) -> None:
    """One session over grpc.aio (TLS with ``credentials``). Returns after a CloseRequest;
    raises ServerClosed or grpc.RpcError when the stream ends otherwise."""
    async with open_aio_channel(target, credentials) as channel:
        stub = pb_grpc.WorkerServiceStub(channel)
        call = stub.Connect(wait_for_ready=False)
        region = None
        try:
            await call.write(worker.hello())
            first = await call.read()
            if first is grpc.aio.EOF:
                raise ServerClosed(f"server closed the stream before its hello: {await call.code()} {await call.details()}")
            if first.WhichOneof("command") != "hello":
                raise RuntimeError(f"first command: expected hello, actual {first.WhichOneof('command')}")
            worker.start(first.hello)
            log.info("worker %s connected to %s as %r (autoreset %s)", worker.name, target,
                     worker.worker_id, worker.autoreset_mode.name)
            loop = asyncio.get_running_loop()
            # One write at a time: the region's thread sends a reply too big for the region on
            # the stream, and a second write started while one is pending breaks the call.
            write_lock = asyncio.Lock()

            async def write(reply: Any) -> None:
                async with write_lock:
                    await call.write(reply)

            handle, region = _stream_handler(
                worker, lambda reply: asyncio.run_coroutine_threadsafe(write(reply), loop))
            read = call.read
            while True:
                cmd = await read()
                if cmd is grpc.aio.EOF:
                    raise ServerClosed(f"server ended the stream: {await call.code()} {await call.details()}")
                await write(handle(cmd))
                if worker.closed:
                    await call.done_writing()
                    # Leaving now would close the channel and could cancel the call before the
                    # server has read the CloseResult: wait (briefly) for the server to end it.
                    try:
                        await asyncio.wait_for(call.code(), timeout=5.0)
                    except asyncio.TimeoutError:
                        pass
                    return
        except asyncio.CancelledError:
            call.cancel()
            raise
        finally:
            if region is not None:
                region.stop()


def serve_sync(worker: Worker, target: str, credentials: grpc.ChannelCredentials | None = None) -> None:
    """The same session over the sync API: a queue-fed request iterator (consumed by a gRPC
    thread) and blocking ``next()`` on the responses."""
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    with open_channel(target, credentials) as channel:
        stub = pb_grpc.WorkerServiceStub(channel)
        outbox.put(worker.hello())
        responses = stub.Connect(iter(outbox.get, None))
        region = None
        try:
            try:
                first = next(responses)
            except StopIteration:
                raise ServerClosed("server closed the stream before its hello") from None
            if first.WhichOneof("command") != "hello":
                raise RuntimeError(f"first command: expected hello, actual {first.WhichOneof('command')}")
            worker.start(first.hello)
            handle, region = _stream_handler(worker, outbox.put)
            put = outbox.put
            for cmd in responses:
                put(handle(cmd))
                if worker.closed:
                    outbox.put(None)
                    # wait for the server to end the stream so the reply is flushed
                    for _ in responses:
                        pass
                    return
            raise ServerClosed("server ended the stream")
        finally:
            if region is not None:
                region.stop()
            outbox.put(None)
            responses.cancel()


def _stream_handler(worker: Worker, send_on_stream: Callable[[Any], Any]) -> tuple[Callable[[Any], Any], shm.SharedMemorySteps]:
    """One stream's command handler: ``shm_offer`` maps a region (dsogym.shm) whose thread then
    answers resets and steps; every other command goes to ``worker.handle``. One lock keeps the
    two callers of ``worker.handle`` apart (the server sends one command at a time anyway)."""
    lock = threading.Lock()

    def locked(cmd: Any, packed: bool = False) -> Any:
        with lock:
            return worker.handle(cmd, packed)

    region = shm.SharedMemorySteps(locked, send_on_stream, worker.lane_step_message)

    def handle(cmd: Any) -> Any:
        if cmd.WhichOneof("command") == "shm_offer":
            if not worker.shared_memory:
                return pb.WorkerMessage(id=cmd.id, error=_error(
                    FAILED_PRECONDITION, "shm_offer: expected only by a worker declaring shm_steps, actual "
                                         "this worker does not (--no-shm, or not x86-64 Linux)"))
            return region.accept(cmd)
        return locked(cmd)

    return handle, region


def run(worker: Worker, target: str, transport: str = "aio", reconnect: bool = False,
        credentials: grpc.ChannelCredentials | None = None) -> int:
    """Serves until a CloseRequest (exit code 0), a signal (0), or the end of the stream
    (1; with ``reconnect``, reconnects with backoff instead), over TLS with ``credentials``.
    Closes the envs at exit."""
    delay = 0.5
    try:
        while True:
            t0 = time.monotonic()
            try:
                if transport == "aio":
                    _run_aio_until_signal(worker, target, credentials)
                else:
                    serve_sync(worker, target, credentials)
                log.info("worker %s: closed by the server%s", worker.name,
                         f" ({worker.close_reason})" if worker.close_reason else "")
                return 0
            except _Stopped:
                log.info("worker %s: stopped by a signal", worker.name)
                return 0
            except (ServerClosed, grpc.RpcError) as e:
                text = f"{e.code().name}: {e.details()}" if isinstance(e, grpc.RpcError) and hasattr(e, "code") else str(e)
                if not reconnect or worker.closed:
                    log.error("worker %s: %s", worker.name, text)
                    return 1
                if time.monotonic() - t0 > 10:
                    delay = 0.5  # the last session lived a while: start the backoff over
                log.warning("worker %s: %s; reconnecting in %.1f s", worker.name, text, delay)
                if _sleep_interruptibly(delay):
                    return 0
                delay = min(delay * 2, 10.0)
    finally:
        worker.close()


class _Stopped(Exception):
    pass


_stop_event = threading.Event()


def _sleep_interruptibly(seconds: float) -> bool:
    return _stop_event.wait(seconds)


def _run_aio_until_signal(worker: Worker, target: str, credentials: grpc.ChannelCredentials | None) -> None:
    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, lambda: (_stop_event.set(), task.cancel()))
            except (NotImplementedError, RuntimeError):  # not the main thread / not POSIX
                pass
        if _stop_event.is_set():
            raise _Stopped()
        try:
            await serve_aio(worker, target, credentials)
        except asyncio.CancelledError:
            if _stop_event.is_set():
                raise _Stopped() from None
            raise
        finally:
            # Hand the signals back before the loop closes its wakeup pipe: a SIGTERM in that
            # window ("write to the signal wakeup fd: Bad file descriptor") would be lost.
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.remove_signal_handler(sig)
                    signal.signal(sig, lambda signum, frame: _stop_event.set())
                except (NotImplementedError, RuntimeError, ValueError):
                    pass

    asyncio.run(main())


def _install_sync_signal_handlers() -> None:
    def on_signal(signum, frame):
        _stop_event.set()
        raise _Stopped()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)


def _readable(path: str) -> str:
    """An argparse type: a file this process can read (argparse names the option)."""
    try:
        with open(path, "rb"):
            return path
    except OSError as e:
        raise argparse.ArgumentTypeError(f"expected a readable file, actual {path!r} ({e.strerror})") from None


def _token_file(path: str) -> str:
    """An argparse type: the token a file holds, without surrounding whitespace."""
    try:
        with open(_readable(path), encoding="utf-8") as f:
            return f.read().strip()
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"expected a UTF-8 text file, actual {path!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsogym.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="HOST:PORT of the dsogym Java server")
    parser.add_argument("--env", required=True, help="gymnasium env id (module:EnvId imports module first)")
    parser.add_argument("--num-envs", type=int, default=1, help="number of lanes N")
    parser.add_argument("--env-kwargs", default="", help="keyword arguments of gymnasium.make as a JSON object")
    parser.add_argument("--auth-token-file", type=_token_file, default=None, metavar="FILE",
                        help=f"a file holding the server's auth token (or set ${AUTH_TOKEN_VARIABLE})")
    parser.add_argument("--auth-token", default=None, metavar="TOKEN",
                        help=f"the token itself, visible in the process list (default ${AUTH_TOKEN_VARIABLE})")
    parser.add_argument("--tls-ca", type=_readable, default=None, metavar="FILE",
                        help="connect over TLS, trusting the server certificates this CA (PEM) signed")
    parser.add_argument("--tls-cert", type=_readable, default=None, metavar="FILE",
                        help="mutual TLS: this worker's certificate (PEM), with --tls-key")
    parser.add_argument("--tls-key", type=_readable, default=None, metavar="FILE",
                        help="mutual TLS: its private key (PEM)")
    parser.add_argument("--name", default=None, help="worker name for the server's logs (default host:pid)")
    parser.add_argument("--reconnect", action="store_true", help="reconnect with backoff when the stream drops")
    parser.add_argument("--transport", choices=("aio", "sync"), default="aio")
    parser.add_argument("--collect-loop", choices=("lanes", "vector"), default="lanes",
                        help="worker-side inference: step each lane's env directly (lanes) or "
                             "through SyncVectorEnv.step (vector)")
    parser.add_argument("--no-shm", action="store_true",
                        help="never take resets and steps through shared memory (capability shm_steps): "
                             "keep everything on the gRPC stream")
    add_cpus_option(parser, "run on these CPUs only, e.g. 1 or 0,2-3 (Linux)")
    parser.add_argument("--log-level", default=os.environ.get("DSOGYM_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    apply_cpus_option(parser, args)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.auth_token_file is not None and args.auth_token is not None:
        parser.error("--auth-token-file and --auth-token: expected one of them, actual both")
    token = args.auth_token_file if args.auth_token_file is not None else args.auth_token
    if token is None:
        token = os.environ.get(AUTH_TOKEN_VARIABLE, "")
    try:
        credentials = channel_credentials(args.tls_ca, args.tls_cert, args.tls_key)
    except ValueError as e:  # a certificate without its key
        parser.error(str(e).replace("tls_", "--tls-"))
    kwargs = {}
    if args.env_kwargs:
        try:
            kwargs = json.loads(args.env_kwargs)
        except ValueError as e:
            parser.error(f"--env-kwargs: expected a JSON object, actual {args.env_kwargs!r} ({e})")
        if not isinstance(kwargs, dict):
            parser.error(f"--env-kwargs: expected a JSON object, actual {type(kwargs).__name__}")
    if args.transport == "sync":
        _install_sync_signal_handlers()
    mujoco_warnings.log_once(args.env)
    try:
        worker = Worker(args.env, args.num_envs, kwargs, name=args.name, auth_token=token,
                        collect_loop=args.collect_loop, shared_memory=False if args.no_shm else None)
    except _Stopped:
        return 0
    except Exception as e:  # an unknown id, bad kwargs, a missing dependency such as mujoco
        log.error("cannot make env %r with kwargs %s: %s: %s", args.env, kwargs, type(e).__name__, e)
        return 2
    try:
        return run(worker, args.server, args.transport, args.reconnect, credentials)
    except _Stopped:
        return 0


if __name__ == "__main__":
    sys.exit(main())
