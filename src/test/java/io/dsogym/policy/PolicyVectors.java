package io.dsogym.policy;

import io.dsogym.wire.Json;
import io.dsogym.wire.PolicyCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes test vectors of the Java policy function for the Python worker's numpy mirror
 * (python-client/tests/test_policy.py runs this with the jar and the test classes on the
 * class path): per case the spec, theta, the normalizer's statistics, raw observations x, the
 * normalized z, {@link Policy#distributionParams} at z, sampled actions and their ln pi, and
 * the same policy as the server sends it to a worker (PolicyParams bytes, base64).
 *
 * <pre>java -cp target/dsogym.jar:target/test-classes io.dsogym.policy.PolicyVectors OUT.json</pre>
 */
public final class PolicyVectors {
  private PolicyVectors() {}

  /** The engine's policy (theta is drawn here, so the initial log-std does not matter). */
  static Policy policyFor(PolicySpec spec) {
    return new MlpPolicy(spec, 0.0);
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: PolicyVectors OUT.json");
      System.exit(2);
    }
    List<Map<String, Object>> cases = new ArrayList<>();
    SplittableRandom rng = new SplittableRandom(20261126);
    // linear, clipping active (inputs up to 3 sigma against clip 2)
    cases.add(vectors("linear-categorical-normalized", new PolicySpec(PolicySpec.Head.CATEGORICAL,
        4, List.of(), PolicySpec.Activation.TANH, 2), true, 2.0, rng));
    cases.add(vectors("mlp-categorical-tanh-raw", new PolicySpec(PolicySpec.Head.CATEGORICAL, 6,
        List.of(8, 5), PolicySpec.Activation.TANH, 3), false, 0, rng));
    cases.add(vectors("mlp-gaussian-tanh-64x64", new PolicySpec(PolicySpec.Head.GAUSSIAN, 17,
        List.of(64, 64), PolicySpec.Activation.TANH, 6), true, 10.0, rng));
    cases.add(vectors("mlp-gaussian-relu-heavy-clip", new PolicySpec(PolicySpec.Head.GAUSSIAN, 3,
        List.of(7), PolicySpec.Activation.RELU, 1), true, 0.5, rng));
    cases.add(vectors("linear-gaussian-raw", new PolicySpec(PolicySpec.Head.GAUSSIAN, 5,
        List.of(), PolicySpec.Activation.TANH, 2), false, 0, rng));
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("policy_class", policyFor(new PolicySpec(PolicySpec.Head.CATEGORICAL, 1, List.of(),
        PolicySpec.Activation.TANH, 2)).getClass().getName());
    doc.put("cases", cases);
    Path out = Path.of(args[0]);
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    // through the library's own JSON: the runnable jar carries gson relocated, not as com.google.gson
    Files.writeString(out, Json.toJson(doc));
  }

  private static Map<String, Object> vectors(String name, PolicySpec spec, boolean normalize,
      double clip, SplittableRandom rng) {
    Policy policy = policyFor(spec);
    int d = spec.obsDim();
    double[] theta = new double[spec.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = 0.5 * rng.nextGaussian();
    }
    ObservationNormalizer norm = new ObservationNormalizer(d, normalize, normalize ? clip : 5.0);
    double[] mean = new double[d];
    double[] var = new double[d];
    for (int j = 0; j < d; j++) {
      mean[j] = rng.nextGaussian();
      var[j] = j == 0 ? 0.0 : Math.exp(rng.nextGaussian());  // var 0: the EPS path
    }
    norm.set(mean, var, 100);
    int rows = 7;
    List<double[]> xs = new ArrayList<>();
    List<double[]> zs = new ArrayList<>();
    List<double[]> params = new ArrayList<>();
    List<double[]> actions = new ArrayList<>();
    List<Double> logProbs = new ArrayList<>();
    int paramCount = spec.head() == PolicySpec.Head.CATEGORICAL ? spec.outputs()
        : 2 * spec.outputs();
    for (int r = 0; r < rows; r++) {
      double[] x = new double[d];
      for (int j = 0; j < d; j++) {
        x[j] = mean[j] + 3 * Math.sqrt(var[j] + 1e-4) * rng.nextGaussian();
      }
      double[] z = new double[d];
      norm.normalize(x, 0, z, 0);
      double[] p = new double[paramCount];
      policy.distributionParams(theta, z, 0, p);
      double[] a = new double[spec.actionDim()];
      logProbs.add(policy.sample(theta, z, 0, rng, a, 0));
      xs.add(x);
      zs.add(z);
      params.add(p);
      actions.add(a);
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("name", name);
    c.put("head", spec.head().name().toLowerCase());
    c.put("obs_dim", d);
    c.put("hidden", spec.hidden());
    c.put("activation", spec.activation().name().toLowerCase());
    c.put("outputs", spec.outputs());
    c.put("theta", theta);
    Map<String, Object> n = new LinkedHashMap<>();
    n.put("enabled", normalize);
    n.put("mean", mean);
    n.put("var", var);
    n.put("clip", norm.clip());
    c.put("normalizer", n);
    c.put("x", xs);
    c.put("z", zs);
    c.put("params", params);
    c.put("actions", actions);
    c.put("log_prob", logProbs);
    c.put("policy_params_base64", Base64.getEncoder().encodeToString(
        PolicyCodec.encode(spec, theta, norm, 7).toByteArray()));
    return c;
  }
}
