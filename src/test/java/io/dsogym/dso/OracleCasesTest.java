package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.Oracles.mat;
import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.t3;
import static io.dsogym.dso.Oracles.vec;

import com.google.gson.JsonObject;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LqrChain;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.AverageCostSolution;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.FiniteHorizonSolution;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.LqrExact;
import io.dsogym.oracle.SmdpExact;
import io.dsogym.oracle.TabularExact;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every number of every oracle case (scripts/make_oracles.py) reproduced by the Java exact
 * solvers.
 *
 * <p>Tolerances, entrywise |actual - expected| <= tol · max(1, |expected|) (absolute for small
 * numbers, relative for large ones such as the LQR's J = 60 and ∇J = 360):
 * <ul>
 *   <li>{@link #EXACT} = 1e-9 for numbers both sides compute by direct linear algebra. The
 *       systems are small and well conditioned (cond(I - γP) <= (1+γ)/(1-γ) = 39 at γ = 0.95;
 *       the LQR's 9×9 Kronecker system is similar), so both sides carry ~1e-13 round-off; 1e-9
 *       leaves four orders of margin and still catches any formula slip.
 *   <li>{@link #ORACLE_FD} = 1e-6 for the two oracle numbers that are themselves central finite
 *       differences with h = 1e-6 (hess_J, of the analytic gradient; grad_log_std, of J):
 *       their round-off is ~eps·|f|/h ≈ 1e-8 relative, truncation ~h² ≈ 1e-12.
 * </ul>
 */
class OracleCasesTest {
  static final double EXACT = 1e-9;
  static final double ORACLE_FD = 1e-6;

  @BeforeEach
  void resetWorst() {
    Oracles.worstScaledError.clear();
  }

  @AfterEach
  void reportWorst(TestInfo info) {
    StringBuilder worst = new StringBuilder();
    Oracles.worstScaledError.forEach((tol, err) ->
        worst.append(String.format(" %.2e (tol %.0e)", err, tol)));
    System.out.println("[dso-oracle] " + info.getDisplayName()
        + ": worst |diff|/max(1,|expected|) =" + worst);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"chain3_discounted", "chain6_discounted"})
  @DisplayName("discounted chains: P, L, ∇L, scores, V, ρ, J, ∇J, ∇V, surrogate Hessian, C, ∇²J, Fisher, S̄ and J(θ2)")
  void discountedCaseReproduced(String name) {
    JsonObject c = oracleCase(name);
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    DiscountedSolution s = TabularExact.discounted(chain, gamma, theta);
    close("P", mat(c, "P"), s.transition, EXACT);
    close("L", vec(c, "L"), s.cost, EXACT);
    close("dL", mat(c, "dL"), s.costGradient, EXACT);
    close("score", t3(c, "score"), s.score, EXACT);
    close("V", vec(c, "V"), s.value, EXACT);
    close("rho", vec(c, "rho"), s.visitation, EXACT);
    close("J", c.get("J").getAsDouble(), s.objective, EXACT);
    close("grad_J", vec(c, "grad_J"), s.gradient, EXACT);
    close("grad_V", mat(c, "grad_V"), s.valueGradient, EXACT);
    close("surrogate_hess", mat(c, "surrogate_hess"), s.surrogateHessian(), EXACT);
    close("C", mat(c, "C"), s.correction(), EXACT);
    close("fisher_chain", mat(c, "fisher_chain"), s.chainFisher(), EXACT);
    close("hess_J", mat(c, "hess_J"), s.hessian(), ORACLE_FD);
    double[] theta2 = vec(c, "theta2");
    double j2 = TabularExact.discounted(chain, gamma, theta2).objective;
    close("J_theta2", c.get("J_theta2").getAsDouble(), j2, EXACT);
    close("surrogate_S_bar_at_theta2", c.get("surrogate_S_bar_at_theta2").getAsDouble(),
        s.surrogateGain(theta2), EXACT);
    // the performance-difference identity (§4a) is exact: the oracle asserted it to 1e-10
    close("J(theta2) - J(theta)", j2 - s.objective, s.performanceDifference(theta2), EXACT);
  }

  @Test
  @DisplayName("chain5_average: P, L, stationary d, J, differential V (d·V = 0), ∇J")
  void averageCaseReproduced() {
    JsonObject c = oracleCase("chain5_average");
    AverageCostSolution s = TabularExact.averageCost(Oracles.softmaxChain(c), vec(c, "theta"));
    close("P", mat(c, "P"), s.transition, EXACT);
    close("L", vec(c, "L"), s.cost, EXACT);
    close("stationary", vec(c, "stationary"), s.stationary, EXACT);
    close("J", c.get("J").getAsDouble(), s.objective, EXACT);
    close("V_differential", vec(c, "V_differential"), s.differentialValue, EXACT);
    close("grad_J", vec(c, "grad_J"), s.gradient, EXACT);
  }

  @Test
  @DisplayName("chain4_finite_horizon: V_t for t = 0..T, J, ∇J")
  void finiteHorizonCaseReproduced() {
    JsonObject c = oracleCase("chain4_finite_horizon");
    FiniteHorizonSolution s = TabularExact.finiteHorizon(Oracles.finiteHorizonChain(c),
        vec(c, "theta"));
    close("V_t", mat(c, "V_t"), s.values, EXACT);
    close("J", c.get("J").getAsDouble(), s.objective, EXACT);
    close("grad_J", vec(c, "grad_J"), s.gradient, EXACT);
  }

  @Test
  @DisplayName("smdp6x3_discounted: π, P_chain, L_chain, V, Q, ρ, policy and chain scores, J, ∇J (both forms), both Fisher matrices")
  void smdpCaseReproduced() {
    JsonObject c = oracleCase("smdp6x3_discounted");
    MarginalPolicyChain mdp = Oracles.smdpChain(c, ScoreRoute.EXACT_MARGINAL);
    SmdpExact.Solution s = SmdpExact.solve(mdp, c.get("gamma").getAsDouble(), vec(c, "theta"));
    close("pi", mat(c, "pi"), s.policy, EXACT);
    close("P_chain", mat(c, "P_chain"), s.chain.transition, EXACT);
    close("L_chain", vec(c, "L_chain"), s.chain.cost, EXACT);
    close("V", vec(c, "V"), s.chain.value, EXACT);
    close("Q", mat(c, "Q"), s.actionValue, EXACT);
    close("rho", vec(c, "rho"), s.chain.visitation, EXACT);
    close("score_policy", t3(c, "score_policy"), s.policyScore, EXACT);
    close("score_chain", t3(c, "score_chain"), s.chainScore, EXACT);
    close("J", c.get("J").getAsDouble(), s.chain.objective, EXACT);
    close("grad_J (policy-gradient form)", vec(c, "grad_J"), s.policyGradient, EXACT);
    close("grad_J (Theorem 1 on the marginal chain)", vec(c, "grad_J"), s.chain.gradient, EXACT);
    close("fisher_chain", mat(c, "fisher_chain"), s.fisherChain, EXACT);
    close("fisher_policy", mat(c, "fisher_policy"), s.fisherPolicy, EXACT);
  }

  @Test
  @DisplayName("lmdp7_first_exit: z, V* = -ln z, u*, U, V of U, J, ∇J (§2g form and Theorem 1)")
  void lmdpCaseReproduced() {
    JsonObject c = oracleCase("lmdp7_first_exit");
    LmdpChain lmdp = Oracles.lmdpChain(c);
    LmdpExact.Optimum opt = LmdpExact.optimal(lmdp);
    close("z", vec(c, "z"), opt.desirability, EXACT);
    close("V_optimal", vec(c, "V_optimal"), opt.optimalValue, EXACT);
    close("u_optimal", mat(c, "u_optimal"), opt.optimalChain, EXACT);
    double[] theta = vec(c, "theta");
    DiscountedSolution s = TabularExact.discounted(lmdp, 1.0, theta);
    close("U", mat(c, "U"), s.transition, EXACT);
    close("V_U", vec(c, "V_U"), s.value, EXACT);
    close("J_from_state0", c.get("J_from_state0").getAsDouble(), s.objective, EXACT);
    close("grad_J_from_state0 (§2g form)", vec(c, "grad_J_from_state0"),
        LmdpExact.gradient(lmdp, 1.0, theta), EXACT);
    close("grad_J_from_state0 (Theorem 1)", vec(c, "grad_J_from_state0"), s.gradient, EXACT);
    // V of the optimal chain is V* (docs/math.md §5): evaluate u* as a chain through U = u* rows
    close("V(u*) = -ln z", opt.optimalValue, valueOfChain(lmdp, opt.optimalChain), EXACT);
  }

  @Test
  @DisplayName("lqr3x2_discounted: J, ∇_K J, ∇_log_std J in closed form")
  void lqrCaseReproduced() {
    JsonObject c = oracleCase("lqr3x2_discounted");
    LqrChain lqr = Oracles.lqrChain(c, ScoreRoute.SAMPLED_ACTION);
    LqrExact.Solution s = LqrExact.solve(lqr, c.get("gamma").getAsDouble(), Oracles.lqrTheta(c));
    close("J", c.get("J").getAsDouble(), s.objective, EXACT);
    close("grad_K", mat(c, "grad_K"), s.gradientK, EXACT);
    close("grad_log_std", vec(c, "grad_log_std"), s.gradientLogStd, ORACLE_FD);
  }

  /** V of a fixed first-exit chain with the LMDP cost q + KL(u‖p): V = L + u V off 𝒯. */
  private static double[] valueOfChain(LmdpChain lmdp, double[][] u) {
    int n = lmdp.numStates();
    double[][] p = lmdp.passive();
    double[] q = lmdp.stateCosts();
    double[] l = q.clone();
    double[][] a = new double[n][n];
    for (int x = 0; x < n; x++) {
      a[x][x] = 1;
      if (lmdp.isTerminal(x)) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        if (u[x][y] > 0) {
          l[x] += u[x][y] * Math.log(u[x][y] / p[x][y]);
          a[x][y] -= u[x][y];
        }
      }
    }
    return new LUDecomposition(new Array2DRowRealMatrix(a)).getSolver()
        .solve(new ArrayRealVector(l)).toArray();
  }
}
