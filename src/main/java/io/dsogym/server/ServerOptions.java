package io.dsogym.server;

import io.dsogym.env.AutoresetMode;
import io.dsogym.envs.EnvRegistry;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link DsoGymServer}.
 *
 * @param authToken the token every hello (and {@code ListEnvs}) must carry: at least
 *     {@link #MIN_AUTH_TOKEN_CHARS} characters; "" accepts any hello (loopback only)
 * @param workerAutoresetMode the mode the server asks workers to run; SAME_STEP by default,
 *     since the DSO chain recorder wants every step to be a real transition
 * @param workerRequestTimeout how long a {@code RemoteVectorEnv} waits for a worker's reply
 *     (60 s by default)
 * @param registry the Java-native envs that sessions can make
 * @param limits the resource limits and flow-control settings ({@link ServerLimits#defaults})
 * @param resumeGrace how long a session whose stream broke is kept for its client to resume it
 *     from a new stream ({@code --resume-grace}, 30 s by default); zero: sessions close with
 *     their stream
 * @param tls null (plaintext), or the TLS certificate and key of a TCP server
 * @param allowPlaintext lets a TCP server bind beyond loopback without TLS (the token then
 *     travels in clear)
 */
public record ServerOptions(String authToken, AutoresetMode workerAutoresetMode,
    Duration workerRequestTimeout, EnvRegistry registry, ServerLimits limits,
    Duration resumeGrace, ServerTls tls, boolean allowPlaintext) {
  public static final Duration DEFAULT_RESUME_GRACE = Duration.ofSeconds(30);
  /** The largest message the server accepts (observations of big envs need more than 4 MiB). */
  public static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
  /** The shortest auth token accepted: a short one is guessed too easily. */
  public static final int MIN_AUTH_TOKEN_CHARS = 16;

  public ServerOptions {
    authToken = authToken == null ? "" : authToken;
    if (!authToken.isEmpty() && authToken.strip().length() < MIN_AUTH_TOKEN_CHARS) {
      throw new IllegalArgumentException("auth token (--auth-token-file, $DSOGYM_AUTH_TOKEN or "
          + "--auth-token): expected at least " + MIN_AUTH_TOKEN_CHARS + " characters besides "
          + "surrounding whitespace, got " + authToken.strip().length());
    }
    Objects.requireNonNull(workerAutoresetMode, "workerAutoresetMode");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(limits, "limits");
    if (workerRequestTimeout == null || workerRequestTimeout.isNegative()
        || workerRequestTimeout.isZero()) {
      throw new IllegalArgumentException("workerRequestTimeout: expected a positive duration, "
          + "got " + workerRequestTimeout);
    }
    if (resumeGrace == null || resumeGrace.isNegative()) {
      throw new IllegalArgumentException("resumeGrace: expected a duration >= 0, got "
          + resumeGrace);
    }
  }

  public static ServerOptions defaults() {
    return new ServerOptions("", AutoresetMode.SAME_STEP, Duration.ofSeconds(60),
        EnvRegistry.defaults(), ServerLimits.defaults(), DEFAULT_RESUME_GRACE, null, false);
  }

  public ServerOptions withAuthToken(String token) {
    return new ServerOptions(token, workerAutoresetMode, workerRequestTimeout, registry,
        limits, resumeGrace, tls, allowPlaintext);
  }

  public ServerOptions withWorkerAutoresetMode(AutoresetMode mode) {
    return new ServerOptions(authToken, mode, workerRequestTimeout, registry, limits,
        resumeGrace, tls, allowPlaintext);
  }

  public ServerOptions withWorkerRequestTimeout(Duration timeout) {
    return new ServerOptions(authToken, workerAutoresetMode, timeout, registry, limits,
        resumeGrace, tls, allowPlaintext);
  }

  public ServerOptions withRegistry(EnvRegistry r) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, r, limits,
        resumeGrace, tls, allowPlaintext);
  }

  public ServerOptions withLimits(ServerLimits l) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry, l,
        resumeGrace, tls, allowPlaintext);
  }

  public ServerOptions withResumeGrace(Duration grace) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry,
        limits, grace, tls, allowPlaintext);
  }

  /** TLS for a TCP server ({@code null}: plaintext). */
  public ServerOptions withTls(ServerTls t) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry,
        limits, resumeGrace, t, allowPlaintext);
  }

  /** Whether a TCP server may bind beyond loopback without TLS. */
  public ServerOptions withAllowPlaintext(boolean allow) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry,
        limits, resumeGrace, tls, allow);
  }

  /** Whether {@code token} is the expected one (constant-time comparison). */
  boolean authorizes(String token) {
    if (authToken.isEmpty()) {
      return true;
    }
    return java.security.MessageDigest.isEqual(
        authToken.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        (token == null ? "" : token).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
