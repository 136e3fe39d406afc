package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.data.NpyWriter;
import dev.atmsae.io.DType;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result inspect(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "inspect";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Result(code, out.toString(), err.toString());
    }

    static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextBoolean() ? 0.2 + r.nextDouble() : -0.2 - r.nextDouble());
        }
        return v;
    }

    /** The float64 mean row norm over all rows (the reference for a fully sampled shard). */
    static double meanNorm(float[] v, int rows, int d) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int c = 0; c < d; c++) {
                sq += (double) v[r * d + c] * v[r * d + c];
            }
            sum += Math.sqrt(sq);
        }
        return sum / rows;
    }

    @Test
    void reportsShardFacts() {
        float[] a = random(1, 300 * 16);
        float[] b = random(2, 100 * 16);
        NpyWriter.write(dir.resolve("a.npy"), a, 300, 16);
        NpyWriter.write(dir.resolve("b.npy"), b, 100, 16, DType.F16);
        Result r = inspect(dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a.npy"), r.out());
        assertTrue(r.out().matches("(?s).*a\\.npy\\s+F32\\s+\\[300, 16\\]\\s+" + String.format("%.4f", meanNorm(a, 300, 16))
                + "\\s+0\\.000%.*"), r.out());
        assertTrue(r.out().matches("(?s).*b\\.npy\\s+F16\\s+\\[100, 16\\].*"), r.out());
        assertTrue(r.out().contains("total: 2 shard(s), 400 tokens, d=16"), r.out());
        assertTrue(r.out().contains("sampled: 400 of 400 rows"), r.out());
        Result sampled = inspect("--sample-rows", "7", dir.resolve("a.npy").toString());
        assertEquals(0, sampled.code());
        assertTrue(sampled.out().contains("sampled: 7 of 300 rows"), sampled.out());
    }

    private void assertOneLineError(Result r, String file, String fragment) {
        assertEquals(1, r.code(), r.out() + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.startsWith("atmsae: "), err);
        assertTrue(err.contains(file), err);
        assertTrue(err.contains(fragment), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
    }

    private Path npy(String name, String descr, int rows, int cols, int dataBytes) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        byte[] h = Arrays.copyOf(dict.getBytes(StandardCharsets.US_ASCII), 118);
        Arrays.fill(h, dict.length(), 117, (byte) ' ');
        h[117] = '\n';
        ByteBuffer buf = ByteBuffer.allocate(128 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) 118).put(h);
        for (int i = 0; i < dataBytes / 4; i++) {
            buf.putFloat(0.5f + i);
        }
        Path p = dir.resolve(name);
        Files.write(p, buf.array());
        return p;
    }

    @Test
    void truncatedShard() throws IOException {
        Path p = npy("trunc.npy", "<f4", 1000, 4, 15000);
        assertOneLineError(inspect(p.toString()), "trunc.npy",
                "truncated: header says 1000x4 <f4 = 16000 data bytes but only 15000 present");
    }

    @Test
    void badHeader() throws IOException {
        Path p = dir.resolve("bad.npy");
        Files.write(p, "this is not numpy at all".getBytes(StandardCharsets.US_ASCII));
        assertOneLineError(inspect(p.toString()), "bad.npy", "not a .npy file");
    }

    @Test
    void wrongDtypes() throws IOException {
        assertOneLineError(inspect(npy("int.npy", "<i4", 10, 4, 160).toString()), "int.npy", "dtype '<i4' is not supported");
        assertOneLineError(inspect(npy("big.npy", ">f4", 10, 4, 160).toString()), "big.npy", "big-endian");
    }

    @Test
    void mismatchedWidths() {
        NpyWriter.write(dir.resolve("s0.npy"), random(1, 40), 10, 4);
        NpyWriter.write(dir.resolve("s1.npy"), random(2, 50), 10, 5);
        assertOneLineError(inspect(dir.toString()), "s1.npy", "d=5 but s0.npy has d=4");
    }

    @Test
    void nanShard() {
        float[] v = random(3, 50 * 4);
        v[17 * 4 + 2] = Float.NaN;
        NpyWriter.write(dir.resolve("nan.npy"), v, 50, 4);
        Result r = inspect(dir.resolve("nan.npy").toString());
        assertOneLineError(r, "nan.npy", "row 17 holds NaN/Inf");
        assertTrue(r.out().contains("2.000%"), "1 of 50 rows non-finite is shown: " + r.out());
    }

    @Test
    void missingPath() {
        assertOneLineError(inspect(dir.resolve("nope").toString()), "nope", "no such file");
    }

    @Test
    void describesAnSaeExport() {
        int d = 4;
        int n = 6;
        float[] wDec = random(4, n * d);
        for (int i = 0; i < n; i++) { // unit rows except row 2 (norm 2)
            double sq = 0;
            for (int j = 0; j < d; j++) {
                sq += wDec[i * d + j] * wDec[i * d + j];
            }
            for (int j = 0; j < d; j++) {
                wDec[i * d + j] *= (float) ((i == 2 ? 2 : 1) / Math.sqrt(sq));
            }
        }
        float[] threshold = {0.5f, 0.1f, 0.3f, 0.2f, 0.9f, 0.4f};
        SaeWeights w = new SaeWeights("jumprelu", d, n, random(1, d * n), random(2, n), wDec, random(3, d), threshold, 0,
                Map.of("model_name", "m1", "hook_name", "blocks.1.hook_resid_post", "steps", 12));
        SaeExport.write(dir, w, new float[] {0, 0.1f, 0.2f, 0.01f, 0.5f, 0.3f});
        Result r = inspect(dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture: jumprelu"), r.out());
        assertTrue(r.out().contains("d_in: 4"), r.out());
        assertTrue(r.out().contains("d_sae: 6"), r.out());
        assertTrue(r.out().contains("decoder row norms: min 1.000000, max 2.000000"), r.out());
        assertTrue(r.out().contains("threshold: min 0.100000, median 0.400000, max 0.900000"), r.out());
        assertTrue(r.out().contains("1 latents never fired"), r.out());
        assertTrue(r.out().contains("hook_name: blocks.1.hook_resid_post"), r.out());
        assertTrue(r.out().contains("\"steps\":12"), r.out());
    }
}
