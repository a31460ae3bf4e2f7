package io.dsogym.optim;

/**
 * Adam (Kingma and Ba, 2015) minimizing, with bias-corrected moments. Its whole state (m, v,
 * step count) can be read and restored, so a checkpoint resumes the exact optimizer.
 */
public final class Adam implements Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private double lr;
  private double[] m = new double[0];
  private double[] v = new double[0];
  private long steps;

  public Adam(double lr) {
    this(lr, 0.9, 0.999, 1e-8);
  }

  public Adam(double lr, double beta1, double beta2, double eps) {
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
  }

  @Override
  public void step(double[] theta, double[] grad) {
    if (m.length != theta.length) {
      if (steps != 0) {
        throw new IllegalArgumentException("theta: expected " + m.length + " parameters (the "
            + "optimizer's state), got " + theta.length);
      }
      m = new double[theta.length];
      v = new double[theta.length];
    }
    steps++;
    double c1 = 1 - Math.pow(beta1, steps);
    double c2 = 1 - Math.pow(beta2, steps);
    for (int i = 0; i < theta.length; i++) {
      double g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      theta[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
    }
  }

  @Override
  public double learningRate() {
    return lr;
  }

  @Override
  public void setLearningRate(double lr) {
    this.lr = lr;
  }

  public double[] m() {
    return m.clone();
  }

  public double[] v() {
    return v.clone();
  }

  public long steps() {
    return steps;
  }

  /** Restores a saved state (empty arrays and 0 steps: a fresh optimizer). */
  public void restore(double[] savedM, double[] savedV, long savedSteps) {
    if (savedM.length != savedV.length) {
      throw new IllegalArgumentException("adam state: expected m and v of one length, got "
          + savedM.length + " and " + savedV.length);
    }
    m = savedM.clone();
    v = savedV.clone();
    steps = savedSteps;
  }
}
