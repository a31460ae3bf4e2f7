"""Build hooks: generate the protocol stubs from ../proto (or ./proto in an sdist) into
dsogym/_proto before the usual build_py, so wheels and editable installs both carry them; and
put the runnable jar (../target/dsogym.jar, or ./jar/dsogym.jar in an sdist) into the wheel as
dsogym/dsogym.jar, so an installed dsogym needs only Java. Everything else is declared in
pyproject.toml."""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
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


def _runnable_jar() -> Path:
    for jar in (HERE.parent / "target" / "dsogym.jar", HERE / "jar" / "dsogym.jar"):
        if jar.is_file():
            return jar
    raise SystemExit(
        "dsogym's wheel carries the runnable jar, and there is none: build it first with "
        "`mvn -q -B package -DskipTests` at the repository root (expected "
        f"{HERE.parent / 'target' / 'dsogym.jar'})"
    )


class BuildPyWithJar(build_py):
    """Copies the runnable jar into the built package. An editable install (setup.sh's) finds
    target/dsogym.jar in the checkout instead, so no stale copy lands in the source tree."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            shutil.copyfile(_runnable_jar(), Path(self.build_lib) / "dsogym" / "dsogym.jar")


class SdistWithProtos(sdist):
    """Ships a copy of the proto files and the runnable jar so the sdist builds outside the
    repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        gen = _protogen()
        root = gen.find_proto_root(HERE)
        for rel in gen.PROTO_FILES:
            dest = Path(base_dir) / "proto" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, dest)
        (Path(base_dir) / "jar").mkdir(exist_ok=True)
        shutil.copyfile(_runnable_jar(), Path(base_dir) / "jar" / "dsogym.jar")


setup(
    packages=["dsogym", "dsogym._proto"],
    package_data={"dsogym._proto": ["*.pyi"]},
    cmdclass={"build_py": BuildPyWithJar, "sdist": SdistWithProtos},
)
