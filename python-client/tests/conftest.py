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


# Test files whose extra is not installed here: left out, and said so at the end of the run.
# test_sb3.py and test_remote_optimizer_torch.py need torch (the [sb3] extra, about 5 GB):
# scripts/test.sh runs them in .venv-sb3. test_ray.py needs the [ray] extra, which scripts/setup.sh
# installs into .venv.
not_collected = {}
try:
    import stable_baselines3  # noqa: F401
    import torch  # noqa: F401
except ImportError:
    not_collected["test_sb3.py, test_remote_optimizer_torch.py"] = (
        "stable_baselines3 and torch are not installed here (scripts/test.sh runs them in .venv-sb3)")
try:
    import ray  # noqa: F401
except ImportError:
    not_collected["test_ray.py"] = 'ray is not installed here (the [ray] extra: pip install -e "python-client[ray]")'
collect_ignore = [name for names in not_collected for name in names.split(", ")]


def pytest_terminal_summary(terminalreporter):
    for names, reason in not_collected.items():
        terminalreporter.write_line(f"{names}: not collected, {reason}")
