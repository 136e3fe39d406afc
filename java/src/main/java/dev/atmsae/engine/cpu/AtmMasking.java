package dev.atmsae.engine.cpu;

import dev.atmsae.train.Philox;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.set;

/**
 * ATM's stochastic mask (atm.md step 7): fMasked[b, i] = 0 when u(seed, step, rowOffset + b, i) &lt; p_i, else f.
 * The uniform is {@link Philox#maskUniform}'s: one Philox block serves the four latents 4c .. 4c + 3 of a token
 * (counter word = latent &amp; 3), so a block is computed at most once per group and only when some entry of the
 * group can change — a zero code stays zero and p_i ≤ 0 never masks — which makes sparse codes cheap to mask.
 */
final class AtmMasking {
    private final WorkerPool pool;
    private final WorkerScratch[] scratch;

    AtmMasking(WorkerPool pool, WorkerScratch[] scratch) {
        this.pool = pool;
        this.scratch = scratch;
    }

    void mask(MemorySegment f, MemorySegment p, long seed, long step, long rowOffset, MemorySegment fMasked,
              int rows, int n) {
        int seedLo = (int) seed;
        int seedHi = (int) (seed >>> 32);
        int stepLo = (int) step;
        int stepHi = (int) (step >>> 32);
        pool.run(rows, Math.max(1, 2048 / Math.max(1, n)), (w, from, to) -> {
            int[] words = scratch[w].philox;
            for (int b = from; b < to; b++) {
                int token = (int) (rowOffset + b);
                long base = (long) b * n;
                int group = -1;
                for (int i = 0; i < n; i++) {
                    float fv = get(f, base + i);
                    float pv = get(p, i);
                    if (fv != 0f && pv > 0f) {
                        if (i >>> 2 != group) {
                            group = i >>> 2;
                            Philox.block(seedLo, seedHi, group, token, stepLo, stepHi, words);
                        }
                        if (Philox.toUnitFloat(words[i & 3]) < pv) {
                            fv = 0f;
                        }
                    }
                    set(fMasked, base + i, fv);
                }
            }
        });
    }
}
