package io.dsogym.server;

import io.dsogym.env.DType;
import io.dsogym.env.Tensor;
import io.dsogym.train.ClientOptimization;
import io.dsogym.wire.StatusMapping;
import io.dsogym.wire.TensorCodec;
import io.dsogym.wire.v1.EvaluateRequest;
import io.dsogym.wire.v1.EvaluationResult;
import io.dsogym.wire.v1.OpenOptimizer;
import io.dsogym.wire.v1.OptimizerOpened;
import io.dsogym.wire.v1.OptimizerReply;
import io.dsogym.wire.v1.OptimizerRequest;
import io.dsogym.wire.v1.OptimizerServiceGrpc;
import io.dsogym.wire.v1.ParameterUpdate;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.TransitionBatch;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * OptimizerService: the Java DSO optimizers for a client in any language
 * (proto/dsogym/v1/optimizer.proto). Each stream is one {@link ClientOptimization}: the
 * service translates the client's messages into its batches and evaluations and its
 * callbacks into updates and evaluate requests. Refusals are in-band errors that change
 * nothing; only a wrong auth token ends the stream (UNAUTHENTICATED). A session holds one of
 * the server's --max-sessions places, and is read one message at a time, only while its
 * client reads the replies.
 */
public final class OptimizerService extends OptimizerServiceGrpc.OptimizerServiceImplBase {
  private static final Logger log = Logger.getLogger(OptimizerService.class.getName());
  /** The most transitions one batch may hold (stated in OptimizerOpened). */
  public static final long MAX_BATCH_TRANSITIONS = 1 << 20;

  private final ServerOptions options;
  private final ServerResources resources;

  OptimizerService(ServerOptions options, ServerResources resources) {
    this.options = options;
    this.resources = resources;
  }

