package io.dsogym.policy;

import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import java.util.List;

/** Builds the policy that fits an env's spaces. */
public final class Policies {
  private Policies() {}

  /**
   * A softmax policy for a Discrete action space, a diagonal Gaussian for a Box one, over the
   * observation as {@link ObservationEncoder} encodes it (a flattened Box, or a Discrete one-hot);
   * {@code hidden} empty gives the linear policy.
   */
  public static MlpPolicy forEnv(EnvSpec spec, List<Integer> hidden,
      PolicySpec.Activation activation, double initLogStd) {
    int obsDim;
    try {
      obsDim = ObservationEncoder.forSpace(spec.observationSpace()).dim();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(spec.id() + ": " + e.getMessage(), e);
    }
    Space action = spec.actionSpace();
    PolicySpec ps;
    if (action instanceof Space.Discrete d) {
      ps = new PolicySpec(PolicySpec.Head.CATEGORICAL, obsDim, hidden, activation,
          (int) d.n());
    } else if (action instanceof Space.Box box) {
      ps = new PolicySpec(PolicySpec.Head.GAUSSIAN, obsDim, hidden, activation, box.size());
    } else {
      throw new IllegalArgumentException("action space of " + spec.id() + ": expected Discrete "
          + "or Box, got " + action);
    }
    return new MlpPolicy(ps, initLogStd);
  }
}
