package io.dsogym.oracle;

/** A state of a finite-horizon chain (docs/math.md §1c): the time index t and the tabular state x. */
public record TimeIndexedState(int t, int x) {}
