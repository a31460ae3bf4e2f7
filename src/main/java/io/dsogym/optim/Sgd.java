package io.dsogym.optim;

/** Plain gradient descent: theta -= lr * grad. */
public final class Sgd implements Optimizer {
  private double lr;

  public Sgd(double lr) {
    this.lr = lr;
  }

  @Override
  public void step(double[] theta, double[] grad) {
    for (int i = 0; i < theta.length; i++) {
      theta[i] -= lr * grad[i];
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
}
