package io.dsogym.env;

/**
 * A value of a {@link Space}: a {@link Tensor} at the leaves, {@link DictValue} and
 * {@link TupleValue} above them. A batched value over N lanes keeps the structure and adds a
 * leading dimension N to every leaf (gymnasium.vector.utils.batch_space).
 */
public sealed interface Value permits Tensor, DictValue, TupleValue {}
