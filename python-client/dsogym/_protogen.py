"""Generates the protobuf/gRPC stubs of the wire protocol into ``dsogym/_proto``.

Used by ``setup.py`` (build time) and, as a fallback, by ``dsogym.proto`` on first import when
the stubs are missing (e.g. a source checkout put on ``sys.path``). Kept free of imports from
the rest of the package so that ``setup.py`` can load it by path.

protoc is run with the proto root ``proto/`` so the descriptors keep their canonical names
(``dsogym/v1/tensor.proto``, shared with Java); the generated modules are then flattened into
one package and their ``from dsogym.v1 import ...`` lines rewritten to
``from dsogym._proto import ...``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

PROTO_FILES = ("dsogym/v1/tensor.proto", "dsogym/v1/env.proto", "dsogym/v1/optimizer.proto")
_IMPORT_RE = re.compile(r"^from dsogym\.v1 import ", re.MULTILINE)


def find_proto_root(start: Path) -> Path:
    """The directory holding ``dsogym/v1/*.proto``: $DSOGYM_PROTO_DIR, else ``proto/`` next
    to ``start`` (an sdist) or in one of its parents (the repository)."""
    env = os.environ.get("DSOGYM_PROTO_DIR")
    candidates = [Path(env)] if env else []
    for d in [start, *start.parents]:
        candidates.append(d / "proto")
    for c in candidates:
        if all((c / f).is_file() for f in PROTO_FILES):
            return c
    raise FileNotFoundError(
        f"dsogym: cannot find the proto files {PROTO_FILES}: looked in "
        f"{[str(c) for c in candidates]}; set DSOGYM_PROTO_DIR to the directory holding dsogym/v1/"
    )


def generate(proto_root: Path, out_package_dir: Path) -> None:
    """Runs grpc_tools.protoc on PROTO_FILES and writes the flattened modules into
    ``out_package_dir`` (created; replaced atomically enough for concurrent first imports)."""
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "dsogym: the generated protocol stubs are missing and grpcio-tools is not installed "
            "to generate them; `pip install grpcio-tools` or reinstall dsogym"
        ) from e
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    out_package_dir = Path(out_package_dir)
    with tempfile.TemporaryDirectory(prefix="dsogym-protogen-") as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *[str(proto_root / f) for f in PROTO_FILES],
        ]
        rc = protoc.main(args)
        if rc != 0:
            raise RuntimeError(f"dsogym: protoc failed with exit code {rc}: {' '.join(args)}")
        staging = Path(tempfile.mkdtemp(prefix="._proto-", dir=out_package_dir.parent))
        try:
            gen = Path(tmp) / "dsogym" / "v1"
            for src in sorted(gen.iterdir()):
                if src.suffix not in (".py", ".pyi"):
                    continue
                text = _IMPORT_RE.sub("from dsogym._proto import ", src.read_text())
                (staging / src.name).write_text(text)
            (staging / "__init__.py").write_text(
                '"""Generated from proto/dsogym/v1 by dsogym._protogen; do not edit."""\n'
            )
            if out_package_dir.exists():
                shutil.rmtree(out_package_dir, ignore_errors=True)
            try:
                staging.rename(out_package_dir)
            except OSError:
                # another process won the race; its output is identical
                if not (out_package_dir / "env_pb2.py").is_file():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    generate(find_proto_root(here.parent), here / "_proto")
