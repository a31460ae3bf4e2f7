package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.wire.TensorCodec;
import io.dsogym.wire.v1.Trajectory;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Decoding a worker's trajectory checks every shape, dtype and the ended indices. */
class WorkerTrajectoryTest {
  private static final Space.Box OBS = Space.Box.uniform(DType.FLOAT32, new int[] {2}, -10, 10);
  private static final int K = 3;
  private static final int N = 2;

  /** K=3, N=2: lane 1 terminates at step 0 (index 1), lane 0 is truncated at step 2 (4). */
  private static Trajectory.Builder valid() {
    float[] obs = new float[K * N * 2];
    for (int i = 0; i < obs.length; i++) {
      obs[i] = i;
    }
    boolean[] terminated = new boolean[K * N];
    boolean[] truncated = new boolean[K * N];
    terminated[1] = true;
    truncated[4] = true;
    return Trajectory.newBuilder()
        .setStepsPerLane(K)
        .setObservations(TensorCodec.encode(Tensor.ofFloat32(new int[] {K, N, 2}, obs)))
        .setActions(TensorCodec.encode(Tensor.ofFloat64(new int[] {K, N, 1},
            new double[] {0, 1, 1, 0, 0, 1})))
        .setRewards(TensorCodec.encode(Tensor.ofFloat64(new int[] {K, N},
            new double[] {1, 2, 3, 4, 5, 6})))
        .setTerminated(TensorCodec.encode(Tensor.ofBool(new int[] {K, N}, terminated)))
        .setTruncated(TensorCodec.encode(Tensor.ofBool(new int[] {K, N}, truncated)))
        .addEndedIndices(1).addEndedIndices(4)
        .setFinalObservations(TensorCodec.encode(Tensor.ofFloat32(new int[] {2, 2},
            new float[] {-1, -2, -3, -4})))
        .setLastObservations(TensorCodec.encode(Tensor.ofFloat32(new int[] {N, 2},
            new float[] {7, 8, 9, 10})))
        .setPolicyVersion(4)
        .setEnvSeconds(0.5);
  }

  private static WorkerTrajectory decode(Trajectory.Builder t) {
    return WorkerTrajectory.decode(t.build(), OBS, N, K, 1, "trajectory");
  }

  @Test
  void aValidTrajectoryDecodes() {
    WorkerTrajectory t = decode(valid());
    assertEquals(6, t.size());
    assertArrayEquals(new int[] {1, 4}, t.endedIndices());
    assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, t.rewards());
    assertTrue(t.terminated()[1] && t.truncated()[4]);
    assertEquals(-3.0, t.finalObservations().getDouble(2));
    assertEquals(10.0, t.lastObservations().getDouble(3));
    assertEquals(4, t.policyVersion());
    assertEquals(0.5, t.envSeconds());
  }

  private static void rejects(UnaryOperator<Trajectory.Builder> change, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> decode(change.apply(valid())));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void malformedTrajectoriesAreRejectedNamingTheField() {
    rejects(t -> t.setStepsPerLane(4), "trajectory.steps_per_lane: expected 3");
    rejects(t -> t.setObservations(TensorCodec.encode(Tensor.zeros(DType.FLOAT64, K, N, 2))),
        "trajectory.observations: expected float32[3, 2, 2], got float64[3, 2, 2]");
    rejects(t -> t.setActions(TensorCodec.encode(Tensor.zeros(DType.FLOAT64, K, N, 2))),
        "trajectory.actions: expected float64[3, 2, 1]");
    rejects(t -> t.setRewards(TensorCodec.encode(Tensor.zeros(DType.FLOAT64, K * N))),
        "trajectory.rewards: expected float64[3, 2]");
    rejects(t -> t.clearEndedIndices().addEndedIndices(1),
        "trajectory.ended_indices: expected exactly the indices k*N+lane whose step ended "
            + "(first missing: 4)");
    rejects(t -> t.addEndedIndices(5), "trajectory.ended_indices: expected 2 indices");
    rejects(t -> t.setFinalObservations(TensorCodec.encode(Tensor.zeros(DType.FLOAT32, 1, 2))),
        "trajectory.final_observations: expected float32[2, 2]");
    rejects(t -> t.clearLastObservations(), "trajectory.last_observations");
  }
}
