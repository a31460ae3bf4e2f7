"""Start and watch a dsogym training run from Python.

The learner is the Java engine (``bin/dsogym train``); this module starts it as a child
process, streams its progress lines to a callback, and returns the parsed ``summary.json``::

    import dsogym
    summary = dsogym.train("CartPole-v1", source="python", seed=0, max_steps=50_000,
                           out="runs/cartpole", on_progress=print)
    summary["eval_mean_return"], summary["steps_to_threshold"]

``source="python"`` makes the Java side start its own local Python worker(s) hosting the
Gymnasium env; ``source="java"`` uses the Java-native env. Any other ``bin/dsogym train``
option is passed as a keyword: ``num_envs=8`` becomes ``--num-envs 8``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

from dsogym.launcher import find_jar

__all__ = ["train", "read_metrics", "TrainingFailed"]


class TrainingFailed(RuntimeError):
    """The Java training process exited with an error; ``output`` holds its last lines."""

    def __init__(self, message: str, output: list[str]):
        super().__init__(message)
        self.output = output


def _option(name: str, value: Any) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return [flag, str(value)]


def train(env_id: str | None = None, *, out: str | os.PathLike | None = None,
          resume: str | os.PathLike | None = None, source: str = "python",
          on_progress: Callable[[str], None] | None = None, java: str | None = None,
          jar: str | os.PathLike | None = None, **options: Any) -> dict[str, Any]:
    """Runs ``dsogym train`` to completion and returns its summary (a dict).

    on_progress receives every console line of the run (``[train] steps ... | eval ...``).
    Raises TrainingFailed if the run fails, ValueError for a bad argument.
    """
    if resume is None and not env_id:
        raise ValueError("env_id: expected a Gymnasium or Java env id, got none")
    java = java or shutil.which("java") or "java"
    cmd = [java, "-jar", str(Path(jar) if jar else find_jar()), "train"]
    if resume is not None:
        cmd += ["--resume", str(resume)]
        out_dir = Path(resume)
    else:
        out_dir = Path(out) if out is not None else Path("runs") / f"{env_id}-seed{options.get('seed', 0)}"
        cmd += ["--env", env_id, "--source", source, "--out", str(out_dir)]
    for name, value in options.items():
        cmd += _option(name, value)
    env = dict(os.environ)
    env.setdefault("DSOGYM_PYTHON", _python())
    tail: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail = (tail + [line])[-50:]
            if on_progress is not None:
                on_progress(line)
        code = proc.wait()
    if code != 0:
        raise TrainingFailed(f"dsogym train exited with code {code}: {tail[-1] if tail else ''}", tail)
    return json.loads((out_dir / "summary.json").read_text())


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, float | None]]:
    """The rows of RUN_DIR/metrics.csv as dicts (empty cells are None)."""
    lines = (Path(run_dir) / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        rows.append({h: (float(c) if c else None) for h, c in zip(header, cells)})
    return rows


def _python() -> str:
    import sys

    return sys.executable
