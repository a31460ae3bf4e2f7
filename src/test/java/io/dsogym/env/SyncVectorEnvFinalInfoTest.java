package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.envs.EnvRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SAME_STEP infos as Gymnasium's SyncVectorEnv: final info from the ended step, info from the reset. */
class SyncVectorEnvFinalInfoTest {

  /** CartPole whose steps report "step" and whose resets report "reset". */
  private static Env withInfo(Env env) {
    return new Env() {
      @Override
      public EnvSpec spec() {
        return env.spec();
      }

      @Override
      public ResetResult reset(Long seed, Map<String, Object> options) {
        return new ResetResult(env.reset(seed, options).observation(),
            Map.of("reset", Tensor.scalarInt64(1)));
      }

      @Override
      public StepResult step(Value action) {
        StepResult s = env.step(action);
        return new StepResult(s.observation(), s.reward(), s.terminated(), s.truncated(),
            Map.of("step", Tensor.scalarInt64(7)));
      }
    };
  }

  @Test
  void endedLanesReportTheirLastStepsInfoAsFinalInfoAndTheResetsAsInfo() {
    EnvRegistry registry = EnvRegistry.defaults();
    SyncVectorEnv envs = new SyncVectorEnv(List.of(
        withInfo(registry.make("CartPole-v1", Map.of())),
        withInfo(registry.make("CartPole-v1", Map.of()))), AutoresetMode.SAME_STEP);
    envs.reset(new long[] {0, 1});
    Tensor right = Tensor.ofInt64(new int[] {2}, new long[] {1, 1});
    VectorEnv.VectorStepResult r;
    do {
      r = envs.step(right);
      if (r.endedLanes().length == 0) {
        assertTrue(r.finalInfo().isEmpty(), r.finalInfo().toString());
      }
    } while (r.endedLanes().length == 0);
    for (int lane = 0; lane < 2; lane++) {
      boolean ended = lane == r.endedLanes()[0] || lane == r.endedLanes()[r.endedLanes().length - 1];
      assertEquals(ended, r.finalInfo().get("_step").getBoolean(lane));
      assertEquals(ended ? 7 : 0, r.finalInfo().get("step").getLong(lane));
      assertEquals(!ended, r.info().get("_step").getBoolean(lane));
      assertEquals(ended, r.info().containsKey("_reset") && r.info().get("_reset").getBoolean(lane));
    }
    assertFalse(r.finalInfo().containsKey("_reset"));
    envs.close();
  }
}
