"""examples/remote_optimizer_torch.py: a PyTorch MLP policy, its per-transition scores from
torch.func, trained by the Java natural gradient through the optimizer service against the real
server. It needs torch: scripts/test.sh runs it in .venv-sb3 (the [sb3] extra brings torch);
elsewhere conftest.py leaves it out and says so."""

import json
import subprocess
import sys
from pathlib import Path

import torch  # noqa: F401  (collected only where torch is installed)

from dsogym.testing import JavaServer, find_jar

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "remote_optimizer_torch.py"


def test_a_torch_policy_learns_cartpole_with_the_java_natural_gradient(tmp_path):
    with JavaServer(find_jar()) as server:
        p = subprocess.run([sys.executable, str(EXAMPLE), "--algo", "natural", "--seed", "0",
                            "--max-steps", "15360", "--eval-every", "5000", "--eval-episodes", "10",
                            "--address", server.address, "--out", str(tmp_path)],
                           capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["env_steps"] >= 15360
    # a near-uniform MLP starts at ~20; the Java natural gradient takes it far beyond
    assert s["eval_mean_return"] > 150, s
