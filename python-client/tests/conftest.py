import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def spawn_worker():
    """Starts `python -m dsogym.worker ...` processes (tests/ on PYTHONPATH so that
    `--env dsogym_test_envs:ID` works) and kills them at the end of the test."""
    procs = []

    def spawn(*args):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
        p = subprocess.Popen([sys.executable, "-m", "dsogym.worker", *args], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        procs.append(p)
        return p

    yield spawn
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(10)
