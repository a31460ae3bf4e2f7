package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.env.Tensor;
import io.dsogym.oracle.KnownChainSource;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.train.ExactObjective;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import io.dsogym.wire.TensorCodec;
import io.dsogym.wire.v1.EvaluationResult;
import io.dsogym.wire.v1.OpenOptimizer;
import io.dsogym.wire.v1.OptimizerReply;
import io.dsogym.wire.v1.OptimizerRequest;
import io.dsogym.wire.v1.OptimizerServiceGrpc;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.TransitionBatch;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The optimizer service against the trainer itself: a client that streams the batches of a
 * known chain (its exact ln P, scores and θ-dependent KL cost) through the service must get,
 * update after update, exactly the θ that the trainer computes when it reads the same chain
 * directly, for every optimizer, including those that ask the client for ln P at candidate θ.
 * Refused batches and refused evaluation answers leave the session as it was.
 */
class OptimizerServiceTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir Path dir;

  private static final int LANES = 8;
  private static final int STEPS = 16;
  private static final int ITERATIONS = 4;
  private static final long SEED = 3;

  /** A small first-exit LMDP, one parameter per allowed transition (docs/math.md §2g). */
  private static LmdpChain chain() {
    double[][] passive = {
        {0.5, 0.5, 0, 0},
        {0.3, 0.2, 0.5, 0},
        {0, 0.3, 0.2, 0.5},
        {0, 0, 0, 1}};
    return LmdpChain.free(passive, new double[] {1, 1, 1, 0},
        new boolean[] {false, false, false, true}, new double[] {1, 0, 0, 0});
  }

  private static KnownChainSource<Integer> source() {
    return new KnownChainSource<>(chain(), x -> KnownChainSource.oneHot(x, 4), 4, LANES, SEED);
  }

  private static Map<String, String> options() {
    return Map.of("gamma", "1", "lambda", "0.9", "value-hidden", "", "lr", "0.1",
        "value-lr", "0.05", "max-kl", "0.05", "seed", "3", "epochs", "3");
  }

  /** θ after {@code iterations} batches of the trainer reading the chain itself. */
  private static double[] direct(String algo, int iterations, Path dir) throws Exception {
    Map<String, String> o = new HashMap<>();
    options().forEach((k, v) -> o.put("--" + k, v));
    o.put("--algo", algo);
    o.put("--num-envs", Integer.toString(LANES));
    o.put("--steps-per-lane", Integer.toString(STEPS));
    o.put("--max-steps", Integer.toString(iterations * LANES * STEPS));
    Trainer t = new Trainer(TrainPresets.config("client", o), source(),
        new double[chain().numParams()], (ExactObjective) null, dir,
        new PrintStream(OutputStream.nullOutputStream()));
    t.run();
    return t.theta();
  }

  private Client connect() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults()).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    return new Client(channel);
  }

  /** A client on one Optimize stream: requests in, replies out through a queue. */
  static final class Client {
    final LinkedBlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    final StreamObserver<OptimizerRequest> requests;
    long nextId = 1;

    Client(ManagedChannel channel) {
      requests = OptimizerServiceGrpc.newStub(channel).optimize(new StreamObserver<>() {
        @Override
        public void onNext(OptimizerReply r) {
          replies.add(r);
        }

        @Override
        public void onError(Throwable t) {
          replies.add(t);
        }

        @Override
        public void onCompleted() {
          replies.add("completed");
        }
      });
    }

    long send(OptimizerRequest.Builder r) {
      long id = nextId++;
      requests.onNext(r.setId(id).build());
      return id;
    }

    OptimizerReply next() throws InterruptedException {
      Object r = replies.poll(60, TimeUnit.SECONDS);
      if (!(r instanceof OptimizerReply reply)) {
        throw new AssertionError("expected a reply, got " + r);
      }
      return reply;
    }

    OptimizerReply open(String algo, Map<String, String> options, double[] theta, int features,
        boolean costDependsOnTheta) throws InterruptedException {
      send(OptimizerRequest.newBuilder().setOpen(OpenOptimizer.newBuilder()
          .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1).setAlgorithm(algo)
          .putAllOptions(options).setTheta(vector(theta)).setFeatureDim(features)
          .setCostDependsOnTheta(costDependsOnTheta)));
      return next();
    }
  }

  static io.dsogym.wire.v1.Tensor vector(double[] xs) {
    return TensorCodec.encode(Tensor.ofFloat64(new int[] {xs.length}, xs));
  }

  static io.dsogym.wire.v1.Tensor matrix(double[] xs, int rows, int cols) {
    return TensorCodec.encode(Tensor.ofFloat64(new int[] {rows, cols}, xs));
  }

  static io.dsogym.wire.v1.Tensor flags(boolean[] xs, int n) {
    boolean[] b = java.util.Arrays.copyOf(xs, n);
    return TensorCodec.encode(Tensor.ofBool(new int[] {n}, b));
  }

  /** The batch as a client sends it: ln P, scores, L and ∇L at θ, features at x and x'. */
  static TransitionBatch.Builder batchMessage(ChainBatch b, double[] theta) {
    int n = b.size();
    int p = theta.length;
    TrajectoryBatch s = b.steps();
    double[] logp = new double[n];
    double[] scores = new double[n * p];
    double[] costGrads = new double[n * p];
    double[] row = new double[p];
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(row, 0);
      logp[i] = b.transitions().accumulateScore(theta, i, 1.0, row);
      System.arraycopy(row, 0, scores, i * p, p);
      java.util.Arrays.fill(row, 0);
      b.cost().accumulateGradient(theta, i, 1.0, row);
      System.arraycopy(row, 0, costGrads, i * p, p);
    }
    int f = b.featureDim();
    return TransitionBatch.newBuilder().setNumLanes(s.numLanes)
        .setCosts(vector(java.util.Arrays.copyOf(s.cost, n)))
        .setTerminated(flags(s.terminated, n)).setTruncated(flags(s.truncated, n))
        .setLogProbs(vector(logp)).setScores(matrix(scores, n, p))
        .setFeatures(matrix(java.util.Arrays.copyOf(b.features(), n * f), n, f))
        .setNextFeatures(matrix(java.util.Arrays.copyOf(b.nextFeatures(), n * f), n, f))
        .setCostGradients(matrix(costGrads, n, p));
  }

  /** The client's answer to an evaluate request: the batch at the θ asked for. */
  static EvaluationResult.Builder evaluation(ChainBatch b, long id, double[] theta) {
    int n = b.size();
    int p = theta.length;
    double[] logp = new double[n];
    double[] scores = new double[n * p];
    double[] costs = new double[n];
    double[] costGrads = new double[n * p];
    double[] row = new double[p];
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(row, 0);
      logp[i] = b.transitions().accumulateScore(theta, i, 1.0, row);
      System.arraycopy(row, 0, scores, i * p, p);
      java.util.Arrays.fill(row, 0);
      costs[i] = b.cost().accumulateGradient(theta, i, 1.0, row);
      System.arraycopy(row, 0, costGrads, i * p, p);
    }
    return EvaluationResult.newBuilder().setEvaluationId(id).setLogProbs(vector(logp))
        .setScores(matrix(scores, n, p)).setCosts(vector(costs))
        .setCostGradients(matrix(costGrads, n, p));
  }

  /**
   * Sends one batch and answers every evaluate request until its update comes; returns θ_{k+1}.
   * {@code tamper} may spoil the first evaluation answer once (it must be refused, and the
   * request answered again).
   */
  static double[] iterate(Client c, ChainBatch b, double[] theta,
      UnaryOperator<EvaluationResult.Builder> tamper) throws InterruptedException {
    long id = c.send(OptimizerRequest.newBuilder().setBatch(batchMessage(b, theta)));
    boolean tampered = false;
    while (true) {
      OptimizerReply r = c.next();
      assertEquals(id, r.getId(), r.toString());
      switch (r.getReplyCase()) {
        case UPDATE:
          return TensorCodec.decode(r.getUpdate().getTheta(), "theta").toDoubleArray();
        case EVALUATE: {
          double[] at = TensorCodec.decode(r.getEvaluate().getTheta(), "theta").toDoubleArray();
          long evalId = r.getEvaluate().getEvaluationId();
          if (tamper != null && !tampered) {
            tampered = true;
            long bad = c.send(OptimizerRequest.newBuilder().setEvaluation(
                tamper.apply(evaluation(b, evalId, at))));
            OptimizerReply refused = c.next();
            assertEquals(bad, refused.getId());
            assertError(refused, Status.Code.INVALID_ARGUMENT, "evaluation.scores.shape: "
                + "expected [n, P] = [" + b.size() + ", " + at.length + "], got ["
                + (b.size() - 1) + ", " + at.length + "]");
            // a batch now is out of turn, and changes nothing either
            long early = c.send(OptimizerRequest.newBuilder().setBatch(batchMessage(b, theta)));
            OptimizerReply outOfTurn = c.next();
            assertEquals(early, outOfTurn.getId());
            assertError(outOfTurn, Status.Code.FAILED_PRECONDITION, "batch: expected the "
                + "evaluation of evaluate request " + evalId);
          }
          c.send(OptimizerRequest.newBuilder().setEvaluation(evaluation(b, evalId, at)));
          break;
        }
        default:
          throw new AssertionError("expected an update or an evaluate request, got " + r);
      }
    }
  }

  static void assertError(OptimizerReply r, Status.Code code, String... fragments) {
    assertEquals(OptimizerReply.ReplyCase.ERROR, r.getReplyCase(), r.toString());
    assertEquals(code.value(), r.getError().getCode(), r.getError().getMessage());
    for (String f : fragments) {
      assertTrue(r.getError().getMessage().contains(f),
          "'" + r.getError().getMessage() + "' should contain '" + f + "'");
    }
  }

  /**
   * The client's scores are summed as w·s where the chain accumulates w·∂ln P term by term, so
   * the two agree to rounding (a few ulp), not bit for bit. Chain Iteration's Hessian products
   * are central differences with step 1e-5, which turn that rounding into ~1e-11 relative; its
   * damping decisions may then differ at a later batch, so it is compared after one.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gradient", "natural", "pco", "chain-iteration"})
  void everyUpdateEqualsTheTrainersOwn(String algo) throws Exception {
    boolean ci = algo.equals("chain-iteration");
    int iterations = ci ? 1 : ITERATIONS;
    double[] expected = direct(algo, iterations, dir.resolve("direct"));
    Client c = connect();
    int p = chain().numParams();
    OptimizerReply opened = c.open(algo, options(), new double[p], 4, true);
    assertEquals(OptimizerReply.ReplyCase.OPENED, opened.getReplyCase(), opened.toString());
    assertEquals(p, opened.getOpened().getNumParams());
    assertEquals("0.05", opened.getOpened().getOptionsMap().get("max-kl"));
    KnownChainSource<Integer> source = source();
    double[] theta = new double[p];
    for (int k = 0; k < iterations; k++) {
      ChainBatch b = source.collect(theta, STEPS);
      theta = iterate(c, b, theta, null);
    }
    assertArrayEquals(expected, theta, (ci ? 1e-9 : 1e-12) * maxAbs(expected));
    assertTrue(java.util.Arrays.stream(theta).anyMatch(x -> x != 0), "θ moved");
  }

  @Test
  void refusedBatchesAndEvaluationsChangeNothing() throws Exception {
    double[] expected = direct("natural", ITERATIONS, dir.resolve("direct"));
    Client c = connect();
    int p = chain().numParams();
    c.open("natural", options(), new double[p], 4, true);
    KnownChainSource<Integer> source = source();
    double[] theta = new double[p];
    for (int k = 0; k < ITERATIONS; k++) {
      ChainBatch b = source.collect(theta, STEPS);
      int n = b.size();
      TransitionBatch good = batchMessage(b, theta).build();
      // scores transposed: the same count, the wrong shape
      assertError(refuse(c, good.toBuilder().setScores(matrix(new double[n * p], p, n))),
          Status.Code.INVALID_ARGUMENT, "batch.scores.shape: expected [n, P] = [" + n + ", " + p
              + "], got [" + p + ", " + n + "]");
      double[] costs = java.util.Arrays.copyOf(b.steps().cost, n);
      costs[5] = Double.NaN;
      assertError(refuse(c, good.toBuilder().setCosts(vector(costs))),
          Status.Code.INVALID_ARGUMENT, "batch.costs: expected finite values, got NaN at flat "
              + "index 5");
      assertError(refuse(c, good.toBuilder().setNumLanes(n + 1)), Status.Code.INVALID_ARGUMENT,
          "batch.costs: expected n a multiple of num_lanes");
      assertError(refuse(c, good.toBuilder().clearFeatures()), Status.Code.INVALID_ARGUMENT,
          "batch.features: expected [n, F] = [" + n + ", 4] (open.feature_dim), " + (n * 4)
              + " values, got none");
      assertError(refuse(c, good.toBuilder().setLogProbs(matrix(new double[n], n, 1))),
          Status.Code.INVALID_ARGUMENT, "batch.log_probs.shape: expected [" + n + "], got ["
              + n + ", 1]");
      theta = iterate(c, b, theta, e -> e.setScores(matrix(new double[(n - 1) * p], n - 1, p)));
    }
    assertArrayEquals(expected, theta, 1e-12 * maxAbs(expected));
  }

  private static double maxAbs(double[] xs) {
    return java.util.Arrays.stream(xs).map(Math::abs).max().orElse(0);
  }

  private static OptimizerReply refuse(Client c, TransitionBatch.Builder b)
      throws InterruptedException {
    long id = c.send(OptimizerRequest.newBuilder().setBatch(b));
    OptimizerReply r = c.next();
    assertEquals(id, r.getId());
    return r;
  }

  @Test
  void openRefusesWhatItCannotRunAndTheStreamGoesOn() throws Exception {
    Client c = connect();
    assertError(c.open("adam", Map.of(), new double[2], 1, false), Status.Code.INVALID_ARGUMENT,
        "open.algorithm: expected one of gradient, pco, natural, chain-iteration, got 'adam'");
    assertError(c.open("natural", Map.of("num-envs", "8"), new double[2], 1, false),
        Status.Code.INVALID_ARGUMENT, "open.options: expected names among", "got 'num-envs'");
    assertError(c.open("natural", Map.of("max-kl", "-1"), new double[2], 1, false),
        Status.Code.INVALID_ARGUMENT, "open.options: --max-kl: expected a positive KL, got -1.0");
    assertError(c.open("natural", Map.of(), new double[] {0, Double.NaN}, 1, false),
        Status.Code.INVALID_ARGUMENT, "open.theta: expected finite values, got NaN");
    // sizes a peer chooses are bounded: none may take the server's memory or run unbounded
    assertError(c.open("natural", Map.of(), new double[2], Integer.MAX_VALUE, false),
        Status.Code.INVALID_ARGUMENT, "open.feature_dim, open.options value-hidden: V̂ of "
            + "2147483647 features and layers [64, 64] has", "expected at most 4194304");
    assertError(c.open("natural", Map.of("value-hidden", "65536,65536"), new double[2], 1, false),
        Status.Code.INVALID_ARGUMENT, "V̂ of 1 features and layers [65536, 65536]");
    assertError(c.open("pco", Map.of("epochs", "1000000000"), new double[2], 1, false),
        Status.Code.INVALID_ARGUMENT, "open.options: epochs: expected at most 1000, got 1000000000");
    long early = c.send(OptimizerRequest.newBuilder().setBatch(TransitionBatch.newBuilder()));
    assertError(c.next(), Status.Code.FAILED_PRECONDITION, "batch: expected an open first");
    assertEquals(OptimizerReply.ReplyCase.OPENED,
        c.open("natural", Map.of(), new double[2], 1, false).getReplyCase());
    c.send(OptimizerRequest.newBuilder().setEvaluation(EvaluationResult.newBuilder()
        .setEvaluationId(1).setLogProbs(vector(new double[3]))));
    assertError(c.next(), Status.Code.FAILED_PRECONDITION,
        "evaluation: expected a batch, got an evaluation");
    assertError(c.open("natural", Map.of(), new double[2], 1, false),
        Status.Code.FAILED_PRECONDITION, "open: expected one per stream, got a second one");
    assertTrue(early > 0);
  }

  @Test
  void aSpentBudgetAnswersItsLastBatchAndTakesNoMore() throws Exception {
    Client c = connect();
    int p = chain().numParams();
    Map<String, String> o = new HashMap<>(options());
    o.put("max-steps", Integer.toString(2 * LANES * STEPS));
    c.open("gradient", o, new double[p], 4, true);
    KnownChainSource<Integer> source = source();
    double[] theta = new double[p];
    for (int k = 0; k < 2; k++) {
      theta = iterate(c, source.collect(theta, STEPS), theta, null);
    }
    assertTrue(c.replies.isEmpty(), "one reply per batch: " + c.replies);
    ChainBatch more = source.collect(theta, STEPS);
    long id = c.send(OptimizerRequest.newBuilder().setBatch(batchMessage(more, theta)));
    OptimizerReply r = c.next();
    assertEquals(id, r.getId());
    assertError(r, Status.Code.FAILED_PRECONDITION, "batch: expected no batch: the budget "
        + "max-steps " + (2 * LANES * STEPS) + " is spent");
  }

  @Test
  void aClientLeavingMidBatchFreesItsPlaceAndThread() throws Exception {
    String name = InProcessServerBuilder.generateName();
    DsoGymServer server = grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults().withLimits(ServerLimits.defaults().withMaxSessions(1))).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    Client c = new Client(channel);
    int p = chain().numParams();
    c.open("natural", options(), new double[p], 4, true);
    ChainBatch b = source().collect(new double[p], STEPS);
    c.send(OptimizerRequest.newBuilder().setBatch(batchMessage(b, new double[p])));
    assertEquals(OptimizerReply.ReplyCase.EVALUATE, c.next().getReplyCase());
    // the server is full: a second session is refused, naming the limit
    Client second = new Client(channel);
    second.send(OptimizerRequest.newBuilder().setOpen(OpenOptimizer.newBuilder()));
    Throwable refused = (Throwable) second.replies.poll(30, TimeUnit.SECONDS);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, Status.fromThrowable(refused).getCode());
    assertTrue(refused.getMessage().contains("--max-sessions"), refused.getMessage());
    // the first client goes away while the server waits for its evaluation
    c.requests.onError(Status.CANCELLED.asRuntimeException());
    for (int i = 0; i < 300 && (server.resources().sessions() > 0 || optimizerThreads() > 0);
        i++) {
      Thread.sleep(100);
    }
    assertEquals(0, server.resources().sessions());
    assertEquals(0, optimizerThreads(), "the session's trainer thread ended");
  }

  private static long optimizerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("dsogym-optimizer") && t.isAlive()).count();
  }

  @Test
  void aWrongTokenEndsTheStream() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults().withAuthToken("0123456789abcdef-token")).start());
    Client c = new Client(grpc.register(InProcessChannelBuilder.forName(name).build()));
    c.send(OptimizerRequest.newBuilder().setOpen(OpenOptimizer.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1).setAlgorithm("natural")
        .setTheta(vector(new double[2])).setAuthToken("wrong")));
    Object end = c.replies.poll(30, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAUTHENTICATED, Status.fromThrowable((Throwable) end).getCode());
  }
}
