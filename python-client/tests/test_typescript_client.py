"""A client in a language the project does not otherwise use: clients/typescript, written from
the protos with @grpc/grpc-js and @grpc/proto-loader, is compiled with tsc and run against the
real Java server. It steps the Java-native CartPole-v1 through the env service and trains its
own linear softmax policy with the Java natural gradient through the optimizer service
(answering the server's evaluations of each batch at candidate θ)."""

import json
import subprocess
from pathlib import Path

import pytest

from dsogym.testing import JavaServer, find_jar

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


@pytest.fixture(scope="module")
def built():
    if not (CLIENT / "node_modules").exists():  # scripts/setup.sh runs npm ci; a plain checkout may not have
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT, check=True)
    subprocess.run(["npx", "tsc", "-p", "."], cwd=CLIENT, check=True)
    return CLIENT / "dist" / "main.js"


def run_client(main: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(main), *args], cwd=CLIENT, capture_output=True, text=True, timeout=600)


def test_typescript_client_trains_cartpole_with_the_java_natural_gradient(built):
    with JavaServer(find_jar()) as server:
        p = run_client(built, "--address", server.address, "--env", "CartPole-v1", "--algo", "natural",
                       "--lanes", "8", "--steps-per-lane", "64", "--iterations", "30", "--seed", "0")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["iterations"] == 30 and out["env_steps"] == 30 * 8 * 64
    assert out["evaluations"] >= 30  # the natural gradient's line search asked the client each batch
    assert len(out["theta"]) == 2 * 5
    # a random policy balances ~20 steps; the Java-trained policy of this client far longer
    assert out["first_iteration_mean_return"] < 40
    assert out["last_iterations_mean_return"] > 150, out


def test_typescript_client_gets_in_band_errors(built):
    with JavaServer(find_jar()) as server:
        p = run_client(built, "--address", server.address, "--env", "NoSuchEnv-v0")
    assert p.returncode == 1
    assert "NoSuchEnv-v0" in p.stderr
