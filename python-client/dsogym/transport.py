"""Settings shared by every gRPC channel the client opens (worker and RemoteEnv alike)."""

from __future__ import annotations

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

AUTORESET_TO_PB = {
    AutoresetMode.NEXT_STEP: pb.NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.SAME_STEP,
    AutoresetMode.DISABLED: pb.DISABLED,
}
# UNSPECIFIED means the receiver's default, Gymnasium's NEXT_STEP
AUTORESET_FROM_PB = {v: k for k, v in AUTORESET_TO_PB.items()}
AUTORESET_FROM_PB[pb.AUTORESET_MODE_UNSPECIFIED] = AutoresetMode.NEXT_STEP
