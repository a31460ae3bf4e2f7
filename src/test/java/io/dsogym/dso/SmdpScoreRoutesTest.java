package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.Oracles.mat;
import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.t3;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.TabularExact;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The two ways of docs/math.md §2c to score a policy-plus-environment chain, on the oracle S-MDP:
 * route 1 (the exact marginal score) and route 2 (the sampled action's policy score).
 */
class SmdpScoreRoutesTest {
  @Test
  @DisplayName("E[∇ln π(a|x) | x, y] = ∇ln P(y|x) exactly: the posterior average of the policy score is the chain score")
  void posteriorAveragedPolicyScoreIsChainScore() {
    JsonObject c = oracleCase("smdp6x3_discounted");
    double[] theta = vec(c, "theta");
    double[][] pi = mat(c, "pi");
    double[][][] env = t3(c, "p_env");
    double[][][] scorePolicy = t3(c, "score_policy");
    MarginalPolicyChain mdp = Oracles.smdpChain(c, ScoreRoute.EXACT_MARGINAL);
    double[][][] chainScores = mdp.scores(theta);
    int n = pi.length;
    int m = pi[0].length;
    int k = theta.length;
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        // Bayes, from the oracle's π and p: π(a|x,y) ∝ π(a|x) p(y|x,a)
        double[] posteriorMean = new double[k];
        double marginal = 0;
        for (int a = 0; a < m; a++) {
          marginal += pi[x][a] * env[x][a][y];
        }
        for (int a = 0; a < m; a++) {
          for (int j = 0; j < k; j++) {
            posteriorMean[j] += pi[x][a] * env[x][a][y] / marginal * scorePolicy[x][a][j];
          }
        }
        double[] perSample = new double[k];
        mdp.score(x, y, null, theta, 1.0, perSample);
        String at = "[" + x + "][" + y + "]";
        close("E[score_policy | x,y] vs oracle score_chain" + at, t3(c, "score_chain")[x][y],
            posteriorMean, 1e-12);
        close("E[score_policy | x,y] vs route-1 matrix view" + at, posteriorMean,
            chainScores[x][y], 1e-12);
        close("E[score_policy | x,y] vs route-1 per-sample score" + at, posteriorMean,
            perSample, 1e-12);
      }
    }
  }

  @Test
  @DisplayName("Algorithm 1 with route 1 and route 2 on the same rollouts: both unbiased, route 1 has the lower variance; E[route 2 | x,y] = route 1 per transition bin")
  void bothRoutesUnbiasedRouteOneLowerVariance() {
    JsonObject c = oracleCase("smdp6x3_discounted");
    double gamma = c.get("gamma").getAsDouble();
    double[] theta = vec(c, "theta");
    MarginalPolicyChain route1 = Oracles.smdpChain(c, ScoreRoute.EXACT_MARGINAL);
    MarginalPolicyChain route2 = route1.withScoreRoute(ScoreRoute.SAMPLED_ACTION);
    DiscountedSolution exact = TabularExact.discounted(route1, gamma, theta);
    Algorithm1.Options o = Algorithm1.Options.discounted(gamma);
    // γ^200 = 0.9^200 = 7e-10: the cut's neglected tail is ~1e-8 against SEs of ~1e-2
    ChainRollouts<Integer> batch = ChainRollouts.episodes(route2, theta, 2000, 200,
        new SplittableRandom(20260105L));

    McStats r1 = McStats.of(McStats.algorithm1(batch, route1, theta, x -> exact.value[x], o));
    McStats r2 = McStats.of(McStats.algorithm1(batch, route2, theta, x -> exact.value[x], o));
    McStats r1none = McStats.of(McStats.algorithm1(batch, route1, theta, x -> 0.0, o));
    McStats r2none = McStats.of(McStats.algorithm1(batch, route2, theta, x -> 0.0, o));
    MonteCarloAlgorithm1Test.report("smdp6x3 route 1 (exact marginal score), V̂=V", r1,
        exact.gradient);
    MonteCarloAlgorithm1Test.report("smdp6x3 route 2 (sampled-action score), V̂=V", r2,
        exact.gradient);
    MonteCarloAlgorithm1Test.report("smdp6x3 route 1, V̂≡0", r1none, exact.gradient);
    MonteCarloAlgorithm1Test.report("smdp6x3 route 2, V̂≡0", r2none, exact.gradient);
    MonteCarloAlgorithm1Test.reportRatio("smdp6x3 V̂=V", "route 2", r2, "route 1", r1);
    MonteCarloAlgorithm1Test.reportRatio("smdp6x3 V̂≡0", "route 2", r2none, "route 1", r1none);
    MonteCarloAlgorithm1Test.reportRatio("smdp6x3 route 1", "V̂≡0", r1none, "V̂=V", r1);
    MonteCarloAlgorithm1Test.reportRatio("smdp6x3 route 2", "V̂≡0", r2none, "V̂=V", r2);
    for (McStats s : new McStats[] {r1, r2, r1none, r2none}) {
      MonteCarloAlgorithm1Test.assertWithinSe(s, exact.gradient);
    }
    assertTrue(r1.perRolloutVariance < r2.perRolloutVariance,
        "route 1 variance: expected below route 2's " + r2.perRolloutVariance + ", got "
            + r1.perRolloutVariance);
    assertTrue(r1.perRolloutVariance < r1none.perRolloutVariance,
        "route 1 variance with V̂ = V: expected below V̂ ≡ 0's " + r1none.perRolloutVariance
            + ", got " + r1.perRolloutVariance);

    // per (x, y) bin, the mean of route 2's score minus route 1's is 0 within 4.5 SE
    int n = route1.numStates();
    int k = theta.length;
    double[][][] sum = new double[n][n][k];
    double[][][] sumSq = new double[n][n][k];
    int[][] count = new int[n][n];
    for (int i = 0; i < batch.batch.size(); i++) {
      Integer x = batch.state(i);
      Integer y = batch.nextState(i);
      double[] diff = new double[k];
      route2.score(x, y, batch.latent(i), theta, 1.0, diff);
      route1.score(x, y, batch.latent(i), theta, -1.0, diff);
      count[x][y]++;
      for (int j = 0; j < k; j++) {
        sum[x][y][j] += diff[j];
        sumSq[x][y][j] += diff[j] * diff[j];
      }
    }
    double worstZ = 0;
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        if (count[x][y] < 30) {
          continue;
        }
        for (int j = 0; j < k; j++) {
          double mean = sum[x][y][j] / count[x][y];
          double var = (sumSq[x][y][j] - count[x][y] * mean * mean) / (count[x][y] - 1);
          if (var > 0) {
            worstZ = Math.max(worstZ, Math.abs(mean) / Math.sqrt(var / count[x][y]));
          }
        }
      }
    }
    System.out.printf("[dso-mc] smdp6x3: E[route 2 - route 1 | x,y] over %d transitions, worst"
        + " |z| over bins = %.2f%n", batch.batch.size(), worstZ);
    assertTrue(worstZ < 4.5, "E[route 2 - route 1 | x, y]: expected 0 within 4.5 SE in every"
        + " bin, got worst |z| " + worstZ);
  }
}
