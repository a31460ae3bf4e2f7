"""The wheel is a package people can depend on: built from this checkout, installed into a fresh
venv in a temporary directory (its dependencies from the package index), it trains from a
directory outside the repository, with Java on PATH as the only other requirement. The wheel
carries the runnable jar, so this needs target/dsogym.jar (`mvn package`, which
scripts/test.sh runs before pytest)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    assert p.returncode == 0, f"{cmd} exited with {p.returncode}:\n{p.stdout[-4000:]}"
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin directory."""
    jar = REPO / "target" / "dsogym.jar"
    if not jar.is_file():
        pytest.fail(f"{jar} is missing: the wheel carries it; build it with `mvn -B package`")
    tmp = tmp_path_factory.mktemp("wheel")
    # the layout setup.py expects (../proto, ../target/dsogym.jar), without touching the checkout
    src = tmp / "src"
    shutil.copytree(REPO / "proto", src / "proto")
    shutil.copytree(REPO / "python-client", src / "python-client", ignore=shutil.ignore_patterns(
        "tests", "build", "*.egg-info", "__pycache__", "_proto", "dsogym.jar"))
    (src / "target").mkdir()
    (src / "target" / "dsogym.jar").symlink_to(jar)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(dist), str(src / "python-client")], timeout=300)
    (wheel,) = dist.glob("dsogym-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "dsogym/dsogym.jar" in names, names
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "dsogym = dsogym.launcher:main" in z.read(entry_points).decode()
    venv = tmp / "venv"
    # nothing of this checkout may satisfy the install (a PYTHONPATH to python-client makes pip
    # see dsogym as installed already); pip's own settings (index, certificates) stay
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "venv", str(venv)], env=env, timeout=120)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], env=env,
         timeout=600)
    return venv / "bin"


def _outside_env() -> dict[str, str]:
    """Java on PATH and nothing of this checkout: no PYTHONPATH, DSOGYM_JAR, DSOGYM_PYTHON or
    venv on PATH."""
    java = shutil.which("java")
    assert java, "java is not on PATH"
    path = os.pathsep.join(dict.fromkeys([os.path.dirname(java), "/usr/bin", "/bin"]))
    return {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


@pytest.fixture()
def outside(tmp_path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    assert REPO not in work.resolve().parents, f"{work} is inside the repository {REPO}"
    return work


def test_console_command_trains_outside_the_repository(installed, outside):
    # --source python: the jar's local worker must run on the venv's interpreter
    p = _run([str(installed / "dsogym"), "train", "--env", "CartPole-v1", "--source", "python",
              "--max-steps", "2048", "--out", "run"], cwd=outside, env=_outside_env(), timeout=300)
    summary = json.loads((outside / "run" / "summary.json").read_text())
    assert summary["env_id"] == "CartPole-v1" and summary["source"] == "python", summary
    assert summary["env_steps"] >= 2048, summary
    assert (outside / "run" / "metrics.csv").is_file(), p.stdout[-2000:]


def test_train_from_python_outside_the_repository(installed, outside):
    script = (
        "import json, dsogym, dsogym.launcher\n"
        "s = dsogym.train('CartPole-v1', source='java', max_steps=2048, out='run')\n"
        "print(json.dumps({'summary': s, 'module': dsogym.__file__,"
        " 'jar': str(dsogym.launcher.find_jar())}))\n")
    p = _run([str(installed / "python"), "-c", script], cwd=outside, env=_outside_env(),
             timeout=300)
    got = json.loads(p.stdout.strip().splitlines()[-1])
    venv = installed.parent
    assert Path(got["module"]).is_relative_to(venv), got["module"]
    assert Path(got["jar"]).is_relative_to(venv) and got["jar"].endswith("dsogym/dsogym.jar"), got
    assert got["summary"]["env_steps"] >= 2048 and got["summary"]["source"] == "java", got
    assert (outside / "run" / "summary.json").is_file()
