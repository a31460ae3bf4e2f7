package io.dsogym.lmdp;

import io.dsogym.oracle.LmdpChain;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Generative-model tuning on a token chain small enough to enumerate (docs/math.md §6,
 * "Generative models"). The chain's state is the prefix; a step appends a token drawn from the
 * tuned model π_θ(token | prefix), and a sequence is complete after {@code horizon} tokens. The
 * cost is λ KL(π_θ(·|prefix) ‖ π_ref(·|prefix)) per step and −r(sequence) at the end, so
 *
 * <pre>
 *   J(θ) = E_{s~π_θ}[ λ ln(π_θ(s)/π_ref(s)) − r(s) ],   π*(s) ∝ π_ref(s) e^{r(s)/λ},
 *   J* = −λ ln Σ_s π_ref(s) e^{r(s)/λ},                 J(θ) − J* = λ KL(π_θ ‖ π*)
 * </pre>
 *
 * over whole sequences s. This is a first-exit LMDP on the prefix tree with passive dynamics
 * π_ref (§2g) whose leaves cost q = −r/λ (0 inside): its J is J(θ)/λ, and {@link #chain()}
 * builds it as {@link LmdpChain#free}, whose θ = 0 is π_ref.
 *
 * <p>Prefixes are numbered as a complete V-ary tree: the empty prefix is 0 and the children of
 * prefix x are xV + 1 + y for the tokens y = 0..V−1, so the prefixes of length t come before
 * those of length t + 1 and the complete sequences are the last V^T states, in lexicographic
 * order. The free chain numbers its parameters row by row, y ascending, and π_ref gives every
 * token mass, so θ[xV + y] is the logit offset of token y after prefix x: π_θ(y|x) =
 * softmax_y(θ[xV + y] + ln π_ref(y|x)).
 */
public final class TokenTuning {
  /** The most prefixes (LMDP states) a problem may have. */
  public static final int MAX_STATES = 2000;
  private final int vocabulary;
  private final int horizon;
  private final double lambda;
  /** [prefix][y] = π_ref(y|prefix), for the prefixes shorter than the horizon. */
  private final double[][] reference;
  /** [s] = r(s), the sequences in lexicographic order. */
  private final double[] rewards;
  private final int prefixes;
  private final int states;
  private final String description;

  /**
   * @param reference [prefix][y] = π_ref(y|prefix) > 0, one row per prefix shorter than the
   *     horizon, numbered as the class comment says
   * @param reward r(s) of a complete sequence (its tokens, first to last)
   * @param lambda the weight λ > 0 of the KL to π_ref
   */
  public TokenTuning(int vocabulary, int horizon, double lambda, double[][] reference,
      ToDoubleFunction<int[]> reward, String description) {
    this.states = countStates(vocabulary, horizon);
    if (!(lambda > 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("lambda: expected finite and > 0, got " + lambda);
    }
    this.vocabulary = vocabulary;
    this.horizon = horizon;
    this.lambda = lambda;
    int width = 1;
    for (int t = 0; t < horizon; t++) {
      width *= vocabulary;
    }
    this.prefixes = states - width;
    if (reference == null || reference.length != prefixes) {
      throw new IllegalArgumentException("reference: expected " + prefixes + " rows (prefixes "
          + "shorter than " + horizon + "), got " + (reference == null ? "null"
          : reference.length));
    }
    this.reference = new double[prefixes][];
    for (int x = 0; x < prefixes; x++) {
      double[] row = reference[x];
      if (row == null || row.length != vocabulary) {
        throw new IllegalArgumentException("reference[" + x + "]: expected " + vocabulary
            + " probabilities, got " + (row == null ? "null" : row.length));
      }
      double sum = 0;
      for (int y = 0; y < vocabulary; y++) {
        // the LMDP's controlled chain lives on π_ref's support: every token must stay reachable
        if (!(row[y] > 0)) {
          throw new IllegalArgumentException("reference[" + x + "][" + y + "]: expected > 0, got "
              + row[y]);
        }
        sum += row[y];
      }
      if (Math.abs(sum - 1) > 1e-9) {
        throw new IllegalArgumentException("reference[" + x + "]: expected a distribution "
            + "(sum 1), got sum " + sum);
      }
      this.reference[x] = row.clone();
    }
    this.rewards = new double[width];
    for (int s = 0; s < width; s++) {
      rewards[s] = reward.applyAsDouble(tokens(prefixes + s));
      if (!Double.isFinite(rewards[s])) {
        throw new IllegalArgumentException("reward of " + Arrays.toString(tokens(prefixes + s))
            + ": expected finite, got " + rewards[s]);
      }
    }
    this.description = description;
  }

  /**
   * The experiment's problem: π_ref a random bigram model, π_ref(y | prefix ending in a) =
   * softmax_y(B[a][y]) with B[a][y] ~ N(0, logitScale²) drawn from {@code modelSeed} (row V for
   * the empty prefix), and r(s) the number of adjacent pairs that count up, s_{t+1} = s_t + 1
   * mod V, given only once the sequence is complete: each token's credit reaches it through
   * the chain's values.
   */
  public static TokenTuning countingUp(int vocabulary, int horizon, double lambda,
      double logitScale, long modelSeed) {
    int states = countStates(vocabulary, horizon);
    if (!(logitScale >= 0) || Double.isInfinite(logitScale)) {
      throw new IllegalArgumentException("logitScale: expected finite and >= 0, got "
          + logitScale);
    }
    SplittableRandom rng = new SplittableRandom(modelSeed);
    double[][] bigram = new double[vocabulary + 1][vocabulary];
    for (double[] row : bigram) {
      for (int y = 0; y < vocabulary; y++) {
        row[y] = logitScale * rng.nextGaussian();
      }
      softmaxInPlace(row);
    }
    // the complete sequences are the last V^T of the states, and (states − 1)/V are not
    double[][] reference = new double[(states - 1) / vocabulary][];
    for (int x = 0; x < reference.length; x++) {
      // the last token of prefix x ≥ 1 is (x − 1) mod V: x = parent·V + 1 + token
      reference[x] = bigram[x == 0 ? vocabulary : (x - 1) % vocabulary].clone();
    }
    String description = String.format(Locale.ROOT, "vocabulary %d, horizon %d: π_ref a random "
        + "bigram model (logits N(0, %s²), model seed %d), r = the number of adjacent pairs "
        + "(a, a+1 mod %d), λ = %s", vocabulary, horizon, logitScale, modelSeed, vocabulary,
        lambda);
    return new TokenTuning(vocabulary, horizon, lambda, reference, s -> {
      int count = 0;
      for (int t = 0; t + 1 < s.length; t++) {
        count += s[t + 1] == (s[t] + 1) % vocabulary ? 1 : 0;
      }
      return count;
    }, description);
  }

  /** 1 + V + ... + V^T, the prefixes up to the horizon, checked against MAX_STATES. */
  private static int countStates(int vocabulary, int horizon) {
    if (vocabulary < 2) {
      throw new IllegalArgumentException("vocabulary: expected >= 2 tokens, got " + vocabulary);
    }
    if (horizon < 1) {
      throw new IllegalArgumentException("horizon: expected >= 1, got " + horizon);
    }
    long count = 0;
    for (long t = 0, w = 1; t <= horizon && count <= MAX_STATES; t++, w *= vocabulary) {
      count += w;
    }
    // the LMDP's passive matrix and its exact solve are dense, states × states
    if (count > MAX_STATES) {
      throw new IllegalArgumentException("states: expected at most " + MAX_STATES + " prefixes "
          + "(1 + V + ... + V^T, the LMDP is dense), got more with vocabulary " + vocabulary
          + " and horizon " + horizon);
    }
    return (int) count;
  }

  private static void softmaxInPlace(double[] v) {
    double max = Double.NEGATIVE_INFINITY;
    for (double a : v) {
      max = Math.max(max, a);
    }
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.exp(v[i] - max);
      sum += v[i];
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= sum;
    }
  }

  public int vocabulary() {
    return vocabulary;
  }

  public int horizon() {
    return horizon;
  }

  /** λ, the weight of the KL to π_ref. */
  public double lambda() {
    return lambda;
  }

  public String description() {
    return description;
  }

  /** All prefixes, the complete sequences included: the LMDP's states. */
  public int numStates() {
    return states;
  }

  /** The prefixes shorter than the horizon: the states a token is drawn at. */
  public int numPrefixes() {
    return prefixes;
  }

  /** V^T, the complete sequences. */
  public int numSequences() {
    return states - prefixes;
  }

  /** One logit offset per (prefix, token): the free chain's parameters. */
  public int numParams() {
    return prefixes * vocabulary;
  }

  /** The prefix x followed by token y. */
  public int child(int prefix, int token) {
    return prefix * vocabulary + 1 + token;
  }

  /** The tokens of state x, first to last (empty for the root). */
  public int[] tokens(int x) {
    if (x < 0 || x >= states) {
      throw new IllegalArgumentException("state: expected 0.." + (states - 1) + ", got " + x);
    }
    int length = 0;
    for (int first = 0, w = 1; x >= first + w; first += w, w *= vocabulary) {
      length++;
    }
    int[] s = new int[length];
    for (int t = length - 1; t >= 0; t--) {
      s[t] = (x - 1) % vocabulary;
      x = (x - 1) / vocabulary;
    }
    return s;
  }

  /** π_ref(·|prefix) (a copy). */
  public double[] reference(int prefix) {
    return reference[prefix].clone();
  }

  /** r(s) of the sequences in lexicographic order (a copy). */
  public double[] rewards() {
    return rewards.clone();
  }

  /** π_θ(·|prefix) = softmax_y(θ[xV + y] + ln π_ref(y|x)). */
  public double[] policy(int prefix, double[] theta) {
    checkTheta(theta);
    double[] u = new double[vocabulary];
    for (int y = 0; y < vocabulary; y++) {
      u[y] = theta[prefix * vocabulary + y] + Math.log(reference[prefix][y]);
    }
    softmaxInPlace(u);
    return u;
  }

  /**
   * ln π_θ(s) of every complete sequence, in lexicographic order, by one pass down the tree
   * (logarithms, so that no sequence underflows to probability 0).
   */
  public double[] sequenceLogProbabilities(double[] theta) {
    double[] logProb = new double[states];
    for (int x = 0; x < prefixes; x++) {
      double[] u = policy(x, theta);
      for (int y = 0; y < vocabulary; y++) {
        logProb[child(x, y)] = logProb[x] + Math.log(u[y]);
      }
    }
    return Arrays.copyOfRange(logProb, prefixes, states);
  }

  /** J(θ) = Σ_s π_θ(s) [λ ln(π_θ(s)/π_ref(s)) − r(s)], by enumeration. */
  public double objective(double[] theta) {
    double[] logU = sequenceLogProbabilities(theta);
    double[] logRef = sequenceLogProbabilities(new double[numParams()]);
    double j = 0;
    for (int s = 0; s < logU.length; s++) {
      double u = Math.exp(logU[s]);
      if (u > 0) {
        j += u * (lambda * (logU[s] - logRef[s]) - rewards[s]);
      }
    }
    return j;
  }

  /** J* = −λ ln Σ_s π_ref(s) e^{r(s)/λ}, by enumeration (a log-sum-exp). */
  public double optimalObjective() {
    double[] a = optimalLogWeights();
    return -lambda * logSumExp(a);
  }

  /** π*(s) = π_ref(s) e^{r(s)/λ} / Σ, the sequences in lexicographic order. */
  public double[] optimalSequenceProbabilities() {
    double[] a = optimalLogWeights();
    double norm = logSumExp(a);
    for (int s = 0; s < a.length; s++) {
      a[s] = Math.exp(a[s] - norm);
    }
    return a;
  }

  /** ln π_ref(s) + r(s)/λ. */
  private double[] optimalLogWeights() {
    double[] a = sequenceLogProbabilities(new double[numParams()]);
    for (int s = 0; s < a.length; s++) {
      a[s] += rewards[s] / lambda;
    }
    return a;
  }

  private static double logSumExp(double[] a) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : a) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (double v : a) {
      sum += Math.exp(v - max);
    }
    return max + Math.log(sum);
  }

  /**
   * The tuning problem as a first-exit LMDP (docs/math.md §2g): passive dynamics π_ref on the
   * prefix tree, q = −r/λ at the complete sequences (terminal) and 0 inside, start at the empty
   * prefix; the free controlled chain. Its J is J(θ)/λ, and its z at the root is
   * Σ_s π_ref(s) e^{r(s)/λ}.
   */
  public LmdpChain chain() {
    double[][] passive = new double[states][states];
    double[] q = new double[states];
    boolean[] terminal = new boolean[states];
    for (int x = 0; x < prefixes; x++) {
      for (int y = 0; y < vocabulary; y++) {
        passive[x][child(x, y)] = reference[x][y];
      }
    }
    for (int s = 0; s < rewards.length; s++) {
      terminal[prefixes + s] = true;
      q[prefixes + s] = -rewards[s] / lambda;
    }
    double[] p0 = new double[states];
    p0[0] = 1;
    return LmdpChain.free(passive, q, terminal, p0);
  }

  private void checkTheta(double[] theta) {
    if (theta == null || theta.length != numParams()) {
      throw new IllegalArgumentException("theta: expected " + numParams() + " values (one per "
          + "prefix and token), got " + (theta == null ? "null" : theta.length));
    }
  }
}
