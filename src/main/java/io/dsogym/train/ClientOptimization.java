package io.dsogym.train;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.dso.Critic;
import io.dsogym.env.EnvUnavailableException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * An optimization session for a client that owns its policy and its env loop, in any language
 * (the optimizer service, docs/protocol.md): the client's batches of chain transitions are a
 * {@link ChainSource} for an ordinary {@link Trainer}, which runs on a thread of its own, so
 * every update is computed by the trainer's own code (docs/math.md §9: the optimizers never know
 * who produced the batch).
 *
 * <p>The client gives, per transition, the cost, the flags, ln P and the score ∇θ ln P at θ_k,
 * and V̂'s features (V̂ is then fitted here, as in training) or its own V̂ values. An optimizer
 * that needs ln P at another θ (a line search, PCO's epochs, Chain Iteration's Hessian
 * products) makes the session ask the client through {@link Listener#evaluate} and wait for
 * {@link #answer}; the last θ asked for is cached, so a pass over the batch costs one round trip.
 *
 * <p>Every refusal ({@link #submit}, {@link #answer}) throws before anything changes: the
 * trainer never sees a refused batch, and a refused evaluation leaves its request open.
 */
public final class ClientOptimization implements AutoCloseable {
  /** The `train` options a client may set (without "--"); the rest belong to env loops. */
  public static final List<String> OPTIONS = List.of("seed", "max-steps", "lr",
      "anneal-lr", "max-grad-norm", "gamma", "lambda", "discount-states", "setting",
      "normalize-advantages", "value-hidden", "activation", "value-lr", "value-epochs",
      "value-minibatch", "epochs", "minibatches", "clip", "anneal-clip", "target-kl", "max-kl",
      "cg-iters", "cg-damping", "ci-steps");

  /** What the session sends the client; called from the trainer's thread. */
  public interface Listener {
    /** Evaluate batch {@code batchId} at θ; answer with {@link #answer}. */
    void evaluate(long batchId, long evaluationId, double[] theta);

    /** θ_{k+1}, the reply to batch {@code batchId}. */
    void update(long batchId, double[] theta, long iteration, int evaluations);

    /** The trainer failed on batch {@code batchId}; the session takes no more batches. */
    void failed(long batchId, RuntimeException cause);
  }

  /**
   * One client batch (TransitionBatch on the wire): n = K·N transitions, step-major. Arrays a
   * session does not use are null. {@code id} is the client's, echoed to the {@link Listener}.
   */
  public record Batch(long id, int numLanes, double[] costs, boolean[] terminated, boolean[] truncated,
      double[] logProbs, double[] scores, double[] features, double[] nextFeatures,
      double[] values, double[] nextValues, double[] costGradients,
      double[] behaviourLogProbs) {}

  /** The batch evaluated at the θ of an evaluate request (EvaluationResult on the wire). */
  public record Evaluation(long evaluationId, double[] logProbs, double[] scores,
      double[] costs, double[] costGradients) {}

  private enum Phase { AWAITING_BATCH, WORKING, AWAITING_EVALUATION, FINISHED, CLOSED, FAILED }

  private final TrainConfig config;
  private final Map<String, String> options;
  private final int numParams;
  private final int featureDim;
  private final boolean costDependsOnTheta;
  private final long maxTransitions;
  private final Listener listener;
  private final Path runDir;
  private final Trainer trainer;
  private final Thread thread;

  // guarded by this
  private Phase phase = Phase.AWAITING_BATCH;
  private ChainBatch pending;
  private Batch pendingClient;
  private boolean batchInProgress;
  private long evaluationId;
  private Evaluation answered;
  private int evaluations;
  private long iteration;
  private String failure;
  private int[] laneEpisodeStep = new int[0];

  /**
   * @param algorithm gradient, natural, pco or chain-iteration
   * @param options `train` options without "--", among {@link #OPTIONS}
   * @param preset an env id whose `train` presets are the defaults; empty: none
   * @param theta0 θ₀
   * @param featureDim F > 0: batches carry V̂'s features and V̂ is fitted here; 0: batches
   *     carry the client's V̂ values
   * @param costDependsOnTheta batches carry ∇θ L, and evaluations L and ∇θ L
   * @param maxTransitions the most transitions one batch may hold
   */
  public ClientOptimization(String algorithm, Map<String, String> options, String preset,
      double[] theta0, int featureDim, boolean costDependsOnTheta, long maxTransitions,
      Listener listener) {
    if (theta0.length == 0) {
      throw new IllegalArgumentException("open.theta: expected θ₀ with at least one parameter, "
          + "got none");
    }
    requireFinite(theta0, "open.theta");
    if (featureDim < 0) {
      throw new IllegalArgumentException("open.feature_dim: expected F >= 0 (0: the client "
          + "sends V̂ values), got " + featureDim);
    }
    this.options = effectiveOptions(algorithm, options, preset);
    Map<String, String> dashed = new LinkedHashMap<>();
    options.forEach((k, v) -> dashed.put("--" + k, v));
    dashed.put("--algo", algorithm);
    dashed.putIfAbsent("--max-steps", Long.toString(Long.MAX_VALUE));  // no budget
    try {
      this.config = TrainPresets.config(preset.isEmpty() ? "client" : preset, dashed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("open.options: " + e.getMessage(), e);  // "--lr: ..."
    }
    checkSize(config, theta0.length, featureDim);
    this.numParams = theta0.length;
    this.featureDim = featureDim;
    this.costDependsOnTheta = costDependsOnTheta;
    this.maxTransitions = maxTransitions;
    this.listener = listener;
    try {
      this.runDir = Files.createTempDirectory("dsogym-optimizer-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
    Trainer t;
    try {
      t = new Trainer(config, new Source(), theta0, (ExactObjective) null, runDir, quiet);
    } catch (RuntimeException e) {
      deleteRunDir();
      throw e;
    }
    if (featureDim == 0) {
      t.withCritic(new ClientValues());
    }
    this.trainer = t;
    this.thread = new Thread(this::train, "dsogym-optimizer");
    thread.setDaemon(true);
  }

  /** The most parameters θ or V̂ may have: 4M doubles, 32 MB, about 128 MB with Adam's moments. */
  public static final long MAX_PARAMS = 1L << 22;
  /** The most passes a client may ask for per batch (epochs, CG iterations, Newton steps...). */
  public static final int MAX_PASSES = 1000;

  /**
   * A client chooses θ's size, V̂'s features and layers and the passes per batch: each is
   * bounded, so that no session can take the server's memory, or a batch run unbounded.
   */
  private static void checkSize(TrainConfig c, long thetaParams, int featureDim) {
    if (thetaParams > MAX_PARAMS) {
      throw new IllegalArgumentException("open.theta: expected at most " + MAX_PARAMS
          + " parameters, got " + thetaParams);
    }
    long valueParams = 0;
    long in = Math.max(1, featureDim);
    for (int width : c.valueHidden()) {
      valueParams += (in + 1) * width;
      in = width;
    }
    valueParams += in + 1;
    if (valueParams > MAX_PARAMS) {
      throw new IllegalArgumentException("open.feature_dim, open.options value-hidden: V̂ of "
          + Math.max(1, featureDim) + " features and layers " + c.valueHidden()
          + " has " + valueParams + " parameters, expected at most " + MAX_PARAMS);
    }
    Map<String, Integer> passes = new LinkedHashMap<>();
    passes.put("epochs", c.surrogate().epochs());
    passes.put("minibatches", c.surrogate().minibatches());
    passes.put("value-epochs", c.valueEpochs());
    passes.put("cg-iters", c.surrogate().cgIterations());
    passes.put("ci-steps", c.surrogate().newtonSteps());
    passes.forEach((name, count) -> {
      if (count > MAX_PASSES) {
        throw new IllegalArgumentException("open.options: " + name + ": expected at most "
            + MAX_PASSES + ", got " + count);
      }
    });
  }

  /** The options in effect: the presets for the algorithm with the client's laid over them. */
  private static Map<String, String> effectiveOptions(String algorithm, Map<String, String> given,
      String preset) {
    if (!TrainConfig.ALGORITHMS.contains(algorithm)) {
      throw new IllegalArgumentException("open.algorithm: expected one of "
          + String.join(", ", TrainConfig.ALGORITHMS) + ", got '" + algorithm + "'");
    }
    for (String name : given.keySet()) {
      if (!OPTIONS.contains(name)) {
        throw new IllegalArgumentException("open.options: expected names among "
            + String.join(", ", OPTIONS) + ", got '" + name + "'");
      }
    }
    Map<String, String> defaults = TrainPresets.defaults(preset.isEmpty() ? "client" : preset,
        algorithm);
    Map<String, String> out = new TreeMap<>();
    for (String name : OPTIONS) {
      out.put(name, given.getOrDefault(name, defaults.get("--" + name)));
    }
    if (!given.containsKey("max-steps")) {
      out.put("max-steps", "0 (no budget)");
    }
    return out;
  }

  /** Starts the trainer's thread; batches may come from now on. */
  public ClientOptimization start() {
    thread.start();
    return this;
  }

  public int numParams() {
    return numParams;
  }

  /** Every option accepted, with the value in effect. */
  public Map<String, String> options() {
    return options;
  }

  public String algorithm() {
    return config.algo();
  }

  /** n of the batch in progress (what an evaluation must cover), or 0 when there is none. */
  public synchronized int batchSize() {
    return phase == Phase.AWAITING_EVALUATION || phase == Phase.WORKING ? pending.size() : 0;
  }

  /**
   * Hands the trainer the client's next batch; its update comes through {@link
   * Listener#update}.
   *
   * @throws IllegalArgumentException for a malformed batch (naming the field, expected and got)
   * @throws IllegalStateException when no batch is expected now; nothing changes in either case
   */
  public synchronized void submit(Batch b) {
    requirePhase(Phase.AWAITING_BATCH, "batch");
    int n = validate(b);
    int lanes = b.numLanes();
    if (laneEpisodeStep.length != lanes) {
      laneEpisodeStep = new int[lanes];  // a new lane layout: episodes counted from here
    }
    TrajectoryBatch steps = new TrajectoryBatch(0, 0);
    steps.ensureCapacity(lanes, n / lanes);
    System.arraycopy(b.costs(), 0, steps.cost, 0, n);
    System.arraycopy(b.terminated(), 0, steps.terminated, 0, n);
    System.arraycopy(b.truncated(), 0, steps.truncated, 0, n);
    for (int i = 0; i < n; i++) {
      int lane = i % lanes;
      steps.episodeStep[i] = laneEpisodeStep[lane];
      laneEpisodeStep[lane] = steps.ended(i) ? 0 : laneEpisodeStep[lane] + 1;
    }
    if (b.behaviourLogProbs() != null) {
      steps.offChain = true;
      System.arraycopy(b.behaviourLogProbs(), 0, steps.logProb, 0, n);
    } else {
      System.arraycopy(b.logProbs(), 0, steps.logProb, 0, n);
    }
    int f = Math.max(1, featureDim);
    double[] features = featureDim > 0 ? b.features().clone() : new double[n * f];
    double[] nextFeatures = featureDim > 0 ? b.nextFeatures().clone() : new double[n * f];
    Transitions transitions = new Transitions(n, b);
    StateCost cost = costDependsOnTheta ? transitions.cost() : StateCost.NONE;
    pending = new ChainBatch(steps, f, features, nextFeatures, transitions, cost);
    pendingClient = b;
    evaluations = 0;
    phase = Phase.WORKING;
    notifyAll();
  }

  /**
   * The client's evaluation of the batch at the θ of an evaluate request.
   *
   * @throws IllegalArgumentException for a malformed answer; the request stays open
   * @throws IllegalStateException when no evaluation is expected, or for another request's id
   */
  public synchronized void answer(Evaluation e) {
    requirePhase(Phase.AWAITING_EVALUATION, "evaluation");
    if (e.evaluationId() != evaluationId) {
      throw new IllegalStateException("evaluation.evaluation_id: expected " + evaluationId
          + " (the open evaluate request), got " + e.evaluationId());
    }
    int n = pending.size();
    requireLength(e.logProbs(), n, "evaluation.log_probs", "[n] = [" + n + "]");
    requireLength(e.scores(), (long) n * numParams, "evaluation.scores",
        "[n, P] = [" + n + ", " + numParams + "]");
    requireFinite(e.logProbs(), "evaluation.log_probs");
    requireFinite(e.scores(), "evaluation.scores");
    if (costDependsOnTheta) {
      requireLength(e.costs(), n, "evaluation.costs", "[n] = [" + n + "] (cost_depends_on_theta)");
      requireLength(e.costGradients(), (long) n * numParams, "evaluation.cost_gradients",
          "[n, P] = [" + n + ", " + numParams + "] (cost_depends_on_theta)");
      requireFinite(e.costs(), "evaluation.costs");
      requireFinite(e.costGradients(), "evaluation.cost_gradients");
    }
    answered = e;
    phase = Phase.WORKING;
    notifyAll();
  }

  /** Ends the session: the trainer stops (mid-batch too) and its files are removed. */
  @Override
  public void close() {
    trainer.requestStop("the client closed the session");  // before the trainer wakes to it
    synchronized (this) {
      phase = Phase.CLOSED;
      notifyAll();
    }
  }

  /** Waits for the trainer's thread to end (tests). */
  void join() throws InterruptedException {
    thread.join();
  }

  private void requirePhase(Phase expected, String what) {
    if (phase == expected) {
      return;
    }
    String now = switch (phase) {
      case AWAITING_BATCH -> "a batch";
      case WORKING -> "no message: the batch in progress gets its update or an evaluate "
          + "request first";
      case AWAITING_EVALUATION -> "the evaluation of evaluate request " + evaluationId;
      case FINISHED -> "no batch: the budget max-steps " + config.maxSteps() + " is spent";
      case CLOSED -> "no message: the session is closed";
      case FAILED -> "no message: the optimizer failed (" + failure + ")";
    };
    throw new IllegalStateException(what + ": expected " + now + ", got "
        + (what.startsWith("e") ? "an " : "a ") + what);
  }

  /** Checks a batch against the session; returns n. */
  private int validate(Batch b) {
    int lanes = b.numLanes();
    if (lanes < 1) {
      throw new IllegalArgumentException("batch.num_lanes: expected N >= 1, got " + lanes);
    }
    if (b.costs() == null || b.costs().length == 0) {
      throw new IllegalArgumentException("batch.costs: expected FLOAT64 [n] with n >= 1, got "
          + (b.costs() == null ? "none" : "0 values"));
    }
    int n = b.costs().length;
    if (n > maxTransitions) {
      throw new IllegalArgumentException("batch.costs: expected at most " + maxTransitions
          + " transitions per batch, got " + n);
    }
    if (n % lanes != 0) {
      throw new IllegalArgumentException("batch.costs: expected n a multiple of num_lanes "
          + lanes + " (K steps of every lane), got n = " + n);
    }
    String perTransition = "[n] = [" + n + "]";
    String perParam = "[n, P] = [" + n + ", " + numParams + "]";
    requireLength(b.terminated(), n, "batch.terminated", perTransition);
    requireLength(b.truncated(), n, "batch.truncated", perTransition);
    requireLength(b.logProbs(), n, "batch.log_probs", perTransition);
    requireLength(b.scores(), (long) n * numParams, "batch.scores", perParam);
    if (featureDim > 0) {
      String perFeature = "[n, F] = [" + n + ", " + featureDim + "] (open.feature_dim)";
      requireLength(b.features(), (long) n * featureDim, "batch.features", perFeature);
      requireLength(b.nextFeatures(), (long) n * featureDim, "batch.next_features", perFeature);
      requireFinite(b.features(), "batch.features");
      requireFinite(b.nextFeatures(), "batch.next_features");
    } else {
      requireLength(b.values(), n, "batch.values", perTransition + " (open.feature_dim is 0)");
      requireLength(b.nextValues(), n, "batch.next_values",
          perTransition + " (open.feature_dim is 0)");
      requireFinite(b.values(), "batch.values");
      requireFinite(b.nextValues(), "batch.next_values");
    }
    if (costDependsOnTheta) {
      requireLength(b.costGradients(), (long) n * numParams, "batch.cost_gradients",
          perParam + " (open.cost_depends_on_theta)");
      requireFinite(b.costGradients(), "batch.cost_gradients");
    }
    if (b.behaviourLogProbs() != null) {
      requireLength(b.behaviourLogProbs(), n, "batch.behaviour_log_probs", perTransition);
      requireFinite(b.behaviourLogProbs(), "batch.behaviour_log_probs");
    }
    requireFinite(b.costs(), "batch.costs");
    requireFinite(b.logProbs(), "batch.log_probs");
    requireFinite(b.scores(), "batch.scores");
    return n;
  }

  private static void requireLength(Object array, long expected, String field, String shape) {
    long got = array == null ? -1 : array instanceof double[] d ? d.length
        : ((boolean[]) array).length;
    if (got != expected) {
      throw new IllegalArgumentException(field + ": expected " + shape + ", " + expected
          + " values, got " + (got < 0 ? "none" : got + " values"));
    }
  }

  private static void requireFinite(double[] xs, String field) {
    for (int i = 0; i < xs.length; i++) {
      if (!Double.isFinite(xs[i])) {
        throw new IllegalArgumentException(field + ": expected finite values, got " + xs[i]
            + " at flat index " + i);
      }
    }
  }

  /** The trainer's thread: runs until the client closes, the budget is spent, or a failure. */
  private void train() {
    try {
      trainer.run();
      long lastId;
      synchronized (this) {
        if (phase == Phase.CLOSED) {
          return;
        }
        phase = Phase.FINISHED;
        lastId = pendingClient == null ? 0 : pendingClient.id();
      }
      if (batchInProgress) {
        // the budget's last batch: the trainer's loop ended without asking for another
        listener.update(lastId, trainer.theta(), iteration, evaluations);
      }
    } catch (SessionClosed closed) {
      // the client went away mid-batch
    } catch (Exception | Error e) {
      RuntimeException cause = e instanceof RuntimeException r ? r
          : new IllegalStateException(e.toString(), e);
      boolean report;
      long batchId;
      synchronized (this) {
        report = phase != Phase.CLOSED;
        batchId = pendingClient == null ? 0 : pendingClient.id();
        failure = e.getMessage();
        phase = Phase.FAILED;
      }
      if (report) {
        listener.failed(batchId, cause);
      }
    } finally {
      deleteRunDir();
    }
  }

  private void deleteRunDir() {
    try (Stream<Path> files = Files.walk(runDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory: the OS cleans up what is left
    }
  }

  /** The client went away while the trainer waited for it. */
  private static final class SessionClosed extends RuntimeException {
    SessionClosed() {
      super("the client closed the session", null, false, false);
    }
  }

  /** The client's batches as the trainer's chain source. */
  private final class Source implements ChainSource {
    @Override
    public int numParams() {
      return numParams;
    }

    @Override
    public int featureDim() {
      return Math.max(1, featureDim);
    }

    @Override
    public ChainBatch collect(double[] theta, int stepsPerLane) {
      long k;
      int used;
      Batch done;
      synchronized (ClientOptimization.this) {
        done = pendingClient;
        k = iteration;
        used = evaluations;
        if (batchInProgress && phase == Phase.WORKING) {
          // before the update goes out, since the client may send its next batch at once; on
          // the first collect a batch may already be waiting
          phase = Phase.AWAITING_BATCH;
        }
      }
      if (batchInProgress) {
        listener.update(done.id(), theta.clone(), k, used);
      }
      synchronized (ClientOptimization.this) {
        while (phase == Phase.AWAITING_BATCH) {
          waitUninterruptibly();
        }
        if (phase != Phase.WORKING) {
          // the trainer breaks out of its loop on this, with its stop requested by close()
          throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED,
              "the client closed the session", null);
        }
        batchInProgress = true;
        iteration++;
        ((Transitions) pending.transitions()).thetaK = theta.clone();
        return pending;
      }
    }

    @Override
    public void close() {}
  }

  private void waitUninterruptibly() {
    try {
      wait();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SessionClosed();
    }
  }

  /** Asks the client for the batch at θ and waits for its answer (the trainer's thread). */
  private Evaluation evaluate(double[] theta) {
    long id;
    long batchId;
    synchronized (this) {
      if (phase != Phase.WORKING) {
        throw new SessionClosed();
      }
      batchId = pendingClient.id();
      id = ++evaluationId;
      evaluations++;
      answered = null;
      phase = Phase.AWAITING_EVALUATION;
    }
    listener.evaluate(batchId, id, theta.clone());
    synchronized (this) {
      while (phase == Phase.AWAITING_EVALUATION) {
        waitUninterruptibly();
      }
      if (phase != Phase.WORKING || answered == null) {
        throw new SessionClosed();
      }
      return answered;
    }
  }

  /**
   * ln P and its score of the batch's transitions at any θ: at θ_k from the batch, elsewhere
   * from the client's evaluation, of which the last one is kept (a pass over the batch asks
   * once; a central difference's two points ask twice).
   */
  private final class Transitions implements TransitionLikelihood {
    private final int n;
    /** θ_k, the θ the trainer collected the batch under (set when it takes the batch). */
    private double[] thetaK;
    private final Batch batch;
    private double[] lastTheta;
    private Evaluation last;

    Transitions(int n, Batch batch) {
      this.n = n;
      this.batch = batch;
    }

    @Override
    public int size() {
      return n;
    }

    @Override
    public int numParams() {
      return numParams;
    }

    /** The evaluation at θ: null at θ_k (read the batch), else the cached or a new one. */
    private Evaluation at(double[] theta) {
      if (Arrays.equals(theta, thetaK)) {
        return null;
      }
      if (lastTheta == null || !Arrays.equals(theta, lastTheta)) {
        last = evaluate(theta);
        lastTheta = theta.clone();
      }
      return last;
    }

    @Override
    public double logLikelihood(double[] theta, int i) {
      Evaluation e = at(theta);
      return e == null ? batch.logProbs()[i] : e.logProbs()[i];
    }

    @Override
    public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
      Evaluation e = at(theta);
      addRow(e == null ? batch.scores() : e.scores(), i, weight, grad);
      return e == null ? batch.logProbs()[i] : e.logProbs()[i];
    }

    /** L(x_i,θ) and ∇θ L from the batch at θ_k and from the evaluations elsewhere. */
    StateCost cost() {
      double[] costsAtK = batch.costs().clone();
      return new StateCost() {
        @Override
        public double cost(double[] theta, int i) {
          Evaluation e = at(theta);
          return e == null ? costsAtK[i] : e.costs()[i];
        }

        @Override
        public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
          Evaluation e = at(theta);
          addRow(e == null ? batch.costGradients() : e.costGradients(), i, weight, grad);
          return e == null ? costsAtK[i] : e.costs()[i];
        }
      };
    }

    private void addRow(double[] rows, int i, double weight, double[] grad) {
      int off = i * numParams;
      for (int j = 0; j < numParams; j++) {
        grad[j] += weight * rows[off + j];
      }
    }
  }

  /** V̂ given by the client (open.feature_dim 0): read from the batch; nothing to learn. */
  private final class ClientValues implements Critic {
    @Override
    public void values(ChainBatch batch, double[] v, double[] vNext) {
      Batch b;
      synchronized (ClientOptimization.this) {
        b = pendingClient;
      }
      System.arraycopy(b.values(), 0, v, 0, batch.size());
      System.arraycopy(b.nextValues(), 0, vNext, 0, batch.size());
    }

    @Override
    public void learn(ChainBatch batch, double[] thetaK) {}
  }
}
