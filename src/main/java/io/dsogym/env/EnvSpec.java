package io.dsogym.env;

import java.util.Map;
import java.util.Objects;

/**
 * What a consumer needs to know about an env (gymnasium's EnvSpec plus the spaces of one
 * lane).
 *
 * @param maxEpisodeSteps the time limit after which an episode is truncated; 0 for none
 * @param rewardThreshold the return at which the task counts as solved, or null
 * @param metadata env metadata, values as JSON text
 * @param kwargsJson the keyword arguments the env was made with, as a JSON object
 */
public record EnvSpec(
    String id,
    Space observationSpace,
    Space actionSpace,
    int maxEpisodeSteps,
    Double rewardThreshold,
    Map<String, String> metadata,
    String kwargsJson) {
  public EnvSpec {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(observationSpace, "observationSpace");
    Objects.requireNonNull(actionSpace, "actionSpace");
    metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
    kwargsJson = kwargsJson == null || kwargsJson.isEmpty() ? "{}" : kwargsJson;
  }

  public EnvSpec(String id, Space observationSpace, Space actionSpace, int maxEpisodeSteps,
      Double rewardThreshold) {
    this(id, observationSpace, actionSpace, maxEpisodeSteps, rewardThreshold, Map.of(), "{}");
  }
}
