"""The stub generator: flattened modules with package-relative imports."""

import subprocess
import sys
from pathlib import Path

from dsogym import _protogen


def test_generate_into_a_fresh_package(tmp_path):
    root = _protogen.find_proto_root(Path(_protogen.__file__).resolve().parent)
    pkg = tmp_path / "dsogym" / "_proto"
    pkg.parent.mkdir()
    _protogen.generate(root, pkg)
    names = sorted(p.name for p in pkg.iterdir())
    assert {"__init__.py", "tensor_pb2.py", "env_pb2.py", "env_pb2_grpc.py"} <= set(names)
    text = (pkg / "env_pb2.py").read_text() + (pkg / "env_pb2_grpc.py").read_text()
    assert "from dsogym.v1 import" not in text
    assert "from dsogym._proto import tensor_pb2" in text


def test_stubs_load_in_a_clean_interpreter():
    out = subprocess.run([sys.executable, "-c",
                          "from dsogym.proto import pb; print(pb.Tensor.DESCRIPTOR.file.name)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "dsogym/v1/tensor.proto"
