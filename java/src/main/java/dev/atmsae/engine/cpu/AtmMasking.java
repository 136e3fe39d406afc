package dev.atmsae.engine.cpu;

import dev.atmsae.core.Philox;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;

/**
 * ATM's stochastic mask (atm.md step 7): fMasked[b, i] = 0 when u(seed, step, rowOffset + b, i) &lt; p_i, else f.
 * The uniform is {@link Philox#maskUniform}'s: one Philox block serves the four latents 4c .. 4c + 3 of a token
 * (counter word = latent &amp; 3).
 *
 * <p>Rows are cut into chunks of {@link #CHUNK} latents (= one Philox block per int lane). A chunk where no entry
 * can change (all codes zero, or all p ≤ 0) is copied; a chunk with at most {@link #SCALAR_MAX} such entries (sparse
 * codes) uses the scalar Philox for just the blocks it needs; otherwise its blocks are computed together in the lanes
 * of an {@link IntVector}. The 32×32→64-bit products Philox needs are built from four 16×16-bit products, which
 * every x86 vector unit has. The last partial chunk of a row uses the scalar Philox. All paths produce exactly
 * {@link Philox#maskUniform}'s bits.
 *
 * <p>A LongVector variant (64-bit lane products, long→float lanes) was dropped: 3x faster on AVX-512 but ~10x slower
 * than scalar code on AVX2, and on JDK 25.0.3 it produced wrong masks after JIT compilation at the full benchmark
 * shape (cause not isolated). {@code AtmMaskingTest} therefore also checks the mask after repeated large calls.
 */
final class AtmMasking {
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final int LANES = IS.length();
    private static final int CHUNK = 4 * LANES;
    /**
     * Chunks with at most this many maskable entries use the scalar Philox: one vector pass over a chunk's LANES
     * blocks costs about as much as this many scalar blocks. On 8-int-lane units (AVX2) every chunk does: there the
     * vector path was measured no faster than the scalar one (JDK 25, AMD EPYC: ~450 ms of CPU per [4096, 6144] mask
     * either way) and, not fully intrinsified, it boxed ~60 MB of heap per call on each thread, a steady stream of
     * garbage in every training step. The vector path stays for 16-lane units (AVX-512), where it was measured faster.
     */
    private static final int SCALAR_MAX = LANES >= 16 ? 12 : CHUNK;
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final float INV_2_24 = 1.0f / (1 << 24);

    private final WorkerPool pool;
    private final WorkerScratch[] scratch;
    /** Two-vector shuffles that interleave the low (high) halves of x and y: x0, y0, x1, y1, … */
    private static final VectorShuffle<Float> ZIP_LO;
    private static final VectorShuffle<Float> ZIP_HI;

    static {
        int[] lo = new int[LANES];
        int[] hi = new int[LANES];
        for (int m = 0; m < LANES / 2; m++) {
            lo[2 * m] = m;
            lo[2 * m + 1] = m - LANES; // exceptional index: lane m of the second vector
            hi[2 * m] = LANES / 2 + m;
            hi[2 * m + 1] = LANES / 2 + m - LANES;
        }
        ZIP_LO = VectorShuffle.fromArray(Vec.F, lo, 0);
        ZIP_HI = VectorShuffle.fromArray(Vec.F, hi, 0);
    }

    AtmMasking(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
    }

    void mask(MemorySegment f, MemorySegment p, long seed, long step, long rowOffset, MemorySegment fMasked,
              int rows, int n) {
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        int stepLo = (int) step;
        int stepHi = (int) (step >>> 32);
        boolean vectorOk = LANES == Vec.L && CHUNK % L == 0;
        int vectorEnd = vectorOk ? n - n % CHUNK : 0;
        pool.run(rows, Math.max(1, 2048 / Math.max(1, n)), (w, from, to) -> {
            int[] blockWords = scratch[w].philox;
            for (int b = from; b < to; b++) {
                int token = (int) (rowOffset + b);
                long base = (long) b * n;
                for (int i0 = 0; i0 < vectorEnd; i0 += CHUNK) {
                    int maskable = countMaskable(f, p, base, i0);
                    if (maskable == 0) {
                        Vec.copy(f, base + i0, fMasked, base + i0, CHUNK);
                    } else if (maskable <= SCALAR_MAX) {
                        // Sparse codes: a few scalar blocks are far cheaper than all of the chunk's blocks at once.
                        maskScalar(f, p, fMasked, base, i0, i0 + CHUNK, k0, k1, token, stepLo, stepHi, blockWords);
                    } else {
                        maskChunk(f, p, fMasked, base, i0, k0, k1, token, stepLo, stepHi);
                    }
                }
                maskScalar(f, p, fMasked, base, vectorEnd, n, k0, k1, token, stepLo, stepHi, blockWords);
            }
        });
    }

    /** How many latents of the chunk have a nonzero code and p &gt; 0 (only those can change). */
    private static int countMaskable(MemorySegment f, MemorySegment p, long base, int i0) {
        int count = 0;
        for (int j = 0; j < CHUNK; j += L) {
            VectorMask<Float> nonzero = load(f, base + i0 + j).compare(VectorOperators.NE, 0f);
            VectorMask<Float> positiveP = load(p, i0 + j).compare(VectorOperators.GT, 0f);
            count += nonzero.and(positiveP).trueCount();
        }
        return count;
    }

