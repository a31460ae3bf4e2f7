package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.Tensor;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.server.ServerOptions;
import io.dsogym.server.ServerTls;
import io.dsogym.server.TestCertificates;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Python workers and clients over TLS to a real server: {@code --tls-ca} (and
 * {@code --tls-cert}/{@code --tls-key} for mutual TLS) on the worker, {@code tls_ca=} on
 * {@code RemoteEnv} and {@code list_envs}; a plaintext worker or client is refused. The token
 * comes from a file (the worker) and the environment (the client).
 */
class PythonTlsTest {
  static final String TOKEN = "python-tls-test-token";

  static TestCertificates certs;

  @TempDir
  Path dir;

  private LiveServer live;
  private final List<Process> processes = new ArrayList<>();

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = TestCertificates.shared();
  }

  @AfterEach
  void stop() throws InterruptedException {
    processes.forEach(Process::destroyForcibly);
    if (live != null) {
      live.close();
    }
  }

  private void startServer(ServerTls tls) throws IOException {
    live = LiveServer.start(ServerOptions.defaults().withAuthToken(TOKEN).withTls(tls));
  }

  /** {@code python args...} with its output in {@code log}, the token in the environment. */
  private Process python(Path log, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(LiveServer.requirePython()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(new File("/dev/null"));
    pb.environment().put("DSOGYM_AUTH_TOKEN", TOKEN);
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  private Process worker(String name, String... security) throws IOException {
    Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
    List<String> args = new ArrayList<>(List.of("-m", "dsogym.worker", "--server",
        live.address(), "--env", "CartPole-v1", "--num-envs", "2", "--name", name,
        "--auth-token-file", tokenFile.toString()));
    args.addAll(List.of(security));
    return python(dir.resolve(name + ".log"), args.toArray(String[]::new));
  }

  private static void stepOnce(RemoteVectorEnv env) {
    env.reset(new long[] {0});
    VectorEnv.VectorStepResult r = env.step(Tensor.ofInt64(new int[] {2}, new long[] {0, 1}));
    assertEquals(2, r.rewards().length);
  }

  private String exitedWith(Process p, int code, Path log) throws Exception {
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running");
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(code, p.exitValue(), out);
    return out;
  }

  @Test
  void aWorkerWithTheCaConnectsAndAPlaintextOneIsRefused() throws Exception {
    startServer(new ServerTls(certs.serverCert(), certs.serverKey()));
    Process tls = worker("tls", "--tls-ca", certs.ca().toString());
    try (RemoteVectorEnv env = live.await("CartPole-v1", tls)) {
      stepOnce(env);
    }
    Process plain = worker("plain");
    String out = exitedWith(plain, 1, dir.resolve("plain.log"));
    assertTrue(out.contains("UNAVAILABLE"), out);
    assertTrue(live.server().pool().workers().stream()
        .noneMatch(w -> w.describe().contains("plain")), live.server().pool().workers()
        .toString());
  }

  @Test
  void mutualTlsServesAWorkerWithACertificateOverTheSyncTransport() throws Exception {
    startServer(new ServerTls(certs.serverCert(), certs.serverKey(), certs.ca()));
    Process noCert = worker("nocert", "--tls-ca", certs.ca().toString());
    exitedWith(noCert, 1, dir.resolve("nocert.log"));
    Process withCert = worker("cert", "--transport", "sync", "--tls-ca", certs.ca().toString(),
        "--tls-cert", certs.clientCert().toString(), "--tls-key", certs.clientKey().toString());
    try (RemoteVectorEnv env = live.await("CartPole-v1", withCert)) {
      stepOnce(env);
    }
  }

  @Test
  void aPythonClientWithTheCaIsServedAndAPlaintextOneRefused() throws Exception {
    startServer(new ServerTls(certs.serverCert(), certs.serverKey()));
    String script = String.join("\n",
        "import sys, dsogym",
        "address, ca = sys.argv[1], sys.argv[2]",
        "print('envs', len(dsogym.list_envs(address, timeout=10, tls_ca=ca)))",
        "env = dsogym.RemoteEnv(address, 'CartPole-v1', tls_ca=ca)",
        "env.reset(seed=0)",
        "print('step', env.step(0)[1])",
        "env.close()",
        "try:",
        "    dsogym.RemoteEnv(address, 'CartPole-v1', connect_timeout=3)",
        "    print('plaintext served')",
        "except ConnectionError as e:",
        "    print('plaintext refused:', e)");
    Path log = dir.resolve("client.log");
    String out = exitedWith(python(log, "-c", script, live.address(), certs.ca().toString()), 0,
        log);
    assertTrue(out.matches("(?s).*envs [1-9].*"), out);
    assertTrue(out.contains("step 1.0"), out);
    assertTrue(out.contains("plaintext refused: dsogym server at " + live.address()
        + ": not reachable within 3 s"), out);
  }
}
