package io.dsogym.envs;

import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;

import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.envs.control.Pendulum;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

    /**
     * {@code count} lanes from the same kwargs (a vector env's). By default {@code count}
     * {@link #make} calls; a factory whose lanes can share immutable data (the parsed and
     * factorized matrices of the LQR) overrides it to build that data once.
     */
    default List<Env> makeLanes(Map<String, Object> kwargs, int count) {
      List<Env> lanes = new ArrayList<>(count);
      try {
        for (int i = 0; i < count; i++) {
          lanes.add(make(kwargs));
        }
      } catch (RuntimeException | Error e) {
        lanes.forEach(Env::close);
        throw e;
      }
      return lanes;
    }
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
    registry.register(LinearQuadraticRegulator.ID, new EnvFactory() {
      @Override
      public Env make(Map<String, Object> kwargs) {
        return new LinearQuadraticRegulator(kwargs);
      }

      @Override
      public List<Env> makeLanes(Map<String, Object> kwargs, int count) {
        return LinearQuadraticRegulator.makeLanes(kwargs, count);  // one model, shared
      }
    });
    registry.register(TabularChainEnv.ID, new EnvFactory() {
      @Override
      public Env make(Map<String, Object> kwargs) {
        return new TabularChainEnv(kwargs);
      }

      @Override
      public List<Env> makeLanes(Map<String, Object> kwargs, int count) {
        return TabularChainEnv.makeLanes(kwargs, count);  // one set of tables, shared
      }
    });
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

  /**
   * Makes {@code count} lanes of one env from the same kwargs, sharing what the env can share
   * between them (see {@link EnvFactory#makeLanes}).
   *
   * @throws UnknownEnvException when the id is not registered
   * @throws IllegalArgumentException when the env rejects its kwargs or count is below 1
   */
  public List<Env> makeLanes(String id, Map<String, Object> kwargs, int count) {
    if (count < 1) {
      throw new IllegalArgumentException("count: expected >= 1, got " + count);
    }
    EnvFactory factory = factories.get(id);
    if (factory == null) {
      throw new UnknownEnvException("env_id: expected one of " + ids() + ", got '" + id + "'");
    }
    return factory.makeLanes(kwargs == null ? Map.of() : kwargs, count);
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
