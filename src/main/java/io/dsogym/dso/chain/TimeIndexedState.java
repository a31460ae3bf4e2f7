package io.dsogym.dso.chain;

/** A state of a finite-horizon chain (DSO.md §1c): the time index t and the tabular state x. */
public record TimeIndexedState(int t, int x) {}
