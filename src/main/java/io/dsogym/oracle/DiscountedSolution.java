package io.dsogym.oracle;

import io.dsogym.linalg.Vectors;
import io.dsogym.linalg.Shapes;
import org.apache.commons.math3.linear.DecompositionSolver;

/**
 * Exact discounted / first-exit quantities of a tabular chain at θ (docs/math.md §1a, §3a, §4a,
 * §4e, §4f). No transition leaves a terminal state, where V = L (the final cost).
 *
 * <ul>
 *   <li>V = (I - γP̃)⁻¹ L, P̃ = P with terminal rows zeroed (Bellman, Eq. 3);
 *   <li>ρ = (I - γP̃ᵀ)⁻¹ P0, the unnormalized discounted visitation (Eq. 4), and J = P0·V = ρ·L;
 *   <li>∇J = Σ_x ρ(x) g(x), g(x) = ∇L(x) + γ Σ_y P(y|x) ∇ln P(y|x) V(y) (Theorem 1);
 *   <li>∇V = (I - γP̃)⁻¹ g (the vector Bellman equation of §4f).
 * </ul>
 * Arrays are read-only.
 */
public final class DiscountedSolution {
  private final TabularChain chain;
  public final double gamma;
  public final double[] theta;
  public final boolean[] terminal;
  /** [x][y] = P(y|x,θ) as the chain gives it (terminal rows included but never used). */
  public final double[][] transition;
  public final double[] cost;
  /** [x][k] = ∇L(x). */
  public final double[][] costGradient;
  /** [x][y][k] = ∇ln P(y|x). */
  public final double[][][] score;
  public final double[] value;
  /** ρ(x), unnormalized: its mass is the expected discounted episode length. */
  public final double[] visitation;
  public final double objective;
  public final double[] gradient;
  /** [x][k] = g(x), the local term of Theorem 1. */
  public final double[][] localGradient;
  /** [x][k] = ∇θ V(x,θ). */
  public final double[][] valueGradient;

  DiscountedSolution(TabularChain chain, double gamma, double[] theta) {
    this.chain = chain;
    this.gamma = gamma;
    this.theta = theta.clone();
    this.terminal = chain.terminalMask();
    this.transition = chain.transitionMatrix(theta);
    this.cost = chain.costVector(theta);
    this.costGradient = chain.costGradients(theta);
    this.score = chain.scores(theta);
    DecompositionSolver solver = TabularExact.discountedSolver(gamma, transition, terminal);
    this.value = Lin.solve(solver, cost);
    this.visitation = Lin.solve(Lin.lu("I - γP̃ᵀ",
        Lin.transpose(Lin.identityMinus(gamma, transition, terminal))),
        chain.initialDistribution());
    this.objective = Vectors.dot(chain.initialDistribution(), value);
    this.localGradient = TabularExact.localGradient(gamma, transition, terminal, costGradient,
        score, value);
    this.gradient = Lin.weightedSum(visitation, localGradient);
    this.valueGradient = Lin.solve(solver, localGradient);
  }

  /**
   * The chain Fisher matrix F = E_{x~ρ} E_{x'~P}[∇ln P ∇ln Pᵀ] (docs/math.md §4e), over the
   * non-terminal states.
   */
  public double[][] chainFisher() {
    int k = theta.length;
    double[][] f = new double[k][k];
    forEachTransition((x, y, w) -> Lin.addOuter(f, w, score[x][y], score[x][y]));
    return f;
  }

  /**
   * The surrogate Hessian ∇²_α S(θ,α)|₀ = E_ρ[∇²L + γ E_P[(∇²ln P + ∇ln P ∇ln Pᵀ) V(x')]]
   * (docs/math.md §4f); needs the chain's {@code costHessians} and {@code scoreHessians}.
   */
  public double[][] surrogateHessian() {
    int k = theta.length;
    double[][] h = new double[k][k];
    double[][][] costHessians = chain.costHessians(theta);
    double[][][][] scoreHessians = chain.scoreHessians(theta);
    for (int x = 0; x < cost.length; x++) {
      Lin.addScaled(h, visitation[x], costHessians[x]);
    }
    forEachTransition((x, y, w) -> {
      double wv = gamma * w * value[y];
      Lin.addScaled(h, wv, scoreHessians[x][y]);
      Lin.addOuter(h, wv, score[x][y], score[x][y]);
    });
    return h;
  }

  /** C = γ E_{x~ρ} E_{x'~P}[∇ln P(x'|x) ∇V(x')ᵀ], with ∇²J = ∇²_αS + C + Cᵀ (docs/math.md §4f). */
  public double[][] correction() {
    int k = theta.length;
    double[][] c = new double[k][k];
    forEachTransition((x, y, w) -> Lin.addOuter(c, gamma * w, score[x][y], valueGradient[y]));
    return c;
  }

  /** ∇²J = ∇²_αS|₀ + C + Cᵀ (docs/math.md §4f), exact. */
  public double[][] hessian() {
    double[][] h = surrogateHessian();
    double[][] c = correction();
    for (int a = 0; a < h.length; a++) {
      for (int b = 0; b < h.length; b++) {
        h[a][b] += c[a][b] + c[b][a];
      }
    }
    return h;
  }

  /**
   * The normalized surrogate S̄(θ,α) = Σ_x ρ_θ(x)[L(x,θ') + γ Σ_y P(y|x,θ') V_θ(y) - V_θ(x)]
   * at θ' = θ + α (docs/math.md §4a): ρ and V frozen at θ; ≈ J(θ') - J(θ) to first order.
   */
  public double surrogateGain(double[] thetaPrime) {
    return advantageUnder(visitation, thetaPrime);
  }

  /**
   * J(θ') - J(θ) by the exact performance-difference identity of docs/math.md §4a: the same sum as
   * {@link #surrogateGain} but over ρ_θ'.
   */
  public double performanceDifference(double[] thetaPrime) {
    double[] rhoPrime = TabularExact.discounted(chain, gamma, thetaPrime).visitation;
    return advantageUnder(rhoPrime, thetaPrime);
  }

  private double advantageUnder(double[] rho, double[] thetaPrime) {
    Shapes.length("thetaPrime", thetaPrime, theta.length);
    double[][] p = chain.transitionMatrix(thetaPrime);
    double[] l = chain.costVector(thetaPrime);
    double s = 0;
    for (int x = 0; x < l.length; x++) {
      double a = l[x] - value[x];
      if (!terminal[x]) {
        a += gamma * Vectors.dot(p[x], value);
      }
      s += rho[x] * a;
    }
    return s;
  }

  private interface TransitionVisitor {
    void visit(int x, int y, double rhoTimesP);
  }

  /** Visits every transition x -> y of a non-terminal x with weight ρ(x) P(y|x). */
  private void forEachTransition(TransitionVisitor visitor) {
    for (int x = 0; x < cost.length; x++) {
      if (terminal[x]) {
        continue;
      }
      for (int y = 0; y < cost.length; y++) {
        double w = visitation[x] * transition[x][y];
        if (w != 0) {
          visitor.visit(x, y, w);
        }
      }
    }
  }
}
