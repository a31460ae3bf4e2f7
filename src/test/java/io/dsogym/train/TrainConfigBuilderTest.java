package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The typed builder is the presets with what was set laid over them, as the CLI's options. */
class TrainConfigBuilderTest {
  @Test
  void unsetOptionsKeepTheEnvsPresets() {
    assertEquals(TrainPresets.config("CartPole-v1", Map.of()),
        TrainConfig.builder("CartPole-v1").build());
    // the per-env and per-algo presets: Pendulum with pco has its own budget and target
    TrainConfig pco = TrainConfig.builder("Pendulum-v1").algo("pco").build();
    assertEquals(200_000, pco.maxSteps());
    assertEquals(-200.0, pco.targetReturn());
    assertEquals(List.of(64, 64), pco.policyHidden());
    assertEquals(16 * 128, pco.numEnvs() * pco.stepsPerLane());
    assertEquals(10, pco.valueEpochs());
    assertEquals(8, pco.surrogate().minibatches());
    // Algorithm 1 has its own: larger batches, annealed steps and the bound cost, over 1M
    TrainConfig gradient = TrainConfig.builder("Pendulum-v1").algo("gradient").build();
    assertEquals(1_000_000, gradient.maxSteps());
    assertEquals(16 * 64, gradient.numEnvs() * gradient.stepsPerLane());
    assertEquals(0.006, gradient.learningRate());
    assertTrue(gradient.annealLearningRate());
    assertEquals(10.0, gradient.surrogate().boundCoef());
    assertEquals(-250.0, gradient.targetReturn());
    // which other algorithms do not get
    TrainConfig natural = TrainConfig.builder("Pendulum-v1").algo("natural").build();
    assertEquals(500_000, natural.maxSteps());
    assertEquals(16 * 16, natural.numEnvs() * natural.stepsPerLane());
    assertEquals(0.0, natural.surrogate().boundCoef());
  }

