package io.dsogym.lmdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import org.junit.jupiter.api.Test;

/** The experiment's LMDPs: what their descriptions say, and a finite passive cost above J*. */
class LmdpProblemsTest {
  @Test
  void gridworld() {
    LmdpChain c = LmdpProblems.gridworld(8, 0.5).chain();
    assertEquals(64 - 6, c.numStates());  // the wall takes rows 0-5 of column 4
    int goal = 6;  // row 0: columns 0-3 are states 0-3, 5-7 are 4-6
    assertTrue(c.isTerminal(goal));
    assertEquals(1, countTerminal(c));
    assertEquals(0.0, c.stateCosts()[goal]);
    assertEquals(1.0, c.initialDistribution()[0]);
    // state 3 is (3,0): left and up are free, right is the wall, down is off the grid
    assertEquals(0.5, c.passive()[3][2]);
    assertEquals(0.5, c.passive()[3][3 + 7]);
    // one parameter per allowed move of a non-terminal cell
    int moves = 0;
    for (int x = 0; x < c.numStates(); x++) {
      moves += c.isTerminal(x) ? 0 : c.support(x).length;
    }
    assertEquals(moves, c.numParams());
    checkPassiveCostAboveOptimum(c);
  }

  @Test
  void gaussian() {
    LmdpChain c = LmdpProblems.gaussian(41, 2, 1, 0.1).chain();
    assertEquals(3, countTerminal(c));
    assertTrue(c.isTerminal(19) && c.isTerminal(20) && c.isTerminal(21));
    assertEquals(1.0, c.initialDistribution()[40]);
    assertEquals(1.0 + 0.1, c.stateCosts()[40], 1e-12);  // q(1) = 1² + 0.1
    assertEquals(0.25 + 0.1, c.stateCosts()[30], 1e-12);  // x = 0.5
    // cut at 3σ = 6 cells; symmetric inside the grid
    assertEquals(13, c.support(10).length);
    assertEquals(c.passive()[10][8], c.passive()[10][12], 1e-15);
    assertEquals(7, c.support(40).length);  // renormalized at the end
    checkPassiveCostAboveOptimum(c);
  }

  @Test
  void badSizesAreRefused() {
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LmdpProblems.gridworld(3, 1)).getMessage().contains("size"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LmdpProblems.gaussian(40, 2, 1, 0.1)).getMessage().contains("states"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LmdpProblems.gaussian(41, 2, 1, 0)).getMessage().contains("stepCost"));
  }

  private static int countTerminal(LmdpChain c) {
    int t = 0;
    for (int x = 0; x < c.numStates(); x++) {
      t += c.isTerminal(x) ? 1 : 0;
    }
    return t;
  }

  /** The passive chain reaches the terminal set (a finite J) and costs more than the optimum. */
  private static void checkPassiveCostAboveOptimum(LmdpChain c) {
    double j0 = TabularExact.discounted(c, 1.0, new double[c.numParams()]).objective;
    double[] v = LmdpExact.optimal(c).optimalValue;
    double jStar = 0;
    for (int x = 0; x < v.length; x++) {
      jStar += c.initialDistribution()[x] * v[x];
    }
    assertTrue(Double.isFinite(j0) && j0 > 2 * jStar && jStar > 0, "J0 " + j0 + ", J* " + jStar);
  }
}
