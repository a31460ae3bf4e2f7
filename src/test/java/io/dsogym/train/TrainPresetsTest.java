package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Presets keyed on the optimizer and the policy: an env picks its default of each, and a preset
 * for an optimizer or for MLPs applies when the one in effect (given, else the env's) is its own.
 */
class TrainPresetsTest {
  @Test
  void anMlpPresetAppliesOnlyWhenHiddenLayersAreGiven() {
    TrainConfig linear = TrainPresets.config("HalfCheetah-v5", Map.of("--algo", "natural"));
    TrainConfig mlp = TrainPresets.config("HalfCheetah-v5",
        Map.of("--algo", "natural", "--hidden", "64,64"));
    // the linear preset stays as it was measured
    assertEquals(List.of(), linear.policyHidden());
    assertEquals(0.02, linear.surrogate().maxKl());
    // the MLP preset lays its own trust region over the env's preset, and keeps the rest
    assertEquals(List.of(64, 64), mlp.policyHidden());
    assertEquals(0.1, mlp.surrogate().maxKl());
    assertEquals(MLP_INIT_LOG_STD, mlp.initLogStd());
    assertEquals(-2.0, linear.initLogStd());
    assertEquals(linear.gamma(), mlp.gamma());
    assertEquals(linear.learningRate(), mlp.learningRate());
    assertEquals(linear.numEnvs() * linear.stepsPerLane(), mlp.numEnvs() * mlp.stepsPerLane());
    // "none" is a linear policy: no MLP preset
    assertEquals(linear, TrainPresets.config("HalfCheetah-v5",
        Map.of("--algo", "natural", "--hidden", "none")));
  }

  @Test
  void anOptionGivenWinsOverTheMlpPreset() {
    TrainConfig c = TrainPresets.config("HalfCheetah-v5",
        Map.of("--algo", "natural", "--hidden", "64,64", "--max-kl", "0.03"));
    assertEquals(0.03, c.surrogate().maxKl());
  }

  @Test
  void badHiddenSizesNameTheOption() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainPresets.config("HalfCheetah-v5", Map.of("--hidden", "64,x")));
    assertTrue(e.getMessage().startsWith("--hidden: expected comma-separated layer sizes"),
        e.getMessage());
  }

  @Test
  void anMlpPresetKeyedOnAnAlgoLeavesTheOthersAlone() {
    // HalfCheetah's MLP preset is natural's: pco with hidden layers gets the env's preset only
    TrainConfig pco = TrainPresets.config("HalfCheetah-v5",
        Map.of("--algo", "pco", "--hidden", "64,64"));
    TrainConfig pcoLinear = TrainPresets.config("HalfCheetah-v5", Map.of("--algo", "pco"));
    assertEquals(pcoLinear.surrogate(), pco.surrogate());
    assertEquals(pcoLinear.initLogStd(), pco.initLogStd());
  }

  @Test
  void walker2dHasAnMlpPresetForNaturalAndNoLinearOne() {
    TrainConfig mlp = TrainPresets.config("Walker2d-v5",
        Map.of("--algo", "natural", "--hidden", "64,64"));
    TrainConfig linear = TrainPresets.config("Walker2d-v5",
        Map.of("--algo", "natural", "--hidden", "none"));
    assertEquals(16 * 256, mlp.numEnvs() * mlp.stepsPerLane());
    assertEquals(0.1, mlp.surrogate().maxKl());
    assertEquals(3479.0, mlp.targetReturn());
    assertEquals(1_000_000L, mlp.maxSteps());
    // the generic defaults for a linear policy, as before
    assertEquals(8 * 128, linear.numEnvs() * linear.stepsPerLane());
    assertEquals(null, linear.targetReturn());
  }

  @Test
  void anEnvsPresetPicksItsDefaultOptimizerAndTheOptimizersPresetFollows() {
    TrainConfig pendulum = TrainPresets.config("Pendulum-v1", Map.of());
    assertEquals("pco", pendulum.algo());
    // pco's Pendulum preset, not only the env's
    assertEquals(-200.0, pendulum.targetReturn());
    assertEquals(10.0, pendulum.surrogate().boundCoef());
    assertEquals(pendulum, TrainPresets.config("Pendulum-v1", Map.of("--algo", "pco")));
    // an --algo given wins, with its own preset
    TrainConfig gradient = TrainPresets.config("Pendulum-v1", Map.of("--algo", "gradient"));
    assertEquals("gradient", gradient.algo());
    assertEquals(1_000_000L, gradient.maxSteps());
    assertEquals("natural", TrainPresets.config("HalfCheetah-v5", Map.of()).algo());
    assertEquals("natural", TrainPresets.config("InvertedPendulum-v5", Map.of()).algo());
    // no default of its own: Algorithm 1
    assertEquals("gradient", TrainPresets.config("Swimmer-v5", Map.of()).algo());
    // Swimmer's λ for every optimizer: its γ 0.9999 needs long returns, not V̂'s bootstraps
    TrainConfig swimmer = TrainPresets.config("Swimmer-v5", Map.of("--algo", "natural"));
    assertEquals(0.98, swimmer.lambda());
    assertEquals(0.5, swimmer.initLogStd());
    assertEquals(0.0, TrainPresets.config("Swimmer-v5", Map.of()).initLogStd());
    assertEquals("gradient", TrainPresets.config("CartPole-v1", Map.of()).algo());
    // and an optimizer's preset over the env's: PCO's many steps a batch take a smaller one
    assertEquals(0.03, TrainPresets.config("CartPole-v1", Map.of()).learningRate());
    assertEquals(0.01, TrainPresets.config("CartPole-v1", Map.of("--algo", "pco"))
        .learningRate());
    assertEquals("gradient", TrainPresets.config("Ant-v5", Map.of()).algo());
  }

  @Test
  void anMlpPresetFollowsTheDefaultOptimizerAndTheDefaultPolicy() {
    // HalfCheetah with hidden layers and no --algo: natural's MLP preset
    TrainConfig cheetah = TrainPresets.config("HalfCheetah-v5", Map.of("--hidden", "64,64"));
    assertEquals(TrainPresets.config("HalfCheetah-v5",
        Map.of("--algo", "natural", "--hidden", "64,64")), cheetah);
    assertEquals(0.1, cheetah.surrogate().maxKl());
    // Walker2d with nothing given: natural and a 64x64 MLP, so the MLP preset
    TrainConfig walker = TrainPresets.config("Walker2d-v5", Map.of());
    assertEquals("natural", walker.algo());
    assertEquals(List.of(64, 64), walker.policyHidden());
    assertEquals(3479.0, walker.targetReturn());
    assertEquals(TrainPresets.config("Walker2d-v5",
        Map.of("--algo", "natural", "--hidden", "64,64")), walker);
    // another optimizer keeps the env's default policy, without natural's preset
    TrainConfig walkerPco = TrainPresets.config("Walker2d-v5", Map.of("--algo", "pco"));
    assertEquals(List.of(64, 64), walkerPco.policyHidden());
    assertEquals(null, walkerPco.targetReturn());
  }

  @Test
  void hopperDefaultsToNaturalWithAnMlpAndAnAnnealedTrustRegion() {
    TrainConfig hopper = TrainPresets.config("Hopper-v5", Map.of());
    assertEquals("natural", hopper.algo());
    assertEquals(List.of(64, 64), hopper.policyHidden());
    assertEquals(0.01, hopper.surrogate().maxKl());
    assertTrue(hopper.annealLearningRate());
    assertEquals(-0.5, hopper.initLogStd());
    assertEquals(8 * 256, hopper.numEnvs() * hopper.stepsPerLane());
    assertEquals(3618.0, hopper.targetReturn());
    assertEquals(1_000_000L, hopper.maxSteps());
    // a linear policy gets none of the MLP preset
    TrainConfig linear = TrainPresets.config("Hopper-v5", Map.of("--hidden", "none"));
    assertEquals(null, linear.targetReturn());
    assertEquals(false, linear.annealLearningRate());
  }

  @Test
  void halfCheetahAnnealsPcosStepOnly() {
    assertTrue(TrainPresets.config("HalfCheetah-v5", Map.of("--algo", "pco"))
        .annealLearningRate());
    assertEquals(false, TrainPresets.config("HalfCheetah-v5", Map.of()).annealLearningRate());
  }

  private static final double MLP_INIT_LOG_STD = -1.0;
}
