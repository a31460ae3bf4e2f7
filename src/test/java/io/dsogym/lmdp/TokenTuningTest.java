package io.dsogym.lmdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The token chain of {@code experiment tuning}: the optimum by enumeration over all sequences
 * against the LMDP's linear solve ({@link LmdpExact}), the enumerated J(θ) against the LMDP's
 * Bellman solve, and the prefix numbering the free chain's parameters follow.
 */
class TokenTuningTest {
  /** The experiment's sizes, and a second problem with another vocabulary, horizon and λ. */
  private static final TokenTuning[] PROBLEMS = {TokenTuning.countingUp(3, 5, 0.5, 1.0, 2025),
      TokenTuning.countingUp(4, 3, 1.3, 2.0, 11)};

  @Test
  void theEnumeratedOptimumIsTheLmdpsDesirability() {
    for (TokenTuning t : PROBLEMS) {
      LmdpChain chain = t.chain();
      LmdpExact.Optimum opt = LmdpExact.optimal(chain);
      // J* = −λ ln Σ_s π_ref(s) e^{r/λ} by enumeration; −λ ln z(root) by the linear solve
      double jStar = t.optimalObjective();
      assertEquals(-t.lambda() * Math.log(opt.desirability[0]), jStar, 1e-12 * Math.abs(jStar));
      // π*(s) ∝ π_ref(s) e^{r/λ} is the product of u* = p z / Σ p z along the sequence's path
      double[] pStar = t.optimalSequenceProbabilities();
      double total = 0;
      for (int s = 0; s < pStar.length; s++) {
        int x = 0;
        double path = 1;
        for (int token : t.tokens(t.numPrefixes() + s)) {
          int next = t.child(x, token);
          path *= opt.optimalChain[x][next];
          x = next;
        }
        assertEquals(path, pStar[s], 1e-12 * path, "π* of sequence " + s);
        total += pStar[s];
      }
      assertEquals(1.0, total, 1e-12);
      // θ*[xV + y] = ln z(child) gives u*, and its enumerated J is J*
      double[] thetaStar = new double[t.numParams()];
      for (int x = 0; x < t.numPrefixes(); x++) {
        for (int y = 0; y < t.vocabulary(); y++) {
          thetaStar[x * t.vocabulary() + y] = Math.log(opt.desirability[t.child(x, y)]);
        }
      }
      assertEquals(jStar, t.objective(thetaStar), 1e-12 * Math.abs(jStar));
    }
  }

  @Test
  void theEnumeratedObjectiveIsLambdaTimesTheLmdpsAndItsGapAKlToTheOptimum() {
    SplittableRandom rng = new SplittableRandom(3);
    for (TokenTuning t : PROBLEMS) {
      LmdpChain chain = t.chain();
      double jStar = t.optimalObjective();
      double[] pStar = t.optimalSequenceProbabilities();
      for (int trial = 0; trial < 3; trial++) {
        double[] theta = new double[t.numParams()];
        for (int k = 0; k < theta.length; k++) {
          theta[k] = trial == 0 ? 0 : 2 * rng.nextGaussian();
        }
        double j = t.objective(theta);
        // the LMDP's J by a linear solve of its Bellman equation, in units of 1/λ
        double lmdp = TabularExact.discounted(chain, 1.0, theta).objective;
        assertEquals(t.lambda() * lmdp, j, 1e-12 * Math.max(1, Math.abs(j)), "trial " + trial);
        // J − J* = λ KL(π_θ ‖ π*) over whole sequences (docs/math.md §5c)
        double[] logU = t.sequenceLogProbabilities(theta);
        double kl = 0;
        for (int s = 0; s < logU.length; s++) {
          kl += Math.exp(logU[s]) * (logU[s] - Math.log(pStar[s]));
        }
        assertEquals(t.lambda() * kl, j - jStar, 1e-11, "trial " + trial);
        assertTrue(j > jStar, "J(θ) " + j + " above J* " + jStar);
      }
      // at θ = 0 the KL vanishes: J is minus π_ref's expected reward
      double[] logRef = t.sequenceLogProbabilities(new double[t.numParams()]);
      double[] r = t.rewards();
      double expected = 0;
      for (int s = 0; s < r.length; s++) {
        expected += Math.exp(logRef[s]) * r[s];
      }
      assertEquals(-expected, t.objective(new double[t.numParams()]), 1e-12);
    }
  }

