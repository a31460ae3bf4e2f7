"""Settings shared by every gRPC channel the client opens (worker and RemoteEnv alike)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc
from gymnasium.vector import AutoresetMode

from dsogym.proto import pb

PROTOCOL_VERSION = pb.PROTOCOL_VERSION_1
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # the server states the same limit in its hello

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    # a dead server is noticed within ~30 s even when no command is in flight
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]

AUTH_TOKEN_VARIABLE = "DSOGYM_AUTH_TOKEN"


def auth_token_from_env(token: str | None) -> str:
    """``token``, or $DSOGYM_AUTH_TOKEN when it is None (a token kept off the command line)."""
    return os.environ.get(AUTH_TOKEN_VARIABLE, "") if token is None else token


def channel_credentials(tls_ca: str | os.PathLike | None = None, tls_cert: str | os.PathLike | None = None,
                        tls_key: str | os.PathLike | None = None) -> grpc.ChannelCredentials | None:
    """TLS credentials from PEM files, or None (plaintext) when none is given.

    ``tls_ca``: the CA that signed the server's certificate (None: the system's roots).
    ``tls_cert`` and ``tls_key``: this side's certificate and key, for a server that demands
    client certificates (mutual TLS, ``--tls-client-ca``). Raises ValueError naming the
    argument for a file that cannot be read, or a certificate without its key."""
    if tls_ca is None and tls_cert is None and tls_key is None:
        return None
    if (tls_cert is None) != (tls_key is None):
        given = "tls_cert" if tls_key is None else "tls_key"
        raise ValueError(f"tls_cert and tls_key: expected both (mutual TLS) or neither, actual {given} only")
    return grpc.ssl_channel_credentials(root_certificates=_read_pem(tls_ca, "tls_ca"),
                                        private_key=_read_pem(tls_key, "tls_key"),
                                        certificate_chain=_read_pem(tls_cert, "tls_cert"))


def _read_pem(path: str | os.PathLike | None, name: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"{name}: expected a readable PEM file, actual {str(path)!r} ({e.strerror})") from None


def open_channel(address: str, credentials: grpc.ChannelCredentials | None,
                 extra_options: list | None = None) -> grpc.Channel:
    """A sync channel to ``address``: TLS with ``credentials``, else plaintext."""
    options = CHANNEL_OPTIONS + (extra_options or [])
    if credentials is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, credentials, options=options)


def open_aio_channel(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    """The same over grpc.aio."""
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    return grpc.aio.secure_channel(address, credentials, options=CHANNEL_OPTIONS)


AUTORESET_TO_PB = {
    AutoresetMode.NEXT_STEP: pb.NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.SAME_STEP,
    AutoresetMode.DISABLED: pb.DISABLED,
}
# UNSPECIFIED means the receiver's default, Gymnasium's NEXT_STEP
AUTORESET_FROM_PB = {v: k for k, v in AUTORESET_TO_PB.items()}
AUTORESET_FROM_PB[pb.AUTORESET_MODE_UNSPECIFIED] = AutoresetMode.NEXT_STEP


def add_cpus_option(parser: Any, help: str) -> None:
    """``--cpus LIST`` for a command line; :func:`apply_cpus_option` acts on it."""
    parser.add_argument("--cpus", default="", help=help)


def apply_cpus_option(parser: Any, args: Any) -> None:
    """Pins the process to ``args.cpus`` when given; a bad list is the parser's usage error."""
    if args.cpus:
        try:
            pin_to_cpus(args.cpus)
        except ValueError as e:
            parser.error(str(e))


def pin_to_cpus(spec: str) -> set[int]:
    """Restricts this process (every thread it has and starts) to the CPUs of ``spec``, a list
    such as "1" or "0,2-3" (Linux). Pinning the worker away from the server's CPU stops the
    scheduler from moving it between cores mid-round-trip. Returns the CPUs; raises ValueError
    for a malformed list, CPUs this process may not use, or a platform without affinity."""
    cpus: set[int] = set()
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ValueError(f"--cpus: expected a CPU list such as 1 or 0,2-3, actual {spec!r}") from None
    if not hasattr(os, "sched_setaffinity"):
        raise ValueError("--cpus: expected a platform with CPU affinity (Linux), actual " + os.name)
    allowed = os.sched_getaffinity(0)
    if not cpus or not cpus <= allowed:
        raise ValueError(f"--cpus: expected CPUs among {sorted(allowed)}, actual {spec!r}")
    os.sched_setaffinity(0, cpus)
    return cpus
