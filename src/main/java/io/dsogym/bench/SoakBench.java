package io.dsogym.bench;

import com.google.gson.GsonBuilder;
import io.dsogym.env.Tensor;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.DType;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.StepRequest;
import io.dsogym.wire.v1.Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak benchmark ({@code dsogym soak}): a loopback server under steady load for a while.
 * N client sessions (gRPC clients over TCP, each stepping one lane of the Java-native
 * CartPole-v1 with random actions) and M real Python workers (each hosting CartPole-v1 lanes
 * of Gymnasium, stepped by the server the way training steps them) run for S seconds. It
 * reports the steps, the errors (error replies, failed streams, failed worker steps), the
 * p50/p99 of one step's round trip over all of them, and the process's RSS and threads at
 * the start, ten times during the run and at the end, which show a leak over a long run.
 *
 * <p>The server runs in this JVM: workers are driven through its pool, which lives in the
 * server's process. The RSS and thread count are therefore this process's, clients included
 * (one channel, whose threads do not grow with the sessions).
 */
public final class SoakBench {
  /**
   * @param sessions client sessions, each stepping one Java-native CartPole-v1 lane
   * @param workers Python workers hosting Gymnasium's CartPole-v1
   * @param workerLanes lanes per worker
   * @param seconds how long the load runs
   * @param out the JSON file to write
   */
  public record Options(int sessions, int workers, int workerLanes, double seconds, Path out) {
    public Options {
      if (sessions < 0 || workers < 0 || sessions + workers == 0) {
        throw new IllegalArgumentException("--sessions and --workers: expected >= 0 and not "
            + "both 0, got " + sessions + " and " + workers);
      }
      if (workerLanes < 1) {
        throw new IllegalArgumentException("--worker-lanes: expected >= 1, got " + workerLanes);
      }
      if (!(seconds > 0)) {
        throw new IllegalArgumentException("--seconds: expected > 0, got " + seconds);
      }
      if (out == null) {
        throw new IllegalArgumentException("--out: expected a file, got none");
      }
    }
  }

  private static final String ENV_ID = "CartPole-v1";
  private static final int MAX_ERRORS_PRINTED = 5;

  private SoakBench() {}

