package dev.atmsae.engine.cpu;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.seti;

/**
 * Matryoshka's nested-prefix kernels (architectures.md): splitting CSR rows at latent-group boundaries, turning
 * per-group decoder contributions into prefix residuals, and the weighted suffix sums that carry each prefix loss's
 * gradient back to the groups inside it. All are parallel over batch rows; each output row is written by one thread
 * in a fixed order, so results do not depend on the thread count.
 */
final class PrefixKernels {
    private final WorkerPool pool;

    PrefixKernels(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * out[b·M + m] = first entry of row b whose latent is ≥ ends[m−1] (ends[−1] = 0), out[B·M] = rowPtr[B]. Entries
     * must be ascending by latent within a row; a row that is not raises IllegalArgumentException.
     */
    void splitRows(MemorySegment rowPtr, MemorySegment idx, int rows, MemorySegment ends, int groups,
                   MemorySegment out) {
        for (int b = 0; b < rows; b++) {
            int p = geti(rowPtr, b);
            int end = geti(rowPtr, b + 1);
            for (int j = p + 1; j < end; j++) {
                if (geti(idx, j) <= geti(idx, j - 1)) {
                    throw new IllegalArgumentException("splitRowsAtGroups: row " + b
                            + " has latents out of ascending order at entry " + j);
                }
            }
            for (int m = 0; m < groups; m++) {
                seti(out, (long) b * groups + m, p);
                int groupEnd = geti(ends, m);
                while (p < end && geti(idx, p) < groupEnd) {
                    p++;
                }
            }
        }
        seti(out, (long) rows * groups, geti(rowPtr, rows));
    }

    /** Per row b: acc = −xc[b]; for m: acc += contrib[b·M+m]; contrib[b·M+m] = acc. fullErr[b] = acc at the end. */
    void prefixResiduals(MemorySegment contrib, MemorySegment xc, MemorySegment fullErr, int rows, int groups,
                         int d) {
        pool.run(rows, Math.max(1, 4096 / Math.max(1, d * groups)), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long acc = (long) b * d;
                fullErr.asSlice(acc << 2, (long) d << 2).fill((byte) 0);
                Vec.axpy(-1f, xc, acc, fullErr, acc, d);
                for (int m = 0; m < groups; m++) {
                    long row = ((long) b * groups + m) * d;
                    Vec.axpy(1f, contrib, row, fullErr, acc, d);
                    Vec.copy(fullErr, acc, contrib, row, d);
                }
            }
        });
    }

    /** out[b·M+M−1] = w[M−1]·err[b·M+M−1]; going down, out[b·M+m] = out[b·M+m+1] + w[m]·err[b·M+m]. */
    void weightedSuffixSum(MemorySegment err, MemorySegment weights, MemorySegment out, int rows, int groups, int d) {
        pool.run(rows, Math.max(1, 4096 / Math.max(1, d * groups)), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long last = ((long) b * groups + groups - 1) * d;
                out.asSlice(last << 2, (long) d << 2).fill((byte) 0);
                Vec.axpy(get(weights, groups - 1), err, last, out, last, d);
                for (int m = groups - 2; m >= 0; m--) {
                    long row = ((long) b * groups + m) * d;
                    Vec.copy(out, row + d, out, row, d);
                    Vec.axpy(get(weights, m), err, row, out, row, d);
                }
            }
        });
    }
}
