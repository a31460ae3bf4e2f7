package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Spaces;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerInfo;
import io.dsogym.remote.WorkerPool;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.env.EnvUnavailableException;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What happens on the Java side when a real Python worker fails: its env raises (the error
 * arrives typed, the worker keeps serving), or the process is SIGKILLed (requests fail fast
 * naming the worker, the pool hears of it). Other workers on the same server never notice,
 * and the server keeps accepting workers. Each test runs with the failing worker's resets and
 * steps over the stream ("grpc") and over shared memory ("shm": capability shm_steps).
 */
class WorkerFailureTest {
  private static final String FAULTY = "dsogym.testing_envs:Faulty-v0";
  /** How the pool and errors know the faulty env: the id without its module. */
  private static final String FAULTY_ID = "Faulty-v0";
  /** "Fails fast": far below the 60 s default request timeout. */
  private static final long FAST_MS = 10_000;

  private LiveServer live;
  private final List<String[]> disconnects = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    live = LiveServer.start("dsogym.testing_envs");
    live.server().pool().addListener(new WorkerPool.Listener() {
      @Override
      public void onDisconnected(WorkerInfo worker, Throwable cause) {
        disconnects.add(new String[] {worker.id(), worker.name(),
            cause == null ? null : String.valueOf(cause)});
      }
    });
  }

  @AfterEach
  void stopServer() throws Exception {
    if (live != null) {
      live.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shm", "grpc"})
  void anExceptionRaisedInThePythonEnvArrivesAsRemoteEnvExceptionAndOtherWorkersKeepServing(
      String transport) throws Exception {
    RemoteVectorEnv bystander = live.launchAndAwait("CartPole-v1", 2, null, "bystander");
    RemoteVectorEnv faulty = live.launchAndAwait(FAULTY, 2, "{\"raise_at_step\": 3}", "faulty");
    assertEquals(FAULTY_ID, faulty.spec().id());
    SplittableRandom rng = new SplittableRandom(1);

    bystander.reset(new long[] {0});
    steps(bystander, 5, rng);

    use(faulty, transport);
    faulty.reset(new long[] {0});
    assertEquals(transport, faulty.transport(), faulty.sharedMemoryOutcome());
    steps(faulty, 2, rng);  // steps 1 and 2 are fine
    RemoteEnvException e = assertThrows(RemoteEnvException.class,
        () -> faulty.step(actions(faulty, rng)), "step 3 raises ValueError in Python");
    assertEquals("ValueError", e.exceptionType(), e.toString());
    assertEquals(Status.Code.INTERNAL, e.code(), e.toString());
    assertTrue(e.getMessage().contains("boom at step 3"), e.getMessage());
    assertTrue(e.remoteMessage().contains("boom at step 3"), e.remoteMessage());
    assertTrue(e.traceback().contains("ValueError: boom at step 3")
        && e.traceback().contains("testing_envs.py"), "traceback: " + e.traceback());

    // The worker survived its env's error: a reset brings it back into service.
    assertTrue(faulty.isAlive(), "the faulty worker is still connected");
    Tensor obs = (Tensor) faulty.reset(new long[] {0}).observations();
    assertEquals(0.0, obs.getDouble(0), "step count after the reset");
    VectorEnv.VectorStepResult s = faulty.step(actions(faulty, rng));
    assertEquals(1.0, ((Tensor) s.observations()).getDouble(0), "step count after one step");
    assertEquals(transport.equals("shm") ? 6 : 0, faulty.sharedMemoryCommands(),
        "resets and steps answered through shared memory, the error included");

    // The other worker saw nothing.
    steps(bystander, 5, rng);
    assertTrue(bystander.isAlive());
    assertTrue(disconnects.isEmpty(), "no worker left the pool: " + describe(disconnects));

    // The server still accepts workers.
    RemoteVectorEnv newcomer = live.launchAndAwait("CartPole-v1", 1, null, "newcomer");
    newcomer.reset(new long[] {3});
    steps(newcomer, 5, rng);
    assertEquals(3, live.server().pool().workers().size(), "connected workers");
  }

  @ParameterizedTest
  @ValueSource(strings = {"shm", "grpc"})
  void aWorkerKilledWhileAStepIsPendingFailsThatStepFastNamingTheWorker(String transport)
      throws Exception {
    // The victim's env stalls for 60 s in its 3rd step: that step is in flight at the kill.
    Process victimProcess = live.launch(FAULTY, 2,
        "{\"stall_at_step\": 3, \"stall_seconds\": 60}", "victim");
    RemoteVectorEnv victim = live.await(FAULTY_ID, victimProcess);
    RemoteVectorEnv bystander = live.launchAndAwait("CartPole-v1", 2, null, "bystander");
    SplittableRandom rng = new SplittableRandom(2);
    bystander.reset(new long[] {0});
    use(victim, transport);
    victim.reset(new long[] {0});
    assertEquals(transport, victim.transport(), victim.sharedMemoryOutcome());
    steps(victim, 2, rng);

    Value stalled = actions(victim, rng);
    CompletableFuture<VectorEnv.VectorStepResult> pending =
        CompletableFuture.supplyAsync(() -> victim.step(stalled));
    Thread.sleep(500);
    assertFalse(pending.isDone(), "the stalled step is still pending before the kill");
    steps(bystander, 3, rng);  // another worker serves while the victim's step is pending

    long killedAt = System.nanoTime();
    victimProcess.destroyForcibly();
    assertTrue(victimProcess.waitFor(5, TimeUnit.SECONDS), "the victim process died");
    Throwable thrown;
    try {
      pending.get(FAST_MS, TimeUnit.MILLISECONDS);
      thrown = null;
    } catch (ExecutionException e) {
      thrown = e.getCause();
    } catch (TimeoutException e) {
      fail("the pending step did not fail within " + FAST_MS + " ms of the worker's death");
      return;
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    assertNotNull(thrown, "the pending step returned a result from a dead worker");
    EnvUnavailableException e = assertInstanceOf(EnvUnavailableException.class, thrown,
        "the pending step's failure");
    assertNamesTheWorker(e, victim);
    assertTrue(elapsedMs < FAST_MS, "failed after " + elapsedMs + " ms");

    assertVictimGoneAndOthersServe(victim, bystander, rng);
  }

  @ParameterizedTest
  @ValueSource(strings = {"shm", "grpc"})
  void aWorkerKilledMidEpisodeFailsTheNextStepFastAndAReplacementCanServe(String transport)
      throws Exception {
    Process victimProcess = live.launch("CartPole-v1", 2, null, "victim");
    RemoteVectorEnv victim = live.await("CartPole-v1", victimProcess);
    RemoteVectorEnv bystander = live.launchAndAwait("Pendulum-v1", 2, null, "bystander");
    SplittableRandom rng = new SplittableRandom(3);
    use(victim, transport);
    victim.reset(new long[] {0});
    assertEquals(transport, victim.transport(), victim.sharedMemoryOutcome());
    bystander.reset(new long[] {0});
    steps(victim, 3, rng);  // mid-episode: CartPole does not end in 3 steps
    steps(bystander, 3, rng);

    victimProcess.destroyForcibly();
    assertTrue(victimProcess.waitFor(5, TimeUnit.SECONDS), "the victim process died");
    long start = System.nanoTime();
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> victim.step(actions(victim, rng)), "a step on a killed worker");
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(elapsedMs < FAST_MS, "the step failed only after " + elapsedMs + " ms");
    assertNamesTheWorker(e, victim);

    assertVictimGoneAndOthersServe(victim, bystander, rng);

    // A replacement takes the victim's place and serves.
    RemoteVectorEnv replacement = live.launchAndAwait("CartPole-v1", 2, null, "replacement");
    assertEquals("replacement", replacement.info().name());
    replacement.reset(new long[] {0});
    steps(replacement, 5, rng);
  }

  // ---------------------------------------------------------------------------------------

  private void assertVictimGoneAndOthersServe(RemoteVectorEnv victim, RemoteVectorEnv bystander,
      SplittableRandom rng) throws InterruptedException {
    // The pool's listener heard of the disconnect (with a cause), and of nothing else.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (disconnects.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, disconnects.size(), "disconnect notifications: " + describe(disconnects));
    String[] d = disconnects.get(0);
    assertEquals(victim.workerId(), d[0], "the disconnected worker's id");
    assertEquals("victim", d[1], "the disconnected worker's name");
    assertNotNull(d[2], "a disconnect carries its cause (null means a normal close)");
    assertFalse(victim.isAlive(), "the victim's env is no longer alive");
    assertFalse(live.server().pool().workers().stream()
        .anyMatch(w -> w.id().equals(victim.workerId())), "the victim left the pool");
    // Later calls keep failing the same way, and closing the dead env is harmless.
    assertNamesTheWorker(assertThrows(EnvUnavailableException.class,
        () -> victim.reset(new long[] {0})), victim);
    victim.close();

    steps(bystander, 5, rng);
    assertTrue(bystander.isAlive(), "the bystander is unaffected");
  }

  /** Resets and steps over shared memory ("shm") or the stream ("grpc"). */
  private static void use(RemoteVectorEnv env, String transport) {
    env.setSharedMemorySteps(transport.equals("shm"));
  }

  private static void assertNamesTheWorker(EnvUnavailableException e, RemoteVectorEnv w) {
    String m = e.getMessage();
    assertTrue(m.contains(w.workerId()) && m.contains("victim"),
        "the message names the worker (" + w.workerId() + ", victim): " + m);
  }

  private static void steps(VectorEnv env, int count, SplittableRandom rng) {
    for (int t = 0; t < count; t++) {
      VectorEnv.VectorStepResult s = env.step(actions(env, rng));
      env.spec().observationSpace().checkBatch(s.observations(), env.numEnvs(),
          env.spec().id() + " step observations");
    }
  }

  private static Value actions(VectorEnv env, SplittableRandom rng) {
    EnvSpec spec = env.spec();
    Space space = spec.actionSpace();
    List<Value> lanes = new ArrayList<>();
    for (int i = 0; i < env.numEnvs(); i++) {
      lanes.add(space.sample(rng));
    }
    return Spaces.stack(lanes);
  }

  private static String describe(List<String[]> events) {
    List<String> out = new ArrayList<>();
    for (String[] e : events) {
      out.add(String.join("/", e[0], e[1], String.valueOf(e[2])));
    }
    return out.toString();
  }
}
