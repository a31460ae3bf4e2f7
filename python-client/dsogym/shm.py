"""Shared-memory steps: the worker's side of capability "shm_steps" (docs/protocol.md,
"Shared-memory steps").

A co-located server offers a file under /dev/shm (``SharedMemoryOffer``); the worker maps it and
answers with the token it read there, which proves that both see the same file. From then on
the server writes reset and step commands into the region and this module's thread answers
them there: the same ``ServerCommand`` and ``WorkerMessage`` bytes as on the stream, run by the
same ``Worker.handle``. A reply too big for its area goes on the stream instead. The stream
stays open throughout: it carries every other command, and its end is each side's signal that
the other is gone.

Layout (little-endian): [0, 32) the token; at 64 the request sequence (int64) and at 72 its
length (int32); at 128 the reply sequence, at 136 its length and at 140 its format (int32); the
request area at 256, of ``request_capacity`` bytes; the reply area after it to the end. A
sequence is the command id. A reply's format is 0 for a serialized WorkerMessage, or, where the
offer says the server reads them (``packed_step_replies``), 1 for a packed step: a lane-loop
step's arrays written straight into the reply area (``_pack_step``), which skips building and
serializing a message (64 CartPole lanes: 5 µs in a tight loop against 1.5 µs packed, and about
three times that inside a step, whose caches the envs have cooled).

The doorbell: a Unix socket the worker connects to before it answers the offer. After
publishing a command or a reply, its writer sends one byte there, so that the reader, after a
short spin, sleeps in a blocking ``recv`` (which releases the GIL) instead of spinning: on a busy
machine a spinning reader competes with the very process it waits for. When the server hangs up
(its env closed or the region retired) the thread ends.

Memory ordering. The Java side stores a request's bytes and length, then the sequence with a
release store (VarHandle.setRelease), and loads the reply sequence with an acquire load before
it reads the reply. Python has no fences, so this side relies on x86-64's TSO model (hence
``supported`` checks the machine): loads are not reordered with older loads, so the request
bytes read after seeing the new sequence are the new ones; stores are not reordered with older
stores, so the reply bytes (written by memcpy: ordinary stores, or for very large copies
non-temporal ones that glibc's memcpy closes with an sfence) are visible before the sequence.
The sequence itself is one aligned 8-byte numpy element store and load, which x86-64 performs
atomically, so neither side ever sees half a sequence.
"""

from __future__ import annotations

import logging
import mmap
import os
import platform
import select
import socket
import struct
import threading
import time
from typing import Any, Callable

import numpy as np

from dsogym.proto import pb

__all__ = ["CAPABILITY", "supported", "SharedMemorySteps"]

log = logging.getLogger("dsogym.shm")

CAPABILITY = "shm_steps"
DIRECTORY = "/dev/shm"
TOKEN_BYTES = 32
REQUEST_SEQ, REQUEST_LENGTH = 64, 72
REPLY_SEQ, REPLY_LENGTH, REPLY_FORMAT = 128, 136, 140
HEADER_BYTES = 256
MESSAGE_FORMAT, PACKED_STEP_FORMAT = 0, 1
PACKED_HEADER_BYTES = 8
# Waiting for a command: spin this long, then sleep in the doorbell's recv, waking this often to
# see whether the stream has ended.
SPIN_SECONDS = 50e-6
STOP_CHECK_SECONDS = 0.25

INVALID_ARGUMENT = 3
FAILED_PRECONDITION = 9


def supported() -> bool:
    """Whether this process can serve a region: x86-64 (see the module's memory-ordering note)
    and a /dev/shm directory."""
    return platform.machine().lower() in ("x86_64", "amd64") and os.path.isdir(DIRECTORY)


