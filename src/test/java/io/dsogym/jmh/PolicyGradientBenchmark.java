package io.dsogym.jmh;

import io.dsogym.dso.Algorithm1;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.dso.ProximalChainOptimization;
import io.dsogym.chain.StateCost;
import io.dsogym.dso.Surrogate;
import io.dsogym.optim.Adam;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The learner's per-transition cost: Algorithm 1's backward accumulation (docs/math.md §3d) over a
 * batch, then the policy's forward pass and score accumulated with that weight, reported per
 * transition ({@link #forwardScoreAndAccumulate}, the baseline); the same gradient as the
 * trainer takes it, through the surrogate (§4b, Lemma 2: {@link #surrogateGradient}); and one
 * PCO update of one epoch: four clipped minibatch steps plus its report, the gradient at θ_k,
 * the sampled KL and S̃ ({@link #pcoEpoch}). Shapes: CartPole (4 observations, 2 discrete actions) and HalfCheetah (17
 * observations, 6-dimensional Gaussian); policies: linear and a 64x64 tanh MLP.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PolicyGradientBenchmark {
  static final int BATCH = 1024;

  @Param({"cartpole", "halfcheetah"})
  public String shape;

  @Param({"linear", "mlp64x64"})
  public String policy;

  private MlpPolicy pi;
  private double[] theta;
  private double[] grad;
  private double[] value;
  private double[] nextValue;
  private double[] weights;
  private double[] targets;
  private TrajectoryBatch batch;
  private final Algorithm1.Options options = new Algorithm1.Options(
      Algorithm1.Setting.DISCOUNTED, 0.99, 0.95, false);

  @Setup
  public void setUp() {
    boolean cartpole = shape.equals("cartpole");
    int obsDim = cartpole ? 4 : 17;
    List<Integer> hidden = policy.equals("linear") ? List.of() : List.of(64, 64);
    PolicySpec spec = new PolicySpec(cartpole ? PolicySpec.Head.CATEGORICAL
        : PolicySpec.Head.GAUSSIAN, obsDim, hidden, PolicySpec.Activation.TANH,
        cartpole ? 2 : 6);
    pi = new MlpPolicy(spec, 0.0);
    theta = pi.initialTheta(1);
    grad = new double[pi.numParams()];
    SplittableRandom rng = new SplittableRandom(2);
    batch = new TrajectoryBatch(obsDim, pi.actionDim());
    batch.ensureCapacity(8, BATCH / 8);
    for (int i = 0; i < batch.obs.length; i++) {
      batch.obs[i] = rng.nextDouble(-1, 1);
    }
    for (int i = 0; i < BATCH; i++) {
      batch.logProb[i] = pi.sample(theta, batch.obs, i * obsDim, rng, batch.actions,
          i * pi.actionDim());
      batch.cost[i] = -1;
      batch.episodeStep[i] = i / 8;
      batch.terminated[i] = rng.nextDouble() < 0.01;
    }
    value = new double[BATCH];
    nextValue = new double[BATCH];
    weights = new double[BATCH];
    targets = new double[BATCH];
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double forwardScoreAndAccumulate() {
    Algorithm1.weights(batch, value, nextValue, options, 0.0, weights, targets);
    int d = batch.obsDim;
    int a = batch.actionDim;
    double logp = 0;
    for (int i = 0; i < BATCH; i++) {
      logp += pi.accumulateScore(theta, batch.obs, i * d, batch.actions, i * a,
          weights[i] / BATCH, grad);
    }
    return logp + grad[0];
  }

  private double[] advantage() {
    Algorithm1.weights(batch, value, nextValue, options, 0.0, weights, targets);
    double[] a = new double[BATCH];
    for (int i = 0; i < BATCH; i++) {
      a[i] = weights[i] / BATCH;
    }
    return a;
  }

  private double[] uniform() {
    double[] k = new double[BATCH];
    java.util.Arrays.fill(k, 1.0 / BATCH);
    return k;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double surrogateGradient() {
    Surrogate s = new Surrogate(new PolicyTransitions(pi, batch.obs, batch.actions, BATCH),
        StateCost.NONE, theta, advantage(), uniform());
    s.gradientAtStart(grad);
    return grad[0];
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double pcoEpoch() {
    Surrogate s = new Surrogate(new PolicyTransitions(pi, batch.obs, batch.actions, BATCH),
        StateCost.NONE, theta, advantage(), uniform());
    double[] t = theta.clone();
    return new ProximalChainOptimization(new Adam(1e-3),
        new ProximalChainOptimization.Options(1, 4, 0.2, false, 0, 0), 1).improve(s, t, 0).kl();
  }
}
