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


# test_sb3.py and test_remote_optimizer_torch.py need torch (the [sb3] extra, about 5 GB): left
# out where it is not installed, and said so at the end of the run; scripts/test.sh runs them in
# a venv that has it.
try:
    import stable_baselines3  # noqa: F401
    import torch  # noqa: F401
    collect_ignore = []
except ImportError:
    collect_ignore = ["test_sb3.py", "test_remote_optimizer_torch.py"]


def pytest_terminal_summary(terminalreporter):
    if collect_ignore:
        terminalreporter.write_line(f"{', '.join(collect_ignore)}: not collected, stable_baselines3 and torch are "
                                    "not installed here (scripts/test.sh runs them in .venv-sb3)")