  /** Runs the soak, prints its figures and writes them to {@code o.out()}; returns them. */
  public static Map<String, Object> run(Options o, PrintStream console) throws Exception {
    Load load = new Load(console);
    DsoGymServer server = DsoGymServer.tcp("127.0.0.1", 0, ServerOptions.defaults()).start();
    ManagedChannel channel = ManagedChannelBuilder.forTarget(server.address()).usePlaintext()
        .build();
    try (WorkerLauncher launcher = new WorkerLauncher(WorkerLauncher.defaultPython())) {
      for (int i = 0; i < o.workers(); i++) {
        launcher.start(server.address(), ENV_ID, o.workerLanes(), null, "soak-" + i);
      }
      List<RemoteVectorEnv> envs = o.workers() == 0 ? List.of()
          : server.pool().awaitWorkers(ENV_ID, o.workers(), Duration.ofSeconds(120));
      double rssStart = rssMb();
      int threadsStart = liveThreads();
      long deadline = System.nanoTime() + (long) (o.seconds() * 1e9);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < o.sessions(); i++) {
        int seed = i;
        threads.add(new Thread(() -> load.session(channel, seed, deadline),
            "soak-session-" + i));
      }
      for (RemoteVectorEnv env : envs) {
        threads.add(new Thread(() -> load.worker(env, deadline), "soak-" + env.workerId()));
      }
      threads.forEach(Thread::start);
      // RSS and threads ten times over the run: growth that does not level off is a leak.
      List<Map<String, Object>> samples = new ArrayList<>();
      long start = System.nanoTime();
      long every = Math.max(1, (deadline - start) / 10);
      for (long next = start + every; next <= deadline; next += every) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        Map<String, Object> sample = new LinkedHashMap<>();
        sample.put("s", round((System.nanoTime() - start) / 1e9));
        sample.put("rss_mb", round(rssMb()));
        sample.put("heap_mb_after_gc", round(heapAfterGcMb()));
        sample.put("threads", liveThreads());
        samples.add(sample);
      }
      for (Thread t : threads) {
        t.join();
      }
      double rssEnd = rssMb();
      int threadsEnd = liveThreads();
      for (RemoteVectorEnv env : envs) {
        env.close("soak done");
      }
      Map<String, Object> doc = load.figures(o, rssStart, rssEnd, threadsStart, threadsEnd);
      doc.put("samples", samples);
      console.println(new GsonBuilder().setPrettyPrinting().create().toJson(doc));
      if (o.out().getParent() != null) {
        Files.createDirectories(o.out().getParent());
      }
      Files.writeString(o.out(), new GsonBuilder().setPrettyPrinting().create().toJson(doc)
          + "\n");
      return doc;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop(Duration.ofSeconds(1));
    }
  }

  /** The load's counters and the step latencies of every thread. */
  private static final class Load {
    private final PrintStream console;
    private final AtomicLong sessionSteps = new AtomicLong();
    private final AtomicLong workerSteps = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final List<long[]> latencies = new ArrayList<>();

    Load(PrintStream console) {
      this.console = console;
    }

    /** One session until the deadline; a failed session counts an error and starts again. */
    void session(ManagedChannel channel, int seed, long deadline) {
      Latencies lat = new Latencies();
      SplittableRandom random = new SplittableRandom(seed);
      ByteBuffer action = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      while (System.nanoTime() < deadline) {
        try (Session s = new Session(channel)) {
          s.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
              .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
              .setClientName("soak-" + seed)));
          s.call(ClientRequest.newBuilder().setMake(MakeRequest.newBuilder().setEnvId(ENV_ID)
              .setNumEnvs(1)));
          s.call(ClientRequest.newBuilder().setReset(ResetRequest.newBuilder().addSeeds(seed)));
          while (System.nanoTime() < deadline) {
            action.putLong(0, random.nextInt(2));
            ClientRequest.Builder step = ClientRequest.newBuilder().setStep(StepRequest
                .newBuilder().setOmitInfo(true).setActions(Value.newBuilder().setTensor(
                    io.dsogym.wire.v1.Tensor.newBuilder().setDtype(DType.INT64).addShape(1)
                        .setData(com.google.protobuf.ByteString.copyFrom(action.array())))));
            long t0 = System.nanoTime();
            s.call(step);
            lat.add(System.nanoTime() - t0);
            sessionSteps.incrementAndGet();
          }
        } catch (RuntimeException e) {
          error("session " + seed, e);
        }
      }
      keep(lat);
    }

    /** Steps one worker's lanes until the deadline, as training does. */
    void worker(RemoteVectorEnv env, long deadline) {
      Latencies lat = new Latencies();
      SplittableRandom random = new SplittableRandom(env.workerId().hashCode());
      int n = env.numEnvs();
      long[] actions = new long[n];
      try {
        env.reset(new long[] {0}, Map.of(), null);
      } catch (RuntimeException e) {
        error(env.workerId() + " reset", e);
        return;
      }
      while (System.nanoTime() < deadline) {
        for (int i = 0; i < n; i++) {
          actions[i] = random.nextInt(2);
        }
        long t0 = System.nanoTime();
        try {
          env.stepWithoutInfo(Tensor.ofInt64(new int[] {n}, actions));
        } catch (RuntimeException e) {
          error(env.workerId() + " step", e);
          break; // a worker that failed is gone from the pool
        }
        lat.add(System.nanoTime() - t0);
        workerSteps.addAndGet(n);
      }
      keep(lat);
    }

    private void error(String where, RuntimeException e) {
      if (errors.incrementAndGet() <= MAX_ERRORS_PRINTED) {
        console.println("soak: error in " + where + ": " + e.getMessage());
      }
    }

    private synchronized void keep(Latencies lat) {
      latencies.add(Arrays.copyOf(lat.values, lat.count));
    }

    synchronized Map<String, Object> figures(Options o, double rssStart, double rssEnd,
        int threadsStart, int threadsEnd) {
      long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("date", Instant.now().toString());
      doc.put("sessions", o.sessions());
      doc.put("workers", o.workers());
      doc.put("worker_lanes", o.workerLanes());
      doc.put("seconds", o.seconds());
      doc.put("steps", sessionSteps.get() + workerSteps.get());
      doc.put("session_steps", sessionSteps.get());
      doc.put("worker_steps", workerSteps.get());
      doc.put("errors", errors.get());
      doc.put("p50_ms", round(percentile(all, 0.50) / 1e6));
      doc.put("p99_ms", round(percentile(all, 0.99) / 1e6));
      doc.put("rss_mb_start", round(rssStart));
      doc.put("rss_mb_end", round(rssEnd));
      doc.put("threads_start", threadsStart);
      doc.put("threads", threadsEnd);
      return doc;
    }
  }

  /** This process's resident set in MB (Linux: VmRSS; elsewhere the JVM's used heap). */
  static double rssMb() {
    Long kb = procStatus("VmRSS:");
    if (kb != null) {
      return kb / 1024.0;
    }
    Runtime r = Runtime.getRuntime();
    return (r.totalMemory() - r.freeMemory()) / (1024.0 * 1024.0);
  }

  /**
   * The heap in use right after the last garbage collection, over every heap pool: what the
   * live objects take. RSS also counts heap the JVM has grown and kept, so only this one tells
   * a leak from a heap that grew to fit the load.
   */
  static double heapAfterGcMb() {
    long used = 0;
    for (java.lang.management.MemoryPoolMXBean pool
        : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      java.lang.management.MemoryUsage u = pool.getCollectionUsage();
      if (pool.getType() == java.lang.management.MemoryType.HEAP && u != null) {
        used += u.getUsed();
      }
    }
    return used / (1024.0 * 1024.0);
  }

  /** This process's threads (Linux: all of them, native ones too; elsewhere the JVM's). */
  static int liveThreads() {
    Long n = procStatus("Threads:");
    return n != null ? n.intValue()
        : java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount();
  }

  private static Long procStatus(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (java.io.IOException | RuntimeException notLinux) {
      // fall back to the JVM's own figures
    }
    return null;
  }

  private static double percentile(long[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN
        : sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }

  private static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }

  /** A growable array of step latencies in ns (no boxing over a long run). */
  private static final class Latencies {
    long[] values = new long[1024];
    int count;

    void add(long ns) {
      if (count == values.length) {
        values = Arrays.copyOf(values, count * 2);
      }
      values[count++] = ns;
    }
  }

  /** A blocking EnvService session: one request, one reply; an error reply throws. */
  private static final class Session implements AutoCloseable {
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final StreamObserver<ClientRequest> requests;
    private long nextId = 1;

    Session(ManagedChannel channel) {
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
          inbox.add("the server ended the stream");
        }
      });
    }

    ClientResponse call(ClientRequest.Builder request) {
      long id = nextId++;
      requests.onNext(request.setId(id).build());
      Object reply;
      try {
        reply = inbox.poll(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      if (reply instanceof ClientResponse r && r.getId() == id && !r.hasError()) {
        return r;
      }
      if (reply instanceof ClientResponse r && r.hasError()) {
        throw new IllegalStateException("request " + id + ": " + r.getError().getMessage());
      }
      throw new IllegalStateException("request " + id + ": expected its reply, got "
          + (reply == null ? "nothing within 60 s" : reply));
    }

    @Override
    public void close() {
      try {
        requests.onCompleted();
      } catch (IllegalStateException alreadyEnded) {
        // the stream failed first
      }
    }
  }
}
