package io.dsogym.server;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 counterpart of grpc-java's {@code GrpcCleanupRule} (JUnit 4 only): registered
 * channels and servers are shut down after each test, newest first, forcibly if they do not
 * terminate within a few seconds. Use with {@code @RegisterExtension}.
 */
public final class GrpcCleanupExtension implements AfterEachCallback {
  private final Deque<Object> resources = new ArrayDeque<>();

  public synchronized <T extends ManagedChannel> T register(T channel) {
    resources.push(channel);
    return channel;
  }

  public synchronized <T extends Server> T register(T server) {
    resources.push(server);
    return server;
  }

  /** Registers a dsogym server (stopped like a grpc server). */
  public synchronized DsoGymServer register(DsoGymServer server) {
    resources.push(server);
    return server;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Deque<Object> all;
    synchronized (this) {
      all = new ArrayDeque<>(resources);
      resources.clear();
    }
    for (Object r : all) {
      if (r instanceof ManagedChannel c) {
        c.shutdown();
        if (!c.awaitTermination(3, TimeUnit.SECONDS)) {
          c.shutdownNow().awaitTermination(3, TimeUnit.SECONDS);
        }
      } else if (r instanceof Server s) {
        s.shutdown();
        if (!s.awaitTermination(3, TimeUnit.SECONDS)) {
          s.shutdownNow().awaitTermination(3, TimeUnit.SECONDS);
        }
      } else if (r instanceof DsoGymServer d) {
        d.stop();
      }
    }
  }
}
