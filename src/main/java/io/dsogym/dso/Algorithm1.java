package io.dsogym.dso;

import io.dsogym.chain.TrajectoryBatch;

/**
 * The backward accumulation of Algorithm 1 (docs/math.md §3d, §3f) on a {@link TrajectoryBatch}.
 *
 * <p>The gradient estimate is ĝ = Σ_i w_i s_i + Σ_i κ_i ∇θL(x_i), where s_i is the score of
 * transition i (the exact chain score grad ln P(x'|x), or the sampled-action score
 * grad ln pi(a|x) of §2c route 2) and κ_i = γ^t (or 1, see {@link Options#discountStates}).
 * This class computes the scalar weights w_i; the caller multiplies them into the scores
 * (for a policy: {@code Policy.accumulateScore(..., w_i, grad)}), so no score is ever stored.
 *
 * <p>Per lane, backwards (§3d, with b(x_t) = (V̂(x_t) - L_t)/γ so that
 * γ(Ĝ_{t+1} - b(x_t)) = Ĝ_t - V̂(x_t)):
 * <pre>
 *   Ĝ_t = L_t + γ [ (1-λ) V̂(x_{t+1}) + λ Ĝ_{t+1} ]      (λ = 1: the Monte-Carlo return)
 *   Ĝ_{t+1} := 0 if x_{t+1} is terminal (V = 0),  V̂(x_{t+1}) if truncated or cut by the batch
 *   w_t = κ_t (Ĝ_t - V̂(x_t))
 * </pre>
 * With V̂ ≡ 0 there is no baseline and w_t = κ_t G_t, the plain estimator of Theorem 1.
 * Average cost (§3b): γ = 1, L_t is replaced by L_t - Ĵ and V̂ is the differential value.
 * Finite horizon (§3c): γ = 1 and the caller evaluates the time-indexed V̂_t at each
 * transition's episode step. The targets Ĝ_t are returned too: V̂ is refit on them.
 */
public final class Algorithm1 {
  private Algorithm1() {}

  public enum Setting { DISCOUNTED, AVERAGE_COST, FINITE_HORIZON }

  /**
   * @param gamma discount (forced to 1 for AVERAGE_COST; must be 1 for FINITE_HORIZON, whose
   *     objective is the undiscounted total, docs/math.md §1c, §3c)
   * @param lambda mixes Monte-Carlo returns (1) and one-step critic targets (0)
   * @param discountStates weight state x_t by γ^t as the theorem does (true), or by 1 as
   *     PPO/A2C practice does (docs/math.md §4d discusses the choice)
   */
  public record Options(Setting setting, double gamma, double lambda, boolean discountStates) {
    public Options {
      if (setting == Setting.FINITE_HORIZON && gamma != 1.0) {
        throw new IllegalArgumentException("gamma: expected 1 for FINITE_HORIZON (the "
            + "undiscounted total, docs/math.md §1c), got " + gamma);
      }
      if (!(gamma > 0 && gamma <= 1)) {
        throw new IllegalArgumentException("gamma: expected 0 < gamma <= 1, got " + gamma);
      }
      if (!(lambda >= 0 && lambda <= 1)) {
        throw new IllegalArgumentException("lambda: expected 0 <= lambda <= 1, got " + lambda);
      }
    }

    public static Options discounted(double gamma) {
      return new Options(Setting.DISCOUNTED, gamma, 1.0, true);
    }

    /** The γ the accumulation uses: γ when DISCOUNTED, 1 in the other two settings. */
    double effectiveGamma() {
      return setting == Setting.DISCOUNTED ? gamma : 1.0;
    }
  }

  /**
   * Computes the score weights and the value targets of every transition.
   *
   * @param value V̂(x_i) per transition
   * @param nextValue V̂(x'_i) per transition (ignored where x'_i is terminal)
   * @param averageCost Ĵ, subtracted from every cost in the AVERAGE_COST setting, else ignored
   * @param weights out: w_i
   * @param targets out: Ĝ_i (the λ-return; the regression target of V̂)
   */
  public static void weights(TrajectoryBatch b, double[] value, double[] nextValue,
      Options o, double averageCost, double[] weights, double[] targets) {
    double gamma = o.effectiveGamma();
    double shift = o.setting == Setting.AVERAGE_COST ? averageCost : 0.0;
    int lanes = b.numLanes;
    for (int lane = 0; lane < lanes; lane++) {
      double nextReturn = 0;
      for (int k = b.stepsPerLane - 1; k >= 0; k--) {
        int i = TrajectoryBatch.index(k, lane, lanes);
        boolean cut = k == b.stepsPerLane - 1 && !b.ended(i);
        double continuation;
        if (b.terminated[i]) {
          continuation = 0;
        } else if (b.truncated[i] || cut) {
          continuation = nextValue[i];
        } else {
          continuation = (1 - o.lambda) * nextValue[i] + o.lambda * nextReturn;
        }
        double g = (b.cost[i] - shift) + gamma * continuation;
        targets[i] = g;
        double kappa = o.discountStates ? Math.pow(gamma, b.episodeStep[i]) : 1.0;
        weights[i] = kappa * (g - value[i]);
        nextReturn = g;
      }
    }
  }

  /** κ_i: the weight of state x_i's cost-gradient term ∇θL(x_i). */
  public static double stateWeight(TrajectoryBatch b, int i, Options o) {
    return o.discountStates ? Math.pow(o.effectiveGamma(), b.episodeStep[i]) : 1.0;
  }
}
