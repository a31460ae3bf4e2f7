package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.chain.Chain;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LqrChain;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.TabularChain;
import io.dsogym.oracle.TimeIndexedSoftmaxChain;
import io.dsogym.oracle.TimeIndexedState;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.LqrExact;
import io.dsogym.oracle.SmdpExact;
import io.dsogym.oracle.TabularExact;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exact gradients (and Hessians, scores, cost gradients) against central finite differences of
 * the exact objective, in every setting.
 *
 * <p>Step h = 1e-5: the central difference's truncation error is ~h²|f'''|/6 ≈ 1e-10·|f'''| and
 * its round-off ~eps·|f|/h ≈ 2e-11·|f|. With |f| <= 60 (the LQR) both stay below 1e-8, so
 * {@link #FD} = 1e-7 (scaled by max(1, |value|)) separates agreement from any formula error,
 * which would show at the 1e-2 level or above.
 */
class ExactGradientFiniteDifferenceTest {
  static final double H = 1e-5;
  static final double FD = 1e-7;

  static double[] fdGradient(ToDoubleFunction<double[]> f, double[] theta) {
    double[] g = new double[theta.length];
    for (int i = 0; i < theta.length; i++) {
      double[] plus = theta.clone();
      double[] minus = theta.clone();
      plus[i] += H;
      minus[i] -= H;
      g[i] = (f.applyAsDouble(plus) - f.applyAsDouble(minus)) / (2 * H);
    }
    return g;
  }

  /** Rows: finite differences of each component of an exact gradient. */
  static double[][] fdJacobian(Function<double[], double[]> grad,
      double[] theta) {
    double[][] h = new double[theta.length][];
    for (int i = 0; i < theta.length; i++) {
      final int row = i;
      h[i] = fdGradient(t -> grad.apply(t)[row], theta);
    }
    return h;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"chain3_discounted", "chain6_discounted"})
  @DisplayName("discounted: Theorem 1's ∇J, ∇V and ∇²J = ∇²_αS + C + Cᵀ match finite differences")
  void discountedGradientAndHessian(String name) {
    JsonObject c = oracleCase(name);
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    DiscountedSolution s = TabularExact.discounted(chain, gamma, theta);
    close("grad_J", fdGradient(t -> TabularExact.discounted(chain, gamma, t).objective, theta),
        s.gradient, FD);
    for (int x = 0; x < chain.numStates(); x++) {
      final int state = x;
      close("grad_V[" + x + "]",
          fdGradient(t -> TabularExact.discounted(chain, gamma, t).value[state], theta),
          s.valueGradient[x], FD);
    }
    double[][] hessian = s.hessian();
    close("hess_J", fdJacobian(t -> TabularExact.discounted(chain, gamma, t).gradient, theta),
        hessian, FD);
    double[][] cc = s.correction();
    double num = 0;
    double den = 0;
    for (int a = 0; a < theta.length; a++) {
      for (int b = 0; b < theta.length; b++) {
        num += Math.pow(cc[a][b] + cc[b][a], 2);
        den += hessian[a][b] * hessian[a][b];
      }
    }
    System.out.printf("[dso-exact] %s: ‖C + Cᵀ‖_F / ‖∇²J‖_F = %.3f (the part the surrogate"
        + " Hessian misses, §4f)%n", name, Math.sqrt(num / den));
  }

  @Test
  @DisplayName("discounted: the chain Fisher is the Hessian of E_ρ KL(P_θ ‖ P_θ+α) at α = 0 (§4e)")
  void chainFisherIsKlHessian() {
    JsonObject c = oracleCase("chain6_discounted");
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double[] theta = vec(c, "theta");
    DiscountedSolution s = TabularExact.discounted(chain, c.get("gamma").getAsDouble(), theta);
    Function<double[], double[]> klGradient = alpha -> fdGradient(
        a -> expectedKl(chain, s.visitation, theta, a), alpha);
    // second differences of the KL (its value and gradient vanish at α = θ): looser, 1e-4
    close("fisher_chain", fdJacobian(klGradient, theta), s.chainFisher(), 1e-4);
  }

  @Test
  @DisplayName("average cost: §3b's ∇J matches finite differences of d·L")
  void averageCostGradient() {
    JsonObject c = oracleCase("chain5_average");
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    double[] theta = vec(c, "theta");
    close("grad_J", fdGradient(t -> TabularExact.averageCost(chain, t).objective, theta),
        TabularExact.averageCost(chain, theta).gradient, FD);
  }

  @Test
  @DisplayName("finite horizon: §3c's ∇J matches finite differences of P0·V_0")
  void finiteHorizonGradient() {
    JsonObject c = oracleCase("chain4_finite_horizon");
    TimeIndexedSoftmaxChain chain = Oracles.finiteHorizonChain(c);
    double[] theta = vec(c, "theta");
    close("grad_J", fdGradient(t -> TabularExact.finiteHorizon(chain, t).objective, theta),
        TabularExact.finiteHorizon(chain, theta).gradient, FD);
  }

  @Test
  @DisplayName("S-MDP: the policy-gradient form of ∇J matches finite differences; F_policy - F_chain is PSD")
  void smdpGradientAndFisherOrder() {
    JsonObject c = oracleCase("smdp6x3_discounted");
    MarginalPolicyChain mdp = Oracles.smdpChain(c, ScoreRoute.EXACT_MARGINAL);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    SmdpExact.Solution s = SmdpExact.solve(mdp, gamma, theta);
    close("grad_J", fdGradient(t -> TabularExact.discounted(mdp, gamma, t).objective, theta),
        s.policyGradient, FD);
    double[][] diff = new double[theta.length][theta.length];
    for (int a = 0; a < theta.length; a++) {
      for (int b = 0; b < theta.length; b++) {
        diff[a][b] = s.fisherPolicy[a][b] - s.fisherChain[a][b];
      }
    }
    double minEig = Double.POSITIVE_INFINITY;
    for (double eig : new EigenDecomposition(new Array2DRowRealMatrix(diff))
        .getRealEigenvalues()) {
      minEig = Math.min(minEig, eig);
    }
    System.out.printf("[dso-exact] smdp6x3: min eigenvalue of F_policy - F_chain = %.4f%n", minEig);
    assertTrue(minEig > -1e-12,
        "F_policy - F_chain: expected positive semidefinite, got min eigenvalue " + minEig);
  }

  @Test
  @DisplayName("LMDP: §2g's ∇J and the exact Hessian match finite differences of V_U(0)")
  void lmdpGradientAndHessian() {
    JsonObject c = oracleCase("lmdp7_first_exit");
    LmdpChain lmdp = Oracles.lmdpChain(c);
    double[] theta = vec(c, "theta");
    close("grad_J", fdGradient(t -> TabularExact.discounted(lmdp, 1.0, t).objective, theta),
        LmdpExact.gradient(lmdp, 1.0, theta), FD);
    close("hess_J", fdJacobian(t -> TabularExact.discounted(lmdp, 1.0, t).gradient, theta),
        TabularExact.discounted(lmdp, 1.0, theta).hessian(), FD);
  }

  @Test
  @DisplayName("LQR: the closed-form ∇_K J and ∇_log_std J match finite differences of the closed-form J")
  void lqrGradient() {
    JsonObject c = oracleCase("lqr3x2_discounted");
    LqrChain lqr = Oracles.lqrChain(c, ScoreRoute.SAMPLED_ACTION);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = Oracles.lqrTheta(c);
    close("grad_J", fdGradient(t -> LqrExact.solve(lqr, gamma, t).objective, theta),
        LqrExact.solve(lqr, gamma, theta).gradient(), FD);
  }

  @Test
  @DisplayName("LQR: V(x) = xᵀPx + c₀ satisfies the Bellman equation E[V(x')] = (V(x) - L(x))/γ")
  void lqrValueSatisfiesBellman() {
    JsonObject c = oracleCase("lqr3x2_discounted");
    LqrChain lqr = Oracles.lqrChain(c, ScoreRoute.SAMPLED_ACTION);
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = Oracles.lqrTheta(c);
    LqrExact.Solution s = LqrExact.solve(lqr, gamma, theta);
    double[] x = {0.3, -0.7, 1.1};
    // E[x'ᵀPx'] = (A_K x)ᵀP(A_K x) + tr(P(BΣuBᵀ + W)), evaluated exactly
    double[][] k = lqr.gain(theta);
    double[][] a = lqr.a();
    double[][] b = lqr.b();
    int nx = lqr.stateDim();
    double[] mean = new double[nx];
    for (int i = 0; i < nx; i++) {
      for (int j = 0; j < nx; j++) {
        mean[i] += a[i][j] * x[j];
      }
      for (int u = 0; u < lqr.actionDim(); u++) {
        for (int j = 0; j < nx; j++) {
          mean[i] -= b[i][u] * k[u][j] * x[j];
        }
      }
    }
    double[][] cov = lqr.chainCovariance(theta).getData();
    double expectedNext = s.value(mean);
    for (int i = 0; i < nx; i++) {
      for (int j = 0; j < nx; j++) {
        expectedNext += s.valueMatrix[i][j] * cov[j][i];
      }
    }
    close("E[V(x')]", (s.value(x) - lqr.cost(x, theta)) / gamma, expectedNext, 1e-12);
    close("J = E_{x0} V(x0)", s.objective, traceProduct(s.valueMatrix, lqr.x0()) + s.valueOffset,
        1e-12);
  }

  @Test
  @DisplayName("every chain's per-sample score matches finite differences of its ln P (or ln π for route 2)")
  void scoresMatchLogProbDifferences() {
    SplittableRandom rng = new SplittableRandom(7);
    JsonObject d = oracleCase("chain6_discounted");
    checkScores(Oracles.softmaxChain(d), vec(d, "theta"), rng, 20);
    JsonObject f = oracleCase("chain4_finite_horizon");
    checkScores(Oracles.finiteHorizonChain(f), vec(f, "theta"), rng, 20);
    JsonObject m = oracleCase("smdp6x3_discounted");
    checkScores(Oracles.smdpChain(m, ScoreRoute.EXACT_MARGINAL), vec(m, "theta"), rng, 20);
    JsonObject l = oracleCase("lmdp7_first_exit");
    checkScores(Oracles.lmdpChain(l), vec(l, "theta"), rng, 20);
    JsonObject q = oracleCase("lqr3x2_discounted");
    checkScores(Oracles.lqrChain(q, ScoreRoute.EXACT_MARGINAL), Oracles.lqrTheta(q), rng, 20);

    // route 2 of the LQR: ∇ ln π(u|x) with π = N(-Kx, diag(exp(2 log_std)))
    LqrChain lqr = Oracles.lqrChain(q, ScoreRoute.SAMPLED_ACTION);
    double[] theta = Oracles.lqrTheta(q);
    for (int trial = 0; trial < 20; trial++) {
      double[] x = lqr.sampleInitial(rng);
      Chain.Step<double[]> step = lqr.step(x, theta, rng);
      double[] u = step.latent();
      double[] score = new double[theta.length];
      lqr.score(x, step.next(), u, theta, 1.0, score);
      close("LQR policy score", fdGradient(t -> gaussianPolicyLogDensity(lqr, t, x, u), theta),
          score, FD);
    }
  }

  @Test
  @DisplayName("every chain's per-state cost gradient matches finite differences of its cost")
  void costGradientsMatchCostDifferences() {
    SplittableRandom rng = new SplittableRandom(11);
    JsonObject d = oracleCase("chain6_discounted");
    checkCostGradients(Oracles.softmaxChain(d), vec(d, "theta"));
    JsonObject f = oracleCase("chain4_finite_horizon");
    TimeIndexedSoftmaxChain fh = Oracles.finiteHorizonChain(f);
    for (int t = 0; t <= fh.horizon(); t++) {
      checkCostGradient(fh, new TimeIndexedState(t, t % fh.numStates()), vec(f, "theta"));
    }
    JsonObject m = oracleCase("smdp6x3_discounted");
    checkCostGradients(Oracles.smdpChain(m, ScoreRoute.EXACT_MARGINAL), vec(m, "theta"));
    JsonObject l = oracleCase("lmdp7_first_exit");
    checkCostGradients(Oracles.lmdpChain(l), vec(l, "theta"));
    JsonObject q = oracleCase("lqr3x2_discounted");
    LqrChain lqr = Oracles.lqrChain(q, ScoreRoute.SAMPLED_ACTION);
    for (int trial = 0; trial < 10; trial++) {
      checkCostGradient(lqr, lqr.sampleInitial(rng), Oracles.lqrTheta(q));
    }
  }

  private static <S> void checkScores(Chain<S> chain, double[] theta, SplittableRandom rng,
      int trials) {
    S x = chain.sampleInitial(rng);
    for (int trial = 0; trial < trials; trial++) {
      if (chain.isTerminal(x)) {
        x = chain.sampleInitial(rng);
      }
      Chain.Step<S> step = chain.step(x, theta, rng);
      S from = x;
      S to = step.next();
      double[] score = new double[theta.length];
      chain.score(from, to, step.latent(), theta, 1.0, score);
      close(chain.getClass().getSimpleName() + " score at " + from + " -> " + to,
          fdGradient(t -> chain.logProb(from, to, t), theta), score, FD);
      x = to;
    }
  }

  private static void checkCostGradients(TabularChain chain, double[] theta) {
    for (int x = 0; x < chain.numStates(); x++) {
      checkCostGradient(chain, x, theta);
    }
  }

  private static <S> void checkCostGradient(Chain<S> chain, S x, double[] theta) {
    double[] g = new double[theta.length];
    chain.costGradient(x, theta, 1.0, g);
    close(chain.getClass().getSimpleName() + " cost gradient at " + x,
        fdGradient(t -> chain.cost(x, t), theta), g, FD);
  }

  private static double gaussianPolicyLogDensity(LqrChain lqr, double[] theta, double[] x,
      double[] u) {
    double[][] k = lqr.gain(theta);
    double[] ls = lqr.logStd(theta);
    double s = 0;
    for (int i = 0; i < u.length; i++) {
      double e = u[i];
      for (int j = 0; j < x.length; j++) {
        e += k[i][j] * x[j];
      }
      s += -0.5 * e * e * Math.exp(-2 * ls[i]) - ls[i];
    }
    return s;
  }

  /** Σ_x ρ(x) KL(P(·|x,θ) ‖ P(·|x,α)). */
  private static double expectedKl(TabularChain chain, double[] rho, double[] theta,
      double[] alpha) {
    double[][] p = chain.transitionMatrix(theta);
    double[][] q = chain.transitionMatrix(alpha);
    double s = 0;
    for (int x = 0; x < p.length; x++) {
      for (int y = 0; y < p.length; y++) {
        if (p[x][y] > 0) {
          s += rho[x] * p[x][y] * Math.log(p[x][y] / q[x][y]);
        }
      }
    }
    return s;
  }

  private static double traceProduct(double[][] a, double[][] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        s += a[i][j] * b[j][i];
      }
    }
    return s;
  }
}
