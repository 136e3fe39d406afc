package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.ChildProcess;
import dev.atmsae.engine.cuda.EmulatorBuild;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kernels broken on purpose, as a new engineer might break them, are caught by the emulated run: each test copies
 * cuda/, makes one edit, builds the copy for the host and runs the self-test's matching check on it (the fatbin, and
 * so the kernels' attributes, stay the real ones). Before the emulated device, every one of these left make test green.
 */
class BrokenKernelTest {
    private static final Path OUT = Path.of("target/emulated-cuda/broken");
    /** Each broken copy is built and run at once. */
    private static final ChildRuns RUNS = new ChildRuns();

    @BeforeAll
    static void buildAndRunEveryBrokenCopy() {
        start("center-sign", "encode.cu", "xc[i] = x[i] - b_dec[i % cols];", "xc[i] = x[i] + b_dec[i % cols];",
                EmulatorBuild.Variant.PLAIN, "encodePre");
        start("decode-off-by-one", "decode.cu", "        for (int j = start; j < end; j++) {\n            float v = val[j];",
                "        for (int j = start + 1; j < end; j++) {\n            float v = val[j];", EmulatorBuild.Variant.PLAIN,
                "sparseDecode");
        start("scan-barrier", "common.cuh", "    if (lane == 31) smem[warp] = x;\n    __syncthreads();",
                "    if (lane == 31) smem[warp] = x;", EmulatorBuild.Variant.PLAIN, "topK (all latents");
        start("topk-smem", "encode.cu", "int* sel_idx = (int*)(sel_key + k);", "int* sel_idx = (int*)(sel_key + 2 * k);",
                EmulatorBuild.Variant.SANITIZE, "topK (all latents");
    }

    @AfterAll
    static void stopPool() {
        RUNS.close();
    }

    private static void start(String name, String file, String from, String to, EmulatorBuild.Variant variant,
                              String only) {
        if (EmulatorBuild.directory(variant).isPresent()) {
            RUNS.start(name, () -> runBroken(name, file, from, to, variant, only));
        }
    }

    /** center_rows adds b_dec instead of subtracting it. */
    @Test
    void centringWithTheWrongSignFailsEncodePre() throws Exception {
        ChildProcess r = RUNS.result("center-sign", EmulatorBuild.Variant.PLAIN);
        assertEquals(1, r.exitCode(), r.tail(20));
        assertTrue(r.output().contains("FAIL FP32 encodePre"), r.tail(20));
    }

    /** sparse_decode skips each row's first entry (an off-by-one index). */
    @Test
    void decodeSkippingTheFirstEntryFailsSparseDecode() throws Exception {
        ChildProcess r = RUNS.result("decode-off-by-one", EmulatorBuild.Variant.PLAIN);
        assertEquals(1, r.exitCode(), r.tail(20));
        assertTrue(r.output().contains("FAIL FP32 sparseDecode"), r.tail(20));
    }

    /** The block scan's first barrier is gone: warp 0 reads the per-warp totals before the other warps wrote them. */
    @Test
    void aMissingSyncthreadsFailsTopK() throws Exception {
        ChildProcess r = RUNS.result("scan-barrier", EmulatorBuild.Variant.PLAIN);
        assertEquals(1, r.exitCode(), r.tail(20));
        assertTrue(r.output().contains("FAIL FP32 topK (all latents"), r.tail(20));
        // The failed kernel poisons the context; the engine still closes and the runner still writes its report.
        JsonNode report = new ObjectMapper().readTree(OUT.resolve("scan-barrier/selftest/selftest.json").toFile());
        assertTrue(report.path("failed").asInt() >= 1, report.toString());
    }

    /** topk_rows lays its index array past the k·8 bytes of dynamic shared memory it asks for. */
    @Test
    void sharedMemoryPastTheLaunchsSizeStopsUnderAddressSanitizer() throws Exception {
        ChildProcess r = RUNS.result("topk-smem", EmulatorBuild.Variant.SANITIZE);
        assertNotEquals(0, r.exitCode(), r.tail(20));
        assertTrue(r.output().contains("AddressSanitizer: heap-buffer-overflow"), r.tail(40));
        assertTrue(r.output().contains("in topk_rows") && r.output().contains("encode.cu:"), r.tail(40));
    }

    /** Copies cuda/, replaces {@code from} by {@code to} in {@code file}, builds it and runs the self-test's {@code only}. */
    private static ChildProcess runBroken(String name, String file, String from, String to, EmulatorBuild.Variant variant,
                                          String only) throws IOException, InterruptedException {
        Path device = EmulatorBuild.directory(variant).orElseThrow();
        Path src = OUT.resolve(name).resolve("cuda").toAbsolutePath();
        copy(EmulatorBuild.repoRoot().resolve("cuda"), src);
        String text = Files.readString(src.resolve(file));
        assertTrue(text.contains(from), file + " no longer contains the line this test breaks: " + from);
        Files.writeString(src.resolve(file), text.replace(from, to));
        Path kernels = EmulatorBuild.buildKernels(src, OUT.resolve(name).resolve("lib").toAbsolutePath(), variant);
        return EmulatedJvm.run(device, variant, "inorder", OUT.resolve(name).resolve("stats.json"),
                Map.of("ATMSAE_EMU_KERNELS", kernels.toString()), OUT.resolve(name).resolve("selftest.log"),
                GpuSelfTest.class.getName(), "--only", only, "--out", OUT.resolve(name).resolve("selftest").toString());
    }

    private static void copy(Path from, Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> old = Files.walk(to)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
