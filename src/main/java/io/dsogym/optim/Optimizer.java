package io.dsogym.optim;

/** A first-order optimizer that MINIMIZES: theta moves against grad. */
public interface Optimizer {
  void step(double[] theta, double[] grad);

  double learningRate();

  void setLearningRate(double lr);
}
