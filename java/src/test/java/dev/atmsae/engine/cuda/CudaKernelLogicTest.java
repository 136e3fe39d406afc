package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.Philox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Device helpers of cuda/common.cuh compiled for the host by nvcc (native-build/kernel_logic.cu): JumpReLU's threshold
 * rounds like the CPU engine's, and the bucket sort that makes the SORTED scatter reproducible sorts every size.
 */
class CudaKernelLogicTest {
    private static Path exe;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Optional<Path> nvcc = NvccTool.find();
        if (nvcc.isEmpty()) {
            return;
        }
        Path root = NvccTool.repoRoot();
        exe = root.resolve("java/target/kernel_logic");
        Files.createDirectories(exe.getParent());
        NvccTool.run(List.of(nvcc.get().toString(), "-I", root.resolve("cuda").toString(), "-o", exe.toString(),
                root.resolve("native-build/kernel_logic.cu").toString()), "");
    }

    /** θ = jumprelu_theta(log θ) equals (float) Math.exp(log θ), the CPU engine's threshold, bit for bit. */
    @Test
    void jumpReluThresholdMatchesTheCpuBitForBit() throws IOException, InterruptedException {
        assumeTrue(exe != null, "no nvcc: cannot build the host-side kernel checks");
        List<String> queries = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20000; i++) {
            // log θ over the range training visits (θ from e⁻¹⁰ to e³), plus a sweep of consecutive floats near 0.
            float lt = i < 16000 ? (float) (-10 + 13 * Philox.uniform(3, Philox.STREAM_SYNTH, i))
                    : Float.intBitsToFloat(Float.floatToRawIntBits(-1e-3f) + (i - 16000));
            queries.add(String.format("theta %08x", Float.floatToRawIntBits(lt)));
            expected.add(String.format("%08x", Float.floatToRawIntBits((float) Math.exp(lt))));
        }
        List<String> got = List.of(NvccTool.run(List.of(exe.toString()), String.join("\n", queries) + "\n").strip()
                .split("\n"));
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < got.size(); i++) {
            assertEquals(expected.get(i), got.get(i), queries.get(i));
        }
    }

    /** Buckets of every size class (empty, odd, powers of two and one past them, larger than a block). */
    @Test
    void bucketSortOrdersEntriesAndKeepsTheirRows() throws IOException, InterruptedException {
        assumeTrue(exe != null, "no nvcc: cannot build the host-side kernel checks");
        List<String> queries = new ArrayList<>();
        int[] sizes = {0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 255, 256, 257, 511, 512, 513, 1000, 4095, 4096, 4097, 6000};
        for (int m : sizes) {
            for (int seed = 1; seed <= 3; seed++) {
                queries.add("sort " + m + " " + (seed * 7919L + m));
            }
        }
        String got = NvccTool.run(List.of(exe.toString()), String.join("\n", queries) + "\n").strip();
        assertEquals(String.join("\n", Collections.nCopies(queries.size(), "ok")), got);
    }
}
