package io.dsogym.dso;

import static io.dsogym.dso.Oracles.oracleCase;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.oracle.KnownChainSource;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import io.dsogym.train.ExactObjective;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer on a known chain through the chain interface (docs/math.md §9): the first-exit
 * LMDP of the oracle case lmdp7_first_exit, with one parameter per allowed transition, sampled
 * in Java and scored by its exact marginal ln P (no policy, no env). Every optimizer must close
 * most of the gap between J(θ0) and the LMDP's exact optimum (docs/math.md §5: V* = -ln z),
 * read from the exact solver, not from samples.
 */
class KnownChainTrainingTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"gradient", "pco", "natural", "chain-iteration"})
  void everyOptimizerClosesTheGapOnAKnownChain(String algo) throws Exception {
    LmdpChain lmdp = ChainIterationTest.freeLmdp(oracleCase("lmdp7_first_exit"));
    int n = lmdp.numStates();
    double optimum = LmdpExact.optimal(lmdp).optimalValue[0];
    ExactObjective exact = new ExactObjective() {
      @Override
      public double objective(double[] theta) {
        return TabularExact.discounted(lmdp, 1.0, theta).objective;
      }

      @Override
      public double optimum() {
        return optimum;
      }

      @Override
      public String describe() {
        return "first-exit LMDP cost (linear solve)";
      }
    };
    TrainConfig config = TrainPresets.config("lmdp7", Map.ofEntries(
        Map.entry("--algo", algo), Map.entry("--gamma", "1"), Map.entry("--lambda", "0.9"),
        Map.entry("--num-envs", "16"), Map.entry("--steps-per-lane", "32"),
        Map.entry("--max-steps", "40000"), Map.entry("--eval-every", "10000"),
        Map.entry("--value-hidden", ""), Map.entry("--lr", "0.1"), Map.entry("--value-lr", "0.05"),
        Map.entry("--max-kl", "0.05"), Map.entry("--source", "java"), Map.entry("--seed", "3")));
    double[] theta0 = new double[lmdp.numParams()];
    Trainer trainer = new Trainer(config,
        new KnownChainSource<>(lmdp, x -> KnownChainSource.oneHot(x, n), n, 16, 3), theta0,
        exact, dir, new PrintStream(new ByteArrayOutputStream()));
    Map<String, Object> summary = trainer.run();
    double j0 = (Double) summary.get("exact_objective_initial");
    double j = (Double) summary.get("exact_objective");
    double closed = (j0 - j) / (j0 - optimum);
    assertTrue(closed >= 0.9, algo + ": closed " + closed + " of the gap (J0 " + j0 + ", J " + j
        + ", J* " + optimum + ")");
  }
}
