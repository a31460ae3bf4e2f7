"""Build hook: generate the protocol stubs from ../proto (or ./proto in an sdist) into
dsogym/_proto before the usual build_py, so wheels and editable installs both carry them.
Everything else is declared in pyproject.toml."""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def _protogen():
    spec = importlib.util.spec_from_file_location("_dsogym_protogen", HERE / "dsogym" / "_protogen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generate_stubs():
    # Generated into the source tree (git-ignored) before setuptools looks at the packages:
    # a fresh clone has no dsogym/_proto yet, and every build step (egg_info for editable
    # installs, build_py for wheels) needs it to exist.
    gen = _protogen()
    gen.generate(gen.find_proto_root(HERE), HERE / "dsogym" / "_proto")


_generate_stubs()


class SdistWithProtos(sdist):
    """Ships a copy of the proto files so the sdist builds outside the repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        gen = _protogen()
        root = gen.find_proto_root(HERE)
        for rel in gen.PROTO_FILES:
            dest = Path(base_dir) / "proto" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, dest)


setup(
    packages=["dsogym", "dsogym._proto"],
    package_data={"dsogym._proto": ["*.pyi"]},
    cmdclass={"sdist": SdistWithProtos},
)
