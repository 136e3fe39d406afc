package dev.atmsae.engine.cpu;

import dev.atmsae.engine.Tensor;

import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Random;

/**
 * How fast the engine's tiled products run against one multi-threaded OpenBLAS sgemm of the same shape, on the
 * training step's product shapes. Not a test: run by hand (see docs/decisions.md) with
 * {@code java ... dev.atmsae.engine.cpu.TiledGemmBench [threads [rounds]]}. Rounds alternate the two so that a
 * busy machine slows both alike; prints the best and the median of each.
 */
final class TiledGemmBench {
    private static final java.lang.management.ThreadMXBean THREAD_MX =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private TiledGemmBench() {
    }

    public static void main(String[] args) throws Throwable {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int rounds = Math.max(2, args.length > 1 ? Integer.parseInt(args[1]) : 7);
        OpenBlasLibrary library = OpenBlasLibrary.choose().library();
        if (library == null) {
            System.out.println("OpenBLAS not in use: " + OpenBlasLibrary.choose().pureJavaReason());
            return;
        }
        System.out.println(library.describe() + "; " + threads + " threads, " + rounds + " rounds");
        System.out.println("GFLOP/s by wall time, best/median; 1t: one thread, by its CPU time, best of two");
        System.out.printf("%-26s %5s %9s %9s %7s %9s %9s%n", "product (m x n x k)", "tiles", "1 call", "tiled",
                "tiled/1", "1 call 1t", "tiled 1t");
        try (CpuEngine engine = new CpuEngine(threads, false); CpuEngine single = new CpuEngine(1, false)) {
            for (int[] s : new int[][] {
                    // {transA, transB, m, n, k}: encode, decode, decoder-weight gradient, X·W
                    {0, 1, 4096, 6144, 384}, {0, 0, 4096, 384, 6144}, {1, 0, 6144, 384, 4096},
                    {0, 0, 4096, 6144, 384},
                    {0, 1, 4096, 12288, 768}, {0, 0, 4096, 768, 12288}, {1, 0, 12288, 768, 4096}}) {
                run(engine, single, library, threads, rounds, s[0] == 1, s[1] == 1, s[2], s[3], s[4]);
            }
        } finally {
            library.setThreads(1);
        }
    }

    private static void run(CpuEngine e, CpuEngine single, OpenBlasLibrary library, int threads, int rounds,
                            boolean ta, boolean tb, int m, int n, int k) throws Throwable {
        Random r = new Random(1);
        try (Tensor a = Fixture.tensor(e, ta ? k : m, ta ? m : k, Fixture.randn(r, m * k, 1f));
             Tensor b = Fixture.tensor(e, tb ? n : k, tb ? k : n, Fixture.randn(r, k * n, 1f));
             Tensor c = e.allocF32(m, n)) {
            CpuTensor ca = (CpuTensor) a;
            CpuTensor cb = (CpuTensor) b;
            CpuTensor cc = (CpuTensor) c;
            double[] oneCall = new double[rounds];
            double[] tiled = new double[rounds];
            double[] oneCallOneThread = new double[2];
            double[] tiledOneThread = new double[2];
            for (int round = -1; round < rounds; round++) { // round −1 warms up
                library.setThreads(threads);
                double t1 = time(() -> direct(library, ta, tb, m, n, k, ca, cb, cc));
                library.setThreads(1);
                double t2 = time(() -> e.gemm(ta, tb, 1f, a, b, 0f, c));
                if (round >= 0) {
                    oneCall[round] = t1;
                    tiled[round] = t2;
                }
                if (round == 0 || round == 1) {
                    oneCallOneThread[round] = cpuTime(() -> direct(library, ta, tb, m, n, k, ca, cb, cc));
                    tiledOneThread[round] = cpuTime(() -> single.gemm(ta, tb, 1f, a, b, 0f, c));
                }
            }
            double flops = 2.0 * m * n * k;
            System.out.printf("%-26s %5d %9s %9s %6.0f%% %9.0f %9.0f%n",
                    (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + " x " + n + " x " + k,
                    TiledGemm.tileCount(m, n, k), gflops(flops, oneCall), gflops(flops, tiled),
                    100 * min(oneCall) / min(tiled), flops / min(oneCallOneThread) / 1e9,
                    flops / min(tiledOneThread) / 1e9);
        }
    }

    /** "best/median" GFLOP/s. */
    private static String gflops(double flops, double[] seconds) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        return String.format("%.0f/%.0f", flops / sorted[0] / 1e9, flops / sorted[sorted.length / 2] / 1e9);
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    private interface Body {
        void run() throws Throwable;
    }

    private static double time(Body body) throws Throwable {
        long t0 = System.nanoTime();
        body.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** CPU seconds of this thread (a 1-thread engine runs its tiles on the caller): less sensitive to load. */
    private static double cpuTime(Body body) throws Throwable {
        long t0 = THREAD_MX.getCurrentThreadCpuTime();
        body.run();
        return (THREAD_MX.getCurrentThreadCpuTime() - t0) / 1e9;
    }

    private static void direct(OpenBlasLibrary library, boolean ta, boolean tb, int m, int n, int k, CpuTensor a,
                               CpuTensor b, CpuTensor c) throws Throwable {
        MethodHandle sgemm = library.sgemm();
        sgemm.invokeExact(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, 1f, a.segment().address(), a.cols(),
                b.segment().address(), b.cols(), 0f, c.segment().address(), c.cols());
    }
}
