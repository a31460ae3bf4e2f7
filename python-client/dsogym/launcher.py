"""The Java side of dsogym as a command: find the runnable jar and run it.

The wheel carries the jar (``dsogym/dsogym.jar``), so an installed ``dsogym`` needs only Java 17+
on PATH; in a source checkout the jar is ``target/dsogym.jar``. The console command ``dsogym``
(``main``) is the checkout's ``bin/dsogym``: ``dsogym train --env CartPole-v1 ...``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["find_jar", "find_java", "main"]

# where the wheel's build step (setup.py) puts the runnable jar
PACKAGED_JAR = Path(__file__).resolve().parent / "dsogym.jar"


def find_jar() -> Path:
    """$DSOGYM_JAR; else the jar this package carries (an installed wheel); else
    target/dsogym.jar in the first ancestor of this file (a checkout) or of the current
    directory that has one."""
    env = os.environ.get("DSOGYM_JAR")
    if env:
        return Path(env)
    if PACKAGED_JAR.is_file():
        return PACKAGED_JAR
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for d in [start, *start.parents]:
            jar = d / "target" / "dsogym.jar"
            if jar.is_file():
                return jar
    raise FileNotFoundError(
        "dsogym.jar not found: this dsogym package carries none (a source checkout), and no "
        "target/dsogym.jar is above it or the current directory; build it with "
        "`mvn -q -B package -DskipTests` at the repository root, or set DSOGYM_JAR"
    )


def find_java() -> str:
    """$JAVA (as bin/dsogym), else java on PATH."""
    java = os.environ.get("JAVA") or shutil.which("java")
    if not java:
        raise FileNotFoundError("java: expected Java 17 or newer on PATH (or $JAVA), found none")
    return java


def main(argv: list[str] | None = None) -> None:
    """``dsogym ARGS``: ``java $DSOGYM_JAVA_OPTS -jar dsogym.jar ARGS``. Python workers that the
    run starts (``--source python``) use this interpreter, which has dsogym installed."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        java, jar = find_java(), find_jar()
    except FileNotFoundError as e:
        sys.exit(f"dsogym: {e}")
    cmd = [java, *shlex.split(os.environ.get("DSOGYM_JAVA_OPTS", "")), "-jar", str(jar), *args]
    env = dict(os.environ)
    env.setdefault("DSOGYM_PYTHON", sys.executable)
    if os.name == "posix":
        os.execvpe(java, cmd, env)  # signals (Ctrl-C: checkpoint and stop) go straight to Java
    sys.exit(subprocess.call(cmd, env=env))
