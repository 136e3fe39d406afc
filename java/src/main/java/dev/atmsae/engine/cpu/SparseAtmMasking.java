package dev.atmsae.engine.cpu;

import dev.atmsae.core.Philox;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.set;

/**
 * ATM's mask on CSR codes ({@link dev.atmsae.engine.Engine#atmMaskSparse}): each entry's uniform is
 * {@link Philox#maskUniform}(seed, step, token, latent), only computed where p_latent &gt; 0. Rows are split over the
 * workers; every output depends on its own entry alone, so any split gives the same bits.
 */
final class SparseAtmMasking {
    /** Rows per part: a row holds k entries, each at most one Philox word. */
    private static final int ROW_GRAIN = 64;

    private SparseAtmMasking() {
    }

    static void mask(WorkerPool pool, MemorySegment rowPtr, MemorySegment idx, int batch, int capacity,
                     MemorySegment values, MemorySegment p, MemorySegment scale, long seed, long step, long rowOffset,
                     MemorySegment out) {
        pool.run(batch, ROW_GRAIN, (w, from, to) -> {
            for (int b = from; b < to; b++) {
                long token = rowOffset + b;
                for (int j = geti(rowPtr, b), end = geti(rowPtr, b + 1); j < end; j++) {
                    int latent = geti(idx, j);
                    float pv = get(p, latent);
                    boolean masked = pv > 0f && Philox.maskUniform(seed, step, token, latent) < pv;
                    set(out, j, masked ? 0f : scale == null ? get(values, j) : get(values, j) * get(scale, latent));
                }
            }
        });
        for (int j = geti(rowPtr, batch); j < capacity; j++) {
            set(out, j, 0f);
        }
    }
}
