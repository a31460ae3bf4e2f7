package io.dsogym.envs;

import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Spaces;
import io.dsogym.env.Value;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The single-env contract of every registered native env, made through the registry. */
class NativeEnvRegistrationTest {
  private static final EnvRegistry REGISTRY = EnvRegistry.defaults();

  @Test
  void defaultsRegisterTheFourNativeEnvs() {
    assertTrue(REGISTRY.ids().containsAll(
        List.of("CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0")), REGISTRY.ids()
        .toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"})
  void specComesFromDefaultKwargs(String id) {
    EnvSpec spec = REGISTRY.spec(id);
    assertEquals(id, spec.id());
    assertEquals("{}", spec.kwargsJson());
    assertTrue(spec.maxEpisodeSteps() > 0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"})
  void stepBeforeResetThrowsIllegalState(String id) {
    Env env = REGISTRY.make(id, Map.of());
    Value action = env.spec().actionSpace().sample(new SplittableRandom(0));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> env.step(action));
    assertEquals("step called before reset", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"})
  void unknownKwargAndOptionAreRejectedListingTheAcceptedKeys(String id) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> REGISTRY.make(id, Map.of("no_such_kwarg", 1.0)));
    assertTrue(e.getMessage().contains("'no_such_kwarg'")
        && e.getMessage().contains("accepted keys"), e.getMessage());
    Env env = REGISTRY.make(id, Map.of());
    e = assertThrows(IllegalArgumentException.class,
        () -> env.reset(0L, Map.of("no_such_option", 1.0)));
    assertTrue(e.getMessage().contains("'no_such_option'") && e.getMessage().contains("state"),
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"})
  void badActionIsRejectedAndTheEnvGoesOnAsIfItNeverCame(String id) {
    Env env = REGISTRY.make(id, Map.of());
    Env twin = REGISTRY.make(id, Map.of());
    env.reset(21L, Map.of());
    twin.reset(21L, Map.of());
    Space actions = env.spec().actionSpace();
    SplittableRandom rng = new SplittableRandom(4);
    for (int t = 0; t < 30; t++) {
      Value good = actions.sample(rng);
      Value wrongShape = Spaces.stack(List.of(good, good));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> env.step(wrongShape));
      assertTrue(e.getMessage().startsWith("action"), e.getMessage());
      Env.StepResult a = env.step(good);
      Env.StepResult b = twin.step(good);
      assertEquals(b.observation(), a.observation(), "step " + t);
      assertEquals(b.reward(), a.reward(), 0.0);
      assertEquals(b.terminated(), a.terminated());
      assertEquals(b.truncated(), a.truncated());
      if (a.terminated() || a.truncated()) {
        env.reset(null, Map.of());
        twin.reset(null, Map.of());
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"CartPole-v1", "Pendulum-v1", "LQR-v0", "TabularChain-v0"})
  void episodesEndByTerminationOrExactlyAtTheTimeLimit(String id) {
    Env env = REGISTRY.make(id, Map.of());
    int limit = env.spec().maxEpisodeSteps();
    SplittableRandom rng = new SplittableRandom(8);
    for (long episode = 0; episode < 3; episode++) {
      env.reset(episode, Map.of());
      for (int t = 1; t <= limit; t++) {
        Env.StepResult s = env.step(env.spec().actionSpace().sample(rng));
        env.spec().observationSpace().check(s.observation(), "observation");
        assertEquals(t == limit, s.truncated(), id + " episode " + episode + " step " + t);
        if (s.terminated()) {
          break;
        }
      }
    }
  }
}
