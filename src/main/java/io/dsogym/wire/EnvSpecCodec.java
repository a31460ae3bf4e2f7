package io.dsogym.wire;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;

/** {@link EnvSpec} <-> wire {@code dsogym.v1.EnvSpec}, and the autoreset mode enum. */
public final class EnvSpecCodec {
  private EnvSpecCodec() {}

  public static io.dsogym.wire.v1.EnvSpec encode(EnvSpec spec) {
    io.dsogym.wire.v1.EnvSpec.Builder b = io.dsogym.wire.v1.EnvSpec.newBuilder()
        .setId(spec.id())
        .setObservationSpace(SpaceCodec.encode(spec.observationSpace()))
        .setActionSpace(SpaceCodec.encode(spec.actionSpace()))
        .setMaxEpisodeSteps(spec.maxEpisodeSteps())
        .putAllMetadata(spec.metadata())
        .setKwargsJson(spec.kwargsJson());
    if (spec.rewardThreshold() != null) {
      b.setHasRewardThreshold(true).setRewardThreshold(spec.rewardThreshold());
    }
    return b.build();
  }

  /**
   * Decodes and validates a spec.
   *
   * @param field the wire field, named in errors (e.g. "hello.env")
   */
  public static EnvSpec decode(io.dsogym.wire.v1.EnvSpec spec, String field) {
    if (spec.getId().isEmpty()) {
      throw new IllegalArgumentException(field + ".id: expected an env id, got ''");
    }
    if (!spec.hasObservationSpace()) {
      throw new IllegalArgumentException(field + ".observation_space: expected a space, got none");
    }
    if (!spec.hasActionSpace()) {
      throw new IllegalArgumentException(field + ".action_space: expected a space, got none");
    }
    Space obs = SpaceCodec.decode(spec.getObservationSpace(), field + ".observation_space");
    Space act = SpaceCodec.decode(spec.getActionSpace(), field + ".action_space");
    long steps = spec.getMaxEpisodeSteps();
    if (steps < 0 || steps > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(field + ".max_episode_steps: expected a value in [0, "
          + Integer.MAX_VALUE + "], got " + steps);
    }
    Double threshold = spec.getHasRewardThreshold() ? spec.getRewardThreshold() : null;
    // Parse to reject garbage early; the spec keeps the text as sent.
    Json.parseObject(spec.getKwargsJson(), field + ".kwargs_json");
    return new EnvSpec(spec.getId(), obs, act, (int) steps, threshold, spec.getMetadataMap(),
        spec.getKwargsJson());
  }

  public static io.dsogym.wire.v1.AutoresetMode encode(AutoresetMode mode) {
    return switch (mode) {
      case NEXT_STEP -> io.dsogym.wire.v1.AutoresetMode.NEXT_STEP;
      case SAME_STEP -> io.dsogym.wire.v1.AutoresetMode.SAME_STEP;
      case DISABLED -> io.dsogym.wire.v1.AutoresetMode.DISABLED;
    };
  }

  /**
   * The domain mode, or {@code ifUnspecified} for AUTORESET_MODE_UNSPECIFIED.
   *
   * @throws IllegalArgumentException for an unknown enum number
   */
  public static AutoresetMode decode(io.dsogym.wire.v1.AutoresetMode mode,
      AutoresetMode ifUnspecified, String field) {
    switch (mode) {
      case NEXT_STEP: return AutoresetMode.NEXT_STEP;
      case SAME_STEP: return AutoresetMode.SAME_STEP;
      case DISABLED: return AutoresetMode.DISABLED;
      case AUTORESET_MODE_UNSPECIFIED: return ifUnspecified;
      default:
        throw new IllegalArgumentException(field + ": expected NEXT_STEP, SAME_STEP or DISABLED,"
            + " got an unknown mode number");
    }
  }
}
