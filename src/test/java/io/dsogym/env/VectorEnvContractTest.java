package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link VectorEnv} owes its users, whatever runs the lanes: subclass it,
 * implement {@link #makeVectorEnv(int)} and override the hooks that describe the env.
 *
 * <p>Nothing here knows a particular env: actions are sampled from the action space with a
 * seeded generator, bad actions are derived from the action space, and twins are run one after
 * the other (never two instances at once), so a subclass backed by a remote worker needs only
 * one worker. Each test takes at most a few hundred batched steps.
 */
public abstract class VectorEnvContractTest {

  /** A new, never reset vector env with {@code numEnvs} lanes; the test closes it. */
  protected abstract VectorEnv makeVectorEnv(int numEnvs);

  /** Lanes per vector env. */
  protected int numEnvs() {
    return 3;
  }

  /** Whether reset draws a random initial state (false: seeds cannot change it). */
  protected boolean hasRandomInitialState() {
    return true;
  }

  /**
   * Envs whose episodes terminate early under random actions rather than at the time limit, and
   * the batched steps the time-limit test takes to see a few of them end.
   */
  private static final Map<String, Integer> TERMINATES_EARLY = Map.of("CartPole-v1", 120);

  /**
   * Whether episodes run to the time limit under random actions often enough that one of the
   * lanes is truncated within {@link #timeLimitTestSteps}; the test then checks it happens.
   */
  protected boolean reachesTimeLimitUnderRandomActions(EnvSpec spec) {
    return !TERMINATES_EARLY.containsKey(spec.id());
  }

  /** Whether some episode terminates (before the time limit) under random actions. */
  protected boolean terminatesUnderRandomActions(EnvSpec spec) {
    return TERMINATES_EARLY.containsKey(spec.id());
  }

  /** Batched steps in the determinism, observation and bad-action tests. */
  protected int stepsPerTest() {
    return 60;
  }

  /** Batched steps in the time-limit test: enough to pass the limit once. */
  protected int timeLimitTestSteps(EnvSpec spec) {
    Integer early = TERMINATES_EARLY.get(spec.id());
    if (early != null) {
      return early;
    }
    int limit = spec.maxEpisodeSteps();
    return limit > 0 ? Math.min(limit + 5, 700) : 200;
  }

  /**
   * Whether the lanes clip Box actions into the action space ({@link Env#clipsActions}, as
   * Gymnasium's Pendulum does): finite out-of-bounds actions are then valid, and act as the
   * clipped ones.
   */
  protected boolean clipsActions() {
    return false;
  }

  /** Seed of the action sampler; subclasses may vary it. */
  protected long actionSeed() {
    return 20240611L;
  }

  // ---------------------------------------------------------------------------------------

  @Test
  public void sameSeedsAndActionsReproduceTheTrajectory() {
    List<String> first = record(env -> trajectory(env, 7L, stepsPerTest(), null));
    List<String> second = record(env -> trajectory(env, 7L, stepsPerTest(), null));
    assertSameTrajectory(first, second, "a second run with the same seeds");
  }

  @Test
  public void differentSeedsGiveDifferentInitialObservations() {
    assumeTrue(hasRandomInitialState(), "the env's initial state is not random");
    try (VectorEnv env = makeVectorEnv(numEnvs())) {
      Value a = env.reset(new long[] {1}).observations();
      Value b = env.reset(new long[] {1000}).observations();
      for (int i = 0; i < numEnvs(); i++) {
        assertNotEquals(Spaces.lane(a, i), Spaces.lane(b, i), "lane " + i + " seeds 1 vs 1000");
      }
      // One seed s seeds lane i with s + i: the lanes differ from one another.
      for (int i = 1; i < numEnvs(); i++) {
        assertNotEquals(Spaces.lane(a, 0), Spaces.lane(a, i), "lanes 0 and " + i);
      }
      Value again = env.reset(new long[] {1}).observations();
      assertEquals(a, again, "reset with the same seed again");
    }
  }

  @Test
  public void observationsStayInsideTheObservationSpace() {
    try (VectorEnv env = makeVectorEnv(numEnvs())) {
      EnvSpec spec = env.spec();
      Space obsSpace = spec.observationSpace();
      int n = env.numEnvs();
      assertEquals(numEnvs(), n, "numEnvs");
      VectorEnv.VectorResetResult reset = env.reset(new long[] {3});
      obsSpace.checkBatch(reset.observations(), n, "reset observations");
      SplittableRandom rng = new SplittableRandom(actionSeed());
      for (int t = 0; t < stepsPerTest(); t++) {
        VectorEnv.VectorStepResult s = env.step(sampleActions(spec, n, rng));
        obsSpace.checkBatch(s.observations(), n, "step " + t + " observations");
        assertEquals(n, s.rewards().length, "rewards length");
        assertEquals(n, s.terminated().length, "terminated length");
        assertEquals(n, s.truncated().length, "truncated length");
        for (double r : s.rewards()) {
          assertTrue(Double.isFinite(r), "step " + t + ": reward " + r + " is not finite");
        }
        if (s.endedLanes().length > 0) {
          assertNotNull(s.finalObservations(), "final observations of ended lanes");
          obsSpace.checkBatch(s.finalObservations(), s.endedLanes().length,
              "step " + t + " final observations");
        }
        if (env.autoresetMode() == AutoresetMode.DISABLED) {
          resetEndedLanes(env, s);
        }
      }
    }
  }

  @Test
  public void stepBeforeResetIsRejected() {
    try (VectorEnv env = makeVectorEnv(numEnvs())) {
      Value actions = sampleActions(env.spec(), env.numEnvs(), new SplittableRandom(1));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> env.step(actions));
      assertTrue(e.getMessage().contains("before reset"), e.getMessage());
    }
  }

  @Test
  public void badActionsAreRejectedNamingTheActionAndChangeNothing() {
    // Run A: valid steps with bad actions interleaved; each must be rejected.
    List<String> withBad = record(env -> trajectory(env, 11L, stepsPerTest(), (t, good) -> {
      if (t % 7 != 3) {
        return;
      }
      for (Value bad : badActions(env.spec(), env.numEnvs(), good, clipsActions())) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> env.step(bad), "step " + t + ": a bad action was accepted");
        assertTrue(e.getMessage().contains("action"),
            "the message names the action field: " + e.getMessage());
      }
    }));
    // Run B, a twin: the same valid steps only. The rejected steps must have left no trace.
    List<String> clean = record(env -> trajectory(env, 11L, stepsPerTest(), null));
    assertSameTrajectory(clean, withBad, "a run whose rejected bad actions left a trace");
  }

  /**
   * For envs with a bounded Box action space: their contract subclasses run it as a test (the
   * other envs have no bounds to push past, and their bad actions are checked above).
   */
  protected void outOfBoundsBoxActionsActAsClippedOnesOrAreRefused() {
    List<String> clipped = record(env -> {
      assertTrue(env.spec().actionSpace() instanceof Space.Box box
          && java.util.stream.IntStream.range(0, box.size()).anyMatch(box::isBounded),
          "the action space is a Box with bounds");
      return trajectory(env, 13L, stepsPerTest(),
          (t, good) -> moveToOrBeyondBounds(env.spec(), good, false));
    });
    // Lanes that clip take the pushed actions; the others refuse them, and the run goes on
    // with the actions at the bounds.
    List<String> pushed = record(env -> trajectory(env, 13L, stepsPerTest(), (t, good) -> {
      Tensor beyond = ((Tensor) good).copy();
      moveToOrBeyondBounds(env.spec(), beyond, true);
      if (clipsActions()) {
        moveToOrBeyondBounds(env.spec(), good, true);  // taken as they are
      } else {
        moveToOrBeyondBounds(env.spec(), good, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> env.step(beyond), "step " + t + ": an out-of-bounds action was accepted");
        assertTrue(e.getMessage().contains("expected a value in"), e.getMessage());
      }
    }));
    assertSameTrajectory(clipped, pushed, clipsActions() ? "a run with out-of-bounds actions"
        : "a run whose refused out-of-bounds actions left a trace");
  }

  /**
   * Moves every third Box element to its upper bound and every third (offset 1) to the lower
   * one, or, with {@code beyond}, well past them.
   */
  private static void moveToOrBeyondBounds(EnvSpec spec, Value actions, boolean beyond) {
    Space.Box box = (Space.Box) spec.actionSpace();
    Tensor t = (Tensor) actions;
    for (int i = 0; i < t.size(); i++) {
      int e = i % box.size();
      double hi = box.high()[e];
      double lo = box.low()[e];
      if (!box.isBounded(e)) {
        continue;
      }
      if (i % 3 == 0) {
        t.setDouble(i, beyond ? hi + 10 * (1 + Math.abs(hi)) : hi);
      } else if (i % 3 == 1) {
        t.setDouble(i, beyond ? lo - 10 * (1 + Math.abs(lo)) : lo);
      }
    }
    assertFalse(beyond && accepts(box, t, t.shape()[0], false),
        "the test moved no action out of bounds");
  }

  @Test
  public void endedEpisodesKeepTerminatedAndTruncatedApart() {
    try (VectorEnv env = makeVectorEnv(numEnvs())) {
      EnvSpec spec = env.spec();
      int limit = spec.maxEpisodeSteps();
      int n = env.numEnvs();
      AutoresetMode mode = env.autoresetMode();
      env.reset(new long[] {5});
      SplittableRandom rng = new SplittableRandom(actionSeed());
      int[] length = new int[n];
      boolean[] resetNext = new boolean[n];
      int truncatedAtLimit = 0;
      int terminatedEarly = 0;
      for (int t = 0; t < timeLimitTestSteps(spec); t++) {
        VectorEnv.VectorStepResult s = env.step(sampleActions(spec, n, rng));
        for (int i = 0; i < n; i++) {
          String where = "step " + t + " lane " + i;
          if (resetNext[i]) {
            // NEXT_STEP: this step only reset the lane.
            assertFalse(s.terminated()[i] || s.truncated()[i], where + ": reset step ended");
            assertEquals(0.0, s.rewards()[i], where + ": reset step reward");
            resetNext[i] = false;
            length[i] = 0;
            continue;
          }
          length[i]++;
          boolean ended = s.terminated()[i] || s.truncated()[i];
          if (limit > 0 && length[i] == limit) {
            assertTrue(s.truncated()[i], where + ": not truncated at the time limit " + limit);
          }
          if (s.truncated()[i]) {
            assertEquals(limit, length[i], where + ": truncated before the time limit");
            if (!s.terminated()[i]) {
              truncatedAtLimit++;
            }
          }
          if (s.terminated()[i] && length[i] < limit) {
            assertFalse(s.truncated()[i], where + ": terminated early but also truncated");
            terminatedEarly++;
          }
          if (ended) {
            if (mode == AutoresetMode.NEXT_STEP) {
              resetNext[i] = true;
            } else {
              length[i] = 0;
            }
          }
        }
        if (mode == AutoresetMode.SAME_STEP) {
          int[] expected = java.util.stream.IntStream.range(0, n)
              .filter(i -> s.terminated()[i] || s.truncated()[i]).toArray();
          assertArrayEquals(expected, s.endedLanes(), "step " + t + ": ended lanes");
        }
        if (mode == AutoresetMode.DISABLED) {
          resetEndedLanes(env, s);
        }
      }
      if (reachesTimeLimitUnderRandomActions(spec) && limit > 0) {
        assertTrue(truncatedAtLimit > 0, "no lane reached the time limit " + limit
            + " with truncated=true, terminated=false");
      }
      if (terminatesUnderRandomActions(spec)) {
        assertTrue(terminatedEarly > 0, "no episode terminated with terminated=true");
      }
    }
  }

  // ---------------------------------------------------------------------------------------

  /** Called at step t with the valid actions about to be taken, before taking them. */
  @FunctionalInterface
  protected interface BeforeStep {
    void accept(int t, Value goodActions);
  }

  private static void assertSameTrajectory(List<String> expected, List<String> actual,
      String what) {
    assertEquals(expected.size(), actual.size(), what + ": trajectory length");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i), actual.get(i), what + ": first difference at entry " + i);
    }
  }

  private List<String> record(Function<VectorEnv, List<String>> run) {
    try (VectorEnv env = makeVectorEnv(numEnvs())) {
      return run.apply(env);
    }
  }

  /** Reset with {@code seed}, then steps with sampled actions; everything observed as text. */
  private List<String> trajectory(VectorEnv env, long seed, int steps, BeforeStep hook) {
    List<String> out = new ArrayList<>();
    int n = env.numEnvs();
    out.add("reset " + describe(env.reset(new long[] {seed}).observations()));
    SplittableRandom rng = new SplittableRandom(actionSeed());
    for (int t = 0; t < steps; t++) {
      Value actions = sampleActions(env.spec(), n, rng);
      if (hook != null) {
        hook.accept(t, actions);
      }
      VectorEnv.VectorStepResult s = env.step(actions);
      out.add("step " + t + " obs " + describe(s.observations())
          + " rewards " + java.util.Arrays.toString(s.rewards())
          + " terminated " + java.util.Arrays.toString(s.terminated())
          + " truncated " + java.util.Arrays.toString(s.truncated())
          + " ended " + java.util.Arrays.toString(s.endedLanes())
          + " final " + (s.finalObservations() == null ? "-" : describe(s.finalObservations())));
      if (env.autoresetMode() == AutoresetMode.DISABLED) {
        resetEndedLanes(env, s);
      }
    }
    return out;
  }

  /** DISABLED mode: resets (unseeded) the lanes that ended, as a user would. */
  private static void resetEndedLanes(VectorEnv env, VectorEnv.VectorStepResult s) {
    boolean[] mask = new boolean[env.numEnvs()];
    boolean any = false;
    for (int i = 0; i < mask.length; i++) {
      mask[i] = s.terminated()[i] || s.truncated()[i];
      any |= mask[i];
    }
    if (any) {
      env.reset(null, Map.of(), mask);
    }
  }

  /** Full-precision text of a value (every element), for exact comparisons. */
  private static String describe(Value v) {
    if (v instanceof Tensor t) {
      StringBuilder sb = new StringBuilder(t.dtype().numpyName())
          .append(java.util.Arrays.toString(t.shape())).append('{');
      for (int i = 0; i < t.size(); i++) {
        sb.append(i == 0 ? "" : ",");
        sb.append(t.dtype().floating ? Double.toString(t.getDouble(i))
            : Long.toString(t.getLong(i)));
      }
      return sb.append('}').toString();
    }
    if (v instanceof DictValue d) {
      StringBuilder sb = new StringBuilder("{");
      d.entries().forEach((k, x) -> sb.append(k).append('=').append(describe(x)).append(';'));
      return sb.append('}').toString();
    }
    StringBuilder sb = new StringBuilder("(");
    for (Value x : ((TupleValue) v).items()) {
      sb.append(describe(x)).append(';');
    }
    return sb.append(')').toString();
  }

  /** N actions sampled from the action space, batched [N, ...]. */
  protected static Value sampleActions(EnvSpec spec, int n, SplittableRandom rng) {
    List<Value> lanes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      lanes.add(spec.actionSpace().sample(rng));
    }
    return Spaces.stack(lanes);
  }

  /**
   * Invalid batched actions derived from the valid batch {@code good}: one lane too many, one
   * lane missing its batch dimension, and lane 0 corrupted out of the space (out of range, or
   * NaN where the space is unbounded).
   */
  protected static List<Value> badActions(EnvSpec spec, int n, Value good) {
    return badActions(spec, n, good, false);
  }

  /**
   * As {@link #badActions(EnvSpec, int, Value)}; for lanes that {@code clip}, a bounded Box
   * lane is corrupted with NaN, since an out-of-bounds value is valid there.
   */
  protected static List<Value> badActions(EnvSpec spec, int n, Value good, boolean clip) {
    Space space = spec.actionSpace();
    List<Value> bad = new ArrayList<>();
    List<Value> tooMany = new ArrayList<>();
    for (int i = 0; i <= n; i++) {
      tooMany.add(Spaces.lane(good, Math.min(i, n - 1)));
    }
    bad.add(Spaces.stack(tooMany));
    bad.add(Spaces.lane(good, 0));
    bad.add(corruptLaneZero(space, good, clip));
    for (Value b : bad) {
      assertFalse(accepts(space, b, n, clip), "the test built a bad action the space accepts: "
          + describe(b));
    }
    return bad;
  }

  private static boolean accepts(Space space, Value batch, int n, boolean clip) {
    try {
      if (clip) {
        space.checkBatchClipped(batch, n, "probe");
      } else {
        space.checkBatch(batch, n, "probe");
      }
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static Value corruptLaneZero(Space space, Value batch, boolean clip) {
    if (space instanceof Space.Dict d) {
      Map<String, Value> entries = new LinkedHashMap<>(((DictValue) batch).entries());
      String key = d.spaces().keySet().iterator().next();
      entries.put(key, corruptLaneZero(d.spaces().get(key), entries.get(key), clip));
      return new DictValue(entries);
    }
    if (space instanceof Space.Tuple tup) {
      List<Value> items = new ArrayList<>(((TupleValue) batch).items());
      items.set(0, corruptLaneZero(tup.spaces().get(0), items.get(0), clip));
      return new TupleValue(items);
    }
    Tensor t = ((Tensor) batch).copy();
    if (space instanceof Space.Discrete d) {
      t.setLong(0, d.start() + d.n());
    } else if (space instanceof Space.MultiDiscrete md) {
      t.setLong(0, md.start()[0] + md.nvec()[0]);
    } else if (space instanceof Space.MultiBinary) {
      t.setLong(0, 2);
    } else {
      Space.Box box = (Space.Box) space;
      if (clip) {
        t.setDouble(0, Double.NaN);
      } else if (Double.isFinite(box.high()[0])) {
        t.setDouble(0, box.high()[0] + Math.max(1.0, Math.abs(box.high()[0])));
      } else if (Double.isFinite(box.low()[0])) {
        t.setDouble(0, box.low()[0] - Math.max(1.0, Math.abs(box.low()[0])));
      } else {
        t.setDouble(0, Double.NaN);
      }
    }
    return t;
  }
}
