package io.dsogym.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real certificates made at test time with the JDK's keytool (no extra dependency): a
 * self-signed CA, a server certificate it signs for 127.0.0.1 and localhost, a client
 * certificate it signs (mutual TLS), and a second CA that signed nothing here. Every file is
 * PEM; private keys are PKCS#8, exported through {@link KeyStore}, since keytool does not
 * export keys.
 *
 * @param ca the CA's certificate
 * @param serverCert the server's certificate, then the CA's
 * @param serverKey the server's private key
 * @param clientCert a client certificate signed by {@code ca}
 * @param clientKey its private key
 * @param otherCa a CA that signed neither certificate
 */
public record TestCertificates(Path ca, Path serverCert, Path serverKey, Path clientCert,
    Path clientKey, Path otherCa) {
  private static final String PASSWORD = "dsogym-test";
  private static TestCertificates shared;

  /**
   * One set for the whole test JVM, in a temporary directory deleted at exit: keytool takes
   * about a second per step.
   */
  public static synchronized TestCertificates shared() throws IOException, InterruptedException {
    if (shared == null) {
      Path dir = Files.createTempDirectory("dsogym-test-certs");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try (var files = Files.list(dir)) {
          files.forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
          // a temporary directory: left to the OS
        }
        dir.toFile().delete();
      }));
      shared = create(dir);
    }
    return shared;
  }

  /** Makes every file in {@code dir} (keytool runs 14 times). */
  public static TestCertificates create(Path dir) throws IOException, InterruptedException {
    Path ca = dir.resolve("ca.pem");
    Path otherCa = dir.resolve("other-ca.pem");
    selfSignedCa(dir, "ca", ca);
    selfSignedCa(dir, "other-ca", otherCa);
    Path serverCert = dir.resolve("server.pem");
    Path serverKey = dir.resolve("server.key");
    signed(dir, "server", "CN=localhost", List.of("-ext", "san=ip:127.0.0.1,dns:localhost",
        "-ext", "eku=serverAuth"), ca, serverCert, serverKey);
    Path clientCert = dir.resolve("client.pem");
    Path clientKey = dir.resolve("client.key");
    signed(dir, "client", "CN=dsogym test client", List.of("-ext", "eku=clientAuth"), ca,
        clientCert, clientKey);
    return new TestCertificates(ca, serverCert, serverKey, clientCert, clientKey, otherCa);
  }

  private static void selfSignedCa(Path dir, String alias, Path pem)
      throws IOException, InterruptedException {
    Path store = dir.resolve(alias + ".p12");
    keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=dsogym test " + alias, "-ext", "bc:c", "-validity", "2",
        "-keystore", store.toString());
    keytool("-exportcert", "-rfc", "-alias", alias, "-keystore", store.toString(), "-file",
        pem.toString());
  }

  private static void signed(Path dir, String alias, String dname, List<String> extensions,
      Path caPem, Path certPem, Path keyPem) throws IOException, InterruptedException {
    Path store = dir.resolve(alias + ".p12");
    Path csr = dir.resolve(alias + ".csr");
    Path leaf = dir.resolve(alias + "-leaf.pem");
    keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", dname, "-validity", "2", "-keystore", store.toString());
    keytool("-certreq", "-alias", alias, "-keystore", store.toString(), "-file", csr.toString());
    List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore",
        dir.resolve("ca.p12").toString(), "-infile", csr.toString(), "-outfile",
        leaf.toString(), "-validity", "2"));
    sign.addAll(extensions);
    keytool(sign.toArray(String[]::new));
    Files.writeString(certPem, Files.readString(leaf) + Files.readString(caPem));
    Files.writeString(keyPem, privateKeyPem(store, alias));
  }

  private static String privateKeyPem(Path store, String alias) throws IOException {
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASSWORD.toCharArray());
      Key key = ks.getKey(alias, PASSWORD.toCharArray());  // getEncoded(): PKCS#8 DER
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    } catch (GeneralSecurityException e) {
      throw new IOException("reading the key of " + alias + " from " + store, e);
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD, "-noprompt"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
    }
  }
}