    /** Latents [from, to) of one row with the scalar Philox, one block per group of four that needs one. */
    private static void maskScalar(MemorySegment f, MemorySegment p, MemorySegment fMasked, long base, int from,
                                   int to, int k0, int k1, int token, int stepLo, int stepHi, int[] blockWords) {
        int group = -1;
        for (int i = from; i < to; i++) {
            float fv = get(f, base + i);
            float pv = get(p, i);
            if (fv != 0f && pv > 0f) {
                if (i >>> 2 != group) {
                    group = i >>> 2;
                    Philox.block(k0, k1, group, token, stepLo, stepHi, blockWords);
                }
                if (Philox.toUnitFloat(blockWords[i & 3]) < pv) {
                    fv = 0f;
                }
            }
            set(fMasked, base + i, fv);
        }
    }

    /**
     * Philox-4x32-10 for the LANES counters (group0 + l, token, stepLo, stepHi) with key (k0, k1) where
     * group0 = i0 / 4, then the mask for the chunk's CHUNK latents: the four word vectors (word w of block l is latent
     * 4l + w) are interleaved into latent order by two rounds of zips and compared with p.
     */
    private static void maskChunk(MemorySegment f, MemorySegment p, MemorySegment fMasked, long base, int i0, int k0,
                                  int k1, int token, int stepLo, int stepHi) {
        IntVector c0 = IntVector.zero(IS).addIndex(1).add(i0 >>> 2);
        IntVector c1 = IntVector.broadcast(IS, token);
        IntVector c2 = IntVector.broadcast(IS, stepLo);
        IntVector c3 = IntVector.broadcast(IS, stepHi);
        for (int round = 0; round < 10; round++) {
            IntVector hi0 = mulHi(c0, M0);
            IntVector lo0 = c0.mul(M0);
            IntVector hi1 = mulHi(c2, M1);
            IntVector lo1 = c2.mul(M1);
            c0 = hi1.lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0);
            c1 = lo1;
            c2 = hi0.lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1);
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        FloatVector u0 = toUniform(c0);
        FloatVector u1 = toUniform(c1);
        FloatVector u2 = toUniform(c2);
        FloatVector u3 = toUniform(c3);
        FloatVector even02Lo = u0.rearrange(ZIP_LO, u2); // u0[0], u2[0], u0[1], u2[1], …
        FloatVector even02Hi = u0.rearrange(ZIP_HI, u2);
        FloatVector odd13Lo = u1.rearrange(ZIP_LO, u3);
        FloatVector odd13Hi = u1.rearrange(ZIP_HI, u3);
        maskVector(f, p, fMasked, base, i0, even02Lo.rearrange(ZIP_LO, odd13Lo));
        maskVector(f, p, fMasked, base, i0 + LANES, even02Lo.rearrange(ZIP_HI, odd13Lo));
        maskVector(f, p, fMasked, base, i0 + 2 * LANES, even02Hi.rearrange(ZIP_LO, odd13Hi));
        maskVector(f, p, fMasked, base, i0 + 3 * LANES, even02Hi.rearrange(ZIP_HI, odd13Hi));
    }

    /** fMasked[i .. i + L) = u &lt; p ? 0 : f. */
    private static void maskVector(MemorySegment f, MemorySegment p, MemorySegment fMasked, long base, int i,
                                   FloatVector u) {
        VectorMask<Float> masked = u.compare(VectorOperators.LT, load(p, i));
        Vec.store(load(f, base + i).blend(0f, masked), fMasked, base + i);
    }

    /** (w &gt;&gt;&gt; 8)·2⁻²⁴, exactly {@link Philox#toUnitFloat}: a 24-bit integer converts to float exactly. */
    private static FloatVector toUniform(IntVector word) {
        return ((FloatVector) word.lanewise(VectorOperators.LSHR, 8).convert(VectorOperators.I2F, 0)).mul(INV_2_24);
    }

    /**
     * The high 32 bits of the unsigned 64-bit product a·m, from 16-bit halves: every partial product is below 2³²
     * (exact in an int lane read as unsigned) and the middle column's carries are added explicitly.
     */
    private static IntVector mulHi(IntVector a, int m) {
        int mLo = m & 0xFFFF;
        int mHi = m >>> 16;
        IntVector aLo = a.and(0xFFFF);
        IntVector aHi = a.lanewise(VectorOperators.LSHR, 16);
        IntVector ll = aLo.mul(mLo);
        IntVector lh = aLo.mul(mHi);
        IntVector hl = aHi.mul(mLo);
        IntVector hh = aHi.mul(mHi);
        IntVector mid = ll.lanewise(VectorOperators.LSHR, 16).add(lh.and(0xFFFF)).add(hl.and(0xFFFF));
        return hh.add(lh.lanewise(VectorOperators.LSHR, 16)).add(hl.lanewise(VectorOperators.LSHR, 16))
                .add(mid.lanewise(VectorOperators.LSHR, 16));
    }
}
