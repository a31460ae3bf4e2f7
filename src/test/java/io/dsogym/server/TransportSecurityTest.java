package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, security: TLS (a TLS client is served, a plaintext one refused; mutual TLS refuses
 * a client without a certificate), no plaintext beyond loopback unless allowed, a minimum token
 * length, one token guess per session stream, and ListEnvs behind the token. Certificates are
 * real, made by keytool at test time ({@link TestCertificates}).
 */
class TransportSecurityTest {
  static final String TOKEN = "a-token-of-24-characters";

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  static TestCertificates certs;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = TestCertificates.shared();
  }

  private DsoGymServer tlsServer(ServerTls tls) throws IOException {
    return grpc.register(DsoGymServer.tcp("127.0.0.1", 0,
        ServerOptions.defaults().withTls(tls)).start());
  }

  private ManagedChannel channel(DsoGymServer server, ChannelCredentials credentials) {
    return grpc.register(NettyChannelBuilder.forTarget(server.address(), credentials).build());
  }

  private static ChannelCredentials trusting(Path ca) throws IOException {
    return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
  }

  private static Status.Code listEnvsCode(ManagedChannel channel, String token) {
    try {
      EnvServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .listEnvs(ListEnvsRequest.newBuilder().setAuthToken(token).build());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private static ClientRequest.Builder hello(String token) {
    return ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1).setAuthToken(token));
  }

  @Test
  void aTlsClientIsServedAndAPlaintextOneRefused() throws Exception {
    DsoGymServer server = tlsServer(new ServerTls(certs.serverCert(), certs.serverKey()));
    ManagedChannel tls = channel(server, trusting(certs.ca()));
    assertEquals(Status.Code.OK, listEnvsCode(tls, ""));
    try (SessionClient s = new SessionClient(tls)) {
      assertEquals(ClientResponse.ResponseCase.HELLO, s.call(hello("")).getResponseCase());
      assertEquals(ClientResponse.ResponseCase.MADE, s.call(ClientRequest.newBuilder()
          .setMake(MakeRequest.newBuilder().setEnvId("CartPole-v1"))).getResponseCase());
    }
    assertEquals(Status.Code.UNAVAILABLE,
        listEnvsCode(channel(server, InsecureChannelCredentials.create()), ""));
    // TLS to a server whose certificate another CA signed: refused by the client
    assertEquals(Status.Code.UNAVAILABLE, listEnvsCode(channel(server,
        trusting(certs.otherCa())), ""));
  }

  @Test
  void mutualTlsRefusesAClientWithoutACertificate() throws Exception {
    DsoGymServer server = tlsServer(new ServerTls(certs.serverCert(), certs.serverKey(),
        certs.ca()));
    assertEquals(Status.Code.UNAVAILABLE,
        listEnvsCode(channel(server, trusting(certs.ca())), ""));
    ChannelCredentials withCertificate = TlsChannelCredentials.newBuilder()
        .trustManager(certs.ca().toFile())
        .keyManager(certs.clientCert().toFile(), certs.clientKey().toFile()).build();
    assertEquals(Status.Code.OK, listEnvsCode(channel(server, withCertificate), ""));
  }

  @Test
  void badTlsFilesAreNamed() throws Exception {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> DsoGymServer.tcp("127.0.0.1", 0, ServerOptions.defaults().withTls(
            new ServerTls(certs.serverCert(), dir.resolve("nope.key")))));
    assertTrue(missing.getMessage().startsWith("--tls-key: expected a readable PEM file, got '")
        && missing.getMessage().endsWith("nope.key' (no such file)"), missing.getMessage());
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> DsoGymServer.tcp("127.0.0.1", 0, ServerOptions.defaults().withTls(
            new ServerTls(notPem, certs.serverKey()))));
    assertTrue(bad.getMessage().startsWith("--tls-cert, --tls-key, --tls-client-ca: expected a "
        + "PEM certificate chain"), bad.getMessage());
  }

  @Test
  void beyondLoopbackPlaintextNeedsConsent() {
    ServerOptions withToken = ServerOptions.defaults().withAuthToken(TOKEN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DsoGymServer.tcp("0.0.0.0", 0, withToken));
    assertEquals("bind address 0.0.0.0: expected TLS (--tls-cert and --tls-key) when binding "
        + "beyond loopback, got none; the auth token would travel in clear (--allow-plaintext "
        + "accepts that)", e.getMessage());
    DsoGymServer.tcp("0.0.0.0", 0, withToken.withAllowPlaintext(true));
    DsoGymServer.tcp("0.0.0.0", 0, withToken.withTls(new ServerTls(certs.serverCert(),
        certs.serverKey())));
  }

  @Test
  void tokensHaveAMinimumLength() {
    for (String weak : new String[] {" ", "x", "fifteen-chars-x", "   x            "}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ServerOptions.defaults().withAuthToken(weak), weak);
      assertTrue(e.getMessage().startsWith("auth token (--auth-token-file, $DSOGYM_AUTH_TOKEN "
          + "or --auth-token): expected at least 16 characters besides surrounding whitespace, "
          + "got "), e.getMessage());
    }
    assertEquals("sixteen-chars-xx",
        ServerOptions.defaults().withAuthToken("sixteen-chars-xx").authToken());
  }

  @Test
  void aWrongTokenEndsTheSessionStream() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults().withAuthToken(TOKEN)).start());
    ManagedChannel ch = grpc.register(InProcessChannelBuilder.forName(name).build());
    try (SessionClient guesser = new SessionClient(ch)) {
      Object first = guesser.sendAndNext(hello("wrong-token-of-twenty").setId(1).build());
      assertTrue(first instanceof StatusRuntimeException s
          && s.getStatus().getCode() == Status.Code.UNAUTHENTICATED
          && s.getStatus().getDescription().equals("hello.auth_token: expected the server's "
              + "token, got a different one"), String.valueOf(first));
    }
    try (SessionClient right = new SessionClient(ch)) {
      assertEquals(ClientResponse.ResponseCase.HELLO, right.call(hello(TOKEN)).getResponseCase());
    }
  }

  @Test
  @Timeout(60)  // a serve that is not refused runs until interrupted
  void serveTakesTheTokenFromAFileAndChecksTheOptions() throws Exception {
    Path shortToken = Files.writeString(dir.resolve("short"), "x\n");
    Path goodToken = Files.writeString(dir.resolve("good"), TOKEN + "\n");
    String tooShort = "auth token (--auth-token-file, $DSOGYM_AUTH_TOKEN or --auth-token): "
        + "expected at least 16 characters besides surrounding whitespace, got 1";
    assertServeRefused(tooShort, "--auth-token", "x");
    assertServeRefused(tooShort, "--auth-token-file", shortToken.toString());
    // the file's token is taken (the next check is TLS), surrounding whitespace ignored
    assertServeRefused("bind address 0.0.0.0: expected TLS", "--bind", "0.0.0.0",
        "--auth-token-file", goodToken.toString());
    assertServeRefused("--auth-token-file and --auth-token: expected one of them, got both",
        "--auth-token-file", goodToken.toString(), "--auth-token", TOKEN);
    assertServeRefused("--tls-cert and --tls-key: expected both or neither, got --tls-cert "
        + "only", "--tls-cert", certs.serverCert().toString());
    assertServeRefused("--tls-client-ca: expected --tls-cert and --tls-key with it",
        "--tls-client-ca", certs.ca().toString());
  }

  private static void assertServeRefused(String message, String... options) {
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("serve", "--port",
        "0"), java.util.Arrays.stream(options)).toArray(String[]::new);
    int code = io.dsogym.cli.Main.run(args, new java.io.PrintStream(
        java.io.OutputStream.nullOutputStream()), new java.io.PrintStream(err, true,
        java.nio.charset.StandardCharsets.UTF_8));
    String text = err.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(2, code, text);
    assertTrue(text.contains(message), text);
  }

  @Test
  void listEnvsNeedsTheTokenWhenTheServerHasOne() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp("127.0.0.1", 0,
        ServerOptions.defaults().withAuthToken(TOKEN)).start());
    ManagedChannel ch = channel(server, InsecureChannelCredentials.create());
    assertEquals(Status.Code.UNAUTHENTICATED, listEnvsCode(ch, ""));
    assertEquals(Status.Code.UNAUTHENTICATED, listEnvsCode(ch, "wrong-token-of-twenty"));
    assertEquals(Status.Code.OK, listEnvsCode(ch, TOKEN));
  }
}
