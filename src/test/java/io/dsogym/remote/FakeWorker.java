package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.VectorEnv;
import io.dsogym.wire.EnvSpecCodec;
import io.dsogym.wire.ResultCodec;
import io.dsogym.wire.StatusMapping;
import io.dsogym.wire.ValueCodec;
import io.dsogym.wire.v1.CloseResult;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.ServerHello;
import io.dsogym.wire.v1.WorkerHello;
import io.dsogym.wire.v1.WorkerMessage;
import io.dsogym.wire.v1.WorkerServiceGrpc;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A worker written in Java for tests: a client of WorkerService that serves a Java
 * {@link VectorEnv} the way the Python worker serves a gymnasium one.
 */
final class FakeWorker {
  /** Overrides the reply to a command; return null to serve it normally. */
  interface Behaviour {
    WorkerMessage override(ServerCommand command, FakeWorker worker);
  }

  private final Function<AutoresetMode, VectorEnv> envFactory;
  private final EnvSpec spec;
  private final int numEnvs;
  private final String name;
  private volatile Behaviour behaviour = (c, w) -> null;
  private final CompletableFuture<ServerHello> hello = new CompletableFuture<>();
  final CompletableFuture<Status> ended = new CompletableFuture<>();
  final AtomicInteger commands = new AtomicInteger();
  /** The reason of the server's CloseRequest, once one came. */
  final CompletableFuture<String> closeReason = new CompletableFuture<>();
  private StreamObserver<WorkerMessage> requests;
  private volatile VectorEnv env;

  FakeWorker(String name, EnvSpec spec, int numEnvs,
      Function<AutoresetMode, VectorEnv> envFactory) {
    this.name = name;
    this.spec = spec;
    this.numEnvs = numEnvs;
    this.envFactory = envFactory;
  }

  FakeWorker behave(Behaviour b) {
    behaviour = b;
    return this;
  }

  /** Opens the stream and sends the hello; {@link #hello()} completes with the reply. */
  FakeWorker connect(Channel channel, WorkerHello.Builder hello) {
    requests = WorkerServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
      @Override
      public void onNext(ServerCommand c) {
        handle(c);
      }

      @Override
      public void onError(Throwable t) {
        FakeWorker.this.hello.completeExceptionally(t);
        ended.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        FakeWorker.this.hello.completeExceptionally(new IllegalStateException("ended"));
        ended.complete(Status.OK);
      }
    });
    send(WorkerMessage.newBuilder().setHello(hello).build());
    return this;
  }

  FakeWorker connect(Channel channel) {
    return connect(channel, defaultHello());
  }

  WorkerHello.Builder defaultHello() {
    return WorkerHello.newBuilder().setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
        .setWorkerName(name).setEnv(EnvSpecCodec.encode(spec)).setNumEnvs(numEnvs)
        .addAutoresetModes(io.dsogym.wire.v1.AutoresetMode.NEXT_STEP)
        .addAutoresetModes(io.dsogym.wire.v1.AutoresetMode.SAME_STEP)
        .addAutoresetModes(io.dsogym.wire.v1.AutoresetMode.DISABLED);
  }

  CompletableFuture<ServerHello> hello() {
    return hello;
  }

  /** Sends its hello again on the same stream (a protocol error). */
  void helloAgain() {
    send(WorkerMessage.newBuilder().setHello(defaultHello()).build());
  }

  /** Drops the connection as a dying process would (the call is cancelled). */
  synchronized void disconnect() {
    requests.onError(Status.CANCELLED.withDescription("worker died").asRuntimeException());
  }

  private synchronized void send(WorkerMessage m) {
    requests.onNext(m);
  }

  private void handle(ServerCommand c) {
    if (c.hasHello()) {
      try {
        env = envFactory.apply(EnvSpecCodec.decode(c.getHello().getAutoresetMode(),
            AutoresetMode.NEXT_STEP, "hello.autoreset_mode"));
        hello.complete(c.getHello());
      } catch (RuntimeException e) {
        hello.completeExceptionally(e);
      }
      return;
    }
    commands.incrementAndGet();
    WorkerMessage override = behaviour.override(c, this);
    if (override != null) {
      if (override != NO_REPLY) {
        send(override.toBuilder().setId(c.getId()).build());
      }
      return;
    }
    WorkerMessage.Builder reply = WorkerMessage.newBuilder().setId(c.getId());
    try {
      switch (c.getCommandCase()) {
        case RESET: {
          ResultCodec.Reset r = ResultCodec.decodeReset(c.getReset(), numEnvs);
          reply.setResetResult(ResultCodec.encode(env.reset(r.seeds(), r.unseeded(), r.options(), r.mask())));
          break;
        }
        case STEP:
          reply.setStepResult(ResultCodec.encode(env.step(ValueCodec.decode(
              c.getStep().getActions(), "step.actions"))));
          break;
        case CLOSE:
          closeReason.complete(c.getClose().getReason());
          env.close();
          send(reply.setClosed(CloseResult.getDefaultInstance()).build());
          synchronized (this) {
            requests.onCompleted();
          }
          return;
        default:
          throw new IllegalArgumentException("command: unexpected " + c.getCommandCase());
      }
    } catch (RuntimeException e) {
      reply.setError(StatusMapping.toError(e));
    }
    send(reply.build());
  }

  /** Returned by a behaviour: send nothing. */
  static final WorkerMessage NO_REPLY = WorkerMessage.newBuilder().setId(-1).build();
}
