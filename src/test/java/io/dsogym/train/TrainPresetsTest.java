package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Presets keyed on the policy: an MLP preset applies when the hidden sizes in effect are not empty. */
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
    TrainConfig linear = TrainPresets.config("Walker2d-v5", Map.of("--algo", "natural"));
    assertEquals(16 * 256, mlp.numEnvs() * mlp.stepsPerLane());
    assertEquals(0.1, mlp.surrogate().maxKl());
    assertEquals(3479.0, mlp.targetReturn());
    assertEquals(1_000_000L, mlp.maxSteps());
    // the generic defaults for a linear policy, as before
    assertEquals(8 * 128, linear.numEnvs() * linear.stepsPerLane());
    assertEquals(null, linear.targetReturn());
  }

  private static final double MLP_INIT_LOG_STD = -1.0;
}
