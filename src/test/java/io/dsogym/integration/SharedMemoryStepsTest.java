package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Shared-memory steps (capability shm_steps) with real Python workers: which commands take the
 * region, a reply too big for it, and no region file left in /dev/shm while a worker serves,
 * after it is killed, or after the server stops. The contract itself runs over both transports
 * in the PythonWorker*ContractTests, failures in {@link WorkerFailureTest}.
 */
class SharedMemoryStepsTest {
  private static final String FAULTY = "dsogym.testing_envs:Faulty-v0";
  private LiveServer live;

  @BeforeEach
  void startServer() throws IOException {
    live = LiveServer.start("dsogym.testing_envs");
  }

  @AfterEach
  void stopServer() throws Exception {
    if (live != null) {
      live.close();
    }
    assertEquals(List.of(), regionFiles(), "region files left after the server stopped");
  }

  @Test
  void resetsAndStepsTakeTheRegionAndNoFileOutlivesTheOffer() throws Exception {
    Process process = live.launch("CartPole-v1", 4, null, "shm");
    RemoteVectorEnv env = live.await("CartPole-v1", process);
    assertEquals("grpc", env.transport(), "before the first reset nothing is offered");
    env.reset(new long[] {0});
    assertEquals("shm", env.transport(), env.sharedMemoryOutcome());
    assertEquals("accepted", env.sharedMemoryOutcome());
    for (int t = 0; t < 20; t++) {
      env.stepWithoutInfo(actions(4, t));
    }
    assertEquals(21, env.sharedMemoryCommands(), "the reset and 20 steps");
    assertEquals(List.of(), regionFiles(), "region files while the worker serves");

    process.destroyForcibly();
    assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the worker died");
    assertThrows(EnvUnavailableException.class, () -> env.step(actions(4, 0)),
        "a step on a killed worker fails instead of waiting on the region");
    assertEquals(List.of(), regionFiles(), "region files after the worker was killed");
  }

  @Test
  void packedStepsCarryExactlyWhatTheStreamCarries() throws Exception {
    // two CartPole workers from the same seed and actions: one answers through the region
    // (its steps without info packed), the other on the stream
    RemoteVectorEnv packed = live.launchAndAwait("CartPole-v1", 4, null, "packed");
    RemoteVectorEnv stream = live.launchAndAwait("CartPole-v1", 4, null, "stream");
    stream.setSharedMemorySteps(false);
    packed.reset(new long[] {3});
    stream.reset(new long[] {3});
    assertEquals("shm", packed.transport(), packed.sharedMemoryOutcome());
    assertEquals("grpc", stream.transport());
    int ended = 0;
    for (int t = 0; t < 60; t++) {
      // each lane pushes one way all along: its episodes end every 10 steps or so
      VectorEnv.VectorStepResult a = packed.stepWithoutInfo(actions(4, 0));
      VectorEnv.VectorStepResult b = stream.stepWithoutInfo(actions(4, 0));
      Tensor obs = (Tensor) a.observations();
      assertEquals(DType.FLOAT32, obs.dtype());
      assertArrayEquals(((Tensor) b.observations()).shape(), obs.shape());
      assertArrayEquals(((Tensor) b.observations()).toDoubleArray(), obs.toDoubleArray());
      assertArrayEquals(b.rewards(), a.rewards());
      assertArrayEquals(b.terminated(), a.terminated());
      assertArrayEquals(b.truncated(), a.truncated());
      assertArrayEquals(b.endedLanes(), a.endedLanes());
      if (a.endedLanes().length > 0) {
        ended += a.endedLanes().length;
        assertArrayEquals(((Tensor) b.finalObservations()).shape(),
            ((Tensor) a.finalObservations()).shape());
        assertArrayEquals(((Tensor) b.finalObservations()).toDoubleArray(),
            ((Tensor) a.finalObservations()).toDoubleArray());
      }
    }
    assertTrue(ended > 0, "no episode ended: the final observations went untested");
    assertEquals(60, packed.packedStepReplies(), "every step without info came packed");
    packed.step(actions(4, 0));  // with info: a message
    assertEquals(60, packed.packedStepReplies());
    assertEquals(62, packed.sharedMemoryCommands(), "the reset and 61 steps");
  }

  @Test
  void aReplyTooBigForTheRegionComesOnTheStream() throws Exception {
    // 300 kB of info per lane and step: more than the reply area (observations and 64 KiB)
    RemoteVectorEnv env = live.launchAndAwait(FAULTY, 2, "{\"info_bytes\": 300000}", "big");
    VectorEnv.VectorResetResult reset = env.reset(new long[] {0});
    assertEquals("shm", env.transport(), env.sharedMemoryOutcome());
    assertEquals(0, env.sharedMemoryCommands(), "the reset's reply took the stream");
    assertEquals(300_000 * 2, reset.info().get("payload").size());

    VectorEnv.VectorStepResult withInfo = env.step(actions(2, 0));
    Tensor payload = withInfo.info().get("payload");
    assertEquals(1.0, payload.getDouble(payload.size() - 1), "the step count in the payload");
    assertEquals(0, env.sharedMemoryCommands(), "the step's reply took the stream");

    VectorEnv.VectorStepResult small = env.stepWithoutInfo(actions(2, 1));
    assertEquals(2.0, ((Tensor) small.observations()).getDouble(0), "the step count");
    assertEquals(1, env.sharedMemoryCommands(), "a reply without info fits the region");
  }

  /** This JVM's region files in /dev/shm. */
  private static List<Path> regionFiles() throws IOException {
    String prefix = "dsogym-" + ProcessHandle.current().pid() + "-";
    try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
      return files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
    }
  }

  /** Discrete actions for n lanes, alternating with t. */
  private static Value actions(int n, int t) {
    Tensor a = Tensor.zeros(DType.INT64, new int[] {n});
    for (int i = 0; i < n; i++) {
      a.setDouble(i, (i + t) % 2);
    }
    return a;
  }
}
