package dev.atmsae.engine.cpu;

import dev.atmsae.train.Philox;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.ORDER;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;

/**
 * The AVX-512 variant of {@link AtmMasking} (about 3x faster there): ATM's stochastic mask (atm.md step 7): fMasked[b, i] = 0 when u(seed, step, rowOffset + b, i) &lt; p_i, else f.
 * The uniform is {@link Philox#maskUniform}'s: one Philox block serves the four latents 4c .. 4c + 3 of a token
 * (counter word = latent &amp; 3).
 *
 * <p>Rows are cut into chunks of {@link #CHUNK} latents (= LL consecutive Philox blocks). A chunk where no entry can
 * change (all codes zero or all p ≤ 0) is copied; otherwise the LL blocks are computed at once in the lanes of a
 * {@link LongVector} (unsigned 32-bit words in 64-bit lanes, so the 32×32→64 products are exact), transposed to
 * latent order and compared with p branch-free. The last partial chunk of a row uses the scalar Philox. Both paths
 * produce exactly {@link Philox#maskUniform}'s bits.
 */
final class AtmMaskingWide implements AtmMask {
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final int LL = LS.length();
    /** Floats with as many lanes as LS (half its bits), for the uniforms converted from long lanes. */
    private static final VectorSpecies<Float> FS = VectorSpecies.of(float.class,
            VectorShape.forBitSize(LS.vectorBitSize() / 2));
    private static final int CHUNK = 4 * LL;
    private static final long MASK32 = 0xFFFFFFFFL;
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final long W0 = 0x9E3779B9L;
    private static final long W1 = 0xBB67AE85L;
    private static final float INV_2_24 = 1.0f / (1 << 24);
    /** indexMap for the transpose: lane l of word w goes to slot 4l + w. */
    private static final int[] TRANSPOSE = new int[LL];
    private static final long[] IOTA = new long[LL];

    static {
        for (int l = 0; l < LL; l++) {
            TRANSPOSE[l] = 4 * l;
            IOTA[l] = l;
        }
    }

    /**
     * Whether this variant is fast here: 64-bit lane multiplies and long→float conversions are single instructions
     * only with 512-bit vectors (AVX-512DQ); on AVX2 C2 does not intrinsify them and the variant runs ~10x slower
     * than {@link AtmMasking}.
     */
    static boolean fastHere() {
        return LS.vectorBitSize() >= 512;
    }

    private final WorkerPool pool;
    private final WorkerScratch[] scratch;
    private final long[][] words;

    AtmMaskingWide(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
        this.words = new long[scratch.length][CHUNK];
    }

    @Override
    public void mask(MemorySegment f, MemorySegment p, long seed, long step, long rowOffset, MemorySegment fMasked,
              int rows, int n) {
        long k0 = seed & MASK32;
        long k1 = (seed >>> 32) & MASK32;
        long stepLo = step & MASK32;
        long stepHi = (step >>> 32) & MASK32;
        int vectorEnd = (CHUNK % L == 0) ? n - n % CHUNK : 0;
        pool.run(rows, Math.max(1, 2048 / Math.max(1, n)), (w, from, to) -> {
            int[] blockWords = scratch[w].philox;
            long[] latentWords = words[w];
            for (int b = from; b < to; b++) {
                long token = (rowOffset + b) & MASK32;
                long base = (long) b * n;
                for (int i0 = 0; i0 < vectorEnd; i0 += CHUNK) {
                    if (!anyMaskable(f, p, base, i0)) {
                        Vec.copy(f, base + i0, fMasked, base + i0, CHUNK);
                        continue;
                    }
                    philoxWords(k0, k1, i0 >>> 2, token, stepLo, stepHi, latentWords);
                    for (int q = 0; q < CHUNK; q += LL) {
                        FloatVector u = ((FloatVector) LongVector.fromArray(LS, latentWords, q)
                                .lanewise(VectorOperators.LSHR, 8)
                                .convertShape(VectorOperators.L2F, FS, 0)).mul(INV_2_24);
                        long at = base + i0 + q;
                        FloatVector fv = FloatVector.fromMemorySegment(FS, f, at << 2, ORDER);
                        VectorMask<Float> masked = u.compare(VectorOperators.LT,
                                FloatVector.fromMemorySegment(FS, p, (long) (i0 + q) << 2, ORDER));
                        fv.blend(0f, masked).intoMemorySegment(fMasked, at << 2, ORDER);
                    }
                }
                int group = -1;
                for (int i = vectorEnd; i < n; i++) {
                    float fv = get(f, base + i);
                    float pv = get(p, i);
                    if (fv != 0f && pv > 0f) {
                        if (i >>> 2 != group) {
                            group = i >>> 2;
                            Philox.block((int) k0, (int) k1, group, (int) token, (int) stepLo, (int) stepHi,
                                    blockWords);
                        }
                        if (Philox.toUnitFloat(blockWords[i & 3]) < pv) {
                            fv = 0f;
                        }
                    }
                    set(fMasked, base + i, fv);
                }
            }
        });
    }

    /** Whether some latent of the chunk has a nonzero code and p &gt; 0 (otherwise masking cannot change it). */
    private static boolean anyMaskable(MemorySegment f, MemorySegment p, long base, int i0) {
        for (int j = 0; j < CHUNK; j += L) {
            VectorMask<Float> nonzero = load(f, base + i0 + j).compare(VectorOperators.NE, 0f);
            VectorMask<Float> positiveP = load(p, i0 + j).compare(VectorOperators.GT, 0f);
            if (nonzero.and(positiveP).anyTrue()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Philox-4x32-10 for the LL counters (group0 + l, token, stepLo, stepHi) with key (k0, k1), written in latent
     * order: out[4l + w] = word w of block l (unsigned, in a long).
     */
    private static void philoxWords(long k0, long k1, int group0, long token, long stepLo, long stepHi, long[] out) {
        LongVector c0 = LongVector.fromArray(LS, IOTA, 0).add(group0);
        LongVector c1 = LongVector.broadcast(LS, token);
        LongVector c2 = LongVector.broadcast(LS, stepLo);
        LongVector c3 = LongVector.broadcast(LS, stepHi);
        for (int round = 0; round < 10; round++) {
            LongVector p0 = c0.mul(M0);
            LongVector p1 = c2.mul(M1);
            LongVector next0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(
                    VectorOperators.XOR, k0);
            LongVector next2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(
                    VectorOperators.XOR, k1);
            c1 = p1.and(MASK32);
            c3 = p0.and(MASK32);
            c0 = next0;
            c2 = next2;
            k0 = (k0 + W0) & MASK32;
            k1 = (k1 + W1) & MASK32;
        }
        c0.intoArray(out, 0, TRANSPOSE, 0);
        c1.intoArray(out, 1, TRANSPOSE, 0);
        c2.intoArray(out, 2, TRANSPOSE, 0);
        c3.intoArray(out, 3, TRANSPOSE, 0);
    }
}
