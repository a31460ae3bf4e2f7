#!/usr/bin/env bash
# Sets up everything dsogym needs on a fresh machine: the Java build (shaded jar) and a Python
# venv with the client, Gymnasium and MuJoCo. Idempotent; a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
if ! need java || ! need mvn; then
  echo "setup: installing Java 17 and Maven from Debian's packages" >&2
  apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
fi
java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [ "${java_major%%.*}" -lt 17 ]; then
  echo "setup: Java 17 or newer is required, found $java_major" >&2
  exit 1
fi

echo "setup: building target/dsogym.jar" >&2
mvn -q -B package -DskipTests

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
echo "setup: installing the Python client (dsogym) with Gymnasium, MuJoCo and Ray into .venv" >&2
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e "python-client[mujoco,test,plot,ray]"
# The TypeScript client (clients/typescript), which a test builds and runs against the server
if ! need node || ! need npm; then
  echo "setup: installing Node.js and npm from Debian's packages" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
echo "setup: installing the TypeScript client's packages (npm ci)" >&2
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error)
echo "setup: done" >&2
