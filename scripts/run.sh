#!/usr/bin/env bash
# Sets everything up, then runs the main job: trains CartPole-v1 from Python Gymnasium through
# the bridge. The Java learner starts a loopback server and a local Python worker hosting
# Gymnasium's CartPole-v1, runs Algorithm 1 for 50,000 env steps with progress on the console,
# and ends by printing the summary and where the learning curve (PNG) and metrics are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/dsogym train --env CartPole-v1 --source python --seed 0 --max-steps 50000 \
  --out runs/cartpole-python-seed0 "$@"
