package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.gpucheck.EmulatedSuiteMain;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SAEs in SAELens's and Gemma Scope's on-disk layouts, written byte by byte here (not by atmsae's exporter), load
 * through {@link Sae#load} and give the encode and forward that SAELens's equations give, evaluated in float64 from
 * the written float32 weights (tolerance 1e-4 relative to the largest expected value). Covers standard with
 * {@code apply_b_dec_to_input} true and false, topk (with and without {@code rescale_acts_by_decoder_norm}), jumprelu,
 * per-token {@code normalize_activations}, a pre-6.0 config, and Gemma Scope's params.npz.
 */
class SaeLensRoundTripTest {
    private static final int D = 12;
    private static final int N = 20;
    private static final int ROWS = 9;

    @TempDir
    Path tmp;

    /** Weights as written to disk (float32) plus the cfg keys that change the forward. */
    private record Written(String arch, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec, float[] threshold,
                          int k, boolean bDecToInput, boolean rescale, String norm) {
    }

    private static float[] gauss(Random r, int n, double scale, double shift) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (shift + scale * r.nextGaussian());
        }
        return v;
    }

    private static Written weights(String arch, long seed, int k, boolean bDecToInput, boolean rescale, String norm) {
        Random r = new Random(seed);
        float[] threshold = null;
        if (arch.equals("jumprelu")) {
            threshold = new float[N];
            for (int i = 0; i < N; i++) {
                threshold[i] = (float) (0.05 + 0.6 * r.nextDouble());
            }
        }
        // decoder rows deliberately not unit norm, b_dec large enough that apply_b_dec_to_input matters
        return new Written(arch, gauss(r, D * N, 0.4, 0), gauss(r, N, 0.2, 0.05), gauss(r, N * D, 0.5, 0),
                gauss(r, D, 0.8, 0.3), threshold, k, bDecToInput, rescale, norm);
    }

    // ------------------------------------------------------------------ the SAELens equations, float64

    private static double[] normIn(Written w, float[] x, double[] affine) {
        double[] v = new double[D];
        for (int j = 0; j < D; j++) {
            v[j] = x[j];
        }
        affine[0] = 0;
        affine[1] = 1;
        switch (w.norm()) {
            case "constant_norm_rescale" -> {
                double sq = 0;
                for (double a : v) {
                    sq += a * a;
                }
                double c = Math.sqrt(D) / Math.sqrt(sq);
                for (int j = 0; j < D; j++) {
                    v[j] *= c;
                }
                affine[1] = 1 / c;
            }
            case "layer_norm" -> {
                double mu = Arrays.stream(v).sum() / D;
                double sq = 0;
                for (int j = 0; j < D; j++) {
                    v[j] -= mu;
                    sq += v[j] * v[j];
                }
                double std = Math.sqrt(sq / (D - 1));
                for (int j = 0; j < D; j++) {
                    v[j] /= std + 1e-5;
                }
                affine[0] = mu;
                affine[1] = std;
            }
            default -> { }
        }
        return v;
    }

    private static double decNorm(Written w, int i) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            s += (double) w.wDec()[i * D + j] * w.wDec()[i * D + j];
        }
        return Math.sqrt(s);
    }

    /** SAELens encode: f (d_sae values). */
    private static double[] encode(Written w, float[] x) {
        double[] xin = normIn(w, x, new double[2]);
        double[] h = new double[N];
        for (int i = 0; i < N; i++) {
            double s = w.bEnc()[i];
            for (int j = 0; j < D; j++) {
                double in = xin[j] - (w.bDecToInput() ? w.bDec()[j] : 0.0);
                s += in * w.wEnc()[j * N + i];
            }
            h[i] = w.rescale() ? s * decNorm(w, i) : s;
        }
        double[] f = new double[N];
        switch (w.arch()) {
            case "standard" -> {
                for (int i = 0; i < N; i++) {
                    f[i] = Math.max(0, h[i]);
                }
            }
            case "jumprelu" -> {
                for (int i = 0; i < N; i++) {
                    f[i] = h[i] > w.threshold()[i] ? Math.max(0, h[i]) : 0;
                }
            }
            case "topk" -> {
                Integer[] order = new Integer[N];
                for (int i = 0; i < N; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, (a, b) -> Double.compare(h[b], h[a]));
                for (int t = 0; t < w.k(); t++) {
                    f[order[t]] = Math.max(0, h[order[t]]);
                }
            }
            default -> throw new IllegalArgumentException(w.arch());
        }
        return f;
    }

    /** SAELens forward: decode(encode(x)) with the normalisation undone. */
    private static double[] forward(Written w, float[] x) {
        double[] affine = new double[2];
        normIn(w, x, affine);
        double[] f = encode(w, x);
        double[] out = new double[D];
        for (int j = 0; j < D; j++) {
            double s = w.bDec()[j];
            for (int i = 0; i < N; i++) {
                double fi = w.rescale() ? f[i] / decNorm(w, i) : f[i];
                s += fi * w.wDec()[i * D + j];
            }
            out[j] = s * affine[1] + affine[0];
        }
        return out;
    }

    // ------------------------------------------------------------------ writing the files by hand

    private static byte[] floatsLE(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** A safetensors file: u64 header length, JSON header padded with spaces to 8 bytes, the data. */
    private static void writeSafetensors(Path file, Map<String, Object[]> tensors) throws IOException {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
            float[] values = (float[]) e.getValue()[0];
            long[] shape = (long[]) e.getValue()[1];
            int begin = data.size();
            data.write(floatsLE(values));
            header.append(String.format(Locale.ROOT, ",\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%d,%d]}",
                    e.getKey(), Arrays.toString(shape).replace(" ", ""), begin, data.size()));
        }
        header.append('}');
        while ((8 + header.length()) % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            data.writeTo(out);
        }
    }

    private Path writeSaeLens(String name, Written w, String cfgJson) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Map<String, Object[]> t = new LinkedHashMap<>();
        t.put("W_enc", new Object[] {w.wEnc(), new long[] {D, N}});
        t.put("b_enc", new Object[] {w.bEnc(), new long[] {N}});
        t.put("W_dec", new Object[] {w.wDec(), new long[] {N, D}});
        t.put("b_dec", new Object[] {w.bDec(), new long[] {D}});
        if (w.threshold() != null) {
            t.put("threshold", new Object[] {w.threshold(), new long[] {N}});
        }
        writeSafetensors(dir.resolve("sae_weights.safetensors"), t);
        Files.writeString(dir.resolve("cfg.json"), cfgJson);
        return dir;
    }

    /** cfg.json as SAELens 6 writes it (SAE.save_model: cfg.to_dict() with "metadata"). */
    private static String cfgV6(Written w) {
        String topk = w.arch().equals("topk")
                ? ", \"k\": " + w.k() + ", \"rescale_acts_by_decoder_norm\": " + w.rescale() : "";
        return "{\"d_in\": " + D + ", \"d_sae\": " + N + ", \"dtype\": \"float32\", \"device\": \"cpu\", "
                + "\"apply_b_dec_to_input\": " + w.bDecToInput() + ", \"normalize_activations\": \"" + w.norm() + "\", "
                + "\"reshape_activations\": \"none\"" + topk + ", \"metadata\": {\"sae_lens_version\": \"6.5.1\", "
                + "\"model_name\": \"gpt2\", \"hook_name\": \"blocks.8.hook_resid_pre\", \"prepend_bos\": true}, "
                + "\"architecture\": \"" + w.arch() + "\"}";
    }

    private static float[][] inputs(long seed) {
        Random r = new Random(seed);
        float[][] x = new float[ROWS][];
        for (int i = 0; i < ROWS; i++) {
            x[i] = gauss(r, D, 1.0, 0.2);
        }
        return x;
    }

    private static void assertClose(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        for (double v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4 * scale, what + " [" + i + "]");
        }
    }

    /** Loads {@code dir} and checks encode, forward and top latents on every input against the equations. */
    private void check(Path dir, Written w) {
        check(dir, w, Device.cpu(2));
    }

    private void check(Path dir, Written w, Device device) {
        float[][] x = inputs(7);
        try (Sae sae = Sae.load(dir, device)) {
            assertEquals(w.arch(), sae.architecture());
            assertEquals(D, sae.inputDim());
            assertEquals(N, sae.width());
            float[][] codes = sae.encode(x);
            float[][] recon = sae.forward(x);
            boolean anyActive = false;
            for (int r = 0; r < ROWS; r++) {
                double[] f = encode(w, x[r]);
                assertClose(f, codes[r], dir.getFileName() + " encode row " + r);
                assertClose(forward(w, x[r]), recon[r], dir.getFileName() + " forward row " + r);
                assertClose(f, sae.encode(x[r]), dir.getFileName() + " single-vector encode row " + r);
                List<Sae.Latent> top = sae.topLatents(x[r], 3);
                for (Sae.Latent l : top) {
                    assertTrue(l.activation() > 0);
                    anyActive = true;
                }
                if (!top.isEmpty()) {
                    double max = Arrays.stream(f).max().orElse(0);
                    assertEquals(max, top.get(0).activation(), 1e-4 * Math.max(1, max));
                }
            }
            assertTrue(anyActive, "the test data activates some latent");
        }
    }

    private static Written standard(boolean bDecToInput) {
        return weights("standard", 11, 0, bDecToInput, false, "none");
    }

    @Test
    void standardWithBDecAppliedToInput() throws IOException {
        Written w = standard(true);
        check(writeSaeLens("standard-true", w, cfgV6(w)), w);
    }

    @Test
    void standardWithoutBDecAppliedToInputIsNotEvaluatedAsIfTrue() throws IOException {
        Written w = standard(false);
        Path dir = writeSaeLens("standard-false", w, cfgV6(w));
        check(dir, w);
        // the flag matters for these weights: the true-flag equations would give another forward
        Written asIfTrue = standard(true);
        float[] x = inputs(7)[0];
        double[] wrong = forward(asIfTrue, x);
        double[] right = forward(w, x);
        double diff = 0;
        for (int j = 0; j < D; j++) {
            diff = Math.max(diff, Math.abs(wrong[j] - right[j]));
        }
        assertTrue(diff > 1e-2, "apply_b_dec_to_input changes the forward by " + diff);
        // and evaluation's MSE is the true-equation MSE
        float[][] rows = inputs(7);
        double sq = 0;
        for (float[] row : rows) {
            double[] xhat = forward(w, row);
            for (int j = 0; j < D; j++) {
                sq += (row[j] - xhat[j]) * (row[j] - xhat[j]);
            }
        }
        try (Sae sae = Sae.load(dir, Device.cpu(2))) {
            ReconstructionMetrics m = Evaluation.reconstruction(sae, ActivationSource.ofRows(rows), ROWS);
            assertEquals(sq / ROWS, m.mse(), 1e-4 * (1 + sq / ROWS));
            assertEquals(ROWS, m.tokens());
        }
    }

    @Test
    void topk() throws IOException {
        Written w = weights("topk", 12, 5, true, false, "none");
        check(writeSaeLens("topk", w, cfgV6(w)), w);
    }

    @Test
    void topkRescaledByDecoderNormWithoutBDecOnInput() throws IOException {
        Written w = weights("topk", 13, 4, false, true, "none");
        check(writeSaeLens("topk-rescaled", w, cfgV6(w)), w);
    }

    @Test
    void jumprelu() throws IOException {
        Written w = weights("jumprelu", 14, 0, true, false, "none");
        check(writeSaeLens("jumprelu", w, cfgV6(w)), w);
    }

    @Test
    void perTokenNormalisations() throws IOException {
        Written ln = weights("standard", 15, 0, true, false, "layer_norm");
        check(writeSaeLens("layer-norm", ln, cfgV6(ln)), ln);
        Written cn = weights("jumprelu", 16, 0, false, false, "constant_norm_rescale");
        Path dir = writeSaeLens("constant-norm", cn, cfgV6(cn));
        check(dir, cn);
        try (Sae sae = Sae.load(dir, Device.cpu(1))) {
            assertEquals("constant_norm_rescale", sae.normalization());
            AtmsaeException e = assertThrows(AtmsaeException.class,
                    () -> Evaluation.reconstruction(sae, ActivationSource.ofRows(inputs(1)), ROWS));
            assertTrue(e.getMessage().contains("normalize_activations 'constant_norm_rescale'"), e.getMessage());
        }
    }

    @Test
    void preSixConfigWithTopkActivation() throws IOException {
        Written w = weights("topk", 17, 3, true, false, "none");
        String cfg = "{\"d_in\": " + D + ", \"d_sae\": " + N + ", \"dtype\": \"float32\", \"device\": \"cpu\", "
                + "\"model_name\": \"gpt2-small\", \"hook_name\": \"blocks.0.hook_resid_pre\", "
                + "\"apply_b_dec_to_input\": true, \"activation_fn_str\": \"topk\", "
                + "\"activation_fn_kwargs\": {\"k\": 3}, \"normalize_activations\": null}";
        Path dir = writeSaeLens("legacy", w, cfg);
        check(dir, w);
        try (Sae sae = Sae.load(dir, Device.cpu(1))) {
            assertEquals("gpt2-small", sae.metadata().get("model_name"));
        }
    }

    @Tag(EmulatedSuiteMain.TAG)
    @Test
    void cudaGivesTheSameForward() throws IOException {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        Written topk = weights("topk", 21, 5, false, true, "none");
        check(writeSaeLens("cuda-topk", topk, cfgV6(topk)), topk, Device.cuda());
        Written jr = weights("jumprelu", 22, 0, true, false, "layer_norm");
        check(writeSaeLens("cuda-jumprelu", jr, cfgV6(jr)), jr, Device.cuda());
        Written std = standard(false);
        check(writeSaeLens("cuda-standard", std, cfgV6(std)), std, Device.cuda());
    }

    // ------------------------------------------------------------------ Gemma Scope

    private static byte[] npy(float[] v, long... shape) {
        StringBuilder s = new StringBuilder("(");
        for (long x : shape) {
            s.append(x).append(shape.length == 1 ? "," : ", ");
        }
        String shapeText = shape.length == 1 ? s + ")" : s.substring(0, s.length() - 2) + ")";
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] text = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(10 + text.length + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) text.length).put(text).put(floatsLE(v));
        return b.array();
    }

    @Test
    void gemmaScopeParamsNpz() throws IOException {
        Written w = weights("jumprelu", 18, 0, false, false, "none");
        Path dir = Files.createDirectories(tmp.resolve("layer_3/width_16k/average_l0_20"));
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(dir.resolve("params.npz")))) {
            Object[][] arrays = {{"W_dec", w.wDec(), new long[] {N, D}}, {"W_enc", w.wEnc(), new long[] {D, N}},
                    {"b_dec", w.bDec(), new long[] {D}}, {"b_enc", w.bEnc(), new long[] {N}},
                    {"threshold", w.threshold(), new long[] {N}}};
            for (Object[] a : arrays) {
                zip.putNextEntry(new ZipEntry(a[0] + ".npy"));
                zip.write(npy((float[]) a[1], (long[]) a[2]));
                zip.closeEntry();
            }
        }
        check(dir, w);
        check(dir.resolve("params.npz"), w);
        try (Sae sae = Sae.load(dir, Device.cpu(1))) {
            assertEquals("gemma-scope", sae.format());
        }
    }

    // ------------------------------------------------------------------ batch shapes and errors

    @Test
    void bufferSegmentAndArrayBatchesAgree() throws IOException {
        Written w = weights("topk", 19, 4, true, false, "none");
        Path dir = writeSaeLens("shapes", w, cfgV6(w));
        float[][] x = inputs(3);
        float[] flat = new float[ROWS * D];
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(x[r], 0, flat, r * D, D);
        }
        try (Sae sae = Sae.load(dir, Device.cpu(2)); Arena arena = Arena.ofConfined()) {
            float[][] codes = sae.encode(x);
            FloatBuffer out = FloatBuffer.allocate(ROWS * N);
            sae.encode(FloatBuffer.wrap(flat), out);
            assertEquals(0, out.position(), "positions are left alone");
            MemorySegment in = arena.allocate(4L * flat.length);
            MemorySegment.copy(flat, 0, in, ValueLayout.JAVA_FLOAT, 0, flat.length);
            MemorySegment seg = arena.allocate(4L * ROWS * N);
            sae.encode(in, seg);
            for (int r = 0; r < ROWS; r++) {
                for (int i = 0; i < N; i++) {
                    assertEquals(codes[r][i], out.get(r * N + i));
                    assertEquals(codes[r][i], seg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * N + i));
                }
            }
            // decode of the codes is forward; through a buffer and a segment too
            float[][] recon = sae.forward(x);
            float[][] decoded = sae.decode(codes);
            MemorySegment codeSeg = arena.allocate(4L * ROWS * N);
            MemorySegment.copy(seg, 0, codeSeg, 0, seg.byteSize());
            MemorySegment back = arena.allocate(4L * ROWS * D);
            sae.decode(codeSeg, back);
            FloatBuffer fwd = FloatBuffer.allocate(ROWS * D);
            sae.forward(FloatBuffer.wrap(flat), fwd);
            for (int r = 0; r < ROWS; r++) {
                for (int j = 0; j < D; j++) {
                    assertEquals(recon[r][j], decoded[r][j], 1e-5f);
                    assertEquals(recon[r][j], back.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * D + j), 1e-5f);
                    assertEquals(recon[r][j], fwd.get(r * D + j), 1e-6f);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> sae.encode(new float[D + 1]));
            assertThrows(IllegalArgumentException.class, () -> sae.encode(FloatBuffer.allocate(D + 1), out));
        }
    }

    @Test
    void badDirectoriesGiveOneLineErrors() throws IOException {
        List<String> messages = new ArrayList<>();
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        messages.add(assertThrows(AtmsaeException.class, () -> Sae.load(empty)).getMessage());
        Written w = weights("standard", 20, 0, true, false, "none");
        Path gated = writeSaeLens("gated", w, cfgV6(w).replace("\"architecture\": \"standard\"", "\"architecture\": \"gated\""));
        messages.add(assertThrows(AtmsaeException.class, () -> Sae.load(gated)).getMessage());
        Path norm = writeSaeLens("norm", w, cfgV6(w).replace("\"normalize_activations\": \"none\"", "\"normalize_activations\": \"whiten\""));
        messages.add(assertThrows(AtmsaeException.class, () -> Sae.load(norm)).getMessage());
        Path flag = writeSaeLens("flag", w, cfgV6(w).replace("\"apply_b_dec_to_input\": true", "\"apply_b_dec_to_input\": \"yes\""));
        messages.add(assertThrows(AtmsaeException.class, () -> Sae.load(flag)).getMessage());
        assertTrue(messages.get(0).contains("no cfg.json"), messages.get(0));
        assertTrue(messages.get(1).contains("architecture 'gated' is not standard, topk or jumprelu"), messages.get(1));
        assertTrue(messages.get(2).contains("normalize_activations 'whiten'"), messages.get(2));
        assertTrue(messages.get(3).contains("'apply_b_dec_to_input' must be true or false"), messages.get(3));
        for (String m : messages) {
            assertFalse(m.contains("\n"), m);
        }
    }
}
