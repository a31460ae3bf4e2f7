#!/usr/bin/env bash
# JMH microbenchmarks of the learner's per-transition cost: PolicyGradientBenchmark (policy
# forward + score + Algorithm 1 accumulation, surrogate, PCO epoch; linear and 64x64 MLP
# policies) and MlpKernelBenchmark (a 64x64 MLP's batched forward + backward in V̂'s fit and
# the policy's score, against EJML). Writes results/jmh.json and prints a table.
#   bash scripts/jmh.sh            # modest settings (about 5 minutes)
#   bash scripts/jmh.sh -f 2 -i 10 # any JMH options
#   JMH_BASELINE_JAR=old/dsogym.jar bash scripts/jmh.sh
#       # first runs the benchmarks that exist in both on that jar's engine classes (a build
#       # of an earlier commit), back to back, into results/jmh-baseline.json
set -euo pipefail
baseline="${JMH_BASELINE_JAR:+$(readlink -f "$JMH_BASELINE_JAR")}"
cd "$(dirname "$0")/.."
mvn -q -B test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh.classpath
mkdir -p results
deps="$(cat target/jmh.classpath)"
settings=(-f 1 -wi 3 -i 5 -w 1s -r 1s)
if [[ -n "$baseline" ]]; then
  rm -rf target/jmh-baseline-classes && mkdir -p target/jmh-baseline-classes
  (cd target/jmh-baseline-classes && unzip -q "$baseline" 'io/dsogym/*')
  java -cp "target/test-classes:target/jmh-baseline-classes:$deps" org.openjdk.jmh.Main \
    'PolicyGradientBenchmark|MlpKernelBenchmark.(valueFitStep|policyScorePerTransition|surrogateMinibatchGradient)' \
    "${settings[@]}" -rf json -rff results/jmh-baseline.json "$@"
fi
java -cp "target/test-classes:target/classes:$deps" org.openjdk.jmh.Main \
  'PolicyGradientBenchmark|MlpKernelBenchmark' "${settings[@]}" -rf json -rff results/jmh.json "$@"
