package dev.atmsae.core;

/**
 * Counter-based Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
 * Every random number atmsae draws is a pure function of (key, counter), so results do not depend on thread count,
 * on the engine (cuda/philox.cuh implements the same bits) or on whether a run was resumed.
 *
 * <p>Streams used by atmsae:
 * <ul>
 *   <li>ATM masks ({@link #maskUniform}): key = (seed low 32, seed high 32), counter = (latent ≫ 2, token, step low 32,
 *       step high 32), word = latent &amp; 3, u = (word ≫ 8)·2⁻²⁴. Latent i of token b is masked iff u &lt; p_i.</li>
 *   <li>Everything else ({@link #uniform}, {@link #gaussian}): key = (seed low, seed high ^ (0x5EED0000 | stream)),
 *       counter = (index low, index high, 0, 0xFFFFFFFF) — disjoint from mask counters because steps stay below 2⁶³.</li>
 * </ul>
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final float INV_2_24 = 1.0f / (1 << 24);

    /** Named streams for {@link #uniform}/{@link #gaussian}; add new ones at the end, never renumber. */
    public static final int STREAM_INIT_DECODER = 1;
    public static final int STREAM_SHUFFLE = 2;
    public static final int STREAM_TIES = 3;
    public static final int STREAM_SYNTH = 4;
    public static final int STREAM_SPLIT = 5;
    public static final int STREAM_PROBE = 6;

    private Philox() {
    }

    /**
     * The ten-round Philox-4x32 block function: writes the 4 words to {@code out} in one pass (the dense ATM mask's
     * scalar path calls it once per 4 latents of every active token, so it must not run the rounds four times).
     */
    public static void block(int k0, int k1, int c0, int c1, int c2, int c3, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /** One word of the block (word in 0..3), allocation-free. */
    public static int word(int k0, int k1, int c0, int c1, int c2, int c3, int word) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return switch (word) {
            case 0 -> c0;
            case 1 -> c1;
            case 2 -> c2;
            default -> c3;
        };
    }

    /** Converts a 32-bit word to a float in [0, 1) with 24 random bits (exact in float32 on every engine). */
    public static float toUnitFloat(int w) {
        return (w >>> 8) * INV_2_24;
    }

    /** The ATM mask uniform for (seed, step, token, latent); see the class comment. */
    public static float maskUniform(long seed, long step, long token, int latent) {
        int w = word((int) seed, (int) (seed >>> 32), latent >>> 2, (int) token, (int) step, (int) (step >>> 32),
                latent & 3);
        return toUnitFloat(w);
    }

    /** A uniform double in [0, 1) with 53 random bits from stream {@code stream} at position {@code index}. */
    public static double uniform(long seed, int stream, long index) {
        int[] out = new int[4];
        block((int) seed, (int) (seed >>> 32) ^ (0x5EED0000 | stream), (int) index, (int) (index >>> 32), 0, 0xFFFFFFFF, out);
        long bits = ((out[0] & 0xFFFFFFFFL) << 21) ^ (out[1] & 0xFFFFFFFFL);
        return (bits & ((1L << 53) - 1)) * 0x1.0p-53;
    }

    /** A standard normal from stream {@code stream} at position {@code index} (Box–Muller on one Philox block). */
    public static double gaussian(long seed, int stream, long index) {
        int[] out = new int[4];
        block((int) seed, (int) (seed >>> 32) ^ (0x5EED0000 | stream), (int) index, (int) (index >>> 32), 0, 0xFFFFFFFF, out);
        double u1 = (((out[0] & 0xFFFFFFFFL) << 21 ^ (out[1] & 0xFFFFFFFFL)) & ((1L << 53) - 1)) * 0x1.0p-53;
        double u2 = (((out[2] & 0xFFFFFFFFL) << 21 ^ (out[3] & 0xFFFFFFFFL)) & ((1L << 53) - 1)) * 0x1.0p-53;
        return Math.sqrt(-2.0 * Math.log1p(-u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
