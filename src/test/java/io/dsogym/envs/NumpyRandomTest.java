package io.dsogym.envs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The generator against numpy's own outputs, committed as literals so that a failure points
 * at the generator rather than at an env. Reference: numpy 2.4.6 in /work/main/.venv:
 * <pre>
 * ss = np.random.SeedSequence(s); bg = np.random.PCG64(ss)
 * ss.pool; bg.state["state"]                      # pool, state and inc after seeding
 * np.random.PCG64(np.random.SeedSequence(s)).random_raw(2)
 * np.random.Generator(bg).random(3)
 * np.random.Generator(np.random.PCG64(np.random.SeedSequence(s))).uniform(-0.05, 0.05, 4)
 * </pre>
 * The end-to-end check against the real numpy and Gymnasium on many seeds is
 * {@code integration.GymnasiumSeedingTest}.
 */
class NumpyRandomTest {

  private record Reference(long seed, int[] pool, long[] state, long[] raw, double[] random,
      double[] uniform) {}

  private static final Reference[] REFERENCES = {
      new Reference(0L,
          new int[] {0xfe40eb07, 0x4f363a36, 0x4eb2009d, 0xc89a7aa7},
          new long[] {0x1aa1b5345996452dL, 0x09585eb7a69561e3L,
              0x418ddadb3af71a82L, 0x588133bc447873a9L},
          new long[] {0xa30febcfd9c2825fL, 0x4510bdf882d9d721L},
          new double[] {0.6369616873214543, 0.2697867137638703, 0.04097352393619469},
          new double[] {0.013696168732145436, -0.02302132862361297, -0.045902647606380534,
              -0.04834723644714709}),
      new Reference(1L,
          new int[] {0xa137e185, 0x0de2fab1, 0x950eae78, 0x54dd0a81},
          new long[] {0x9c5b484bfedb756cL, 0x2a6e7d6f320fbc7eL,
              0x922af2da2645f895L, 0xa19857b95740937bL},
          new long[] {0x8306bdf37922e4ffL, 0xf35196bbc152a866L},
          new double[] {0.5118216247002567, 0.9504636963259353, 0.14415961271963373},
          new double[] {0.0011821624700256717, 0.045046369632593536, -0.03558403872803663,
              0.04486494471372439}),
      new Reference(42L,
          new int[] {0x631d3606, 0x07ae90ae, 0x6fc4be28, 0x2ced5c75},
          new long[] {0xcea44f6798798f2aL, 0xacbc7c9d68860ac8L,
              0xfa505436c9a8416eL, 0x66caf2e28d25abffL},
          new long[] {0xc621fbcd16d92688L, 0x705a5661a791ffc1L},
          new double[] {0.7739560485559633, 0.4388784397520523, 0.8585979199113825},
          new double[] {0.027395604855596334, -0.006112156024794771, 0.03585979199113824,
              0.019736802905936393}),
      // 2**64 - 1: two entropy words; a negative long stands for seed + 2^64.
      new Reference(-1L,
          new int[] {0xfaf3ecf4, 0xfa0f8930, 0xe9f89a67, 0x0e23d1f9},
          new long[] {0xddc419442aebde79L, 0x4d8b0a3b048acdb0L,
              0x37762aacb3cc854fL, 0x4ed623c7d18951edL},
          new long[] {0xae163a7a8c47568fL, 0xd86659f5f3382359L},
          new double[] {0.6800266789616931, 0.8453117585624743, 0.007403081599260064},
          new double[] {0.018002667896169305, 0.03453117585624743, -0.049259691840074,
              0.039456812643914735}),
  };

  private static int[] entropy(long seed) {
    return (seed >>> 32) == 0 ? new int[] {(int) seed}
        : new int[] {(int) seed, (int) (seed >>> 32)};
  }

  @Test
  void seedSequencePoolMatchesNumpy() {
    for (Reference r : REFERENCES) {
      assertArrayEquals(r.pool(), NumpyRandom.seedSequencePool(entropy(r.seed())),
          "pool of seed " + Long.toUnsignedString(r.seed()));
    }
  }

  @Test
  void pcg64StateAfterSeedingMatchesNumpy() {
    for (Reference r : REFERENCES) {
      assertArrayEquals(r.state(), NumpyRandom.seeded(r.seed()).state(),
          "state and inc of seed " + Long.toUnsignedString(r.seed()));
    }
  }

  @Test
  void rawOutputsMatchNumpy() {
    for (Reference r : REFERENCES) {
      NumpyRandom rng = NumpyRandom.seeded(r.seed());
      for (int i = 0; i < r.raw().length; i++) {
        assertEquals(r.raw()[i], rng.nextLong(), "raw output " + i + " of seed "
            + Long.toUnsignedString(r.seed()));
      }
    }
  }

  @Test
  void randomAndUniformMatchNumpyBitForBit() {
    for (Reference r : REFERENCES) {
      NumpyRandom rng = NumpyRandom.seeded(r.seed());
      for (int i = 0; i < r.random().length; i++) {
        assertEquals(r.random()[i], rng.nextDouble(), 0.0, "random() " + i);
      }
      rng = NumpyRandom.seeded(r.seed());
      for (int i = 0; i < r.uniform().length; i++) {
        assertEquals(r.uniform()[i], rng.uniform(-0.05, 0.05), 0.0, "uniform " + i);
      }
    }
  }

  @Test
  void entropyBeyondThePoolIsMixedIn() {
    // SeedSequence([1, 2, 3, 4, 5]).pool: a fifth word takes the third mixing loop.
    assertArrayEquals(new int[] {0x1972e474, 0x97fbc94d, 0x60e1c8e9, 0xb35d9559},
        NumpyRandom.seedSequencePool(new int[] {1, 2, 3, 4, 5}));
  }
}
