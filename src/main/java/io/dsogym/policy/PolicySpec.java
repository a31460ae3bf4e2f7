package io.dsogym.policy;

import java.util.List;

/**
 * Everything needed to rebuild a policy's function from its flat theta, in Java or in the
 * Python worker's numpy sampler (worker-side inference).
 *
 * <p>Theta layout (shared with {@code dsogym.policy} in Python): for each layer l of the MLP
 * with sizes [obsDim, hidden..., outputs], the weights W_l row-major [out_l x in_l] followed by
 * the biases b_l [out_l]; a Gaussian head then appends logStd [actionDim] (state-independent).
 * A linear policy is an MLP with no hidden layer. Hidden layers apply {@code activation}; the
 * output layer is linear.
 *
 * @param head CATEGORICAL (softmax over {@code outputs} logits) or GAUSSIAN (diagonal, means)
 * @param obsDim flat observation size
 * @param hidden hidden layer sizes, empty for a linear policy
 * @param activation the hidden layers' nonlinearity
 * @param outputs logits (categorical) or action dimensions (Gaussian)
 */
public record PolicySpec(Head head, int obsDim, List<Integer> hidden, Activation activation,
    int outputs) {
  public enum Head { CATEGORICAL, GAUSSIAN }

  public enum Activation { TANH, RELU }

  public PolicySpec {
    hidden = List.copyOf(hidden);
    if (obsDim <= 0 || outputs <= 0 || hidden.stream().anyMatch(h -> h <= 0)) {
      throw new IllegalArgumentException("policy sizes: expected positive sizes, got obsDim="
          + obsDim + " hidden=" + hidden + " outputs=" + outputs);
    }
  }

  /** Layer sizes [obsDim, hidden..., outputs]. */
  public int[] layerSizes() {
    int[] sizes = new int[hidden.size() + 2];
    sizes[0] = obsDim;
    for (int i = 0; i < hidden.size(); i++) {
      sizes[i + 1] = hidden.get(i);
    }
    sizes[sizes.length - 1] = outputs;
    return sizes;
  }

  /** Parameters of the MLP alone (weights and biases of every layer). */
  public int netParams() {
    int[] s = layerSizes();
    int n = 0;
    for (int l = 0; l + 1 < s.length; l++) {
      n += s[l + 1] * s[l] + s[l + 1];
    }
    return n;
  }

  public int numParams() {
    return netParams() + (head == Head.GAUSSIAN ? outputs : 0);
  }

  /** Doubles per action: 1 (the index) for categorical, outputs for Gaussian. */
  public int actionDim() {
    return head == Head.CATEGORICAL ? 1 : outputs;
  }
}
