package io.dsogym.experiment;

import io.dsogym.chain.TrajectoryBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Pendulum transitions recorded from an env (lane-major: transition {@code lane * steps + k} is
 * lane's k-th), read as (theta, theta_dot) from the (cos, sin, theta_dot) observations, with the
 * torque applied and whether the episode ended there.
 */
final class SysidData {
  private final int lanes;
  private final int steps;
  private final double[] theta;
  private final double[] thetaDot;
  private final double[] nextTheta;
  private final double[] nextThetaDot;
  private final double[] action;
  private final boolean[] ended;

  SysidData(List<TrajectoryBatch> batches) {
    TrajectoryBatch first = batches.get(0);
    if (first.obsDim != 3 || first.actionDim != 1) {
      throw new IllegalArgumentException("batches: expected Pendulum transitions (3 observation "
          + "values, 1 action), got " + first.obsDim + " and " + first.actionDim);
    }
    this.lanes = first.numLanes;
    int total = 0;
    for (TrajectoryBatch b : batches) {
      total += b.stepsPerLane;
    }
    this.steps = total;
    int n = lanes * steps;
    theta = new double[n];
    thetaDot = new double[n];
    nextTheta = new double[n];
    nextThetaDot = new double[n];
    action = new double[n];
    ended = new boolean[n];
    int k0 = 0;
    for (TrajectoryBatch b : batches) {
      for (int k = 0; k < b.stepsPerLane; k++) {
        for (int lane = 0; lane < lanes; lane++) {
          int src = TrajectoryBatch.index(k, lane, lanes);
          int dst = lane * steps + k0 + k;
          theta[dst] = Math.atan2(b.obs[3 * src + 1], b.obs[3 * src]);
          thetaDot[dst] = b.obs[3 * src + 2];
          nextTheta[dst] = Math.atan2(b.nextObs[3 * src + 1], b.nextObs[3 * src]);
          nextThetaDot[dst] = b.nextObs[3 * src + 2];
          action[dst] = b.actions[src];
          ended[dst] = b.ended(src);
        }
      }
      k0 += b.stepsPerLane;
    }
  }

  int size() {
    return lanes * steps;
  }

  double theta(int i) {
    return theta[i];
  }

  double thetaDot(int i) {
    return thetaDot[i];
  }

  double nextThetaDot(int i) {
    return nextThetaDot[i];
  }

  double action(int i) {
    return action[i];
  }

  /** The index of a segment's t-th state: segments never cross an episode's end. */
  int at(int start, int t) {
    return start + t;
  }

  /**
   * The transitions from which H steps follow in the same episode and lane, the (H+1)-th
   * state included: the starts of multi-step segments.
   */
  int[] segmentStarts(int horizon) {
    List<Integer> out = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      for (int k = 0; k + horizon < steps; k++) {
        int i = lane * steps + k;
        boolean whole = true;
        for (int t = 0; t < horizon && whole; t++) {
          whole = !ended[i + t];
        }
        if (whole) {
          out.add(i);
        }
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }
}
