package io.dsogym.server;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Unparsable request bytes end their call with INVALID_ARGUMENT and one short log line, at
 * most one a minute per peer (host), which counts the ones it did not log. grpc-java on its
 * own fails such a call with UNKNOWN ("Application error processing RPC") and logs a SEVERE
 * stack trace every time: a log flood anyone can cause.
 *
 * <p>{@link #guard} rewrites a service so that its requests are parsed by a marshaller that
 * never throws: bytes that do not parse become a {@link Garbage} value, which the wrapped
 * listener turns into the refusal (the service then hears of the call's end as a
 * cancellation, and frees what the call held).
 */
final class GarbageGuard {
  private static final Logger log = Logger.getLogger(GarbageGuard.class.getName());
  static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final int MAX_PEERS_TRACKED = 4096;

  private static final Context.Key<Boolean> REFUSED = Context.key("dsogym-garbage-refused");

  /**
   * Whether the cancellation being delivered now is this guard's refusal rather than a broken
   * stream (a session that sent garbage is closed, not kept for resuming).
   */
  static boolean refusingNow() {
    return Boolean.TRUE.equals(REFUSED.get());
  }

  /** What the lenient marshaller returns for bytes that do not parse. */
  record Garbage(String reason) {}

  private static final class PeerLog {
    long lastLogged;
    long suppressed;
  }

  private final LongSupplier clock;
  private final Map<String, PeerLog> peers = new HashMap<>();  // guarded by itself
  private long refused;  // guarded by peers

  GarbageGuard() {
    this(System::nanoTime);
  }

  GarbageGuard(LongSupplier clock) {
    this.clock = clock;
  }

  /** The calls refused so far. */
  long refused() {
    synchronized (peers) {
      return refused;
    }
  }

  /** The service with every request parsed leniently and garbage refused. */
  ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guardMethod(m);
      methods.put(guarded.getMethodDescriptor().getFullMethodName(), guarded);
      descriptor.addMethod(guarded.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    methods.values().forEach(b::addMethod);
    return b.build();
  }

  private <ReqT, RespT> ServerMethodDefinition<Object, RespT> guardMethod(
      ServerMethodDefinition<ReqT, RespT> def) {
    MethodDescriptor<ReqT, RespT> typed = def.getMethodDescriptor();
    MethodDescriptor<Object, RespT> wire = typed.toBuilder(
        new LenientMarshaller<>(typed.getRequestMarshaller()), typed.getResponseMarshaller())
        .build();
    ServerCallHandler<ReqT, RespT> inner = def.getServerCallHandler();
    return ServerMethodDefinition.create(wire, (call, headers) -> {
      TypedCall<ReqT, RespT> typedCall = new TypedCall<>(call, typed);
      ServerCall.Listener<ReqT> listener = inner.startCall(typedCall, headers);
      return new GuardedListener<>(listener, typedCall);
    });
  }

  private static final class LenientMarshaller<T> implements MethodDescriptor.Marshaller<Object> {
    private final MethodDescriptor.Marshaller<T> strict;

    LenientMarshaller(MethodDescriptor.Marshaller<T> strict) {
      this.strict = strict;
    }

    @Override
    @SuppressWarnings("unchecked")
    public InputStream stream(Object value) {
      return strict.stream((T) value);
    }

    @Override
    public Object parse(InputStream stream) {
      try {
        return strict.parse(stream);
      } catch (RuntimeException e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
          c = c.getCause();
        }
        String why = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
        return new Garbage(why);
      }
    }
  }

  /** The call as the service sees it: its own request type; silent once refused. */
  private static final class TypedCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    private final ServerCall<Object, RespT> call;
    private final MethodDescriptor<ReqT, RespT> method;
    private volatile boolean refused;

    TypedCall(ServerCall<Object, RespT> call, MethodDescriptor<ReqT, RespT> method) {
      this.call = call;
      this.method = method;
    }

    void refuse(Status status) {
      refused = true;
      call.close(status, new Metadata());
    }

    @Override
    public void request(int numMessages) {
      if (!refused) {
        call.request(numMessages);
      }
    }

    @Override
    public void sendHeaders(Metadata headers) {
      if (!refused) {
        call.sendHeaders(headers);
      }
    }

    @Override
    public void sendMessage(RespT message) {
      if (!refused) {
        call.sendMessage(message);
      }
    }

    @Override
    public boolean isReady() {
      return !refused && call.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (!refused) {
        call.close(status, trailers);
      }
    }

    @Override
    public boolean isCancelled() {
      return refused || call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public void triggerEvent(Object event) {
      call.triggerEvent(event);
    }

    @Override
    public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
      return method;
    }
  }

  private final class GuardedListener<ReqT, RespT> extends ServerCall.Listener<Object> {
    private final ServerCall.Listener<ReqT> inner;
    private final TypedCall<ReqT, RespT> call;
    private boolean refused;  // callbacks of one call are serialized

    GuardedListener(ServerCall.Listener<ReqT> inner, TypedCall<ReqT, RespT> call) {
      this.inner = inner;
      this.call = call;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onMessage(Object message) {
      if (refused) {
        return;
      }
      if (message instanceof Garbage g) {
        refused = true;
        String what = call.getMethodDescriptor().getFullMethodName();
        String description = "request: expected a serialized "
            + requestTypeName(call.getMethodDescriptor()) + ", got bytes that do not parse ("
            + g.reason() + ")";
        // counted before the close, so the count is in place when the peer sees the status
        logRefusal(peerOf(call), what, g.reason());
        call.refuse(Status.INVALID_ARGUMENT.withDescription(description));
        // the service frees what the call held, and knows the call did not merely break
        Context.current().withValue(REFUSED, true).run(inner::onCancel);
        return;
      }
      inner.onMessage((ReqT) message);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        inner.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!refused) {
        inner.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!refused) {
        inner.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        inner.onReady();
      }
    }

    @Override
    public void onEvent(Object event) {
      if (!refused) {
        inner.onEvent(event);
      }
    }
  }

  private static String requestTypeName(MethodDescriptor<?, ?> method) {
    MethodDescriptor.Marshaller<?> m = method.getRequestMarshaller();
    if (m instanceof MethodDescriptor.PrototypeMarshaller<?> p
        && p.getMessagePrototype() instanceof com.google.protobuf.MessageLite proto) {
      return proto.getClass().getSimpleName();
    }
    return "request message";
  }

  static String peerOf(ServerCall<?, ?> call) {
    SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(address);
  }

  /** Logs one line for the peer unless it had one within the last minute. */
  void logRefusal(String peer, String method, String reason) {
    long now = clock.getAsLong();
    long skipped;
    synchronized (peers) {
      refused++;
      PeerLog p = peers.get(peer);
      if (p != null && now - p.lastLogged < LOG_INTERVAL_NANOS) {
        p.suppressed++;
        return;
      }
      if (p == null) {
        if (peers.size() >= MAX_PEERS_TRACKED) {
          prune(now);
        }
        p = new PeerLog();
        peers.put(peer, p);
      }
      skipped = p.suppressed;
      p.suppressed = 0;
      p.lastLogged = now;
    }
    log.warning("refused unparsable bytes from " + peer + " on " + method + " with "
        + "INVALID_ARGUMENT (" + reason + ")"
        + (skipped > 0 ? "; " + skipped + " more from this peer in the last minute not logged"
            : "; more from this peer within a minute are not logged"));
  }

  private void prune(long now) {
    for (Iterator<PeerLog> it = peers.values().iterator(); it.hasNext(); ) {
      if (now - it.next().lastLogged >= LOG_INTERVAL_NANOS) {
        it.remove();
      }
    }
    if (peers.size() >= MAX_PEERS_TRACKED) {
      peers.clear();  // a flood of distinct peers: forget them rather than grow
    }
  }
}
