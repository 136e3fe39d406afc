package dev.atmsae.engine.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs every kernel ({@link KernelOutputs}) on engines of several thread counts and compares the outputs bit for bit
 * with the 1-thread engine's. The engines split even tiny loops (package-private switch), so every loop really is cut
 * into as many parts as there are threads. Also a main class, for the child JVMs of
 * {@link CpuEngineThreadIndependenceTest}: prints the BLAS, one line per failure (kernel[index]: expected vs actual),
 * and exits 1 on any failure.
 */
final class ThreadIndependenceCheck {
    /** 1, 2, 3 threads and more threads than any product has tiles. */
    static final int[] THREAD_COUNTS = {1, 2, 3, KernelOutputs.MAX_TILES + 2};

    private ThreadIndependenceCheck() {
    }

    /** Failures as "kernel[index]: expected vs actual (t threads, BLAS)"; empty when all outputs agree. */
    static List<String> compare(boolean pureJava, int[] threadCounts, Consumer<String> log) {
        List<String> failures = new ArrayList<>();
        Map<String, float[]> reference = null;
        for (int threads : threadCounts) {
            Map<String, float[]> outputs;
            String blas;
            try (CpuEngine engine = new CpuEngine(threads, pureJava, true)) {
                blas = engine.describe();
                outputs = KernelOutputs.runAll(engine);
            }
            if (reference == null) {
                reference = outputs;
                log.accept(blas + ": " + outputs.size() + " kernel outputs");
                if (outputs.size() < 38) {
                    failures.add("only " + outputs.size() + " kernel outputs: " + outputs.keySet());
                }
                continue;
            }
            if (!reference.keySet().equals(outputs.keySet())) {
                failures.add(threads + " threads ran other kernels: " + outputs.keySet());
                continue;
            }
            for (Map.Entry<String, float[]> e : reference.entrySet()) {
                float[] expected = e.getValue();
                float[] actual = outputs.get(e.getKey());
                for (int i = 0; i < expected.length; i++) {
                    if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                        failures.add(e.getKey() + "[" + i + "]: " + expected[i] + " (" + threadCounts[0]
                                + " thread) vs " + actual[i] + " (" + threads + " threads), " + blas);
                        break;
                    }
                }
            }
        }
        return failures;
    }

    /** Args: {@code --expect-openblas} fails unless OpenBLAS runs (the core type under test really loaded). */
    public static void main(String[] args) {
        boolean expectOpenBlas = List.of(args).contains("--expect-openblas");
        try (CpuEngine probe = new CpuEngine(1, false)) {
            if (expectOpenBlas && !probe.usesOpenBlas()) {
                System.out.println("FAIL: OpenBLAS expected, got " + probe.describe());
                System.exit(1);
            }
        }
        List<String> failures = compare(false, THREAD_COUNTS, System.out::println);
        for (String f : failures) {
            System.out.println("FAIL " + f);
        }
        System.out.println(failures.isEmpty() ? "PASS: bitwise identical for threads " + java.util.Arrays.toString(
                THREAD_COUNTS) : failures.size() + " kernel(s) differ");
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
