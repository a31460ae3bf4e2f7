package io.dsogym.experiment;

import java.util.List;
import java.util.function.Supplier;

/** The experiments {@code dsogym experiment} knows, in help order. */
public final class Experiments {
  private Experiments() {}

  private static final List<Supplier<Experiment>> ALL = List.of(LmdpExperiment::new,
      SysidExperiment::new, EstimatorExperiment::new, MechanismExperiment::new,
      CloningExperiment::new, TuningExperiment::new);

  /** A fresh instance of every experiment. */
  public static List<Experiment> all() {
    return ALL.stream().map(Supplier::get).toList();
  }

  public static List<String> names() {
    return all().stream().map(Experiment::name).toList();
  }

  /** The experiment called {@code name}. */
  public static Experiment named(String name) {
    for (Experiment e : all()) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    throw new IllegalArgumentException("NAME: expected one of " + names() + ", got '" + name
        + "'");
  }
}
