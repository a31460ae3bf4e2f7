package io.dsogym.server;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for a {@link DsoGymServer}: its certificate chain and private key (PEM files; the key in
 * PKCS#8, as {@code openssl genpkey} and {@code openssl req -newkey} write it), and optionally
 * the CA that client certificates must be signed by (mutual TLS: a client without such a
 * certificate is refused during the handshake).
 *
 * @param certChain {@code --tls-cert}: the server's certificate, then any intermediates
 * @param privateKey {@code --tls-key}: the certificate's private key
 * @param clientCa {@code --tls-client-ca}: null, or the CA bundle that client certificates
 *     must chain to
 */
public record ServerTls(Path certChain, Path privateKey, Path clientCa) {
  public ServerTls {
    Objects.requireNonNull(certChain, "certChain (--tls-cert)");
    Objects.requireNonNull(privateKey, "privateKey (--tls-key)");
  }

  /** Server TLS without client certificates. */
  public ServerTls(Path certChain, Path privateKey) {
    this(certChain, privateKey, null);
  }

  public boolean mutual() {
    return clientCa != null;
  }

  /**
   * The gRPC credentials; reads the files now.
   *
   * @throws IllegalArgumentException naming the option of a file that cannot be read
   */
  ServerCredentials credentials() {
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder();
    try {
      b.keyManager(pem(certChain, "--tls-cert"), pem(privateKey, "--tls-key"));
      if (clientCa != null) {
        b.trustManager(pem(clientCa, "--tls-client-ca"))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("TLS files: " + e.getMessage(), e);
    }
    return b.build();
  }

  private static ByteArrayInputStream pem(Path file, String option) {
    try {
      return new ByteArrayInputStream(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(option + ": expected a readable PEM file, got '" + file
          + "' (no such file)");
    } catch (IOException e) {
      throw new IllegalArgumentException(option + ": expected a readable PEM file, got '" + file
          + "' (" + e + ")");
    }
  }

  /** For logs: which files, and whether clients need certificates. */
  String describe() {
    return "TLS " + certChain + (mutual() ? ", client certificates from " + clientCa : "");
  }
}
