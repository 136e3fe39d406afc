package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.api.AtmsaeException;
import dev.atmsae.api.Sae;
import dev.atmsae.data.NpyWriter;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SAE whose weights hold NaN or Inf is refused where SAE weights are read (io.SaeLoader), so {@code atmsae eval},
 * {@code inspect} and the API's {@code Sae.load} all stop with one line naming the file, the tensor and the count,
 * instead of evaluating to plausible-looking metrics. The same directory with the value repaired loads and evaluates.
 */
class NonFiniteWeightsTest {
    private static final int D = 8;
    private static final int N = 12;

    @TempDir
    Path tmp;

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1) * 0.5f;
        }
        return v;
    }

    private static SaeWeights standard(float[] wEnc) {
        SplittableRandom r = new SplittableRandom(11);
        return new SaeWeights("standard", D, N, wEnc, random(r, N), random(r, N * D), random(r, D), null, 0, Map.of());
    }

    /** Runs the CLI; returns {exit code, stdout, stderr}. */
    private static Object[] cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Object[] {code, out.toString(), err.toString()};
    }

    @Test
    void oneNanWeightIsRefusedByEvalAndSaeLoad() throws IOException {
        float[] wEnc = random(new SplittableRandom(5), D * N);
        Path shard = tmp.resolve("acts.npy");
        NpyWriter.write(shard, random(new SplittableRandom(6), 32 * D), 32, D);

        Path good = tmp.resolve("good");
        SaeExport.write(good, standard(wEnc), null);
        assertEquals(0, cli("eval", "--sae", good.toString(), "--data", shard.toString(), "--threads", "1")[0],
                "the intact SAE evaluates");

        float[] corrupted = wEnc.clone();
        corrupted[17] = Float.NaN;
        Path bad = tmp.resolve("bad");
        SaeExport.write(bad, standard(corrupted), null);
        String expected = bad.resolve(SaeExport.WEIGHTS) + ": tensor 'W_enc' holds 1 non-finite value (1 NaN, 0 Inf) of "
                + D * N;

        Object[] eval = cli("eval", "--sae", bad.toString(), "--data", shard.toString(), "--threads", "1");
        assertEquals(1, eval[0], "exit code; stderr: " + eval[2]);
        String err = ((String) eval[2]).strip();
        assertEquals(1, err.lines().count(), "one line, no stack trace: " + err);
        assertTrue(err.startsWith("atmsae: " + expected), err);
        assertEquals("", eval[1], "no metrics printed");

        AtmsaeException thrown = assertThrows(AtmsaeException.class, () -> Sae.load(bad).close());
        assertTrue(thrown.getMessage().startsWith(expected), thrown.getMessage());
        assertEquals(1, thrown.getMessage().lines().count(), thrown.getMessage());
    }

    @Test
    void gemmaScopeInfinitiesAreCountedAndRefused() throws IOException {
        SplittableRandom r = new SplittableRandom(9);
        float[] wDec = random(r, N * D);
        wDec[3] = Float.POSITIVE_INFINITY;
        wDec[40] = Float.NEGATIVE_INFINITY;
        wDec[41] = Float.NaN;
        Path npz = tmp.resolve("params.npz");
        GemmaScopeCliTest.writeGemmaScope(npz, D, N, random(r, D * N), wDec, random(r, N), random(r, D), random(r, N));
        String expected = npz + ":W_dec.npy: holds 3 non-finite values (1 NaN, 2 Inf) of " + N * D
                + ", the first at row 0";
        Object[] inspect = cli("inspect", npz.toString());
        assertEquals(1, inspect[0], "exit code; stderr: " + inspect[2]);
        assertTrue(((String) inspect[2]).strip().startsWith("atmsae: " + expected), (String) inspect[2]);
        AtmsaeException thrown = assertThrows(AtmsaeException.class, () -> Sae.load(npz).close());
        assertTrue(thrown.getMessage().startsWith(expected), thrown.getMessage());
    }
}
