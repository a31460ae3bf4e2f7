package io.dsogym.dso;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LqrChain;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.SoftmaxTabularChain;
import io.dsogym.oracle.TimeIndexedSoftmaxChain;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;

/**
 * The oracle cases of src/test/resources/oracles/dso_oracles.json (written by
 * scripts/make_oracles.py), their chains, and array comparisons.
 */
final class Oracles {
  private Oracles() {}

  private static JsonObject cases;

  static synchronized JsonObject oracleCase(String name) {
    if (cases == null) {
      try (InputStream in = Oracles.class.getResourceAsStream("/oracles/dso_oracles.json")) {
        if (in == null) {
          throw new IllegalStateException("oracles/dso_oracles.json: expected on the test classpath");
        }
        cases = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
            .getAsJsonObject().getAsJsonObject("cases");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    JsonObject c = cases.getAsJsonObject(name);
    if (c == null) {
      throw new IllegalArgumentException("case: expected one of " + cases.keySet() + ", got " + name);
    }
    return c;
  }

  static double[] vec(JsonObject c, String field) {
    return vec(c.get(field));
  }

  static double[][] mat(JsonObject c, String field) {
    return mat(c.get(field));
  }

  static double[][][] t3(JsonObject c, String field) {
    return t3(c.get(field));
  }

  static double[][][][] t4(JsonObject c, String field) {
    JsonArray a = c.getAsJsonArray(field);
    double[][][][] out = new double[a.size()][][][];
    for (int i = 0; i < out.length; i++) {
      out[i] = t3(a.get(i));
    }
    return out;
  }

  static boolean[] mask(JsonObject c, String field) {
    JsonArray a = c.getAsJsonArray(field);
    boolean[] out = new boolean[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsBoolean();
    }
    return out;
  }

  private static double[] vec(JsonElement e) {
    JsonArray a = e.getAsJsonArray();
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsDouble();
    }
    return out;
  }

  private static double[][] mat(JsonElement e) {
    JsonArray a = e.getAsJsonArray();
    double[][] out = new double[a.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = vec(a.get(i));
    }
    return out;
  }

  private static double[][][] t3(JsonElement e) {
    JsonArray a = e.getAsJsonArray();
    double[][][] out = new double[a.size()][][];
    for (int i = 0; i < out.length; i++) {
      out[i] = mat(a.get(i));
    }
    return out;
  }

  // ---- chains of the cases ----

  static SoftmaxTabularChain softmaxChain(JsonObject c) {
    return new SoftmaxTabularChain(t3(c, "Phi"), vec(c, "c"), mat(c, "Psi"), mat(c, "M"),
        vec(c, "P0"));
  }

  static TimeIndexedSoftmaxChain finiteHorizonChain(JsonObject c) {
    return TimeIndexedSoftmaxChain.withSharedCostFeatures(vec(c, "P0"), t4(c, "Phi_t"),
        mat(c, "c_t"), mat(c, "Psi"));
  }

  static MarginalPolicyChain smdpChain(JsonObject c, ScoreRoute route) {
    return new MarginalPolicyChain(vec(c, "P0"), t3(c, "p_env"), t3(c, "policy_features"),
        mat(c, "cost"), route);
  }

  /** Start state 0 (the case's J is V(0)). */
  static LmdpChain lmdpChain(JsonObject c) {
    double[] start = new double[c.get("n").getAsInt()];
    start[0] = 1;
    return new LmdpChain(mat(c, "passive"), vec(c, "q"), t3(c, "features"),
        mask(c, "terminal"), start);
  }

  static LqrChain lqrChain(JsonObject c, ScoreRoute route) {
    return new LqrChain(mat(c, "A"), mat(c, "B"), mat(c, "Q"), mat(c, "R"), mat(c, "W"),
        mat(c, "X0"), route);
  }

  static double[] lqrTheta(JsonObject c) {
    return LqrChain.pack(mat(c, "K"), vec(c, "log_std"));
  }

  // ---- comparisons: |actual - expected| <= tol · max(1, |expected|) entrywise ----

  /** The largest |actual - expected| / max(1, |expected|) per tolerance since the last reset. */
  static final TreeMap<Double, Double> worstScaledError = new TreeMap<>();

  static void close(String field, double expected, double actual, double tol) {
    double bound = tol * Math.max(1, Math.abs(expected));
    worstScaledError.merge(tol, Math.abs(actual - expected) / Math.max(1, Math.abs(expected)),
        Math::max);
    assertTrue(Math.abs(actual - expected) <= bound, () -> field + ": expected " + expected
        + ", got " + actual + " (|diff| " + Math.abs(actual - expected) + " > " + bound + ")");
  }

  static void close(String field, double[] expected, double[] actual, double tol) {
    assertEquals(expected.length, actual.length, field + ": length");
    for (int i = 0; i < expected.length; i++) {
      close(field + "[" + i + "]", expected[i], actual[i], tol);
    }
  }

  static void close(String field, double[][] expected, double[][] actual, double tol) {
    assertEquals(expected.length, actual.length, field + ": rows");
    for (int i = 0; i < expected.length; i++) {
      close(field + "[" + i + "]", expected[i], actual[i], tol);
    }
  }

  static void close(String field, double[][][] expected, double[][][] actual, double tol) {
    assertEquals(expected.length, actual.length, field + ": first dimension");
    for (int i = 0; i < expected.length; i++) {
      close(field + "[" + i + "]", expected[i], actual[i], tol);
    }
  }

  static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