class _OfferRefused(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class _Region:
    """One mapped region file; the offer's fields checked before anything is mapped."""

    def __init__(self, offer: Any):
        path = offer.path
        name = os.path.basename(path)
        if os.path.dirname(path) != DIRECTORY or not name.startswith("dsogym-"):
            raise _OfferRefused(INVALID_ARGUMENT, f"shm_offer.path: expected {DIRECTORY}/dsogym-*, actual {path!r}")
        size, request_capacity = offer.size_bytes, offer.request_capacity
        if not (request_capacity > 0 and size > HEADER_BYTES + request_capacity):
            raise _OfferRefused(INVALID_ARGUMENT, f"shm_offer: expected 0 < request_capacity < size_bytes - "
                                                  f"{HEADER_BYTES}, actual {request_capacity} and {size}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError as e:
            raise _OfferRefused(FAILED_PRECONDITION, f"shm_offer.path: cannot open {path!r} here ({e.strerror}): "
                                                     f"not the server's host or /dev/shm") from None
        try:
            actual = os.fstat(fd).st_size
            if actual != size:
                raise _OfferRefused(FAILED_PRECONDITION, f"shm_offer.size_bytes: expected the file's size, "
                                                         f"{actual} here, actual {size}")
            self.mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        bell = offer.doorbell_path
        if os.path.dirname(bell) != DIRECTORY or not os.path.basename(bell).startswith("dsogym-"):
            self.mm.close()
            raise _OfferRefused(INVALID_ARGUMENT, f"shm_offer.doorbell_path: expected {DIRECTORY}/dsogym-*, "
                                                  f"actual {bell!r}")
        self.doorbell = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.doorbell.connect(bell)
        except OSError as e:
            self.doorbell.close()
            self.mm.close()
            raise _OfferRefused(FAILED_PRECONDITION, f"shm_offer.doorbell_path: cannot connect to {bell!r} "
                                                     f"({e.strerror})") from None
        self.poller = select.poll()
        self.poller.register(self.doorbell, select.POLLIN)
        self.token = self.mm[:TOKEN_BYTES]
        # the two sequences as int64 elements of one aligned view
        self.words = np.frombuffer(self.mm, dtype="<i8", count=HEADER_BYTES // 8)
        self.request_end = HEADER_BYTES + request_capacity
        self.reply_capacity = size - self.request_end
        self.packed = offer.packed_step_replies

    def close(self) -> None:
        self.doorbell.close()
        self.words = None
        try:
            self.mm.close()
        except BufferError:  # a view still alive somewhere: the mapping goes with it
            pass


class SharedMemorySteps:
    """One stream's region: ``accept`` an offer, serve it on a daemon thread, ``stop`` with the
    stream.

    ``handle(cmd, packed)`` answers a command (the worker's, behind the lock the stream's loop
    shares); with ``packed`` it may answer a step with a ``dsogym.worker.LaneStep`` instead of a
    message, and ``to_message`` turns one into its message. ``send_on_stream`` sends a reply that
    does not fit the reply area.
    """

    def __init__(self, handle: Callable[[Any, bool], Any], send_on_stream: Callable[[Any], None],
                 to_message: Callable[[Any], Any]):
        self._handle = handle
        self._send_on_stream = send_on_stream
        self._to_message = to_message
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._region: _Region | None = None

    def accept(self, cmd: Any) -> Any:
        """The reply to an ``shm_offer``: the token read from the file, or an Error (the stream
        then carries everything)."""
        if self._region is not None:
            return pb.WorkerMessage(id=cmd.id, error=pb.Error(
                code=FAILED_PRECONDITION, message="shm_offer: expected one per stream, actual a second one"))
        try:
            region = _Region(cmd.shm_offer)
        except _OfferRefused as e:
            log.info("shared memory refused: %s", e)
            return pb.WorkerMessage(id=cmd.id, error=pb.Error(code=e.code, message=str(e)))
        self._region = region
        self._thread = threading.Thread(target=self._serve, args=(region,), name="dsogym-shm", daemon=True)
        self._thread.start()
        return pb.WorkerMessage(id=cmd.id, shm_accepted=pb.SharedMemoryAccepted(token=region.token))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _serve(self, region: _Region) -> None:
        words, mm = region.words, region.mm
        req, rep = REQUEST_SEQ // 8, REPLY_SEQ // 8
        last = int(words[req])
        unpack, pack = struct.Struct("<i").unpack_from, struct.Struct("<i").pack_into
        reply_start, reply_capacity = region.request_end, region.reply_capacity
        ring = region.doorbell.send
        packed = region.packed
        try:
            while True:
                seq = words[req]
                if seq == last:
                    if not self._wait(region, req, last):
                        return
                    seq = words[req]
                length = unpack(mm, REQUEST_LENGTH)[0]
                cmd = pb.ServerCommand.FromString(mm[HEADER_BYTES:HEADER_BYTES + length])
                reply = self._handle(cmd, packed)
                if isinstance(reply, tuple):  # a LaneStep: packed straight into the reply area
                    length, form = _pack_step(mm, reply_start, reply_capacity, reply), PACKED_STEP_FORMAT
                    if length < 0:
                        reply = self._to_message(reply)
                if not isinstance(reply, tuple):
                    data = reply.SerializeToString()
                    length, form = len(data), MESSAGE_FORMAT
                    if length <= reply_capacity:
                        mm[reply_start:reply_start + length] = data
                    else:
                        length = -1
                if length >= 0:
                    pack(mm, REPLY_LENGTH, length)
                    pack(mm, REPLY_FORMAT, form)
                    words[rep] = seq  # after the bytes: x86-TSO keeps the stores in order
                    ring(b"\x01")
                else:
                    self._send_on_stream(reply)
                last = seq
        except OSError as e:  # the server hung up while we rang
            log.info("shared memory: the server hung up (%s)", e)
        except Exception:  # a broken region: the stream's wait ends the server's
            log.exception("shared memory: serving the region failed; commands must take the stream")
        finally:
            region.close()

    def _wait(self, region: _Region, req: int, last: int) -> bool:
        """Until the request sequence moves (True), or the server hangs up the doorbell or the
        stream ends (False): a short spin, then sleeps until the doorbell rings."""
        words, clock, stop = region.words, time.perf_counter, self._stop
        poll, timeout_ms = region.poller.poll, int(STOP_CHECK_SECONDS * 1000)
        # the rings of commands a spin saw first, so that they never fill the socket; the loop
        # looks at the sequence after this and before every sleep, so no wake-up is lost
        if not _drain(region.doorbell):
            return False
        spin_until = clock() + SPIN_SECONDS
        while words[req] == last:
            if clock() < spin_until:
                continue
            if stop.is_set():
                return False
            if poll(timeout_ms) and not _drain(region.doorbell):
                return False
        return True


def _pack_step(mm: mmap.mmap, start: int, capacity: int, s: Any) -> int:
    """Writes LaneStep ``s`` at ``start`` as a packed step (docs/protocol.md, "Shared-memory
    steps"); returns its length, or -1 (nothing written) when it exceeds ``capacity``.

    N lanes, K of which ended, observations of E bytes each: the int32 K and 4 zero bytes; the
    N rewards (float64); the N observations; the K final observations; the N terminated and
    the N truncated flags (one byte each, 0 or 1); the K ended lanes (int32, ascending)."""
    obs, ended = s.observations, s.ended
    n, k = obs.shape[0], len(ended)
    obs_bytes = obs.nbytes
    finals_bytes = obs_bytes // n * k
    length = PACKED_HEADER_BYTES + 8 * n + obs_bytes + finals_bytes + 2 * n + 4 * k
    if length > capacity:
        return -1
    _HEADER.pack_into(mm, start, k, 0)
    at = start + PACKED_HEADER_BYTES
    mm[at:at + 8 * n] = s.rewards
    at += 8 * n
    mm[at:at + obs_bytes] = memoryview(obs).cast("B")
    at += obs_bytes
    if k:
        mm[at:at + finals_bytes] = memoryview(s.final_observations).cast("B")
        at += finals_bytes
    mm[at:at + n] = s.terminated
    mm[at + n:at + 2 * n] = s.truncated
    if k:
        struct.pack_into(f"<{k}i", mm, at + 2 * n, *ended)
    return length


_HEADER = struct.Struct("<ii")


def _drain(doorbell: socket.socket) -> bool:
    """Reads the rings that came (their count does not matter); False when hung up."""
    try:
        return bool(doorbell.recv(4096, socket.MSG_DONTWAIT))
    except BlockingIOError:
        return True