  @Test
  void theFreeChainsParametersAreTheLogitOffsetsOfEachPrefix() {
    SplittableRandom rng = new SplittableRandom(5);
    for (TokenTuning t : PROBLEMS) {
      LmdpChain chain = t.chain();
      assertEquals(t.numParams(), chain.numParams());
      assertEquals(t.numStates(), chain.numStates());
      double[] theta = new double[t.numParams()];
      for (int k = 0; k < theta.length; k++) {
        theta[k] = rng.nextGaussian();
      }
      int v = t.vocabulary();
      for (int x = 0; x < t.numPrefixes(); x++) {
        double[] u = chain.controlled(x, theta);
        double[] pi = t.policy(x, theta);
        double[] ref = t.reference(x);
        int[] prefix = t.tokens(x);
        for (int y = 0; y < v; y++) {
          int c = t.child(x, y);
          assertEquals(pi[y], u[c], 1e-14, "prefix " + x + " token " + y);
          assertEquals(ref[y], chain.passive()[x][c], 0.0);
          int[] extended = t.tokens(c);
          assertEquals(prefix.length + 1, extended.length);
          assertEquals(y, extended[prefix.length]);
        }
        assertEquals(0.0, chain.stateCosts()[x]);
      }
      // the complete sequences are the last V^T states, in lexicographic order, costing −r/λ
      double[] r = t.rewards();
      assertEquals((int) Math.pow(v, t.horizon()), t.numSequences());
      for (int s = 0; s < t.numSequences(); s++) {
        int x = t.numPrefixes() + s;
        assertTrue(chain.isTerminal(x));
        assertEquals(-r[s] / t.lambda(), chain.stateCosts()[x], 1e-15);
        int[] seq = t.tokens(x);
        int code = 0;
        for (int token : seq) {
          code = code * v + token;
        }
        assertEquals(s, code);
      }
    }
  }

  @Test
  void theCountingUpProblem() {
    TokenTuning t = PROBLEMS[0];
    assertEquals(364, t.numStates());  // 1 + 3 + 9 + 27 + 81 + 243
    assertEquals(121, t.numPrefixes());
    assertEquals(363, t.numParams());
    double[] r = t.rewards();
    assertEquals(4.0, r[index(t, 0, 1, 2, 0, 1)]);  // every adjacent pair counts up
    assertEquals(4.0, r[index(t, 2, 0, 1, 2, 0)]);  // 2 → 0 counts up mod 3
    assertEquals(0.0, r[index(t, 0, 0, 2, 1, 0)]);
    assertEquals(2.0, r[index(t, 1, 2, 2, 1, 2)]);
    // π_ref is a bigram model: the row after a prefix depends on its last token only
    assertArrayEquals(t.reference(t.child(0, 1)), t.reference(t.child(t.child(0, 2), 1)));
    assertTrue(t.reference(0)[0] != t.reference(1)[0]);
    // the same model seed gives the same model
    assertArrayEquals(t.reference(7), TokenTuning.countingUp(3, 5, 0.5, 1.0, 2025)
        .reference(7));
  }

  @Test
  void badProblemsAreRefusedNamingTheField() {
    double[][] uniform = {{0.5, 0.5}};
    String m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(2, 1, 0,
        uniform, s -> 0, "")).getMessage();
    assertTrue(m.contains("lambda") && m.contains("got 0"), m);
    m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(2, 2, 1,
        uniform, s -> 0, "")).getMessage();
    assertTrue(m.contains("reference: expected 3 rows") && m.contains("got 1"), m);
    m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(2, 1, 1,
        new double[][] {{1, 0}}, s -> 0, "")).getMessage();
    assertTrue(m.contains("reference[0][1]: expected > 0"), m);
    m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(2, 1, 1,
        new double[][] {{0.5, 0.6}}, s -> 0, "")).getMessage();
    assertTrue(m.contains("reference[0]") && m.contains("sum 1.1"), m);
    m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(2, 1, 1,
        uniform, s -> s[0] == 1 ? Double.NaN : 0, "")).getMessage();
    assertTrue(m.contains("reward of [1]") && m.contains("NaN"), m);
    m = assertThrows(IllegalArgumentException.class, () -> new TokenTuning(1, 1, 1,
        uniform, s -> 0, "")).getMessage();
    assertTrue(m.contains("vocabulary"), m);
    m = assertThrows(IllegalArgumentException.class,
        () -> TokenTuning.countingUp(10, 5, 1, 1, 0)).getMessage();
    assertTrue(m.contains("states: expected at most 2000") && m.contains("vocabulary 10")
        && m.contains("horizon 5"), m);
    m = assertThrows(IllegalArgumentException.class,
        () -> PROBLEMS[0].objective(new double[3])).getMessage();
    assertTrue(m.contains("theta: expected 363") && m.contains("got 3"), m);
  }

  private static int index(TokenTuning t, int... tokens) {
    int code = 0;
    for (int token : tokens) {
      code = code * t.vocabulary() + token;
    }
    return code;
  }
}
