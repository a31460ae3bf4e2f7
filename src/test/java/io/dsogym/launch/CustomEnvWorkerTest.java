package io.dsogym.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dsogym.env.VectorEnv;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A custom env named Gymnasium's way, {@code module:EnvId} (the README's recipe): the local
 * worker imports the module and declares EnvId, and the trainer's lanes must be matched to it.
 * Before, the pool compared the whole string and waited out its timeout ("the worker did not
 * connect"). Here a real worker serves {@code dsogym.wrappers:dsogym/NoisyPendulum-v1}, an env
 * the dsogym package registers.
 */
class CustomEnvWorkerTest {
  @Test
  void aModuleQualifiedEnvIdFindsItsWorker() throws Exception {
    try (EnvSource source = EnvSource.open("python", "dsogym.wrappers:dsogym/NoisyPendulum-v1",
        2, "{\"process_noise\": 0.01}", Duration.ofSeconds(30))) {
      VectorEnv env = source.env;
      assertEquals("dsogym/NoisyPendulum-v1", env.spec().id());
      assertEquals(2, env.numEnvs());
      VectorEnv more = source.openLanes(1, "eval");  // a second worker, matched the same way
      assertEquals(1, more.numEnvs());
    }
  }
}
