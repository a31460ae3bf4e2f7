"""The generated protocol modules, generated on first import if a build never ran.

    from dsogym.proto import pb, pb_grpc   # env_pb2 (all messages) and env_pb2_grpc
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent

try:
    from dsogym._proto import env_pb2, env_pb2_grpc, optimizer_pb2, optimizer_pb2_grpc, tensor_pb2
except ImportError:  # a source tree that was never built (stubs are not committed)
    from dsogym import _protogen

    _protogen.generate(_protogen.find_proto_root(_PKG.parent), _PKG / "_proto")
    import importlib

    importlib.invalidate_caches()
    from dsogym._proto import env_pb2, env_pb2_grpc, optimizer_pb2, optimizer_pb2_grpc, tensor_pb2


class _Messages:
    """One namespace for the messages of both proto files (they share package dsogym.v1)."""

    def __init__(self, *modules):
        for m in modules:
            for name in dir(m):
                if not name.startswith("_"):
                    setattr(self, name, getattr(m, name))


pb = _Messages(tensor_pb2, env_pb2, optimizer_pb2)
pb_grpc = env_pb2_grpc

__all__ = ["pb", "pb_grpc", "tensor_pb2", "env_pb2", "env_pb2_grpc", "optimizer_pb2", "optimizer_pb2_grpc"]
