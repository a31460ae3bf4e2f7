package io.dsogym.envs;

import java.security.SecureRandom;
import java.util.random.RandomGenerator;

/**
 * numpy's {@code Generator(PCG64(SeedSequence(seed)))}, the generator Gymnasium's
 * {@code utils.seeding.np_random(seed)} gives every env, reproduced bit for bit: a Java-native
 * env that draws its reset state from it starts where the Gymnasium env does for the same seed.
 *
 * <ul>
 *   <li><b>SeedSequence</b> (numpy/random/bit_generator.pyx, after O'Neill's seed_seq): the
 *       seed split into 32-bit words, lowest first, hashed into a pool of 4 words, from which
 *       {@code generate_state(4, uint64)} draws 8 more words.
 *   <li><b>PCG64</b> (numpy/random/src/pcg64): a 128-bit LCG seeded with those words (state
 *       from the first two 64-bit words, the increment from the last two, high word first),
 *       advanced before each output; the output is XSL-RR, the xor of the halves rotated right
 *       by the top 6 bits.
 *   <li><b>Generator</b>: {@code random()} is the top 53 bits of a 64-bit output times 2^-53,
 *       and {@code uniform(low, high)} is {@code low + (high - low) * random()}.
 * </ul>
 *
 * <p>Other draws ({@link #nextGaussian()} and the rest of {@link RandomGenerator}) use the same
 * stream through the JDK's algorithms, which differ from numpy's: only the draws above match.
 * Not thread-safe, as numpy's Generator is not.
 */
public final class NumpyRandom implements RandomGenerator {
  private static final int POOL_SIZE = 4;
  private static final int INIT_A = 0x43b0d7e5;
  private static final int MULT_A = 0x931e8875;
  private static final int INIT_B = 0x8b51f9dd;
  private static final int MULT_B = 0x58f38ded;
  private static final int MIX_MULT_L = 0xca01f9dd;
  private static final int MIX_MULT_R = 0x4973f715;
  /** PCG's default 128-bit multiplier, high and low halves. */
  private static final long MULT_HI = 2549297995355413924L;
  private static final long MULT_LO = 4865540595714422341L;

  private long stateHi;
  private long stateLo;
  private long incHi;
  private long incLo;

  private NumpyRandom(long[] words) {
    // pcg64_set_seed: inc = (initseq << 1) | 1, state = step(step(0) + initstate).
    incHi = (words[2] << 1) | (words[3] >>> 63);
    incLo = (words[3] << 1) | 1;
    stateHi = 0;
    stateLo = 0;
    step();
    long lo = stateLo + words[1];
    stateHi += words[0] + (Long.compareUnsigned(lo, stateLo) < 0 ? 1 : 0);
    stateLo = lo;
    step();
  }

  /**
   * Gymnasium's {@code np_random(seed)}. The seed is read as an unsigned 64-bit integer:
   * Gymnasium's seeds are the integers ≥ 0, and a negative long stands for seed + 2^64.
   */
  public static NumpyRandom seeded(long seed) {
    int lo = (int) seed;
    int hi = (int) (seed >>> 32);
    return fromEntropy(hi == 0 ? new int[] {lo} : new int[] {lo, hi});
  }

  /** A generator seeded, as {@code np_random(None)} is, with 128 bits from the OS. */
  public static NumpyRandom unseeded() {
    SecureRandom os = new SecureRandom();
    return fromEntropy(new int[] {os.nextInt(), os.nextInt(), os.nextInt(), os.nextInt()});
  }

  /** {@code PCG64(SeedSequence(entropy))} for entropy given as 32-bit words, lowest first. */
  static NumpyRandom fromEntropy(int[] entropy) {
    return new NumpyRandom(generateState64(seedSequencePool(entropy), POOL_SIZE));
  }

  /** SeedSequence's pool of 4 words: the entropy hashed in, then every word mixed with all. */
  static int[] seedSequencePool(int[] entropy) {
    int[] pool = new int[POOL_SIZE];
    int[] hashConst = {INIT_A};
    for (int i = 0; i < POOL_SIZE; i++) {
      pool[i] = hashmix(i < entropy.length ? entropy[i] : 0, hashConst);
    }
    for (int src = 0; src < POOL_SIZE; src++) {
      for (int dst = 0; dst < POOL_SIZE; dst++) {
        if (src != dst) {
          pool[dst] = mix(pool[dst], hashmix(pool[src], hashConst));
        }
      }
    }
    for (int src = POOL_SIZE; src < entropy.length; src++) {
      for (int dst = 0; dst < POOL_SIZE; dst++) {
        pool[dst] = mix(pool[dst], hashmix(entropy[src], hashConst));
      }
    }
    return pool;
  }

  /** SeedSequence.generate_state(n, uint64): 2n words from the pool, paired low word first. */
  static long[] generateState64(int[] pool, int n) {
    long[] out = new long[n];
    int hashConst = INIT_B;
    for (int i = 0; i < 2 * n; i++) {
      int v = pool[i % pool.length] ^ hashConst;
      hashConst *= MULT_B;
      v *= hashConst;
      v ^= v >>> 16;
      out[i / 2] |= (v & 0xffffffffL) << (32 * (i % 2));
    }
    return out;
  }

  private static int hashmix(int value, int[] hashConst) {
    value ^= hashConst[0];
    hashConst[0] *= MULT_A;
    value *= hashConst[0];
    return value ^ (value >>> 16);
  }

  private static int mix(int x, int y) {
    int r = MIX_MULT_L * x - MIX_MULT_R * y;
    return r ^ (r >>> 16);
  }

  /** state = state * MULT + inc (mod 2^128). */
  private void step() {
    long lo = stateLo * MULT_LO;
    long hi = unsignedMultiplyHigh(stateLo, MULT_LO) + stateLo * MULT_HI + stateHi * MULT_LO;
    long sumLo = lo + incLo;
    stateHi = hi + incHi + (Long.compareUnsigned(sumLo, lo) < 0 ? 1 : 0);
    stateLo = sumLo;
  }

  private static long unsignedMultiplyHigh(long a, long b) {
    return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
  }

  /** numpy's {@code next_uint64}: advance, then XSL-RR of the new state. */
  @Override
  public long nextLong() {
    step();
    return Long.rotateRight(stateHi ^ stateLo, (int) (stateHi >>> 58));
  }

  /** numpy's {@code Generator.random()}: 53 random bits in [0, 1). */
  @Override
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** numpy's {@code Generator.uniform(low, high)}. */
  public double uniform(double low, double high) {
    return low + (high - low) * nextDouble();
  }

  /** The PCG64 state as numpy reports it: {state high, state low, inc high, inc low}. */
  long[] state() {
    return new long[] {stateHi, stateLo, incHi, incLo};
  }
}
