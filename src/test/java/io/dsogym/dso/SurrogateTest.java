package io.dsogym.dso;

import io.dsogym.linalg.Vectors;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.TabularExact;
import io.dsogym.oracle.ChainTransitions;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.chain.StateCost;
import io.dsogym.oracle.TabularSurrogate;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The surrogate of docs/math.md §4b and its curvature operators, against the exact tabular
 * quantities of {@link DiscountedSolution} and against Algorithm 1's accumulation.
 *
 * <p>Tolerances: 1e-9 where both sides are exact linear algebra on the same numbers; 1e-6 for
 * the surrogate Hessian, whose product is a central difference with a 1e-5 perturbation
 * (truncation error ~1e-10 times the third derivative, round-off ~1e-16/1e-5 = 1e-11).
 */
class SurrogateTest {
  static final double EXACT = 1e-9;
  static final double HVP = 1e-6;

  /** An oracle chain at its θ, solved exactly, with its exact surrogate. */
  private record ExactCase(SoftmaxTabularChain chain, double gamma, double[] theta,
      DiscountedSolution solution, Surrogate surrogate) {
    static ExactCase of(String name) {
      JsonObject c = oracleCase(name);
      SoftmaxTabularChain chain = Oracles.softmaxChain(c);
      double gamma = c.get("gamma").getAsDouble();
      double[] theta = vec(c, "theta");
      DiscountedSolution s = TabularExact.discounted(chain, gamma, theta);
      return new ExactCase(chain, gamma, theta, s, TabularSurrogate.exact(chain, s));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"chain3_discounted", "chain6_discounted"})
  @DisplayName("Lemma 2: the exact surrogate's gradient at α = 0 is ∇J, and S̃ = S̄ of §4a")
  void exactSurrogateGradientIsTheGradient(String name) {
    ExactCase e = ExactCase.of(name);
    double[] theta = e.theta();
    DiscountedSolution s = e.solution();
    Surrogate sur = e.surrogate();
    double[] g = new double[theta.length];
    assertEquals(0.0, sur.gradient(theta, g), EXACT, "S̃(θ_k) = 0");
    close("grad S̃(θ_k) = ∇J", s.gradient, g, EXACT);
    double[] other = perturbed(theta, 0.3, 11);
    close("S̃(θ') = S̄(θ, θ' - θ)", s.surrogateGain(other), sur.value(other), EXACT);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"chain3_discounted", "chain6_discounted"})
  @DisplayName("the surrogate Hessian-vector product is §4f's ∇²S = E_ρ[∇²L + γE_P[(∇²lnP + ssᵀ)V]]")
  void surrogateHessianVectorProductMatchesFormula(String name) {
    ExactCase e = ExactCase.of(name);
    double[] theta = e.theta();
    DiscountedSolution s = e.solution();
    Surrogate sur = e.surrogate();
    double[][] h = s.surrogateHessian();
    SplittableRandom rng = new SplittableRandom(3);
    for (int trial = 0; trial < 3; trial++) {
      double[] v = randomVector(theta.length, rng);
      double[] hv = new double[theta.length];
      sur.hessianVector(theta, v, hv);
      close("∇²S̃ v (trial " + trial + ")", multiply(h, v), hv, HVP);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"chain3_discounted", "chain6_discounted"})
  @DisplayName("the Fisher-vector product from the scores is the exact chain Fisher (§4e), and CG solves F w = g")
  void fisherVectorProductAndConjugateGradient(String name) {
    ExactCase e = ExactCase.of(name);
    double[] theta = e.theta();
    DiscountedSolution s = e.solution();
    Surrogate sur = e.surrogate();
    double mass = 0;
    for (double r : s.visitation) {
      mass += r;
    }
    double[][] f = s.chainFisher();
    for (double[] row : f) {
      for (int j = 0; j < row.length; j++) {
        row[j] /= mass;  // the operator is normalized by Σρ, as E_ρ KL is
      }
    }
    SplittableRandom rng = new SplittableRandom(5);
    double[] v = randomVector(theta.length, rng);
    double[] fv = new double[theta.length];
    sur.fisherVector(v, fv);
    close("F v", multiply(f, v), fv, EXACT);

    double[] w = new double[theta.length];
    ConjugateGradient.Result r = ConjugateGradient.solve(sur::fisherVector, s.gradient, w,
        4 * theta.length, 1e-13);
    assertFalse(r.negativeCurvature(), "F is positive definite here");
    double[] direct = new LUDecomposition(new Array2DRowRealMatrix(f)).getSolver()
        .solve(new ArrayRealVector(s.gradient)).toArray();
    close("CG's w = F⁻¹ g", direct, w, 1e-7);
    sur.fisherVector(w, fv);
    close("F w = g", s.gradient, fv, 1e-9);
  }

  @Test
  @DisplayName("natural gradient: the step is along -F⁻¹g, fills the KL budget and lowers the exact J")
  void naturalGradientStepOnTabularChain() {
    ExactCase e = ExactCase.of("chain6_discounted");
    double[] theta = e.theta();
    DiscountedSolution s = e.solution();
    Surrogate sur = e.surrogate();
    double maxKl = 1e-3;
    double[] next = theta.clone();
    new NaturalGradient(new NaturalGradient.Options(maxKl, 50, 0.0, 10, false))
        .improve(sur, next, 0);
    double[] step = new double[theta.length];
    for (int j = 0; j < step.length; j++) {
      step[j] = theta[j] - next[j];
    }
    double[] fStep = new double[theta.length];
    sur.fisherVector(step, fStep);
    // F·step ∝ g: the cosine between them is 1
    double cos = Vectors.dot(fStep, s.gradient)
        / Math.sqrt(Vectors.dot(fStep, fStep) * Vectors.dot(s.gradient,
        s.gradient));
    assertEquals(1.0, cos, 1e-7, "F (θ_k - θ_k+1) is parallel to ∇J");
    double quadraticKl = 0.5 * Vectors.dot(step, fStep);
    assertTrue(quadraticKl <= maxKl * (1 + 1e-9) && quadraticKl >= maxKl / 4.0001,
        "½ ΔθᵀFΔθ = " + quadraticKl + " is the budget " + maxKl + " or a backtrack of it");
    double after = TabularExact.discounted(e.chain(), e.gamma(), next).objective;
    assertTrue(after < s.objective, "J went from " + s.objective + " to " + after);
  }

  @Test
  @DisplayName("natural gradient, annealed: at 3/4 of the run the quadratic model's KL is a quarter")
  void annealedNaturalGradientShrinksItsRadiusWithProgress() {
    ExactCase e = ExactCase.of("chain6_discounted");
    double maxKl = 1e-3;
    double[] quadraticKl = new double[2];
    double[] progress = {0.0, 0.75};
    for (int i = 0; i < 2; i++) {
      double[] next = e.theta().clone();
      new NaturalGradient(new NaturalGradient.Options(maxKl, 50, 0.0, 0, true))
          .improve(e.surrogate(), next, progress[i]);
      double[] step = new double[next.length];
      for (int j = 0; j < step.length; j++) {
        step[j] = e.theta()[j] - next[j];
      }
      double[] fStep = new double[step.length];
      e.surrogate().fisherVector(step, fStep);
      quadraticKl[i] = 0.5 * Vectors.dot(step, fStep);
    }
    // no backtracking allowed: each step fills its budget exactly, maxKl then maxKl × (1 - 3/4)
    assertEquals(maxKl, quadraticKl[0], 1e-9 * maxKl);
    assertEquals(maxKl / 4, quadraticKl[1], 1e-9 * maxKl);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(PolicySpec.Head.class)
  @DisplayName("Lemma 2, sampled-action route: ∇S̃(θ_k) is Algorithm 1's Σ w_i ∇ln π(a_i|x_i)")
  void sampledSurrogateGradientIsAlgorithm1(PolicySpec.Head head) {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(head, 4, List.of(8), PolicySpec.Activation.TANH,
        head == PolicySpec.Head.CATEGORICAL ? 3 : 2), -0.4);
    int n = 64;
    SplittableRandom rng = new SplittableRandom(9);
    double[] theta = perturbed(policy.initialTheta(1), 0.5, 2);
    double[] obs = randomVector(n * 4, rng);
    double[] actions = new double[n * policy.actionDim()];
    double[] w = randomVector(n, rng);
    double[] kappa = new double[n];
    double[] expected = new double[theta.length];
    for (int i = 0; i < n; i++) {
      policy.sample(theta, obs, i * 4, rng, actions, i * policy.actionDim());
      kappa[i] = 1.0 / n;
      policy.accumulateScore(theta, obs, i * 4, actions, i * policy.actionDim(), w[i] / n,
          expected);
    }
    double[] scaled = w.clone();
    for (int i = 0; i < n; i++) {
      scaled[i] /= n;
    }
    Surrogate sur = new Surrogate(new PolicyTransitions(policy, obs, actions, n),
        StateCost.NONE, theta, scaled, kappa);
    double[] g = new double[theta.length];
    sur.gradientAtStart(g);
    close("∇S̃(θ_k), the ratio-free pass", expected, g, 1e-12);
    sur.gradient(theta, g);
    close("∇S̃(θ_k) through the ratios", expected, g, 1e-12);
    assertEquals(0.0, sur.meanKl(theta), 1e-15, "KL(θ_k ‖ θ_k) = 0");
  }

  @Test
  @DisplayName("Lemma 2, exact-marginal route: ∇S̃(θ_k) with marginal ratios is Algorithm 1 with route-1 scores")
  void marginalRatioSurrogateGradientIsAlgorithm1() {
    JsonObject c = oracleCase("smdp6x3_discounted");
    MarginalPolicyChain mdp = Oracles.smdpChain(c, ScoreRoute.EXACT_MARGINAL);
    double[] theta = vec(c, "theta");
    SplittableRandom rng = new SplittableRandom(4);
    List<Integer> from = new ArrayList<>();
    List<Integer> to = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int x = rng.nextInt(mdp.numStates());
      from.add(x);
      to.add(mdp.step(x, theta, rng).next());
    }
    double[] w = randomVector(from.size(), rng);
    double[] kappa = new double[w.length];
    java.util.Arrays.fill(kappa, 1.0 / w.length);
    double[] expected = new double[theta.length];
    for (int i = 0; i < w.length; i++) {
      mdp.score(from.get(i), to.get(i), null, theta, w[i], expected);
    }
    ChainTransitions<Integer> transitions = new ChainTransitions<>(mdp, from, to);
    Surrogate sur = new Surrogate(transitions, StateCost.NONE, theta, w, kappa);
    double[] g = new double[theta.length];
    sur.gradient(theta, g);
    close("∇S̃(θ_k)", expected, g, 1e-12);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(PolicySpec.Head.class)
  @DisplayName("entropy and KL chain costs (§2e, §2f): gradients match finite differences; KL(θ_ref‖θ_ref) = 0")
  void regularizerGradientsMatchFiniteDifferences(PolicySpec.Head head) {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(head, 3, List.of(5), PolicySpec.Activation.TANH,
        head == PolicySpec.Head.CATEGORICAL ? 4 : 2), -0.2);
    SplittableRandom rng = new SplittableRandom(12);
    double[] obs = randomVector(3 * 6, rng);
    double[] ref = perturbed(policy.initialTheta(3), 0.6, 4);
    double[] theta = perturbed(ref, 0.4, 5);
    PolicyRegularizer reg = new PolicyRegularizer(policy, obs, 6, 0.3, 0.7, ref);
    assertEquals(0.0, new PolicyRegularizer(policy, obs, 6, 0, 1, ref).cost(ref, 2), 1e-12);
    for (int i = 0; i < 6; i++) {
      final int state = i;
      double[] g = new double[theta.length];
      reg.accumulateGradient(theta, i, 1.0, g);
      close("∇L_reg(x_" + i + ")",
          ExactGradientFiniteDifferenceTest.fdGradient(t -> reg.cost(t, state), theta), g, 1e-6);
    }
  }

  @Test
  @DisplayName("a surrogate given L(x, θ_k) never evaluates the cost at θ_k and equals one that computes it")
  void precomputedStartCostIsUsedAsIs() {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 3, List.of(4),
        PolicySpec.Activation.TANH, 3), 0.0);
    SplittableRandom rng = new SplittableRandom(21);
    int n = 8;
    double[] obs = randomVector(3 * n, rng);
    double[] theta = perturbed(policy.initialTheta(1), 0.3, 2);
    double[] actions = new double[n];
    for (int i = 0; i < n; i++) {
      policy.sample(theta, obs, i * 3, rng, actions, i);
    }
    double[] w = randomVector(n, rng);
    double[] kappa = new double[n];
    java.util.Arrays.fill(kappa, 1.0 / n);
    PolicyRegularizer reg = new PolicyRegularizer(policy, obs, n, 0.2, 0, null);
    double[] start = new double[n];
    for (int i = 0; i < n; i++) {
      start[i] = reg.cost(theta, i);
    }
    int[] startCalls = {0};
    StateCost counting = new StateCost() {
      @Override
      public double cost(double[] t, int i) {
        if (java.util.Arrays.equals(t, theta)) {
          startCalls[0]++;
        }
        return reg.cost(t, i);
      }

      @Override
      public double accumulateGradient(double[] t, int i, double weight, double[] grad) {
        return reg.accumulateGradient(t, i, weight, grad);
      }
    };
    PolicyTransitions transitions = new PolicyTransitions(policy, obs, actions, n);
    Surrogate given = new Surrogate(transitions, counting, theta, w, kappa, start);
    assertEquals(0, startCalls[0], "L(x, θ_k) was passed in, so not evaluated");
    Surrogate computed = new Surrogate(transitions, reg, theta, w, kappa);
    double[] moved = perturbed(theta, 0.2, 3);
    double[] g1 = new double[theta.length];
    double[] g2 = new double[theta.length];
    assertEquals(computed.gradient(moved, g2), given.gradient(moved, g1), 1e-12);
    close("∇S̃ with the start cost given", g2, g1, 1e-12);
  }

  @Test
  @DisplayName("off-chain (§4b): ratios to the behaviour policy weight the gradient; the KL stays centred on θ_k")
  void offChainSurrogateWeighsEachScoreByItsRatioToTheBehaviour() {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 4, List.of(),
        PolicySpec.Activation.TANH, 3), 0.0);
    SplittableRandom rng = new SplittableRandom(31);
    int n = 50;
    double[] obs = randomVector(4 * n, rng);
    double[] behaviour = perturbed(policy.initialTheta(1), 0.5, 6);
    double[] theta = perturbed(behaviour, 0.3, 7);  // θ_k: one update after the behaviour
    double[] actions = new double[n];
    double[] logB = new double[n];
    for (int i = 0; i < n; i++) {
      policy.sample(behaviour, obs, i * 4, rng, actions, i);
      logB[i] = policy.logProb(behaviour, obs, i * 4, actions, i);
    }
    double[] a = randomVector(n, rng);
    double[] kappa = new double[n];
    java.util.Arrays.fill(kappa, 1.0 / n);
    PolicyTransitions transitions = new PolicyTransitions(policy, obs, actions, n);
    Surrogate off = new Surrogate(transitions, StateCost.NONE, theta, a, kappa)
        .withBehaviour(logB);
    assertTrue(off.offChain());
    double[] expected = new double[theta.length];
    double expectedValue = 0;
    for (int i = 0; i < n; i++) {
      double r = Math.exp(policy.logProb(theta, obs, i * 4, actions, i) - logB[i]);
      policy.accumulateScore(theta, obs, i * 4, actions, i, a[i] * r, expected);
      expectedValue += a[i] * (r - 1);
    }
    double[] g = new double[theta.length];
    off.gradientAtStart(g);
    close("∇S̃(θ_k) = Σ A_i r_i(θ_k) ∇ln π_i", expected, g, 1e-12);
    assertEquals(expectedValue, off.value(theta), 1e-12, "S̃(θ_k) = Σ A_i (r_i - 1)");
    assertEquals(0.0, off.meanKl(theta), 1e-15, "the trust region is centred on θ_k");
    double[] fd = ExactGradientFiniteDifferenceTest.fdGradient(off::value, perturbed(theta, 0.1,
        8));
    off.gradient(perturbed(theta, 0.1, 8), g);
    close("∇S̃ off-chain against finite differences", fd, g, 1e-6);

    // a behaviour that is θ_k itself gives the on-chain surrogate
    double[] logK = new double[n];
    for (int i = 0; i < n; i++) {
      logK[i] = policy.logProb(theta, obs, i * 4, actions, i);
    }
    Surrogate same = new Surrogate(transitions, StateCost.NONE, theta, a, kappa)
        .withBehaviour(logK);
    Surrogate on = new Surrogate(transitions, StateCost.NONE, theta, a, kappa);
    double[] g1 = new double[theta.length];
    double[] g2 = new double[theta.length];
    same.gradientAtStart(g1);
    on.gradientAtStart(g2);
    close("behaviour = θ_k: Algorithm 1's estimate", g2, g1, 1e-12);
    double[] moved = perturbed(theta, 0.2, 9);
    assertEquals(on.value(moved), same.value(moved), 1e-12);

    logB[7] = Double.NaN;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Surrogate(transitions, StateCost.NONE, theta, a, kappa).withBehaviour(logB));
    assertTrue(e.getMessage().contains("[7]") && e.getMessage().contains("NaN"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Surrogate(transitions, StateCost.NONE, theta, a, kappa)
            .withBehaviour(new double[n - 1]));
  }

  // ---- helpers ----

  static double[] perturbed(double[] theta, double scale, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] out = theta.clone();
    for (int j = 0; j < out.length; j++) {
      out[j] += scale * (2 * rng.nextDouble() - 1);
    }
    return out;
  }

  static double[] randomVector(int n, SplittableRandom rng) {
    double[] v = new double[n];
    for (int j = 0; j < n; j++) {
      v[j] = 2 * rng.nextDouble() - 1;
    }
    return v;
  }

  static double[] multiply(double[][] m, double[] v) {
    double[] out = new double[m.length];
    for (int i = 0; i < m.length; i++) {
      out[i] = Vectors.dot(m[i], v);
    }
    return out;
  }
}
