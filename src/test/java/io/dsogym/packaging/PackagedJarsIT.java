package io.dsogym.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.ListEnvsResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two jars that {@code mvn package} builds (docs/library.md), checked after packaging by
 * maven-failsafe (the verify phase, so also by {@code mvn install}, which copies the library jar
 * checked here into the local repository):
 *
 * <ul>
 *   <li>the library, io.dsogym:dsogym: only dsogym's own classes; its pom declares the
 *       dependencies, so a user's build resolves each of them once;
 *   <li>the runnable jar, target/dsogym.jar (classifier "all"): every dependency relocated under
 *       io.dsogym.shaded, and it still serves gRPC, on the native epoll transport.
 * </ul>
 */
class PackagedJarsIT {
  private static final String SHADED = "io/dsogym/shaded/";

  private static Path jar(String property) {
    String path = System.getProperty(property);
    assertTrue(path != null, "system property " + property + " is not set (run through "
        + "maven-failsafe: mvn verify)");
    Path p = Path.of(path);
    assertTrue(Files.isRegularFile(p), property + ": expected a built jar at " + p);
    return p;
  }

  private static List<String> entries(Path jar) throws IOException {
    try (JarFile f = new JarFile(jar.toFile())) {
      return f.stream().map(e -> e.getName()).toList();
    }
  }

  @Test
  void libraryJarHoldsOnlyDsogymClasses() throws IOException {
    List<String> classes = entries(jar("dsogym.libraryJar")).stream()
        .filter(n -> n.endsWith(".class")).toList();
    assertTrue(classes.contains("io/dsogym/server/DsoGymServer.class"), "no DsoGymServer");
    List<String> foreign = classes.stream()
        .filter(n -> !n.startsWith("io/dsogym/") || n.startsWith(SHADED)).toList();
    assertEquals(List.of(), foreign.stream().limit(10).toList(),
        foreign.size() + " classes that are not dsogym's own in the library jar");
  }

  @Test
  void libraryPomDeclaresTheDependencies() throws IOException {
    String pom;
    try (JarFile f = new JarFile(jar("dsogym.libraryJar").toFile())) {
      pom = new String(f.getInputStream(f.getEntry("META-INF/maven/io.dsogym/dsogym/pom.xml"))
          .readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String artifact : List.of("protobuf-java", "grpc-protobuf", "grpc-stub",
        "grpc-netty-shaded", "gson", "commons-math3", "picocli", "jfreechart")) {
      assertTrue(pom.contains("<artifactId>" + artifact + "</artifactId>"),
          "the library pom does not declare " + artifact);
    }
  }

  @Test
  void runnableJarRelocatesEveryDependency() throws IOException {
    Path jar = jar("dsogym.runnableJar");
    List<String> names = entries(jar);
    List<String> unrelocated = names.stream()
        .filter(n -> n.endsWith(".class") && !n.startsWith("io/dsogym/")
            && !n.startsWith("META-INF/versions/"))
        .toList();
    assertEquals(List.of(), unrelocated.stream().limit(10).toList(),
        unrelocated.size() + " classes outside io/dsogym in " + jar);
    assertTrue(names.contains(SHADED + "com/google/protobuf/Message.class"), "no relocated "
        + "protobuf");
    assertTrue(names.contains("META-INF/services/io.dsogym.shaded.io.grpc.ServerProvider"),
        "gRPC's ServerProvider service file is not relocated: " + names.stream()
            .filter(n -> n.startsWith("META-INF/services/")).toList());
    try (JarFile f = new JarFile(jar.toFile())) {
      assertEquals("io.dsogym.cli.Main", f.getManifest().getMainAttributes().getValue(
          "Main-Class"));
    }
  }

  @Test
  void runnableJarServesGrpc() throws Exception {
    Path jar = jar("dsogym.runnableJar");
    Process server = new ProcessBuilder(java(), "-jar", jar.toString(), "serve", "--port", "0")
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
          StandardCharsets.UTF_8));
      Pattern listening = Pattern.compile("dsogym server listening on (\\S+)");
      String address = null;
      StringBuilder seen = new StringBuilder();
      for (String line; address == null && (line = out.readLine()) != null; ) {
        seen.append(line).append('\n');
        Matcher m = listening.matcher(line);
        if (m.find()) {
          address = m.group(1);
        }
      }
      assertTrue(address != null, "the runnable jar's server did not start:\n" + seen);
      // this test's own (unrelocated) gRPC talks to the relocated server
      ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
      try {
        ListEnvsResponse envs = EnvServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS).listEnvs(ListEnvsRequest.getDefaultInstance());
        assertTrue(envs.getEnvsList().stream().anyMatch(e -> e.getId().equals("CartPole-v1")),
            "ListEnvs: " + envs);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A short training run from the runnable jar draws its learning curve: JFreeChart, relocated,
   * still finds its resource bundles (XYPlot loads one when its class initializes).
   */
  @Test
  void runnableJarTrainsAndDrawsTheLearningCurve(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Process p = new ProcessBuilder(java(), "-jar", jar("dsogym.runnableJar").toString(), "train",
        "--env", "CartPole-v1", "--source", "java", "--max-steps", "1024", "--num-envs", "2",
        "--steps-per-lane", "256", "--eval-every", "512", "--eval-episodes", "2",
        "--out", out.toString()).redirectErrorStream(true).start();
    String console = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "train did not finish:\n" + console);
    assertEquals(0, p.exitValue(), console);
    assertTrue(ImageIO.read(out.resolve("learning_curve.png").toFile()) != null,
        "learning_curve.png does not decode:\n" + console);
  }

  /**
   * grpc-netty-shaded finds its epoll library by a name derived from its package; relocated, the
   * library must be renamed with it (the pom's rawString relocation) or Netty falls back to NIO.
   */
  @Test
  void runnableJarKeepsTheNativeEpollTransport(@TempDir Path tmp) throws Exception {
    assertTrue(System.getProperty("os.name").startsWith("Linux"), "epoll is Linux only: run "
        + "this check on Linux");
    Path source = tmp.resolve("EpollCheck.java");
    Files.writeString(source, """
        public class EpollCheck {
          public static void main(String[] args) throws Exception {
            Class<?> epoll = Class.forName(
                "io.dsogym.shaded.io.grpc.netty.shaded.io.netty.channel.epoll.Epoll");
            System.out.println("epoll " + epoll.getMethod("isAvailable").invoke(null) + " "
                + epoll.getMethod("unavailabilityCause").invoke(null));
          }
        }
        """);
    Process p = new ProcessBuilder(java(), "-cp", jar("dsogym.runnableJar").toString(),
        source.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the epoll check did not finish:\n" + out);
    assertFalse(out.isBlank(), "the epoll check printed nothing");
    assertTrue(out.startsWith("epoll true"), out);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
