#!/usr/bin/env bash
# JMH microbenchmark of the learner's per-transition cost (policy forward + score + Algorithm 1
# accumulation) for linear and 64x64 MLP policies; writes results/jmh.json and prints a table.
#   bash scripts/jmh.sh            # modest settings (about 2 minutes)
#   bash scripts/jmh.sh -f 2 -i 10 # any JMH options
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh.classpath
mkdir -p results
java -cp "target/test-classes:target/classes:$(cat target/jmh.classpath)" org.openjdk.jmh.Main \
  PolicyGradientBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s -rf json -rff results/jmh.json "$@"
