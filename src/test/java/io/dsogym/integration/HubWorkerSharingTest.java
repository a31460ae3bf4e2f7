package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerPool;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hub's rule with a real Python worker: a worker serves one client session (a lease) or one
 * trainer ({@code awaitWorker}) at a time, each taking it from the same idle set, and a lease
 * gives it back fresh in the server's mode.
 */
class HubWorkerSharingTest {
  private LiveServer live;

  @AfterEach
  void stop() throws InterruptedException {
    if (live != null) {
      live.close();
    }
  }

  @Test
  void aLeasedWorkerIsNotHandedToATrainerNorATrainersToASession() throws Exception {
    live = LiveServer.start();
    live.awaitConnected("CartPole-v1", live.launch("CartPole-v1", 2, null, "hub-sharing"));
    WorkerPool pool = live.server().pool();
    Value pushLeft = Tensor.ofInt64(new int[] {2}, new long[] {0, 0});

    VectorEnv session = pool.lease("CartPole-v1", 2, AutoresetMode.NEXT_STEP);
    session.reset(new long[] {0});
    EnvUnavailableException none = assertThrows(EnvUnavailableException.class,
        () -> pool.awaitWorker("CartPole-v1", Duration.ofMillis(300)));
    assertTrue(none.getMessage().contains("in use"), none.getMessage());
    VectorEnv second = pool.lease("CartPole-v1", 2, AutoresetMode.NEXT_STEP);
    StatusRuntimeException busy = assertThrows(StatusRuntimeException.class,
        () -> second.reset(new long[] {0}));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode());
    assertTrue(busy.getStatus().getDescription().contains("all 1 worker(s) serving it are busy"),
        busy.getStatus().getDescription());
    second.close();

    session.close();  // the worker comes back: fresh lanes, in the server's mode
    RemoteVectorEnv trainer = pool.awaitWorker("CartPole-v1", Duration.ofSeconds(10));
    assertEquals(AutoresetMode.SAME_STEP, trainer.autoresetMode());
    IllegalStateException fresh = assertThrows(IllegalStateException.class,
        () -> trainer.step(pushLeft));
    assertTrue(fresh.getMessage().contains("before reset"), fresh.getMessage());
    trainer.reset(new long[] {0});
    trainer.step(pushLeft);

    VectorEnv third = pool.lease("CartPole-v1", 2, AutoresetMode.DISABLED);
    StatusRuntimeException taken = assertThrows(StatusRuntimeException.class,
        () -> third.reset(new long[] {0}));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, taken.getStatus().getCode());
    third.close();

    IllegalArgumentException lanes = assertThrows(IllegalArgumentException.class,
        () -> pool.lease("CartPole-v1", 5, AutoresetMode.NEXT_STEP));
    assertTrue(lanes.getMessage().contains("make.num_envs") && lanes.getMessage().contains("[2]"),
        lanes.getMessage());

    trainer.close();  // the worker leaves the pool; nothing serves CartPole-v1 now
    assertNull(pool.lease("CartPole-v1", 2, AutoresetMode.NEXT_STEP));
  }

  @Test
  void aWorkerGivenBackWhileTheServerDrainsIsClosedNotPooled() throws Exception {
    live = LiveServer.start();
    Process worker = live.launch("CartPole-v1", 1, null, "hub-drain");
    live.awaitConnected("CartPole-v1", worker);
    WorkerPool pool = live.server().pool();
    VectorEnv session = pool.lease("CartPole-v1", 1, AutoresetMode.DISABLED);
    session.reset(new long[] {0});
    pool.closeIdle("dsogym server shutting down");  // what a draining server does first
    session.close();
    assertTrue(pool.workers().isEmpty(), "workers left in the pool: " + pool.workers());
    assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "the worker did not exit after its close");
    assertEquals(0, worker.exitValue());
  }
}
