package io.dsogym.server;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.remote.CommandSink;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerInfo;
import io.dsogym.remote.WorkerPool;
import io.dsogym.wire.EnvSpecCodec;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.ServerHello;
import io.dsogym.wire.v1.WorkerHello;
import io.dsogym.wire.v1.WorkerMessage;
import io.dsogym.wire.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * WorkerService.Connect: a worker opens the stream and sends its hello; the server checks it
 * (protocol version, auth token, env spec, lane count, autoreset mode), answers with a
 * ServerHello, and puts the worker in the {@link WorkerPool} as a {@link RemoteVectorEnv}. From
 * then on the server sends commands and the worker's replies complete them. A refused hello
 * ends the stream with a status (FAILED_PRECONDITION, UNAUTHENTICATED or INVALID_ARGUMENT)
 * whose description says why.
 */
public final class WorkerService extends WorkerServiceGrpc.WorkerServiceImplBase {
  private static final Logger log = Logger.getLogger(WorkerService.class.getName());
  /** What the server may use of a worker, in the ServerHello to workers. */
  static final List<String> CAPABILITIES = List.of("reset_mask", "same_step_final_observations",
      "info_tensors", RemoteVectorEnv.WORKER_INFERENCE, RemoteVectorEnv.CONFIGURE,
      io.dsogym.remote.SharedMemoryRegion.CAPABILITY);

  private final WorkerPool pool;
  private final ServerOptions options;
  private final ServerResources resources;

  public WorkerService(WorkerPool pool, ServerOptions options) {
    this(pool, options, new ServerResources(options.limits()));
  }

  WorkerService(WorkerPool pool, ServerOptions options, ServerResources resources) {
    this.pool = pool;
    this.options = options;
    this.resources = resources;
  }

  @Override
  public StreamObserver<WorkerMessage> connect(StreamObserver<ServerCommand> responses) {
    return new Connection(responses);
  }

  /** One worker's stream: the hello, then replies routed to its RemoteVectorEnv. */
  private final class Connection implements StreamObserver<WorkerMessage>, CommandSink {
    private final StreamObserver<ServerCommand> responses;
    private boolean done;  // guarded by responses
    private volatile RemoteVectorEnv env;
    private volatile boolean refused;

    Connection(StreamObserver<ServerCommand> responses) {
      this.responses = responses;
    }

    @Override
    public void onNext(WorkerMessage message) {
      RemoteVectorEnv e = env;
      if (e != null && message.getMessageCase() == WorkerMessage.MessageCase.HELLO) {
        // a protocol error, not a reply: the stream ends saying so (a reconnect opens a new one)
        String why = "hello: expected one per stream, got a second one from "
            + e.info().describe() + "; open a new stream to connect again";
        e.disconnected(Status.FAILED_PRECONDITION.withDescription(why).asRuntimeException());
        end(Status.FAILED_PRECONDITION, why);
      } else if (e != null) {
        e.deliver(message);
      } else if (!refused) {
        handshake(message);
      }
    }

    @Override
    public void onError(Throwable t) {
      RemoteVectorEnv e = env;
      if (e != null) {
        e.disconnected(t);
      }
      synchronized (responses) {
        done = true;  // the call is cancelled: nothing more may be sent
      }
    }

    @Override
    public void onCompleted() {
      RemoteVectorEnv e = env;
      if (e != null) {
        e.disconnected(new IllegalStateException("the worker ended its stream"));
      }
      complete();
    }

