package io.dsogym.jmh;

import io.dsogym.chain.StateCost;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.dso.Surrogate;
import io.dsogym.dso.ValueFunction;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A 64x64 tanh MLP's forward plus backward pass per transition over one minibatch of
 * {@link #minibatch} transitions, in the two places the learner spends it: V̂'s fit (17
 * observations, one output; one Adam minibatch step, {@link #valueFitStep}) and the policy's
 * score (HalfCheetah's 17 observations, 6-d Gaussian; ln π and ∇ln π of every transition,
 * {@link #policyScore}, and one at a time, {@link #policyScorePerTransition}); and PCO's
 * minibatch gradient through the surrogate, {@link #surrogateMinibatchGradient}. V̂'s bare
 * passes without the optimizer, {@link #valuePasses}, are also written with EJML
 * ({@link #valuePassesEjml}), the yardstick the kernels were chosen against. Each invocation
 * covers 512 transitions in minibatches, so the results are per transition at either
 * minibatch size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MlpKernelBenchmark {
  static final int OBS = 17;
  static final int TRANSITIONS = 512;

  @Param({"64", "512"})
  public int minibatch;

  private ValueFunction value;
  private MlpPolicy pi;
  private double[] theta;
  private double[] grad;
  private double[] obs;
  private double[] actions;
  private double[] targets;
  private double[] weights;
  private double[] logProb;
  private int[] index;
  private io.dsogym.policy.Mlp valueNet;
  private EjmlMlp ejml;
  private double[] valueTheta;
  private double[] valueGrad;
  private double[] errors;
  private Surrogate surrogate;
  private double[] perturbed;
  private final SplittableRandom rng = new SplittableRandom(3);

  @Setup(Level.Trial)
  public void setUp() {
    value = new ValueFunction(OBS, List.of(64, 64), PolicySpec.Activation.TANH, 1e-4, 1);
    PolicySpec spec = new PolicySpec(PolicySpec.Head.GAUSSIAN, OBS, List.of(64, 64),
        PolicySpec.Activation.TANH, 6);
    pi = new MlpPolicy(spec, 0.0);
    theta = pi.initialTheta(1);
    grad = new double[pi.numParams()];
    SplittableRandom init = new SplittableRandom(2);
    obs = new double[TRANSITIONS * OBS];
    for (int i = 0; i < obs.length; i++) {
      obs[i] = init.nextDouble(-1, 1);
    }
    actions = new double[TRANSITIONS * pi.actionDim()];
    targets = new double[TRANSITIONS];
    weights = new double[TRANSITIONS];
    logProb = new double[TRANSITIONS];
    for (int i = 0; i < TRANSITIONS; i++) {
      pi.sample(theta, obs, i * OBS, init, actions, i * pi.actionDim());
      targets[i] = init.nextDouble(-1, 1);
      weights[i] = init.nextDouble(-1, 1) / TRANSITIONS;
    }
    index = new int[TRANSITIONS];
    for (int i = 0; i < TRANSITIONS; i++) {
      index[i] = (i * 263) % TRANSITIONS;  // a fixed shuffle
    }
    double[] kappa = new double[TRANSITIONS];
    java.util.Arrays.fill(kappa, 1.0 / TRANSITIONS);
    surrogate = new Surrogate(new PolicyTransitions(pi, obs, actions, TRANSITIONS),
        StateCost.NONE, theta, weights, kappa);
    int[] valueSizes = {OBS, 64, 64, 1};
    valueNet = new io.dsogym.policy.Mlp(valueSizes, PolicySpec.Activation.TANH);
    ejml = new EjmlMlp(valueSizes, minibatch);
    valueTheta = new double[valueNet.numParams()];
    valueNet.initialize(valueTheta, 0, new SplittableRandom(4), 1.0);
    valueGrad = new double[valueTheta.length];
    errors = new double[minibatch];
    perturbed = theta.clone();
    for (int j = 0; j < perturbed.length; j++) {
      perturbed[j] += init.nextDouble(-0.01, 0.01);
    }
  }

  /** One Adam step of V̂ per minibatch over 512 transitions (ns per transition). */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double valueFitStep() {
    return value.fit(obs, targets, TRANSITIONS, 1, minibatch, rng);
  }

  /** ln π and weight · ∇ln π of 512 transitions, one at a time (ns per transition). */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double policyScorePerTransition() {
    java.util.Arrays.fill(grad, 0);
    int a = pi.actionDim();
    double s = 0;
    for (int i = 0; i < TRANSITIONS; i++) {
      s += pi.accumulateScore(theta, obs, i * OBS, actions, i * a, weights[i], grad);
    }
    return s + grad[0];
  }

  /** The same, minibatch by minibatch as matrix products (ns per transition). */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double policyScore() {
    java.util.Arrays.fill(grad, 0);
    for (int from = 0; from < TRANSITIONS; from += minibatch) {
      int to = Math.min(TRANSITIONS, from + minibatch);
      pi.accumulateScores(theta, obs, actions, index, from, to, weights, grad, logProb);
    }
    return logProb[0] + grad[0];
  }

  /**
   * PCO's minibatch gradient of the clipped surrogate (docs/math.md §4d) over 512 transitions:
   * ln π, the ratio and the score of each, through {@code Surrogate} (ns per transition).
   */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double surrogateMinibatchGradient() {
    double s = 0;
    for (int from = 0; from < TRANSITIONS; from += minibatch) {
      s += surrogate.gradient(perturbed, index, from, Math.min(TRANSITIONS, from + minibatch),
          0.2, grad, null);
    }
    return s;
  }

  /**
   * The bare passes of V̂'s fit, no optimizer: forward and backward of 512 transitions,
   * minibatch by minibatch, with this repository's kernels (ns per transition).
   */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double valuePasses() {
    java.util.Arrays.fill(valueGrad, 0);
    for (int from = 0; from < TRANSITIONS; from += minibatch) {
      int to = Math.min(TRANSITIONS, from + minibatch);
      double[] out = valueNet.forwardRows(valueTheta, 0, obs, index, from, to);
      for (int r = 0; r < to - from; r++) {
        errors[r] = out[r] - targets[index[from + r]];
      }
      valueNet.backward(valueTheta, 0, errors, 0, valueGrad);
    }
    return valueGrad[0];
  }

  /** {@link #valuePasses} written with EJML's dense products (ns per transition). */
  @Benchmark
  @org.openjdk.jmh.annotations.OperationsPerInvocation(TRANSITIONS)
  public double valuePassesEjml() {
    java.util.Arrays.fill(valueGrad, 0);
    for (int from = 0; from < TRANSITIONS; from += minibatch) {
      double[] out = ejml.forward(valueTheta, obs, index, from);
      for (int r = 0; r < minibatch; r++) {
        errors[r] = out[r] - targets[index[from + r]];
      }
      ejml.backward(errors, valueGrad);
    }
    return valueGrad[0];
  }
}
