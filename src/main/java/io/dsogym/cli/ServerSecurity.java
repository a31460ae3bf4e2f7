package io.dsogym.cli;

import io.dsogym.server.ServerOptions;
import io.dsogym.server.ServerTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The options that secure a server (serve, train --workers remote): the auth token, from a
 * file or the environment first, and TLS. {@link #apply} checks their combination; the server
 * checks the rest (token length, TLS beyond loopback).
 */
final class ServerSecurity {
  static final String TOKEN_VARIABLE = "DSOGYM_AUTH_TOKEN";

  @Option(names = "--auth-token-file", paramLabel = "FILE",
      description = "A file holding the token that workers and clients present (surrounding "
          + "whitespace ignored); at least " + ServerOptions.MIN_AUTH_TOKEN_CHARS
          + " characters; required beyond loopback. Or set $" + TOKEN_VARIABLE + ".")
  Path authTokenFile;

  @Option(names = "--auth-token", paramLabel = "TOKEN",
      description = {"The token itself, visible to other users in the process list: prefer "
          + "--auth-token-file or $" + TOKEN_VARIABLE + ".",
          "  Default: $" + TOKEN_VARIABLE + " (none where it is unset)."})
  String authToken;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "TLS: the server's certificate chain (PEM); with --tls-key.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "TLS: the certificate's private key (PEM, PKCS#8).")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "Mutual TLS: clients and workers must present a certificate signed by "
          + "this CA (PEM).")
  Path tlsClientCa;

  @Option(names = "--allow-plaintext",
      description = "Bind beyond loopback without TLS (the token then travels in clear).")
  boolean allowPlaintext;

  /** {@code base} with the token and TLS these options give; usage errors name the option. */
  ServerOptions apply(ServerOptions base, CommandSpec spec, Map<String, String> environment) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new UsageError(spec, "--tls-cert and --tls-key: expected both or neither, got "
          + (tlsCert == null ? "--tls-key only" : "--tls-cert only"));
    }
    if (tlsClientCa != null && tlsCert == null) {
      throw new UsageError(spec, "--tls-client-ca: expected --tls-cert and --tls-key with it, "
          + "got neither");
    }
    ServerTls tls = tlsCert == null ? null : new ServerTls(tlsCert, tlsKey, tlsClientCa);
    String token = token(spec, environment);
    return UsageError.check(spec, () -> base.withAuthToken(token).withTls(tls)
        .withAllowPlaintext(allowPlaintext));
  }

  private String token(CommandSpec spec, Map<String, String> environment) {
    if (authTokenFile != null && authToken != null) {
      throw new UsageError(spec, "--auth-token-file and --auth-token: expected one of them, "
          + "got both");
    }
    if (authTokenFile != null) {
      try {
        return Files.readString(authTokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new UsageError(spec, "--auth-token-file: expected a readable file, got '"
            + authTokenFile + "' (" + e + ")");
      }
    }
    return authToken != null ? authToken : environment.get(TOKEN_VARIABLE);
  }
}
