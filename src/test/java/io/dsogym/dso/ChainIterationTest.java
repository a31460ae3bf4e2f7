package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.Oracles.mask;
import static io.dsogym.dso.Oracles.mat;
import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import io.dsogym.oracle.TabularSurrogate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Chain Iteration (docs/math.md §4c) on tabular chains with exact surrogates. */
class ChainIterationTest {

  /**
   * lmdp7_first_exit's passive dynamics and state costs, with one free parameter per allowed
   * transition: U(y|x) = softmax_y(θ_xy + ln p(y|x)), L = q + KL(U‖p). Every row of U can be
   * chosen freely, so minimizing the surrogate is soft policy iteration (§4c).
   */
  static LmdpChain freeLmdp(JsonObject c) {
    double[][] p = mat(c, "passive");
    double[] start = new double[p.length];
    start[0] = 1;
    return LmdpChain.free(p, vec(c, "q"), mask(c, "terminal"), start);
  }

  @Test
  @DisplayName("free LMDP with KL cost: each Chain Iteration is soft policy iteration, J never increases, and it reaches V*")
  void reproducesSoftPolicyIteration() {
    JsonObject c = oracleCase("lmdp7_first_exit");
    LmdpChain lmdp = freeLmdp(c);
    double[][] passive = lmdp.passive();
    int n = passive.length;
    double[] theta = new double[lmdp.numParams()];
    ChainIteration ci = new ChainIteration(
        new ChainIteration.Options(60, 60, 1.0, 1e-12, Double.POSITIVE_INFINITY));
    double previousJ = Double.POSITIVE_INFINITY;
    for (int k = 0; k < 8; k++) {
      DiscountedSolution s = TabularExact.discounted(lmdp, 1.0, theta);
      assertTrue(s.objective <= previousJ + 1e-12, "iteration " + k + ": J rose from "
          + previousJ + " to " + s.objective);
      previousJ = s.objective;
      Surrogate sur = TabularSurrogate.exact(lmdp, s);
      ci.improve(sur, theta, 0);
      for (int x = 0; x < n; x++) {
        if (lmdp.isTerminal(x) || s.visitation[x] == 0) {
          continue;
        }
        // soft policy iteration: U_{k+1}(y|x) ∝ p(y|x) exp(-V_k(y))
        double[] expected = new double[n];
        double z = 0;
        for (int y = 0; y < n; y++) {
          expected[y] = passive[x][y] * Math.exp(-s.value[y]);
          z += expected[y];
        }
        for (int y = 0; y < n; y++) {
          expected[y] /= z;
        }
        close("iteration " + k + ": U_k+1(·|" + x + ")", expected, lmdp.controlled(x, theta),
            1e-6);
      }
    }
    double optimum = LmdpExact.optimal(lmdp).optimalValue[0];
    double finalJ = TabularExact.discounted(lmdp, 1.0, theta).objective;
    System.out.printf("[dso-ci] free LMDP: J after 8 Chain Iterations %.9f, V*(0) %.9f%n",
        finalJ, optimum);
    close("J after 8 iterations = V*(0)", optimum, finalJ, 1e-6);
  }

  @Test
  @DisplayName("oracle chain6: damped Newton Chain Iteration with a KL trust region lowers J every iteration")
  void trustRegionChainIterationDescends() {
    JsonObject c = oracleCase("chain6_discounted");
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    ChainIteration ci = new ChainIteration(new ChainIteration.Options(3, 20, 1.0, 1e-3, 0.01));
    double j0 = TabularExact.discounted(chain, gamma, theta).objective;
    double previous = j0;
    for (int k = 0; k < 10; k++) {
      DiscountedSolution s = TabularExact.discounted(chain, gamma, theta);
      Surrogate sur = TabularSurrogate.exact(chain, s);
      ci.improve(sur, theta, 0);
      assertTrue(sur.meanKl(theta) <= 0.01 + 1e-12, "the step stays in the KL trust region");
      double j = TabularExact.discounted(chain, gamma, theta).objective;
      assertTrue(j < previous, "iteration " + k + ": J went from " + previous + " to " + j);
      previous = j;
    }
    System.out.printf("[dso-ci] chain6: J %.6f -> %.6f in 10 trust-region Chain Iterations%n",
        j0, previous);
  }
}
