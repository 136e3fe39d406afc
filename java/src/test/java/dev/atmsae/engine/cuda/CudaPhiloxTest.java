package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.core.Philox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * cuda/philox.cuh compiled for the host by nvcc (native-build/philox_kat.cu) produces the same bits as
 * train/Philox.java: Random123's known answers, random blocks and ATM mask uniforms (incl. 64-bit seed/step/token).
 */
class CudaPhiloxTest {
    @Test
    void cudaHeaderMatchesJavaPhilox() throws IOException, InterruptedException {
        Optional<Path> nvcc = NvccTool.find();
        assumeTrue(nvcc.isPresent(), "no nvcc: cannot build the host-side Philox check");
        Path root = NvccTool.repoRoot();
        Path exe = root.resolve("java/target/philox_kat");
        Files.createDirectories(exe.getParent());
        NvccTool.run(List.of(nvcc.get().toString(), "-I", root.resolve("cuda").toString(), "-o", exe.toString(),
                root.resolve("native-build/philox_kat.cu").toString()), "");

        List<String> queries = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        int[][] blocks = {{0, 0, 0, 0, 0, 0}, {-1, -1, -1, -1, -1, -1},
                {0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
        List<int[]> all = new ArrayList<>(List.of(blocks));
        for (int i = 0; i < 40; i++) {
            int[] r = new int[6];
            for (int j = 0; j < 6; j++) {
                r[j] = (int) (Philox.uniform(99, Philox.STREAM_TIES, i * 6L + j) * 4294967296.0);
            }
            all.add(r);
        }
        int[] out = new int[4];
        for (int[] q : all) {
            queries.add(String.format("block %x %x %x %x %x %x", q[0], q[1], q[2], q[3], q[4], q[5]));
            Philox.block(q[0], q[1], q[2], q[3], q[4], q[5], out);
            expected.add(String.format("%08x %08x %08x %08x", out[0], out[1], out[2], out[3]));
        }
        long[][] masks = {{42, 3, 5, 7}, {0x1234_5678_9ABCL, (1L << 32) + 17, 4_000_000_123L, 202},
                {-1L, Long.MAX_VALUE, 0, 65535}, {7, 0, 1L << 40, 1}};
        for (long[] m : masks) {
            for (int dl = 0; dl < 4; dl++) {
                int latent = (int) m[3] + dl;
                queries.add(String.format("mask %x %x %x %x", m[0], m[1], m[2], latent));
                expected.add(String.format("%08x", Float.floatToRawIntBits(Philox.maskUniform(m[0], m[1], m[2], latent))));
            }
        }
        String got = NvccTool.run(List.of(exe.toString()), String.join("\n", queries) + "\n");
        assertEquals(expected, List.of(got.strip().split("\n")));
    }
}
