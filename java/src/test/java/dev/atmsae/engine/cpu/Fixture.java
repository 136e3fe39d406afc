package dev.atmsae.engine.cpu;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Random inputs (never zero) and float64 comparison helpers shared by the CPU engine tests. */
final class Fixture {
    /** Batch rows, input width and latents of the kernel tests; B and N are multiples of no vector or tile width, so
     * every kernel's tail loop runs. */
    static final int B = 37;
    static final int D = 24;
    static final int N = 70;
    /** Latents kept per row by the selection tests. */
    static final int K = 5;

    private Fixture() {
    }

    /** The engine the kernel tests share: two worker threads, OpenBLAS where installed. */
    static CpuEngine twoThreadEngine() {
        return new CpuEngine(2, false);
    }

    /** Gaussian values with magnitude at least 0.01, so no input is zero or vanishingly small. */
    static float[] randn(Random r, int size, float scale) {
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            double g = r.nextGaussian();
            if (Math.abs(g) < 0.01) {
                g = Math.copySign(0.01 + Math.abs(g), g == 0 ? 1 : g);
            }
            out[i] = (float) (g * scale);
        }
        return out;
    }

    /** Uniform in [lo, hi). */
    static float[] uniform(Random r, int size, float lo, float hi) {
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = lo + (hi - lo) * r.nextFloat();
        }
        return out;
    }

    static Tensor tensor(Engine e, int rows, int cols, float[] data) {
        Tensor t = e.allocF32(rows, cols);
        e.upload(t, data);
        return t;
    }

    static Tensor ints(Engine e, int rows, int cols, int[] data) {
        Tensor t = e.allocI32(rows, cols);
        e.upload(t, data);
        return t;
    }

    static float[] read(Engine e, Tensor t) {
        float[] out = new float[(int) t.size()];
        e.download(t, out);
        return out;
    }

    static int[] readInts(Engine e, Tensor t) {
        int[] out = new int[(int) t.size()];
        e.download(t, out);
        return out;
    }

    static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    /** Element-wise: |actual − expected| ≤ rel·max(|expected|, floor) for every element. */
    static void assertClose(double[] expected, float[] actual, double rel, double floor, String what) {
        if (expected.length > actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * Math.max(Math.abs(expected[i]), floor);
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (tolerance " + tol + ")");
            }
        }
    }

    /**
     * For products and reductions: |actual − expected| ≤ rel·(root-mean-square of expected), the error scale of a
     * float32 sum whose terms have that magnitude (cancellation makes a per-element relative bound meaningless).
     */
    static void assertCloseScaled(double[] expected, float[] actual, double rel, String what) {
        double ss = 0;
        for (double v : expected) {
            ss += v * v;
        }
        double rms = Math.sqrt(ss / Math.max(1, expected.length));
        assertTrue(rms > 0, what + ": reference is all zeros, the test would be vacuous");
        assertClose(expected, actual, rel, rms, what);
    }

    static void assertBitwise(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
            }
        }
    }
}
