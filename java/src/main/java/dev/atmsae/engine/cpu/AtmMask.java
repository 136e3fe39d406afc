package dev.atmsae.engine.cpu;

import java.lang.foreign.MemorySegment;

/**
 * ATM's stochastic mask over [rows, n] codes: fMasked[b, i] = 0 when
 * {@link dev.atmsae.train.Philox#maskUniform}(seed, step, rowOffset + b, i) &lt; p_i, else f[b, i]. Two
 * implementations with identical bits; {@link #create} picks the fast one for this machine's vector unit.
 */
interface AtmMask {
    void mask(MemorySegment f, MemorySegment p, long seed, long step, long rowOffset, MemorySegment fMasked, int rows,
              int n);

    static AtmMask create(WorkerPool pool, WorkerScratch[] scratch) {
        return AtmMaskingWide.fastHere() ? new AtmMaskingWide(pool, scratch) : new AtmMasking(pool, scratch);
    }
}
