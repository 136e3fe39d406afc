package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.data.NpyWriter;
import dev.atmsae.io.NpyArrays;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inspect} and {@code eval} take a Gemma Scope directory (params.npz, no cfg.json) through the shared loader;
 * eval's MSE is the one of Gemma Scope's JumpReLU equations (no b_dec subtracted from the input), in float64.
 */
class GemmaScopeCliTest {
    private static final int D = 10;
    private static final int N = 14;
    private static final int ROWS = 64;

    @TempDir
    Path tmp;

    private static float[] random(SplittableRandom r, int n, double scale, double shift) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (shift + scale * (r.nextDouble() * 2 - 1));
        }
        return v;
    }

    /** A Gemma Scope params.npz: W_enc [d, n], W_dec [n, d], b_enc, b_dec, threshold, each a float32 .npy entry. */
    static void writeGemmaScope(Path npz, int d, int n, float[] wEnc, float[] wDec, float[] bEnc, float[] bDec,
                                float[] threshold) throws IOException {
        Object[][] arrays = {{"W_enc", wEnc, new long[] {d, n}}, {"W_dec", wDec, new long[] {n, d}},
                {"b_enc", bEnc, new long[] {n}}, {"b_dec", bDec, new long[] {d}}, {"threshold", threshold, new long[] {n}}};
        Path parts = Files.createTempDirectory(npz.getParent(), "npy-parts");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(npz))) {
            for (Object[] a : arrays) {
                Path f = parts.resolve(a[0] + ".npy");
                NpyArrays.writeF32(f, (float[]) a[1], (long[]) a[2]);
                zip.putNextEntry(new ZipEntry(a[0] + ".npy"));
                zip.write(Files.readAllBytes(f));
                zip.closeEntry();
            }
        }
    }

    private static int run(StringWriter out, String... args) {
        return Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), args);
    }

    @Test
    void inspectAndEvalReadGemmaScope() throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        float[] wEnc = random(r, D * N, 0.6, 0);
        float[] wDec = random(r, N * D, 0.6, 0);
        float[] bEnc = random(r, N, 0.1, 0);
        float[] bDec = random(r, D, 0.5, 0.5);
        float[] theta = random(r, N, 0.2, 0.3);
        Path sae = Files.createDirectories(tmp.resolve("gemma-scope"));
        writeGemmaScope(sae.resolve("params.npz"), D, N, wEnc, wDec, bEnc, bDec, theta);
        float[] x = random(r, ROWS * D, 1.5, 0.2);
        Path shard = tmp.resolve("acts.npy");
        NpyWriter.write(shard, x, ROWS, D);

        double sq = 0;
        for (int t = 0; t < ROWS; t++) {
            for (int j = 0; j < D; j++) {
                double xhat = bDec[j];
                for (int i = 0; i < N; i++) {
                    double h = bEnc[i];
                    for (int k = 0; k < D; k++) {
                        h += (double) x[t * D + k] * wEnc[k * N + i];
                    }
                    double f = h > theta[i] ? Math.max(0, h) : 0;
                    xhat += f * wDec[i * D + j];
                }
                sq += (x[t * D + j] - xhat) * (x[t * D + j] - xhat);
            }
        }

        StringWriter inspected = new StringWriter();
        assertEquals(0, run(inspected, "inspect", sae.toString()));
        assertTrue(inspected.toString().contains("(gemma-scope)"), inspected.toString());
        assertTrue(inspected.toString().contains("architecture: jumprelu"), inspected.toString());

        StringWriter evaluated = new StringWriter();
        assertEquals(0, run(evaluated, "eval", "--sae", sae.toString(), "--data", shard.toString(), "--threads", "1"));
        JsonNode json = new ObjectMapper().readTree(evaluated.toString());
        assertEquals(sq / ROWS, json.get("mse").asDouble(), 1e-4 * (1 + sq / ROWS), evaluated.toString());
    }
}
