package io.dsogym.collect;

import io.dsogym.env.ParametricSystem;
import io.dsogym.env.ParametricSystem.ParamBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The system part of θ (docs/math.md §10): θ = (θ_π, φ_T), where φ_T are the entries of the
 * chosen blocks of a {@link ParametricSystem}'s φ; the other blocks keep their values. It maps
 * θ to the full φ that every lane is set to, and scatters a full-φ gradient back into θ.
 */
public final class SystemParameters {
  private final int policyParams;
  private final double[] held;
  /** trained[k]: the φ index of θ[policyParams + k]. */
  private final int[] trained;
  private final List<String> names;

  /**
   * @param system one lane of the system (its current φ gives the held and initial values)
   * @param blocks the names of the blocks to train; each must be one of the system's
   */
  public SystemParameters(ParametricSystem system, List<String> blocks, int policyParams) {
    List<ParamBlock> all = system.systemParamBlocks();
    List<String> known = all.stream().map(ParamBlock::name).toList();
    for (String b : blocks) {
      if (!known.contains(b)) {
        throw new IllegalArgumentException("--system-params: expected block names among "
            + known + ", got '" + b + "'");
      }
    }
    if (blocks.isEmpty()) {
      throw new IllegalArgumentException("--system-params: expected at least one block among "
          + known + ", got none");
    }
    this.policyParams = policyParams;
    this.held = system.systemParams();
    List<Integer> indices = new ArrayList<>();
    List<String> entryNames = new ArrayList<>();
    int off = 0;
    for (ParamBlock b : all) {
      if (blocks.contains(b.name())) {
        for (int j = 0; j < b.size(); j++) {
          indices.add(off + j);
          entryNames.add(b.size() == 1 ? b.name() : b.name() + "[" + j + "]");
        }
      }
      off += b.size();
    }
    this.trained = indices.stream().mapToInt(Integer::intValue).toArray();
    this.names = List.copyOf(entryNames);
  }

  /** The number of trained system entries: θ has {@code policyParams + size()} values. */
  public int size() {
    return trained.length;
  }

  public int policyParams() {
    return policyParams;
  }

  /** The length of the full φ. */
  public int fullSize() {
    return held.length;
  }

  /** The name of each trained entry ("g", "A[3]"), in θ's order. */
  public List<String> names() {
    return names;
  }

  /** θ₀: the policy's initial θ followed by the trained entries' current values. */
  public double[] initialTheta(double[] policyTheta) {
    double[] theta = Arrays.copyOf(policyTheta, policyParams + trained.length);
    for (int k = 0; k < trained.length; k++) {
      theta[policyParams + k] = held[trained[k]];
    }
    return theta;
  }

  /** The full φ at θ: the held values, with the trained entries from θ. */
  public double[] phi(double[] theta) {
    double[] phi = held.clone();
    for (int k = 0; k < trained.length; k++) {
      phi[trained[k]] = theta[policyParams + k];
    }
    return phi;
  }

  /** The trained entries of θ, by name. */
  public double[] trainedValues(double[] theta) {
    return Arrays.copyOfRange(theta, policyParams, policyParams + trained.length);
  }

  /** Sets φ(θ) on every lane (each validates it before changing anything). */
  public void apply(double[] theta, List<? extends ParametricSystem> lanes) {
    double[] phi = phi(theta);
    for (ParametricSystem lane : lanes) {
      lane.setSystemParams(phi);
    }
  }

  /** grad[policyParams + k] += fullGrad[trained[k]]: a full-φ gradient into θ's system part. */
  public void scatter(double[] fullGrad, double[] grad) {
    for (int k = 0; k < trained.length; k++) {
      grad[policyParams + k] += fullGrad[trained[k]];
    }
  }
}