    private void handshake(WorkerMessage message) {
      if (message.getMessageCase() != WorkerMessage.MessageCase.HELLO) {
        refuse(Status.FAILED_PRECONDITION, "first message: expected a hello, got "
            + message.getMessageCase());
        return;
      }
      WorkerHello hello = message.getHello();
      if (hello.getProtocolVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
        refuse(Status.FAILED_PRECONDITION, "hello.protocol_version: expected "
            + "PROTOCOL_VERSION_1 (1), got " + hello.getProtocolVersionValue());
        return;
      }
      if (!options.authorizes(hello.getAuthToken())) {
        refuse(Status.UNAUTHENTICATED, "hello.auth_token: expected the server's token, got "
            + (hello.getAuthToken().isEmpty() ? "none" : "a different one"));
        return;
      }
      if (hello.getNumEnvs() < 1) {
        refuse(Status.INVALID_ARGUMENT, "hello.num_envs: expected >= 1, got "
            + hello.getNumEnvs());
        return;
      }
      int maxLanes = options.limits().maxWorkerLanes();
      if (hello.getNumEnvs() > maxLanes) {
        refuse(Status.INVALID_ARGUMENT, "hello.num_envs: expected at most " + maxLanes
            + " lanes (limit --max-worker-lanes), got " + hello.getNumEnvs());
        return;
      }
      EnvSpec spec;
      try {
        spec = EnvSpecCodec.decode(hello.getEnv(), "hello.env");
      } catch (IllegalArgumentException ex) {
        refuse(Status.INVALID_ARGUMENT, ex.getMessage());
        return;
      }
      AutoresetMode wanted = options.workerAutoresetMode();
      List<AutoresetMode> offered = new ArrayList<>();
      for (io.dsogym.wire.v1.AutoresetMode m : hello.getAutoresetModesList()) {
        try {
          offered.add(EnvSpecCodec.decode(m, AutoresetMode.NEXT_STEP, "hello.autoreset_modes"));
        } catch (IllegalArgumentException ignored) {
          // a mode from a newer protocol: not one we could ask for anyway
        }
      }
      if (!offered.contains(wanted)) {
        refuse(Status.FAILED_PRECONDITION, "hello.autoreset_modes: expected " + wanted
            + " (the server's mode) among them, got " + offered);
        return;
      }
      ServerResources.Grant lanes;
      try {
        lanes = resources.lanes(hello.getNumEnvs(), "hello.num_envs");
      } catch (StatusRuntimeException full) {
        refuse(full.getStatus(), full.getStatus().getDescription());
        return;
      }
      WorkerInfo info = new WorkerInfo(pool.newWorkerId(), hello.getWorkerName(), spec,
          hello.getNumEnvs(), wanted, hello.getCapabilitiesList(), Instant.now());
      RemoteVectorEnv remote;
      try {
        remote = new RemoteVectorEnv(info, this, options.workerRequestTimeout(),
            (env, cause) -> {
              lanes.release();  // once, however often the worker is reported gone
              pool.remove(env, cause);
            });
      } catch (RuntimeException | Error e) {
        lanes.release();
        throw e;
      }
      // The hello goes out before the worker joins the pool, so no command can precede it.
      try {
        send(ServerCommand.newBuilder().setId(0).setHello(ServerHello.newBuilder()
            .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
            .setWorkerId(info.id())
            .setAutoresetMode(EnvSpecCodec.encode(wanted))
            .addAllCapabilities(CAPABILITIES)
            .setMaxMessageBytes(ServerOptions.MAX_MESSAGE_BYTES)).build());
      } catch (RuntimeException e) {
        lanes.release();  // the stream ended during the handshake
        throw e;
      }
      env = remote;
      pool.register(remote);
    }

    private void refuse(Status status, String description) {
      refused = true;
      log.warning(() -> "refused a worker: " + description);
      end(status, description);
    }

    /** Ends the stream with an error status; idempotent. */
    private void end(Status status, String description) {
      synchronized (responses) {
        if (!done) {
          done = true;
          try {
            responses.onError(status.withDescription(description).asRuntimeException());
          } catch (IllegalStateException alreadyClosed) {
            // the transport cancelled the call first
          }
        }
      }
    }

    @Override
    public void goAway(String description) {
      end(Status.UNAVAILABLE, description);
    }

    @Override
    public void send(ServerCommand command) {
      synchronized (responses) {
        if (done) {
          throw new IllegalStateException("the worker's stream has ended");
        }
        responses.onNext(command);
      }
    }

    @Override
    public void complete() {
      synchronized (responses) {
        if (!done) {
          done = true;
          try {
            responses.onCompleted();
          } catch (IllegalStateException alreadyClosed) {
            // the transport cancelled the call first; nothing left to end
          }
        }
      }
    }
  }
}
