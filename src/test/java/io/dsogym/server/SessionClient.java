package io.dsogym.server;

import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A blocking test client of EnvService.Session: one request, one reply. */
final class SessionClient implements AutoCloseable {
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<ClientRequest> requests;
  private long nextId = 1;

  SessionClient(Channel channel) {
    requests = EnvServiceGrpc.newStub(channel).session(new StreamObserver<>() {
      @Override
      public void onNext(ClientResponse value) {
        inbox.add(value);
      }

      @Override
      public void onError(Throwable t) {
        inbox.add(t);
      }

      @Override
      public void onCompleted() {
        inbox.add("completed");
      }
    });
  }

  /** Sends the request with a fresh id and returns the reply, checking the id. */
  ClientResponse call(ClientRequest.Builder request) {
    long id = nextId++;
    requests.onNext(request.setId(id).build());
    Object reply = next();
    if (!(reply instanceof ClientResponse r)) {
      throw new AssertionError("expected a reply to request " + id + ", got " + reply);
    }
    if (r.getId() != id) {
      throw new AssertionError("reply id: expected " + id + ", got " + r.getId());
    }
    return r;
  }

  /** Sends a request as is and returns whatever comes next (a reply, an error, completion). */
  Object sendAndNext(ClientRequest request) {
    requests.onNext(request);
    return next();
  }

  Object next() {
    try {
      Object o = inbox.poll(10, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("no reply within 10 s");
      }
      return o;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      requests.onCompleted();
    } catch (IllegalStateException alreadyEnded) {
      // the call ended with an error first
    }
  }
}
