#!/usr/bin/env bash
# Sets everything up, then runs the main job: the Java side starts a loopback server and a
# local Python worker hosting Gymnasium's CartPole-v1 (16 lanes), drives it with a Java linear
# policy and prints what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/dsogym rollout --env CartPole-v1 --source python --num-envs 16 --steps 50000 "$@"
