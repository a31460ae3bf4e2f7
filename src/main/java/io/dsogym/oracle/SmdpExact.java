package io.dsogym.oracle;

import io.dsogym.linalg.Vectors;

/**
 * Exact quantities of a standard MDP marginalized into a chain (docs/math.md §2a-§2c, §4e): the
 * marginal chain's V, ρ and J (via {@link TabularExact#discounted}), Q(x,a) = ℓ(x,a) +
 * γ Σ_y p(y|x,a) V(y), the policy-gradient form of ∇J, the chain score as the
 * posterior-averaged policy score, and the chain and policy Fisher matrices.
 */
public final class SmdpExact {
  private SmdpExact() {}

  /** Exact S-MDP quantities. Arrays are read-only. */
  public static final class Solution {
    /** Theorem 1 on the marginal chain (its score is the exact marginal score, route 1). */
    public final DiscountedSolution chain;
    /** [x][a] = π(a|x,θ). */
    public final double[][] policy;
    /** [x][a][k] = ∇ln π(a|x,θ). */
    public final double[][][] policyScore;
    /** [x][a] = Q(x,a). */
    public final double[][] actionValue;
    /** [x][y][k] = Σ_a π(a|x,y) ∇ln π(a|x) = E[policy score | x, y] (docs/math.md §2c). */
    public final double[][][] chainScore;
    /** ∇J = E_ρ E_π[∇ln π Q] (docs/math.md §2c: the policy-gradient theorem). */
    public final double[] policyGradient;
    /** F_chain = E_ρ E_P[∇ln P ∇ln Pᵀ]. */
    public final double[][] fisherChain;
    /** F_policy = E_ρ E_π[∇ln π ∇ln πᵀ] ⪰ F_chain (docs/math.md §4e). */
    public final double[][] fisherPolicy;

    private Solution(DiscountedSolution chain, double[][] policy, double[][][] policyScore,
        double[][] actionValue, double[][][] chainScore, double[] policyGradient,
        double[][] fisherChain, double[][] fisherPolicy) {
      this.chain = chain;
      this.policy = policy;
      this.policyScore = policyScore;
      this.actionValue = actionValue;
      this.chainScore = chainScore;
      this.policyGradient = policyGradient;
      this.fisherChain = fisherChain;
      this.fisherPolicy = fisherPolicy;
    }
  }

  public static Solution solve(MarginalPolicyChain mdp, double gamma, double[] theta) {
    DiscountedSolution chain = TabularExact.discounted(mdp, gamma, theta);
    int n = mdp.numStates();
    int m = mdp.numActions();
    int k = mdp.numParams();
    double[][][] env = mdp.environment();
    double[][] ell = mdp.actionCosts();
    double[][] pi = new double[n][];
    double[][][] policyScore = mdp.policyScores(theta);
    double[][] q = new double[n][m];
    double[] grad = new double[k];
    double[][] fisherPolicy = new double[k][k];
    for (int x = 0; x < n; x++) {
      pi[x] = mdp.policy(x, theta);
      for (int a = 0; a < m; a++) {
        q[x][a] = ell[x][a] + gamma * Vectors.dot(env[x][a], chain.value);
        double w = chain.visitation[x] * pi[x][a];
        for (int i = 0; i < k; i++) {
          grad[i] += w * policyScore[x][a][i] * q[x][a];
        }
        Lin.addOuter(fisherPolicy, w, policyScore[x][a], policyScore[x][a]);
      }
    }
    // the matrix view's score is the posterior average of the policy score (route 1)
    return new Solution(chain, pi, policyScore, q, chain.score, grad, chain.chainFisher(),
        fisherPolicy);
  }
}
