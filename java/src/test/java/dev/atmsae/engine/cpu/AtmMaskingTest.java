package dev.atmsae.engine.cpu;

import dev.atmsae.core.Philox;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vectorised mask reproduces {@link Philox#maskUniform} bit for bit: for 1 and 2 threads, for rows whose width
 * is not a multiple of the vector chunk, for chunks skipped because nothing in them can be masked, and after
 * repeated calls on a larger input (so that C2 has compiled the vector code, which a previous variant got wrong).
 */
class AtmMaskingTest {

    @Test
    void smallRowsMatchPhiloxForOneAndTwoThreads() {
        int rows = 23;
        int n = 203;
        Random r = new Random(71);
        float[] f = new float[rows * n];
        float[] p = new float[n];
        for (int e = 0; e < f.length; e++) {
            f[e] = r.nextInt(3) == 0 ? 0f : 0.05f + r.nextFloat();
        }
        for (int i = 0; i < n; i++) {
            p[i] = i >= 64 && i < 128 ? 0f : r.nextFloat() * 0.9f; // a stretch no chunk can mask
        }
        for (int b = 0; b < 3; b++) {
            java.util.Arrays.fill(f, b * n + 130, b * n + 200, 0f); // codes that are all zero
        }
        for (int threads = 1; threads <= 2; threads++) {
            check(f, p, rows, n, threads, 1, 0xFEED_F00D_1234L, 123_456_789_012L, 77);
        }
    }

    @Test
    void compiledCodeStillMatchesPhilox() {
        int rows = 512;
        int n = 1536;
        Random r = new Random(72);
        float[] f = new float[rows * n];
        float[] p = new float[n];
        for (int e = 0; e < f.length; e++) {
            f[e] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            p[i] = r.nextFloat() * 0.9f;
        }
        check(f, p, rows, n, 2, 6, 9, 10, 11);
    }

    /** Runs the mask {@code calls} times (checking the last) and compares every entry with the scalar Philox. */
    private static void check(float[] fv, float[] pv, int rows, int n, int threads, int calls, long seed, long step,
                              long rowOffset) {
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads, threads > 1 && rows < 100)) {
            MemorySegment f = arena.allocate(4L * rows * n, 64);
            MemorySegment p = arena.allocate(4L * n, 64);
            MemorySegment out = arena.allocate(4L * rows * n, 64);
            MemorySegment.copy(fv, 0, f, Vec.F32, 0, fv.length);
            MemorySegment.copy(pv, 0, p, Vec.F32, 0, pv.length);
            AtmMasking mask = new AtmMasking(pool, WorkerScratch.forThreads(threads));
            for (int call = 0; call < calls; call++) {
                out.fill((byte) 0x7F);
                mask.mask(f, p, seed, step, rowOffset, out, rows, n);
            }
            int masked = 0;
            for (int b = 0; b < rows; b++) {
                for (int i = 0; i < n; i++) {
                    int e = b * n + i;
                    boolean m = Philox.maskUniform(seed, step, rowOffset + b, i) < pv[i];
                    assertEquals(m ? 0f : fv[e], Vec.get(out, e), "threads=" + threads + " (" + b + ", " + i + ")");
                    masked += m && fv[e] != 0f ? 1 : 0;
                }
            }
            assertTrue(masked > rows * n / 10);
        }
    }
}
