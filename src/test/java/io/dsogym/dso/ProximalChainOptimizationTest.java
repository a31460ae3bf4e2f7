package io.dsogym.dso;

import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.TabularExact;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.chain.StateCost;
import io.dsogym.oracle.TabularSurrogate;
import io.dsogym.optim.Adam;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** PCO (docs/math.md §4d): the pessimistic clip for costs, KL early stopping, descent. */
class ProximalChainOptimizationTest {

  /** One transition of a 2-action softmax policy at x = (1): logits θ·x, action 0. */
  private static Surrogate oneTransition(double advantage) {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 1, List.of(),
        PolicySpec.Activation.TANH, 2), 0);
    return new Surrogate(new PolicyTransitions(policy, new double[] {1}, new double[] {0}, 1),
        StateCost.NONE, new double[4], new double[] {advantage}, new double[] {1});
  }

  @Test
  @DisplayName("the clip is pessimistic for costs: it stops only the moves that look good")
  void clipIsPessimisticForCosts() {
    // θ = (w0, w1, b0, b1); raising w0 makes action 0 likelier: r = 2 p0 > 1 + ε here.
    double[] theta = {1.5, 0, 0, 0};
    double[] grad = new double[4];
    double[] clipped = new double[1];
    int[] all = {0};
    // A > 0 (the transition cost more than V̂ expected): r above 1 + ε is penalized, unclipped
    oneTransition(1.0).gradient(theta, all, 0, 1, 0.2, grad, clipped);
    assertEquals(0.0, clipped[0], "a costlier-than-expected transition is never clipped upward");
    assertTrue(grad[0] > 0, "its gradient keeps pushing r down: " + grad[0]);
    // A < 0 (cheaper than expected): r above 1 + ε gains nothing more, the gradient is zero
    oneTransition(-1.0).gradient(theta, all, 0, 1, 0.2, grad, clipped);
    assertEquals(1.0, clipped[0]);
    assertEquals(0.0, grad[0], 0.0, "the clipped term is constant in θ");
    // inside the clip range both are the plain ratio term
    oneTransition(-1.0).gradient(new double[] {0.1, 0, 0, 0}, all, 0, 1, 0.2, grad, clipped);
    assertEquals(0.0, clipped[0]);
    assertTrue(grad[0] < 0);
  }

  @Test
  @DisplayName("epochs stop early once the sampled chain KL passes 1.5 × target-kl, and J decreases")
  void earlyStopOnKlAndDescent() {
    JsonObject c = oracleCase("chain6_discounted");
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    DiscountedSolution s = TabularExact.discounted(chain, gamma, theta);
    Surrogate sur = TabularSurrogate.exact(chain, s);

    double[] early = theta.clone();
    PolicyImprovement.Report r = new ProximalChainOptimization(new Adam(0.05),
        new ProximalChainOptimization.Options(20, 4, 0.2, false, 1e-4, 0), 1)
        .improve(sur, early, 0);
    assertTrue(r.detail().startsWith("epochs 1,"), "stopped after the first epoch: " + r);
    assertTrue(r.kl() > 1.5e-4, "because its KL " + r.kl() + " passed 1.5 × 1e-4");

    double[] full = theta.clone();
    PolicyImprovement.Report all = new ProximalChainOptimization(new Adam(0.05),
        new ProximalChainOptimization.Options(20, 4, 0.2, false, 0, 0), 1).improve(sur, full, 0);
    assertTrue(all.detail().startsWith("epochs 20,"), all.toString());
    assertTrue(all.surrogateChange() < 0, "20 epochs lowered the surrogate: " + all);
    double after = TabularExact.discounted(chain, gamma, full).objective;
    assertTrue(after < s.objective, "J went from " + s.objective + " to " + after);
  }
}
