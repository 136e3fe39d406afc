package dev.atmsae.engine.cpu;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.seti;

/**
 * Decode and its backward passes over CSR sparse codes: they touch only the active latents' rows. Gathers (decode,
 * gVal) are parallel over batch rows; scatters (gWDec, gWEnc, gBEnc) go through a {@link LatentEntryIndex} and are
 * parallel over latents, each row summing its entries in ascending entry order.
 */
final class SparseKernels {
    private final WorkerPool pool;
    private final LatentEntryIndex index = new LatentEntryIndex();

    SparseKernels(WorkerPool pool) {
        this.pool = pool;
    }

    /** xhat[b] = bDec + Σ_j val_j·wDec[idx_j] over row b's entries in order, zero values skipped (fma per element). */
    void decode(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, MemorySegment wDec,
                MemorySegment bDec, MemorySegment xhat, int d) {
        pool.run(rows, Math.max(1, 4096 / Math.max(1, d)), (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long out = (long) b * d;
                if (bDec == null) {
                    xhat.asSlice(out << 2, (long) d << 2).fill((byte) 0);
                } else {
                    Vec.copy(bDec, 0, xhat, out, d);
                }
                int end = geti(rowPtr, b + 1);
                for (int j = geti(rowPtr, b); j < end; j++) {
                    float v = get(val, j);
                    if (v != 0f) {
                        Vec.axpy(v, wDec, (long) geti(idx, j) * d, xhat, out, d);
                    }
                }
            }
        });
    }

    /** gVal[j] = ⟨gXhat[row(j)], wDec[idx_j]⟩ for j &lt; rowPtr[B], 0 beyond; gWDec[idx_j] += val_j·gXhat[row(j)]. */
    void decodeBackward(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int capacity,
                        MemorySegment gXhat, MemorySegment wDec, int n, int d, MemorySegment gVal,
                        MemorySegment gWDec) {
        index.build(rowPtr, idx, val, rows, capacity, n);
        sampledDots(rowPtr, idx, rows, capacity, gXhat, wDec, d, 1f, gVal);
        scatterRows(val, gXhat, gWDec, null, n, d);
    }

    /** out[j] = alpha·⟨a[row(j)], w[idx_j]⟩ for j &lt; rowPtr[B], 0 beyond (a [rows, d], w [n, d]). */
    void sampledDots(MemorySegment rowPtr, MemorySegment idx, int rows, int capacity, MemorySegment a,
                     MemorySegment w, int d, float alpha, MemorySegment out) {
        int total = geti(rowPtr, rows);
        pool.run(rows, Math.max(1, 4096 / Math.max(1, d)), (worker, from, to) -> {
            for (int b = from; b < to; b++) {
                long g = (long) b * d;
                int end = geti(rowPtr, b + 1);
                for (int j = geti(rowPtr, b); j < end; j++) {
                    set(out, j, alpha * Vec.dot(a, g, w, (long) geti(idx, j) * d, d));
                }
            }
        });
        out.asSlice((long) total << 2, (long) (capacity - total) << 2).fill((byte) 0);
    }

    /** gWEnc[idx_j] += gPre_j·xc[row(j)], gBEnc[idx_j] += gPre_j for entries with val_j ≠ 0. */
    void encoderBackward(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int capacity,
                         MemorySegment gPre, MemorySegment xc, int n, int d, MemorySegment gWEnc,
                         MemorySegment gBEnc) {
        index.build(rowPtr, idx, val, rows, capacity, n);
        scatterRows(gPre, xc, gWEnc, gBEnc, n, d);
    }

    /**
     * For each latent i and each of its indexed entries j in order: out[i] += coeff_j·src[row(j)], and
     * bias[i] += coeff_j when bias is given.
     */
    private void scatterRows(MemorySegment coeff, MemorySegment src, MemorySegment out, MemorySegment bias, int n,
                             int d) {
        LatentEntryIndex ix = index;
        int[] start = ix.start;
        int[] entries = ix.entries;
        int[] entryRow = ix.entryRow;
        int parts = pool.parts(start[n], 256);
        pool.run(parts, 1, (w, fromPart, toPart) -> {
            int first = ix.latentBoundary(fromPart, parts, n);
            int last = ix.latentBoundary(toPart, parts, n);
            for (int i = first; i < last; i++) {
                long row = (long) i * d;
                for (int p = start[i]; p < start[i + 1]; p++) {
                    int j = entries[p];
                    float c = get(coeff, j);
                    Vec.axpy(c, src, (long) entryRow[j] * d, out, row, d);
                    if (bias != null) {
                        set(bias, i, get(bias, i) + c);
                    }
                }
            }
        });
    }

    /** gVal[j] = 0 wherever val[j] ≤ 0, over the whole capacity. */
    void reluMask(MemorySegment val, MemorySegment gVal, int capacity) {
        for (int j = 0; j < capacity; j++) {
            if (!(get(val, j) > 0f)) {
                set(gVal, j, 0f);
            }
        }
    }

    /** fires[idx_j] += 1 for every entry with val_j &gt; 0 (integer counts: order-free). */
    void countFires(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int n,
                    MemorySegment fires) {
        int total = geti(rowPtr, rows);
        for (int j = 0; j < total; j++) {
            if (get(val, j) > 0f) {
                int latent = geti(idx, j);
                if (latent < 0 || latent >= n) {
                    throw new IllegalArgumentException("sparse codes: latent " + latent + " outside [0, " + n + ")");
                }
                seti(fires, latent, geti(fires, latent) + 1);
            }
        }
    }
}
