package dev.atmsae.engine.cpu;

import dev.atmsae.train.Philox;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both mask implementations (the engine uses one, chosen by the vector unit) reproduce
 * {@link Philox#maskUniform} bit for bit, for any thread count, including rows whose width is not a multiple of
 * the vector chunk and chunks that are skipped because nothing in them can be masked.
 */
class AtmMaskImplementationsTest {
    private static final int ROWS = 23;
    private static final int N = 203;

    @Test
    void portableAndWideMasksMatchPhilox() {
        Random r = new Random(71);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment f = arena.allocate(4L * ROWS * N, 64);
            MemorySegment p = arena.allocate(4L * N, 64);
            MemorySegment out = arena.allocate(4L * ROWS * N, 64);
            float[] fv = new float[ROWS * N];
            float[] pv = new float[N];
            for (int e = 0; e < fv.length; e++) {
                fv[e] = r.nextInt(3) == 0 ? 0f : 0.05f + r.nextFloat();
            }
            for (int i = 0; i < N; i++) {
                pv[i] = i >= 64 && i < 128 ? 0f : r.nextFloat() * 0.9f; // a stretch no chunk can mask
            }
            for (int b = 0; b < 3; b++) {
                java.util.Arrays.fill(fv, b * N + 130, b * N + 200, 0f); // codes that are all zero
            }
            MemorySegment.copy(fv, 0, f, Vec.F32, 0, fv.length);
            MemorySegment.copy(pv, 0, p, Vec.F32, 0, pv.length);
            long seed = 0xFEED_F00D_1234L;
            long step = 123_456_789_012L;
            long rowOffset = 77;
            for (int threads = 1; threads <= 2; threads++) {
                try (WorkerPool pool = new WorkerPool(threads, true)) {
                    WorkerScratch[] scratch = WorkerScratch.forThreads(threads);
                    for (AtmMask mask : new AtmMask[] {new AtmMasking(pool, scratch),
                            new AtmMaskingWide(pool, scratch)}) {
                        out.fill((byte) 0x7F);
                        mask.mask(f, p, seed, step, rowOffset, out, ROWS, N);
                        int masked = 0;
                        for (int b = 0; b < ROWS; b++) {
                            for (int i = 0; i < N; i++) {
                                int e = b * N + i;
                                boolean m = Philox.maskUniform(seed, step, rowOffset + b, i) < pv[i];
                                assertEquals(m ? 0f : fv[e], Vec.get(out, e), mask.getClass().getSimpleName()
                                        + " threads=" + threads + " (" + b + ", " + i + ")");
                                masked += m && fv[e] != 0f ? 1 : 0;
                            }
                        }
                        assertTrue(masked > ROWS * N / 10);
                    }
                }
            }
        }
    }
}
