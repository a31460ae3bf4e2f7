package io.dsogym.envs;

import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;

import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.envs.control.Pendulum;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Env ids and the factories that make them (gymnasium's registry, for Java-native envs). */
public final class EnvRegistry {
  /** Makes one env from keyword arguments (JSON values: Number, String, Boolean, List, Map). */
  @FunctionalInterface
  public interface EnvFactory {
    Env make(Map<String, Object> kwargs);
  }

  /** Thrown for an env id that is not registered; maps to NOT_FOUND on the wire. */
  public static final class UnknownEnvException extends IllegalArgumentException {
    public UnknownEnvException(String message) {
      super(message);
    }
  }

  private final Map<String, EnvFactory> factories = new ConcurrentHashMap<>();
  private final Map<String, EnvSpec> specs = new ConcurrentHashMap<>();

  /** A registry holding every Java-native env. */
  public static EnvRegistry defaults() {
    EnvRegistry registry = new EnvRegistry();
    // Native envs register here (one line each).
    registry.register(CartPole.ID, CartPole::new);
    registry.register(Pendulum.ID, Pendulum::new);
    registry.register(LinearQuadraticRegulator.ID, LinearQuadraticRegulator::new);
    registry.register(TabularChainEnv.ID, TabularChainEnv::new);
    return registry;
  }

  public void register(String id, EnvFactory factory) {
    if (factories.putIfAbsent(id, factory) != null) {
      throw new IllegalArgumentException("env id: " + id + " is already registered");
    }
  }

  /** The registered ids, sorted. */
  public Set<String> ids() {
    return Collections.unmodifiableSet(new TreeMap<>(factories).keySet());
  }

  /**
   * Makes an env.
   *
   * @throws UnknownEnvException when the id is not registered
   * @throws IllegalArgumentException when the env rejects its kwargs
   */
  public Env make(String id, Map<String, Object> kwargs) {
    EnvFactory factory = factories.get(id);
    if (factory == null) {
      throw new UnknownEnvException("env_id: expected one of " + ids() + ", got '" + id + "'");
    }
    return factory.make(kwargs == null ? Map.of() : kwargs);
  }

  /** The spec of the env made with default kwargs. */
  public EnvSpec spec(String id) {
    return specs.computeIfAbsent(id, key -> {
      try (Env env = make(key, Map.of())) {
        return env.spec();
      }
    });
  }
}
