package dev.atmsae.api;

import dev.atmsae.arch.SaeInference;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A trained sparse autoencoder, loaded from disk and ready to run on a {@link Device}.
 *
 * <p><b>Formats.</b> {@link #load(Path)} reads an SAELens directory ({@code cfg.json} + {@code
 * sae_weights.safetensors}; architectures {@code standard}, {@code topk} and {@code jumprelu}, the last covering
 * BatchTopK, Matryoshka and thresholded ATM exports) — atmsae's own exports as well as SAEs trained by SAELens —
 * and Gemma Scope's {@code params.npz} (the file or its directory). The cfg.json keys that change the forward pass are
 * honoured: {@code apply_b_dec_to_input}, {@code normalize_activations} ({@code none},
 * {@code expected_average_only_in}, {@code constant_norm_rescale}, {@code layer_norm}),
 * {@code rescale_acts_by_decoder_norm} (topk) and pre-6.0 configs (no {@code architecture}; {@code activation_fn_str}).
 * Anything else is an {@link AtmsaeException} naming the file and the problem.
 *
 * <p><b>Semantics</b> (SAELens): with x' = x after the per-token normalisation (if any),
 * h = (x' − b_dec·[apply_b_dec_to_input])·W_enc + b_enc; {@code standard}: f = ReLU(h); {@code topk}: f keeps the k
 * largest h (ties to the lower index), then ReLU; {@code jumprelu}: f = ReLU(h)·1[h &gt; θ];
 * x̂ = f·W_dec + b_dec, then the normalisation undone. {@link #encode} returns f, {@link #decode} maps f to x̂ (in
 * the normalised space when the SAE normalises per token, since undoing it needs the input), {@link #forward} returns
 * x̂ of x. Results are float32 computed by the engine, equal to a float64 evaluation of these equations to float32
 * rounding.
 *
 * <p><b>Shapes.</b> One vector is a {@code float[]} of {@link #inputDim()} (or {@link #width()} for codes). Batches are
 * {@code float[][]} (one row per vector), a {@link FloatBuffer} or a {@link MemorySegment} holding whole rows,
 * row-major, float32 in native byte order. Buffer and segment variants read all remaining values / the whole segment
 * as the batch and write the result to the start of the output (from its position), leaving both buffers' positions
 * unchanged; large batches are processed in chunks, so memory stays bounded.
 *
 * <p><b>Threads and resources.</b> An {@code Sae} holds engine memory (off-heap, or on the GPU) and worker threads:
 * close it. Its methods are {@code synchronized}, so one instance may be shared by threads (calls run one at a time);
 * for parallel throughput open one instance per thread. Calls after {@link #close()} throw
 * {@link IllegalStateException}.
 */
public final class Sae implements AutoCloseable {
    private static final int CHUNK_ROWS = 1024;
    private static final double LAYER_NORM_EPS = 1e-5;

    /**
     * An active latent of one input.
     *
     * @param index      the latent's index in [0, {@link #width()})
     * @param activation its activation f (strictly positive)
     */
    public record Latent(int index, float activation) {
    }

    private enum Op { ENCODE, DECODE, FORWARD }

    private final SaeLoader.Loaded loaded;
    private final SaeWeights weights;
    private final Engine engine;
    private final SaeInference inference;
    private final String runsOn;
    private boolean closed;

    private Sae(SaeLoader.Loaded loaded, Engine engine, Device device) {
        this.loaded = loaded;
        this.weights = loaded.weights();
        this.engine = engine;
        this.inference = new SaeInference(engine, weights);
        this.runsOn = device.describe(engine);
    }

    /**
     * Loads an SAE and runs it on the CPU engine with all processors.
     *
     * @param path an SAELens directory, a Gemma Scope {@code params.npz} or a directory holding one
     * @return the SAE (close it)
     * @throws AtmsaeException if the path is not a supported SAE
     */
    public static Sae load(Path path) {
        return load(path, Device.cpu());
    }

    /**
     * Loads an SAE onto a device.
     *
     * @param path   an SAELens directory, a Gemma Scope {@code params.npz} or a directory holding one
     * @param device where to run it
     * @return the SAE (close it)
     * @throws AtmsaeException if the path is not a supported SAE or the device cannot be opened
     */
    public static Sae load(Path path, Device device) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(device, "device");
        return Boundary.call(() -> {
            SaeLoader.Loaded loaded = SaeLoader.load(path);
            Engine engine = device.open();
            try {
                return new Sae(loaded, engine, device);
            } catch (RuntimeException e) {
                engine.close();
                throw e;
            }
        });
    }

    // ------------------------------------------------------------------ facts

    /**
     * The SAELens architecture the forward uses.
     *
     * @return "standard", "topk" or "jumprelu"
     */
    public String architecture() {
        return weights.architecture();
    }

    /**
     * The input width d_in.
     *
     * @return d_in
     */
    public int inputDim() {
        return weights.dIn();
    }

    /**
     * The number of latents d_sae.
     *
     * @return d_sae
     */
    public int width() {
        return weights.dSae();
    }

    /**
     * Active latents per token of a {@code topk} SAE.
     *
     * @return k, or 0 for other architectures
     */
    public int k() {
        return weights.k();
    }

    /**
     * The per-token input normalisation this SAE applies.
     *
     * @return "none", "constant_norm_rescale" or "layer_norm"
     */
    public String normalization() {
        return loaded.normalization().cfgName();
    }

    /**
     * The on-disk layout it came from.
     *
     * @return "saelens" or "gemma-scope"
     */
    public String format() {
        return loaded.format();
    }

    /**
     * Where it was loaded from.
     *
     * @return the SAELens directory or the Gemma Scope params.npz file
     */
    public Path source() {
        return loaded.source();
    }

    /**
     * The {@code metadata} object of cfg.json (model, hook, training facts under "atmsae"), as plain JSON values.
     *
     * @return an unmodifiable map (empty when the file has none)
     */
    public Map<String, Object> metadata() {
        return weights.metadata() == null ? Map.of() : Collections.unmodifiableMap(weights.metadata());
    }

    /**
     * The engine running this SAE, e.g. {@code "cpu (OpenBLAS, 4 threads)"}.
     *
     * @return the description
     */
    public synchronized String engineDescription() {
        checkOpen();
        return engine.describe();
    }

    /**
     * What this SAE is, for logs: e.g. {@code Sae[topk k=32, d_in 768 × d_sae 24576, saelens from runs/topk, on cpu
     * (8 threads)]} (normalisation named when it has one; "closed" once closed).
     *
     * @return the description
     */
    @Override
    public synchronized String toString() {
        StringBuilder s = new StringBuilder("Sae[").append(architecture());
        if (k() > 0) {
            s.append(" k=").append(k());
        }
        s.append(", d_in ").append(inputDim()).append(" × d_sae ").append(width());
        if (!normalization().equals("none")) {
            s.append(", normalize_activations ").append(normalization());
        }
        s.append(", ").append(format()).append(" from ").append(source());
        return s.append(closed ? ", closed]" : ", on " + runsOn + "]").toString();
    }

    // ------------------------------------------------------------------ encode

    /**
     * Latent activations f of one input.
     *
     * @param x one input vector of {@link #inputDim()} values
     * @return f, {@link #width()} values (zero for inactive latents)
     */
    public float[] encode(float[] x) {
        return compute(Op.ENCODE, checkRow(x, inputDim(), "x"), 1);
    }

    /**
     * Latent activations of a batch.
     *
     * @param x rows of {@link #inputDim()} values
     * @return one row of {@link #width()} values per input
     */
    public float[][] encode(float[][] x) {
        return split(compute(Op.ENCODE, flatten(x, inputDim(), "x"), x.length), width());
    }

    /**
     * Latent activations of a batch in a buffer.
     *
     * @param x   whole rows of {@link #inputDim()} values (all remaining values)
     * @param out receives rows × {@link #width()} values from its position
     */
    public void encode(FloatBuffer x, FloatBuffer out) {
        buffers(Op.ENCODE, x, out);
    }

    /**
     * Latent activations of a batch in native memory (or any segment).
     *
     * @param x   whole rows of {@link #inputDim()} float32 values (the whole segment)
     * @param out receives rows × {@link #width()} float32 values from offset 0
     */
    public void encode(MemorySegment x, MemorySegment out) {
        segments(Op.ENCODE, x, out);
    }

    // ------------------------------------------------------------------ decode

    /**
     * Reconstruction x̂ = f·W_dec + b_dec of one code vector (in the normalised space for SAEs that normalise per
     * token, see the class comment).
     *
     * @param f {@link #width()} latent activations
     * @return x̂, {@link #inputDim()} values
     */
    public float[] decode(float[] f) {
        return compute(Op.DECODE, checkRow(f, width(), "f"), 1);
    }

    /**
     * Reconstructions of a batch of codes.
     *
     * @param f rows of {@link #width()} values
     * @return one row of {@link #inputDim()} values per code row
     */
    public float[][] decode(float[][] f) {
        return split(compute(Op.DECODE, flatten(f, width(), "f"), f.length), inputDim());
    }

    /**
     * Reconstructions of a batch of codes in a buffer.
     *
     * @param f   whole rows of {@link #width()} values (all remaining values)
     * @param out receives rows × {@link #inputDim()} values from its position
     */
    public void decode(FloatBuffer f, FloatBuffer out) {
        buffers(Op.DECODE, f, out);
    }

    /**
     * Reconstructions of a batch of codes in native memory.
     *
     * @param f   whole rows of {@link #width()} float32 values (the whole segment)
     * @param out receives rows × {@link #inputDim()} float32 values from offset 0
     */
    public void decode(MemorySegment f, MemorySegment out) {
        segments(Op.DECODE, f, out);
    }

    // ------------------------------------------------------------------ forward

    /**
     * The SAE's reconstruction of one input (encode, decode, normalisation undone).
     *
     * @param x one input vector of {@link #inputDim()} values
     * @return x̂, {@link #inputDim()} values
     */
    public float[] forward(float[] x) {
        return compute(Op.FORWARD, checkRow(x, inputDim(), "x"), 1);
    }

    /**
     * Reconstructions of a batch.
     *
     * @param x rows of {@link #inputDim()} values
     * @return one reconstruction per row
     */
    public float[][] forward(float[][] x) {
        return split(compute(Op.FORWARD, flatten(x, inputDim(), "x"), x.length), inputDim());
    }

    /**
     * Reconstructions of a batch in a buffer.
     *
     * @param x   whole rows of {@link #inputDim()} values (all remaining values)
     * @param out receives as many values from its position
     */
    public void forward(FloatBuffer x, FloatBuffer out) {
        buffers(Op.FORWARD, x, out);
    }

    /**
     * Reconstructions of a batch in native memory.
     *
     * @param x   whole rows of {@link #inputDim()} float32 values (the whole segment)
     * @param out receives as many float32 values from offset 0
     */
    public void forward(MemorySegment x, MemorySegment out) {
        segments(Op.FORWARD, x, out);
    }

    // ------------------------------------------------------------------ top latents

    /**
     * The most active latents of one input, strongest first (ties by lower index); only active latents are listed.
     *
     * @param x one input vector of {@link #inputDim()} values
     * @param k how many at most (≥ 1)
     * @return up to {@code k} latents with activation &gt; 0
     */
    public List<Latent> topLatents(float[] x, int k) {
        return topOf(encode(x), k);
    }

    /**
     * The most active latents of every input of a batch.
     *
     * @param x rows of {@link #inputDim()} values
     * @param k how many per row at most (≥ 1)
     * @return per row, up to {@code k} active latents, strongest first
     */
    public List<List<Latent>> topLatents(float[][] x, int k) {
        float[][] codes = encode(x);
        List<List<Latent>> out = new ArrayList<>(codes.length);
        for (float[] row : codes) {
            out.add(topOf(row, k));
        }
        return out;
    }

    private static List<Latent> topOf(float[] f, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        List<Latent> active = new ArrayList<>();
        for (int i = 0; i < f.length; i++) {
            if (f[i] > 0) {
                active.add(new Latent(i, f[i]));
            }
        }
        active.sort((a, b) -> a.activation() != b.activation() ? Float.compare(b.activation(), a.activation())
                : Integer.compare(a.index(), b.index()));
        return List.copyOf(active.subList(0, Math.min(k, active.size())));
    }

    // ------------------------------------------------------------------ lifecycle

    /** Frees the engine memory and threads; further calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                inference.close();
            } finally {
                engine.close();
            }
        }
    }

    /** The canonical weights the engine runs (for {@link Evaluation}). */
    SaeWeights weights() {
        return weights;
    }

    /** The loader's view: weights plus per-token normalisation (for {@link Evaluation}). */
    SaeLoader.Loaded loaded() {
        return loaded;
    }

    /** This SAE's engine; callers hold this object's lock while they use it. */
    Engine engine() {
        checkOpen();
        return engine;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this Sae is closed");
        }
    }

    // ------------------------------------------------------------------ the one compute path

    private synchronized float[] compute(Op op, float[] in, int rows) {
        checkOpen();
        int inCols = inCols(op);
        int outCols = outCols(op);
        float[] out = new float[rows * outCols];
        for (int start = 0; start < rows; start += CHUNK_ROWS) {
            int count = Math.min(CHUNK_ROWS, rows - start);
            float[] chunk = new float[count * inCols];
            System.arraycopy(in, start * inCols, chunk, 0, chunk.length);
            double[][] affine = op == Op.DECODE ? null : normalizeRows(chunk, count);
            float[] result;
            try (Tensor t = engine.allocF32(count, inCols)) {
                engine.upload(t, chunk);
                switch (op) {
                    case ENCODE -> inference.encode(t);
                    case DECODE -> inference.decode(t);
                    case FORWARD -> inference.forward(t);
                }
                if (op == Op.ENCODE) {
                    result = inference.codesToHost();
                } else {
                    result = new float[count * outCols];
                    engine.download(inference.reconstruction(), result);
                }
            }
            if (op == Op.FORWARD && affine != null) {
                denormalizeRows(result, count, affine);
            }
            System.arraycopy(result, 0, out, start * outCols, count * outCols);
        }
        return out;
    }

    /**
     * Applies the per-token normalisation in place; returns per row {shift, outScale} to undo it on x̂, or null when
     * the SAE has none.
     */
    private double[][] normalizeRows(float[] x, int rows) {
        SaeLoader.Normalization norm = loaded.normalization();
        if (norm == SaeLoader.Normalization.NONE) {
            return null;
        }
        int d = inputDim();
        double[][] affine = new double[rows][];
        for (int r = 0; r < rows; r++) {
            int base = r * d;
            double shift = 0;
            double inScale;
            double outScale;
            if (norm == SaeLoader.Normalization.CONSTANT_NORM_RESCALE) {
                double sq = 0;
                for (int j = 0; j < d; j++) {
                    sq += (double) x[base + j] * x[base + j];
                }
                inScale = Math.sqrt(d) / Math.sqrt(sq);
                outScale = 1 / inScale;
            } else {
                for (int j = 0; j < d; j++) {
                    shift += x[base + j];
                }
                shift /= d;
                double sq = 0;
                for (int j = 0; j < d; j++) {
                    double c = x[base + j] - shift;
                    sq += c * c;
                }
                double std = Math.sqrt(sq / (d - 1)); // torch.std: Bessel's correction
                inScale = 1 / (std + LAYER_NORM_EPS);
                outScale = std;
            }
            for (int j = 0; j < d; j++) {
                x[base + j] = (float) ((x[base + j] - shift) * inScale);
            }
            affine[r] = new double[] {shift, outScale};
        }
        return affine;
    }

    private void denormalizeRows(float[] xhat, int rows, double[][] affine) {
        int d = inputDim();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                xhat[r * d + j] = (float) (xhat[r * d + j] * affine[r][1] + affine[r][0]);
            }
        }
    }

    // ------------------------------------------------------------------ host shapes

    private static float[] checkRow(float[] v, int cols, String name) {
        Objects.requireNonNull(v, name);
        if (v.length != cols) {
            throw new IllegalArgumentException(name + " has " + v.length + " values, expected " + cols);
        }
        return v;
    }

    private static float[] flatten(float[][] rows, int cols, String name) {
        Objects.requireNonNull(rows, name);
        float[] flat = new float[Math.multiplyExact(rows.length, cols)];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != cols) {
                throw new IllegalArgumentException(name + "[" + r + "] has "
                        + (rows[r] == null ? "no" : rows[r].length) + " values, expected " + cols);
            }
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return flat;
    }

    private static float[][] split(float[] flat, int cols) {
        float[][] rows = new float[flat.length / cols][];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = java.util.Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return rows;
    }

    private int inCols(Op op) {
        return op == Op.DECODE ? width() : inputDim();
    }

    private int outCols(Op op) {
        return op == Op.ENCODE ? width() : inputDim();
    }

    private int rowsOf(long values, Op op, String what) {
        int cols = inCols(op);
        if (values % cols != 0 || values / cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " holds " + values + " values, not whole rows of " + cols);
        }
        return (int) (values / cols);
    }

    private void buffers(Op op, FloatBuffer in, FloatBuffer out) {
        int rows = rowsOf(in.remaining(), op, "input buffer");
        float[] x = new float[in.remaining()];
        in.get(in.position(), x);
        float[] y = compute(op, x, rows);
        if (out.remaining() < y.length) {
            throw new IllegalArgumentException("output buffer has " + out.remaining() + " values left, needs "
                    + y.length + " (" + rows + " rows of " + outCols(op) + ")");
        }
        out.put(out.position(), y);
    }

    private void segments(Op op, MemorySegment in, MemorySegment out) {
        if (in.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException("input segment of " + in.byteSize() + " bytes is not float32 values");
        }
        int rows = rowsOf(in.byteSize() / Float.BYTES, op, "input segment");
        float[] x = new float[rows * inCols(op)];
        MemorySegment.copy(in, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, x, 0, x.length);
        float[] y = compute(op, x, rows);
        if (out.byteSize() < (long) y.length * Float.BYTES) {
            throw new IllegalArgumentException("output segment has " + out.byteSize() + " bytes, needs "
                    + (long) y.length * Float.BYTES + " (" + rows + " rows of " + outCols(op) + " float32)");
        }
        MemorySegment.copy(y, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, y.length);
    }
}
