package io.dsogym.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The layers of the main code and which way they point (docs/engine.md, "Layout"). Each
 * package may use only the dsogym packages listed for it; everything below {@code remote}
 * is free of gRPC, protobuf and the wire codecs, and no two packages depend on each other.
 */
class LayerRulesTest {
  /** Package (with its subpackages) -> the dsogym packages it may use besides itself. */
  static final Map<String, List<String>> ALLOWED = new LinkedHashMap<>();

  static {
    ALLOWED.put("env", List.of());
    ALLOWED.put("linalg", List.of());
    ALLOWED.put("optim", List.of("linalg"));
    ALLOWED.put("envs", List.of("env", "linalg"));
    ALLOWED.put("policy", List.of("env", "linalg"));
    ALLOWED.put("chain", List.of("linalg"));
    ALLOWED.put("collect", List.of("chain", "policy", "env", "linalg"));
    ALLOWED.put("dso", List.of("chain", "policy", "optim", "linalg"));
    ALLOWED.put("oracle", List.of("dso", "chain", "policy", "envs", "env", "linalg"));
    ALLOWED.put("lmdp", List.of("oracle", "dso", "chain", "linalg"));
    ALLOWED.put("wire", List.of("env", "envs", "policy"));
    ALLOWED.put("remote", List.of("wire", "collect", "chain", "policy", "env", "linalg"));
    // server: the optimizer service runs the trainer on a client's batches
    ALLOWED.put("server", List.of("train", "remote", "wire", "envs", "env"));
    ALLOWED.put("train", List.of("remote", "oracle", "dso", "collect", "chain", "policy",
        "optim", "envs", "env", "linalg", "wire"));
    ALLOWED.put("launch", List.of("train", "server", "remote", "wire", "envs", "env"));
    // bench: the soak starts a server and talks the protocol to it as a client would; the
    // training bench runs the trainer
    ALLOWED.put("bench", List.of("launch", "train", "server", "remote", "wire", "collect", "chain",
        "policy", "env", "linalg"));
    ALLOWED.put("experiment", List.of("train", "launch", "lmdp", "oracle", "dso", "collect",
        "optim", "chain", "policy", "wire", "envs", "env", "linalg"));
    ALLOWED.put("cli", List.of("experiment", "bench", "launch", "train", "server", "remote",
        "oracle", "dso", "collect", "chain", "policy", "optim", "wire", "envs", "env", "linalg"));
  }

  /** The engine and the env core: no transport below the remote layer. */
  static final List<String> TRANSPORT_FREE = List.of("env", "envs", "linalg", "optim",
      "policy", "chain", "collect", "dso", "oracle", "lmdp");

  private static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.dsogym");
  }

  static Stream<String> packages() {
    return ALLOWED.keySet().stream();
  }

  @Test
  void everyMainPackageHasARule() {
    classes.stream()
        .map(c -> c.getPackageName().substring("io.dsogym.".length()).split("\\.")[0])
        .distinct()
        .forEach(p -> {
          if (!ALLOWED.containsKey(p)) {
            throw new AssertionError("package io.dsogym." + p + " has no layer rule in "
                + "LayerRulesTest.ALLOWED");
          }
        });
  }

  @ParameterizedTest
  @MethodSource("packages")
  void packageUsesOnlyTheLayersBelowIt(String pkg) {
    String[] allowed = Stream.concat(Stream.of(pkg), ALLOWED.get(pkg).stream())
        .map(p -> "io.dsogym." + p + "..")
        .toArray(String[]::new);
    noClasses().that().resideInAPackage("io.dsogym." + pkg + "..")
        .should().dependOnClassesThat(resideInAPackage("io.dsogym..")
            .and(not(resideInAnyPackage(allowed))))
        .because("io.dsogym." + pkg + " may use only " + ALLOWED.get(pkg))
        .check(classes);
  }

  @Test
  void noTransportBelowTheRemoteLayer() {
    String[] engine = TRANSPORT_FREE.stream().map(p -> "io.dsogym." + p + "..")
        .toArray(String[]::new);
    noClasses().that().resideInAnyPackage(engine)
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "com.google.protobuf..",
            "io.dsogym.wire..", "io.dsogym.remote..", "io.dsogym.server..")
        .check(classes);
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.dsogym.(*)..").should().beFreeOfCycles().check(classes);
  }
}