  @Test
  void everySetterMatchesItsCommandLineOption() {
    TrainConfig built = TrainConfig.builder("Pendulum-v1").source("java").algo("natural")
        .inference("server").collectAhead(true).seed(7).maxSteps(12_345).numEnvs(3)
        .numWorkers(3).batchQuorum(0.5).stepsPerLane(17).policyHidden(8, 4).valueHidden(16).activation("relu").initLogStd(-1.5)
        .learningRate(0.02).valueLearningRate(0.004).valueEpochs(3).valueMinibatch(32)
        .gamma(0.97).lambda(0.8).discountStates(true).setting("average")
        .normalizeObservations(false).normalizeAdvantages(false).maxGradNorm(0.5)
        .annealLearningRate(true).evalEvery(999).evalEpisodes(4).targetReturn(-321.5)
        .envKwargsJson("{\"g\": 9.81}").systemParams("g").onNonFinite("drop").epochs(5)
        .minibatches(2).clip(0.3).annealClip(true).targetKl(0.05).maxKl(0.02).cgIterations(7)
        .cgDamping(0.2).newtonSteps(3).entropyCoef(0.01).klCoef(0.1).klReference("runs/ref")
        .boundCoef(0.3).build();
    TrainConfig fromOptions = TrainPresets.config("Pendulum-v1", Map.ofEntries(
        Map.entry("--source", "java"), Map.entry("--algo", "natural"),
        Map.entry("--inference", "server"), Map.entry("--collect-ahead", "true"),
        Map.entry("--seed", "7"), Map.entry("--max-steps", "12345"),
        Map.entry("--num-envs", "3"), Map.entry("--steps-per-lane", "17"),
        Map.entry("--num-workers", "3"), Map.entry("--batch-quorum", "0.5"),
        Map.entry("--hidden", "8,4"), Map.entry("--value-hidden", "16"),
        Map.entry("--activation", "relu"), Map.entry("--init-log-std", "-1.5"),
        Map.entry("--lr", "0.02"), Map.entry("--value-lr", "0.004"),
        Map.entry("--value-epochs", "3"), Map.entry("--value-minibatch", "32"),
        Map.entry("--gamma", "0.97"), Map.entry("--lambda", "0.8"),
        Map.entry("--discount-states", "true"), Map.entry("--setting", "average"),
        Map.entry("--normalize-obs", "false"), Map.entry("--normalize-advantages", "false"),
        Map.entry("--max-grad-norm", "0.5"), Map.entry("--anneal-lr", "true"),
        Map.entry("--eval-every", "999"), Map.entry("--eval-episodes", "4"),
        Map.entry("--target-return", "-321.5"), Map.entry("--env-kwargs", "{\"g\": 9.81}"),
        Map.entry("--system-params", "g"), Map.entry("--on-non-finite", "drop"),
        Map.entry("--epochs", "5"), Map.entry("--minibatches", "2"), Map.entry("--clip", "0.3"),
        Map.entry("--anneal-clip", "true"), Map.entry("--target-kl", "0.05"),
        Map.entry("--max-kl", "0.02"), Map.entry("--cg-iters", "7"),
        Map.entry("--cg-damping", "0.2"), Map.entry("--ci-steps", "3"),
        Map.entry("--entropy-coef", "0.01"), Map.entry("--kl-coef", "0.1"),
        Map.entry("--kl-reference", "runs/ref"), Map.entry("--bound-coef", "0.3")));
    assertEquals(fromOptions, built);
    // and they differ from the presets, so no setter was silently dropped
    TrainConfig presets = TrainConfig.builder("Pendulum-v1").algo("natural").build();
    for (var c : TrainConfig.class.getRecordComponents()) {
      if (!c.getName().equals("envId") && !c.getName().equals("algo")) {
        try {
          assertTrue(!c.getAccessor().invoke(built).equals(c.getAccessor().invoke(presets)),
              c.getName() + " is the preset's value: its setter changed nothing");
        } catch (ReflectiveOperationException e) {
          throw new AssertionError(e);
        }
      }
    }
  }

  @Test
  void policyHiddenWithNoSizesIsALinearPolicy() {
    assertEquals(List.of(), TrainConfig.builder("Pendulum-v1").policyHidden().build()
        .policyHidden());
    assertNull(TrainConfig.builder("CartPole-v1").build().targetReturn());
  }

  @Test
  void finiteHorizonSetsGammaToOneUnlessGiven() {
    assertEquals(1.0, TrainConfig.builder("CartPole-v1").setting("finite-horizon").build()
        .gamma());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.builder("CartPole-v1").setting("finite-horizon").gamma(0.9).build());
    assertTrue(e.getMessage().startsWith("gamma: expected 1 with --setting finite-horizon"),
        e.getMessage());
  }

  @Test
  void aBadValueNamesTheMethodTheOptionAndWhatCame() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.builder("CartPole-v1").maxSteps(-5).build());
    assertEquals("maxSteps: expected a positive number of env steps, got -5 (the option "
        + "--max-steps)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.builder("CartPole-v1").algo("adam").build());
    assertTrue(e.getMessage().startsWith("algo: expected one of gradient, pco, natural, "
        + "chain-iteration, got adam"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.builder("CartPole-v1").learningRate(Double.NaN).build());
    assertTrue(e.getMessage().startsWith("learningRate: expected a positive learning rate, got "
        + "NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.builder("CartPole-v1").source("gym"));
    assertEquals("source: expected java or python, got 'gym'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder(" "));
    assertEquals("envId: expected an env id such as CartPole-v1, got ' '", e.getMessage());
  }

  @Test
  void aBuilderCanBeReusedAfterABadBuild() {
    TrainConfig.Builder b = TrainConfig.builder("CartPole-v1").numEnvs(0);
    assertThrows(IllegalArgumentException.class, b::build);
    assertEquals(4, b.numEnvs(4).build().numEnvs());
  }
}
