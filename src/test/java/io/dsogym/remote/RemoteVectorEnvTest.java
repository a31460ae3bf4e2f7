package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Tensor;
import io.dsogym.env.VectorEnv;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.GrpcCleanupExtension;
import io.dsogym.server.ServerOptions;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.wire.v1.Error;
import io.dsogym.wire.v1.WorkerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RemoteVectorEnvTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private DsoGymServer server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    startServer(ServerOptions.defaults().withWorkerRequestTimeout(Duration.ofSeconds(5)));
  }

  private void startServer(ServerOptions options) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name), options)
        .start());
    channel = grpc.register(InProcessChannelBuilder.forName(name).build());
  }

  static VectorEnv cartPoles(int n, AutoresetMode mode) {
    List<Env> lanes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lanes.add(new CartPole());
    }
    return new SyncVectorEnv(lanes, mode);
  }

  private FakeWorker cartPoleWorker(String name, int n) {
    EnvSpec spec = new CartPole().spec();
    return new FakeWorker(name, spec, n, mode -> cartPoles(n, mode));
  }

  private static Tensor actions(long... a) {
    return Tensor.ofInt64(new int[] {a.length}, a);
  }

  @Test
  void unseededLanesGoOnlyToWorkersThatDeclareThem() throws Exception {
    // an older worker ignores ResetRequest.unseeded_lanes and would seed those lanes with 0
    FakeWorker old = cartPoleWorker("old", 3).connect(channel);
    try (RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5))) {
      int before = old.commands.get();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> remote.reset(new long[] {1, 0, 2}, new boolean[] {false, true, false}, Map.of(),
              null));
      assertTrue(e.getMessage().contains("seeds: unseeded lanes need a worker with the "
          + "capability unseeded_lanes"), e.getMessage());
      assertEquals(before, old.commands.get(), "the refused reset never reached the worker");
      remote.reset(new long[] {1, 2, 3}, null, Map.of(), null);  // fully seeded: as before
    }
    FakeWorker current = cartPoleWorker("current", 3);
    current.connect(channel, current.defaultHello().addCapabilities(RemoteVectorEnv.UNSEEDED_LANES));
    try (RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
        VectorEnv local = cartPoles(3, AutoresetMode.SAME_STEP)) {
      Tensor seeded = (Tensor) local.reset(new long[] {1, 7, 2}).observations();
      Tensor got = (Tensor) remote.reset(new long[] {1, 0, 2}, new boolean[] {false, true, false},
          Map.of(), null).observations();
      for (int lane : new int[] {0, 2}) {
        for (int j = 0; j < 4; j++) {
          assertEquals(seeded.getDouble(lane * 4 + j), got.getDouble(lane * 4 + j), 0.0);
        }
      }
    }
  }

  @Test
  void resetAndStepRoundTripMatchesTheLocalEnv() throws Exception {
    FakeWorker worker = cartPoleWorker("py:1", 2).connect(channel);
    try (RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
        VectorEnv local = cartPoles(2, AutoresetMode.SAME_STEP)) {
      assertEquals("py:1", remote.info().name());
      assertEquals(AutoresetMode.SAME_STEP, remote.autoresetMode(), "the server's default");
      assertEquals(io.dsogym.wire.v1.AutoresetMode.SAME_STEP,
          worker.hello().get(5, TimeUnit.SECONDS).getAutoresetMode());
      assertEquals(2, remote.numEnvs());
      assertEquals(new Space.Discrete(2), remote.spec().actionSpace());
      assertEquals(1, server.pool().workers().size());
      assertEquals(local.reset(new long[] {3}).observations(),
          remote.reset(new long[] {3}).observations());
      for (int t = 0; t < 40; t++) {
        Tensor a = actions(t % 2, (t / 3) % 2);
        VectorEnv.VectorStepResult l = local.step(a);
        VectorEnv.VectorStepResult r = remote.step(a);
        assertEquals(l.observations(), r.observations(), "step " + t);
        assertArrayEquals(l.rewards(), r.rewards());
        assertArrayEquals(l.terminated(), r.terminated());
        assertArrayEquals(l.endedLanes(), r.endedLanes());
        assertEquals(l.finalObservations(), r.finalObservations());
      }
    }
    assertEquals(Status.OK, worker.ended.get(5, TimeUnit.SECONDS), "closed by the server");
    assertTrue(server.pool().workers().isEmpty(), "a closed worker leaves the pool");
  }

  @Test
  void stepWithoutInfoAsksTheWorkerToOmitInfoAndStepKeepsIt() throws Exception {
    FakeWorker worker = cartPoleWorker("py:1", 2).connect(channel);
    List<Boolean> omitFlags = new CopyOnWriteArrayList<>();
    worker.behave((c, w) -> {
      if (c.hasStep()) {
        omitFlags.add(c.getStep().getOmitInfo());
      }
      return null;  // then the fake answers as usual
    });
    try (RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
        VectorEnv local = cartPoles(2, AutoresetMode.SAME_STEP)) {
      local.reset(new long[] {5});
      remote.reset(new long[] {5});
      for (int t = 0; t < 4; t++) {
        Tensor a = actions(t % 2, 1);
        VectorEnv.VectorStepResult l = local.step(a);
        VectorEnv.VectorStepResult r = t % 2 == 0 ? remote.stepWithoutInfo(a) : remote.step(a);
        assertEquals(l.observations(), r.observations(), "step " + t);
        assertArrayEquals(l.rewards(), r.rewards());
      }
    }
    assertEquals(List.of(true, false, true, false), omitFlags);
  }

  @Test
  void badInputNeverReachesTheWorker() throws Exception {
    FakeWorker worker = cartPoleWorker("py:1", 2).connect(channel);
    try (RemoteVectorEnv remote = server.pool().awaitWorker(null, Duration.ofSeconds(5))) {
      IllegalStateException before = assertThrows(IllegalStateException.class,
          () -> remote.step(actions(0, 1)));
      assertTrue(before.getMessage().contains("before reset"), before.getMessage());
      remote.reset(new long[] {1});
      int sent = worker.commands.get();
      for (Tensor bad : List.of(actions(0, 2), actions(0), actions(0, 1, 1))) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> remote.step(bad));
        assertTrue(e.getMessage().startsWith("actions"), e.getMessage());
      }
      assertThrows(IllegalArgumentException.class,
          () -> remote.step(Tensor.ofFloat64(new int[] {2}, new double[] {0, Double.NaN})));
      assertThrows(IllegalArgumentException.class, () -> remote.reset(new long[] {1, 2, 3}));
      assertEquals(sent, worker.commands.get(), "no bad command was sent");
      remote.step(actions(0, 1));
      assertEquals(sent + 1, worker.commands.get());
    }
  }

  @Test
  void workerErrorsArriveWithTheRemoteTypeAndMessage() throws Exception {
    FakeWorker worker = cartPoleWorker("py:1", 1).connect(channel);
    worker.behave((c, w) -> c.hasStep() && w.commands.get() == 2
        ? WorkerMessage.newBuilder().setError(Error.newBuilder().setCode(13)
            .setExceptionType("ValueError").setMessage("ValueError raised by env: bad physics")
            .setTraceback("Traceback (most recent call last):\n  ...")).build()
        : null);
    try (RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5))) {
      remote.reset(new long[] {0});
      RemoteEnvException e = assertThrows(RemoteEnvException.class,
          () -> remote.step(actions(1)));
      assertEquals(Status.Code.INTERNAL, e.code());
      assertEquals("ValueError", e.exceptionType());
      assertTrue(e.getMessage().contains("bad physics"), e.getMessage());
      assertTrue(e.getMessage().contains(remote.workerId()), e.getMessage());
      assertTrue(e.traceback().startsWith("Traceback"));
      // the worker keeps serving
      assertEquals(1, remote.step(actions(1)).rewards().length);
    }
  }

  @Test
  void aWorkerThatDiesMidRequestFailsThatRequestWhileAnotherKeepsServing() throws Exception {
    List<String> gone = new CopyOnWriteArrayList<>();
    server.pool().addListener(new WorkerPool.Listener() {
      @Override
      public void onDisconnected(WorkerInfo w, Throwable cause) {
        gone.add(w.id() + (cause == null ? " closed" : " lost"));
      }
    });
    FakeWorker dying = cartPoleWorker("dying", 2).connect(channel);
    RemoteVectorEnv a = server.pool().awaitWorker(null, Duration.ofSeconds(5));
    FakeWorker healthy = cartPoleWorker("healthy", 2).connect(channel);
    RemoteVectorEnv b = server.pool().awaitWorker(null, Duration.ofSeconds(5));
    assertEquals("dying", a.info().name());
    dying.behave((c, w) -> {
      if (c.hasStep() && w.commands.get() == 3) {
        w.disconnect();
        return FakeWorker.NO_REPLY;
      }
      return null;
    });
    a.reset(new long[] {0});
    b.reset(new long[] {0});
    a.step(actions(0, 0));
    EnvUnavailableException e = assertTimeoutPreemptively(Duration.ofSeconds(3),
        () -> assertThrows(EnvUnavailableException.class, () -> a.step(actions(1, 1))));
    assertEquals(EnvUnavailableException.Reason.UNAVAILABLE, e.reason());
    assertTrue(e.getMessage().contains(a.workerId()) && e.getMessage().contains("dying")
        && e.getMessage().contains("step"), e.getMessage());
    assertFalse(a.isAlive());
    // later calls fail at once too
    assertThrows(EnvUnavailableException.class, () -> a.step(actions(1, 1)));
    for (int t = 0; t < 20; t++) {
      b.step(actions(t % 2, 1 - t % 2));
    }
    assertEquals(List.of(b.info()), server.pool().workers());
    assertEquals(List.of(a.workerId() + " lost"), gone);
    a.close();
    b.close();
    assertEquals(Status.OK, healthy.ended.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aSilentWorkerTimesOutNamingWorkerAndCommand() throws Exception {
    FakeWorker worker = cartPoleWorker("silent", 1).connect(channel);
    worker.behave((c, w) -> c.hasStep() ? FakeWorker.NO_REPLY : null);
    RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
    remote.setTimeout(Duration.ofMillis(200));
    remote.reset(new long[] {0});
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> remote.step(actions(0)));
    assertEquals(EnvUnavailableException.Reason.DEADLINE_EXCEEDED, e.reason());
    assertTrue(e.getMessage().contains(remote.workerId()) && e.getMessage().contains("step"),
        e.getMessage());
    worker.behave((c, w) -> null);
    assertEquals(1, remote.step(actions(0)).rewards().length, "a late worker serves again");
    remote.close();
  }

  @Test
  void awaitWorkerTimesOutListingTheConnectedWorkers() throws Exception {
    cartPoleWorker("other", 1).connect(channel).hello().get(5, TimeUnit.SECONDS);
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> server.pool().awaitWorker("Pendulum-v1", Duration.ofMillis(100)));
    assertTrue(e.getMessage().contains("Pendulum-v1") && e.getMessage().contains("other"),
        e.getMessage());
  }

  @Test
  void helloChecksRefuseBadWorkersAndTheServerGoesOn() throws Exception {
    FakeWorker oldVersion = cartPoleWorker("old", 1);
    oldVersion.connect(channel, oldVersion.defaultHello().setProtocolVersionValue(7));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> oldVersion.hello().get(5, TimeUnit.SECONDS));
    Status s = Status.fromThrowable(e.getCause());
    assertEquals(Status.Code.FAILED_PRECONDITION, s.getCode());
    assertTrue(s.getDescription().contains("protocol_version"), s.getDescription());

    FakeWorker noLanes = cartPoleWorker("none", 1);
    noLanes.connect(channel, noLanes.defaultHello().setNumEnvs(0));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(assertThrows(
        ExecutionException.class, () -> noLanes.hello().get(5, TimeUnit.SECONDS)).getCause())
        .getCode());

    FakeWorker nextOnly = cartPoleWorker("next-only", 1);
    nextOnly.connect(channel, nextOnly.defaultHello().clearAutoresetModes()
        .addAutoresetModes(io.dsogym.wire.v1.AutoresetMode.NEXT_STEP));
    Status modes = Status.fromThrowable(assertThrows(ExecutionException.class,
        () -> nextOnly.hello().get(5, TimeUnit.SECONDS)).getCause());
    assertEquals(Status.Code.FAILED_PRECONDITION, modes.getCode());
    assertTrue(modes.getDescription().contains("SAME_STEP"), modes.getDescription());

    FakeWorker badSpec = cartPoleWorker("bad-spec", 1);
    badSpec.connect(channel, badSpec.defaultHello().setEnv(badSpec.defaultHello().getEnv()
        .toBuilder().clearActionSpace()));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(assertThrows(
        ExecutionException.class, () -> badSpec.hello().get(5, TimeUnit.SECONDS)).getCause())
        .getCode());

    assertTrue(server.pool().workers().isEmpty());
    cartPoleWorker("good", 1).connect(channel);
    try (RemoteVectorEnv ok = server.pool().awaitWorker(null, Duration.ofSeconds(5))) {
      ok.reset(new long[] {0});
      ok.step(actions(1));
    }
  }

  @Test
  void workersNeedTheAuthTokenWhenTheServerHasOne() throws Exception {
    startServer(ServerOptions.defaults().withAuthToken("tok-of-16-characters"));
    FakeWorker anonymous = cartPoleWorker("anon", 1).connect(channel);
    assertEquals(Status.Code.UNAUTHENTICATED, Status.fromThrowable(assertThrows(
        ExecutionException.class, () -> anonymous.hello().get(5, TimeUnit.SECONDS)).getCause())
        .getCode());
    FakeWorker withToken = cartPoleWorker("tok", 1);
    withToken.connect(channel, withToken.defaultHello().setAuthToken("tok-of-16-characters"));
    withToken.hello().get(5, TimeUnit.SECONDS);
    try (RemoteVectorEnv ok = server.pool().awaitWorker(null, Duration.ofSeconds(5))) {
      ok.reset(new long[] {0}, Map.of(), null);
    }
  }
}
