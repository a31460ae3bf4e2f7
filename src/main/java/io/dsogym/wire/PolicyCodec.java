package io.dsogym.wire;

import io.dsogym.env.Tensor;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.PolicySpec;
import io.dsogym.wire.v1.ObservationNormalization;
import io.dsogym.wire.v1.PolicyParams;

/**
 * A policy's function as the Python worker's numpy sampler rebuilds it (wire
 * {@code PolicyParams}): the {@link PolicySpec}, theta in its layout, and the normalizer's
 * frozen statistics.
 */
public final class PolicyCodec {
  private PolicyCodec() {}

  /**
   * @param normalizer null or disabled: the policy sees raw observations
   * @throws IllegalArgumentException when theta's length is not {@code spec.numParams()}, or
   *     the normalizer's dimension is not {@code spec.obsDim()}
   */
  public static PolicyParams encode(PolicySpec spec, double[] theta,
      ObservationNormalizer normalizer, long version) {
    if (theta.length != spec.numParams()) {
      throw new IllegalArgumentException("theta: expected " + spec.numParams()
          + " values for " + spec + ", got " + theta.length);
    }
    PolicyParams.Builder b = PolicyParams.newBuilder()
        .setHead(spec.head() == PolicySpec.Head.CATEGORICAL ? PolicyParams.Head.CATEGORICAL
            : PolicyParams.Head.GAUSSIAN)
        .setObsDim(spec.obsDim())
        .addAllHidden(spec.hidden())
        .setActivation(activation(spec.activation()))
        .setOutputs(spec.outputs())
        .setTheta(TensorCodec.encode(Tensor.ofFloat64(new int[] {theta.length}, theta)))
        .setVersion(version);
    if (normalizer != null && normalizer.enabled()) {
      if (normalizer.dim() != spec.obsDim()) {
        throw new IllegalArgumentException("normalizer dim: expected " + spec.obsDim()
            + " (the policy's obsDim), got " + normalizer.dim());
      }
      int d = normalizer.dim();
      b.setNormalizer(ObservationNormalization.newBuilder()
          .setEnabled(true)
          .setMean(TensorCodec.encode(Tensor.ofFloat64(new int[] {d}, normalizer.mean())))
          .setVar(TensorCodec.encode(Tensor.ofFloat64(new int[] {d}, normalizer.var())))
          .setClip(normalizer.clip()));
    }
    return b.build();
  }

  private static PolicyParams.Activation activation(PolicySpec.Activation a) {
    if (a == null) {
      return PolicyParams.Activation.ACTIVATION_UNSPECIFIED;  // fine without hidden layers
    }
    return a == PolicySpec.Activation.TANH ? PolicyParams.Activation.TANH
        : PolicyParams.Activation.RELU;
  }
}
