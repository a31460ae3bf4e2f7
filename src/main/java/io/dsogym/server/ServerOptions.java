package io.dsogym.server;

import io.dsogym.env.AutoresetMode;
import io.dsogym.envs.EnvRegistry;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link DsoGymServer}.
 *
 * @param authToken the token every hello must carry; "" accepts any hello (loopback only)
 * @param workerAutoresetMode the mode the server asks workers to run; SAME_STEP by default,
 *     since the DSO chain recorder wants every step to be a real transition
 * @param workerRequestTimeout how long a {@code RemoteVectorEnv} waits for a worker's reply
 *     (60 s by default)
 * @param registry the Java-native envs that sessions can make
 * @param limits the resource limits and flow-control settings ({@link ServerLimits#defaults})
 * @param resumeGrace how long a session whose stream broke is kept for its client to resume it
 *     from a new stream ({@code --resume-grace}, 30 s by default); zero: sessions close with
 *     their stream
 */
public record ServerOptions(String authToken, AutoresetMode workerAutoresetMode,
    Duration workerRequestTimeout, EnvRegistry registry, ServerLimits limits,
    Duration resumeGrace) {
  public static final Duration DEFAULT_RESUME_GRACE = Duration.ofSeconds(30);
  /** The largest message the server accepts (observations of big envs need more than 4 MiB). */
  public static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
  public ServerOptions {
    authToken = authToken == null ? "" : authToken;
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
        EnvRegistry.defaults(), ServerLimits.defaults(), DEFAULT_RESUME_GRACE);
  }

  public ServerOptions withAuthToken(String token) {
    return new ServerOptions(token, workerAutoresetMode, workerRequestTimeout, registry,
        limits, resumeGrace);
  }

  public ServerOptions withWorkerAutoresetMode(AutoresetMode mode) {
    return new ServerOptions(authToken, mode, workerRequestTimeout, registry, limits,
        resumeGrace);
  }

  public ServerOptions withWorkerRequestTimeout(Duration timeout) {
    return new ServerOptions(authToken, workerAutoresetMode, timeout, registry, limits,
        resumeGrace);
  }

  public ServerOptions withRegistry(EnvRegistry r) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, r, limits,
        resumeGrace);
  }

  public ServerOptions withLimits(ServerLimits l) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry, l,
        resumeGrace);
  }

  public ServerOptions withResumeGrace(Duration grace) {
    return new ServerOptions(authToken, workerAutoresetMode, workerRequestTimeout, registry,
        limits, grace);
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