  @Override
  public StreamObserver<OptimizerRequest> optimize(StreamObserver<OptimizerReply> responses) {
    ServerResources.Grant place;
    try {
      place = resources.openSession();
    } catch (RuntimeException full) {
      responses.onError(full);
      return new StreamObserver<>() {
        @Override
        public void onNext(OptimizerRequest r) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new Stream((ServerCallStreamObserver<OptimizerReply>) responses, place);
  }

  /** One stream: one optimization session, opened by its first request. */
  private final class Stream implements StreamObserver<OptimizerRequest>,
      ClientOptimization.Listener {
    private final ServerCallStreamObserver<OptimizerReply> responses;
    private final ServerResources.Grant place;
    private ClientOptimization session;  // from the open on; read by the handler only
    private boolean ended;  // guarded by this
    private boolean wantsNext;  // guarded by this: the next request waits for onReady

    Stream(ServerCallStreamObserver<OptimizerReply> responses, ServerResources.Grant place) {
      this.responses = responses;
      this.place = place;
      responses.disableAutoRequest();
      responses.setOnReadyHandler(this::onReady);
      responses.request(1);
    }

    @Override
    public void onNext(OptimizerRequest request) {
      try {
        handle(request);
      } catch (RuntimeException e) {
        if (StatusMapping.codeOf(e) == Status.Code.UNAUTHENTICATED) {
          end(StatusMapping.toStatus(e));
          return;
        }
        if (StatusMapping.codeOf(e) == Status.Code.INTERNAL) {
          log.log(Level.WARNING, "optimizer request " + request.getId() + " failed", e);
        }
        send(OptimizerReply.newBuilder().setId(request.getId())
            .setError(StatusMapping.toError(e)).build());
      }
      requestNext();
    }

    private void handle(OptimizerRequest request) {
      switch (request.getRequestCase()) {
        case OPEN -> send(OptimizerReply.newBuilder().setId(request.getId())
            .setOpened(open(request.getOpen())).build());
        case BATCH -> requireSession("batch").submit(batch(request.getId(), request.getBatch()));
        case EVALUATION -> requireSession("evaluation").answer(evaluation(
            request.getEvaluation()));
        default -> throw new IllegalArgumentException("request: expected one of open, batch, "
            + "evaluation, got none");
      }
    }

    private ClientOptimization requireSession(String what) {
      if (session == null) {
        throw new IllegalStateException(what + ": expected an open first, got a " + what);
      }
      return session;
    }

    private OptimizerOpened open(OpenOptimizer open) {
      if (open.getProtocolVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
        throw new IllegalStateException("open.protocol_version: expected PROTOCOL_VERSION_1 (1),"
            + " got " + open.getProtocolVersionValue());
      }
      if (!options.authorizes(open.getAuthToken())) {
        throw Status.UNAUTHENTICATED.withDescription("open.auth_token: expected the server's "
            + "token, got " + (open.getAuthToken().isEmpty() ? "none" : "a different one"))
            .asRuntimeException();
      }
      if (session != null) {
        throw new IllegalStateException("open: expected one per stream, got a second one");
      }
      if (!open.hasTheta()) {
        throw new IllegalArgumentException("open.theta: expected FLOAT64 [P], got none");
      }
      double[] theta = vector(open.getTheta(), "open.theta", -1);
      RequestLimits.checkJsonBytes(open.getOptionsMap().toString().length(), "open.options",
          options.limits());
      ClientOptimization s = new ClientOptimization(open.getAlgorithm(), open.getOptionsMap(),
          open.getPreset(), theta, open.getFeatureDim(), open.getCostDependsOnTheta(),
          MAX_BATCH_TRANSITIONS, this);
      session = s.start();
      log.fine(() -> "optimizer session for " + open.getClientName() + ": " + s.algorithm()
          + ", " + theta.length + " parameters");
      return OptimizerOpened.newBuilder().setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
          .setNumParams(s.numParams()).setAlgorithm(s.algorithm()).putAllOptions(s.options())
          .setMaxMessageBytes(ServerOptions.MAX_MESSAGE_BYTES)
          .setMaxBatchTransitions(MAX_BATCH_TRANSITIONS).build();
    }

    private ClientOptimization.Batch batch(long id, TransitionBatch b) {
      if (!b.hasCosts()) {
        throw new IllegalArgumentException("batch.costs: expected FLOAT64 [n], got none");
      }
      double[] costs = vector(b.getCosts(), "batch.costs", -1);
      int n = costs.length;
      int p = session.numParams();
      return new ClientOptimization.Batch(id, b.getNumLanes(), costs,
          flags(b.hasTerminated() ? b.getTerminated() : null, "batch.terminated", n),
          flags(b.hasTruncated() ? b.getTruncated() : null, "batch.truncated", n),
          b.hasLogProbs() ? vector(b.getLogProbs(), "batch.log_probs", n) : null,
          b.hasScores() ? matrix(b.getScores(), "batch.scores", n, p, "P") : null,
          b.hasFeatures() ? matrix(b.getFeatures(), "batch.features", n, -1, "F") : null,
          b.hasNextFeatures() ? matrix(b.getNextFeatures(), "batch.next_features", n, -1, "F")
              : null,
          b.hasValues() ? vector(b.getValues(), "batch.values", n) : null,
          b.hasNextValues() ? vector(b.getNextValues(), "batch.next_values", n) : null,
          b.hasCostGradients() ? matrix(b.getCostGradients(), "batch.cost_gradients", n, p, "P")
              : null,
          b.hasBehaviourLogProbs()
              ? vector(b.getBehaviourLogProbs(), "batch.behaviour_log_probs", n) : null);
    }

    private ClientOptimization.Evaluation evaluation(EvaluationResult e) {
      int p = session.numParams();
      int n = session.batchSize() > 0 ? session.batchSize() : -1;  // none: the phase error
      return new ClientOptimization.Evaluation(e.getEvaluationId(),
          e.hasLogProbs() ? vector(e.getLogProbs(), "evaluation.log_probs", n) : null,
          e.hasScores() ? matrix(e.getScores(), "evaluation.scores", n, p, "P") : null,
          e.hasCosts() ? vector(e.getCosts(), "evaluation.costs", n) : null,
          e.hasCostGradients() ? matrix(e.getCostGradients(), "evaluation.cost_gradients", n, p,
              "P") : null);
    }

    @Override
    public void onError(Throwable t) {
      finish();
    }

    @Override
    public void onCompleted() {
      finish();
      synchronized (this) {
        if (!ended) {
          ended = true;
          responses.onCompleted();
        }
      }
    }

    private void finish() {
      if (session != null) {
        session.close();
      }
      place.release();
    }

    private synchronized void end(Status status) {
      if (!ended) {
        ended = true;
        responses.onError(status.asRuntimeException());
      }
      finish();
    }

    private synchronized void send(OptimizerReply reply) {
      if (!ended) {
        responses.onNext(reply);
      }
    }

    /** The next request only while the client reads: a reply waiting blocks further reads. */
    private synchronized void requestNext() {
      if (ended) {
        return;
      }
      if (responses.isReady()) {
        responses.request(1);
      } else {
        wantsNext = true;
      }
    }

    private synchronized void onReady() {
      if (wantsNext && !ended) {
        wantsNext = false;
        responses.request(1);
      }
    }

    @Override
    public void evaluate(long batchId, long evaluationId, double[] theta) {
      send(OptimizerReply.newBuilder().setId(batchId).setEvaluate(EvaluateRequest.newBuilder()
          .setEvaluationId(evaluationId).setTheta(encode(theta))).build());
    }

    @Override
    public void update(long batchId, double[] theta, long iteration, int evaluations) {
      send(OptimizerReply.newBuilder().setId(batchId).setUpdate(ParameterUpdate.newBuilder()
          .setTheta(encode(theta)).setIteration(iteration).setEvaluations(evaluations))
          .build());
    }

    @Override
    public void failed(long batchId, RuntimeException cause) {
      log.log(Level.WARNING, "optimizer session failed on batch " + batchId, cause);
      send(OptimizerReply.newBuilder().setId(batchId).setError(StatusMapping.toError(cause))
          .build());
    }
  }

  private static io.dsogym.wire.v1.Tensor encode(double[] xs) {
    return TensorCodec.encode(Tensor.ofFloat64(new int[] {xs.length}, xs));
  }

  /** A FLOAT64 [n] tensor (n < 0: any length) as a double[]. */
  private static double[] vector(io.dsogym.wire.v1.Tensor wire, String field, int n) {
    Tensor t = float64(wire, field);
    if (t.rank() != 1 || (n >= 0 && t.dim(0) != n)) {
      throw new IllegalArgumentException(field + ".shape: expected [" + (n >= 0 ? n : "n")
          + "], got " + Arrays.toString(t.shape()));
    }
    return t.toDoubleArray();
  }

  /** A FLOAT64 [rows, cols] tensor (rows, cols < 0: any) as a row-major double[]. */
  private static double[] matrix(io.dsogym.wire.v1.Tensor wire, String field, int rows, int cols,
      String colName) {
    Tensor t = float64(wire, field);
    if (t.rank() != 2 || (rows >= 0 && t.dim(0) != rows) || (cols >= 0 && t.dim(1) != cols)) {
      throw new IllegalArgumentException(field + ".shape: expected [n, " + colName + "] = ["
          + (rows >= 0 ? rows : "n") + ", " + (cols >= 0 ? cols : colName) + "], got "
          + Arrays.toString(t.shape()));
    }
    return t.toDoubleArray();
  }

  private static Tensor float64(io.dsogym.wire.v1.Tensor wire, String field) {
    Tensor t = TensorCodec.decode(wire, field);
    if (t.dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException(field + ".dtype: expected FLOAT64, got "
          + t.dtype().numpyName());
    }
    return t;
  }

  /** A BOOL [n] tensor as a boolean[]; null when absent. */
  private static boolean[] flags(io.dsogym.wire.v1.Tensor wire, String field, int n) {
    if (wire == null) {
      return null;
    }
    Tensor t = TensorCodec.decode(wire, field);
    if (t.dtype() != DType.BOOL) {
      throw new IllegalArgumentException(field + ".dtype: expected BOOL, got "
          + t.dtype().numpyName());
    }
    if (t.rank() != 1 || t.dim(0) != n) {
      throw new IllegalArgumentException(field + ".shape: expected [" + n + "], got "
          + Arrays.toString(t.shape()));
    }
    boolean[] out = new boolean[n];
    for (int i = 0; i < n; i++) {
      out[i] = t.getBoolean(i);
    }
    return out;
  }
}
