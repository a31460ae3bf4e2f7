#!/usr/bin/env bash
# Sets everything up, then runs every test: the Java suite (unit, in-process gRPC, and
# integration tests that start real Python workers) and the Python suite (which starts the
# real Java server and talks to it over loopback).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

status=0
echo "== Java tests (mvn test)"
mvn -B test || status=1
echo "== Python tests (pytest)"
.venv/bin/python -m pytest -q python-client/tests || status=1
exit $status
