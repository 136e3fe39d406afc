package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;

/**
 * Runs an exported SAE ({@link SaeWeights}, SAELens semantics, raw activations) on an engine, for evaluation:
 * h = (x − b_dec)·W_enc + b_enc; standard f = ReLU(h); topk f = ReLU(TopK_k(h)); jumprelu f = ReLU(h)·1[h &gt; θ];
 * x̂ = f·W_dec + b_dec. {@link #run} returns the per-batch sums eval needs; after it (or {@link #forward}),
 * {@link #reconstruction()} holds x̂ and {@link #codesToHost()} gives the dense codes ({@link #encode} alone fills the
 * codes, {@link #decode} alone the reconstruction).
 *
 * <p>jumprelu runs on the engine's {@code jumpRelu(h, log θ)}: θ ≤ 0 becomes log θ = −∞ (so f = ReLU(h), as SAELens),
 * and exp(log θ) may differ from θ in the last float bit — only inputs within one ulp of a threshold can differ.
 */
public final class SaeInference implements AutoCloseable {
    private final Engine engine;
    private final SaeWeights weights;
    private final int d;
    private final int n;
    private final Tensor wEnc;
    private final Tensor bEnc;
    private final Tensor wDec;
    private final Tensor bDec;
    private final Tensor logTheta;
    private final Tensor colD;
    private final Tensor colN;
    private final Tensor fires;
    private Workspace ws;

    /** Tensors sized for one batch size; replaced when the batch size changes. */
    private record Workspace(int rows, Tensor xc, Tensor h, Tensor f, Tensor xhat, Tensor diff, Tensor ones,
                             Tensor rowsA, Tensor rowsB, Tensor rowsC, SparseCodes codes) implements AutoCloseable {
        @Override
        public void close() {
            xc.close();
            h.close();
            f.close();
            xhat.close();
            diff.close();
            ones.close();
            rowsA.close();
            rowsB.close();
            rowsC.close();
            if (codes != null) {
                codes.close();
            }
        }
    }

    public SaeInference(Engine engine, SaeWeights w) {
        String arch = w.architecture();
        if (!arch.equals("standard") && !arch.equals("topk") && !arch.equals("jumprelu")) {
            throw new IllegalArgumentException("unknown SAE architecture '" + arch + "'");
        }
        if (arch.equals("jumprelu") && w.threshold() == null) {
            throw new IllegalArgumentException("jumprelu SAE without threshold");
        }
        if (arch.equals("topk") && (w.k() < 1 || w.k() > w.dSae())) {
            throw new IllegalArgumentException("topk SAE with k = " + w.k());
        }
        this.engine = engine;
        this.weights = w;
        this.d = w.dIn();
        this.n = w.dSae();
        float[] enc = new float[n * d];
        for (int j = 0; j < d; j++) {
            for (int i = 0; i < n; i++) {
                enc[i * d + j] = w.wEnc()[j * n + i];
            }
        }
        wEnc = upload(n, d, enc);
        bEnc = upload(1, n, w.bEnc());
        wDec = upload(n, d, w.wDec());
        bDec = upload(1, d, w.bDec());
        if (arch.equals("jumprelu")) {
            float[] lt = new float[n];
            for (int i = 0; i < n; i++) {
                float t = w.threshold()[i];
                lt[i] = t > 0 ? (float) Math.log(t) : Float.NEGATIVE_INFINITY;
            }
            logTheta = upload(1, n, lt);
        } else {
            logTheta = null;
        }
        colD = engine.allocF32(1, d);
        colN = engine.allocF32(1, n);
        fires = engine.allocI32(1, n);
    }

    private Tensor upload(int rows, int cols, float[] data) {
        Tensor t = engine.allocF32(rows, cols);
        engine.upload(t, data);
        return t;
    }

    public SaeWeights weights() {
        return weights;
    }

    private Workspace workspace(int rows) {
        if (ws == null || ws.rows() != rows) {
            if (ws != null) {
                ws.close();
            }
            Tensor ones = engine.allocF32(rows, 1);
            engine.fill(ones, 1f);
            SparseCodes codes = weights.architecture().equals("topk")
                    ? SparseCodes.allocate(engine, rows, rows * weights.k()) : null;
            ws = new Workspace(rows, engine.allocF32(rows, d), engine.allocF32(rows, n), engine.allocF32(rows, n),
                    engine.allocF32(rows, d), engine.allocF32(rows, d), ones, engine.allocF32(1, rows),
                    engine.allocF32(1, rows), engine.allocF32(1, rows), codes);
        }
        return ws;
    }

    /**
     * Codes of raw activations x [B, d_in], kept in the workspace: dense f [B, d_sae], or TopK's sparse codes.
     * {@link #codesToHost()} reads them; {@link #forward} and {@link #run} decode them.
     */
    public void encode(Tensor x) {
        if (x.cols() != d) {
            throw new IllegalArgumentException("batch has " + x.cols() + " columns, SAE d_in is " + d);
        }
        Workspace w = workspace(x.rows());
        engine.encodePre(x, bDec, wEnc, bEnc, w.xc(), w.h());
        if (w.codes() != null) {
            engine.topK(w.h(), weights.k(), null, w.codes());
        } else if (logTheta != null) {
            engine.jumpRelu(w.h(), logTheta, w.f());
        } else {
            engine.relu(w.h(), w.f());
        }
    }

    /** Encodes x [B, d_in] and decodes its codes: afterwards {@link #reconstruction()} holds x̂. */
    public void forward(Tensor x) {
        encode(x);
        Workspace w = ws;
        if (w.codes() != null) {
            engine.sparseDecode(w.codes(), wDec, bDec, w.xhat());
        } else {
            decodeDense(w.f(), w);
        }
    }

    /** x̂ = f·W_dec + b_dec of dense codes f [B, d_sae] into {@link #reconstruction()} (any architecture). */
    public void decode(Tensor f) {
        if (f.cols() != n) {
            throw new IllegalArgumentException("codes have " + f.cols() + " columns, SAE d_sae is " + n);
        }
        decodeDense(f, workspace(f.rows()));
    }

    private void decodeDense(Tensor f, Workspace w) {
        engine.gemm(false, false, 1f, w.ones(), bDec, 0f, w.xhat());
        engine.gemm(false, false, 1f, f, wDec, 1f, w.xhat());
    }

    /** Forward on raw activations x [B, d_in]; returns the batch's sums. */
    public InferenceSums run(Tensor x) {
        forward(x);
        int rows = x.rows();
        Workspace w = ws;
        engine.upload(fires, new int[n]);
        long l0;
        double l1;
        if (w.codes() != null) {
            engine.countFiresSparse(w.codes(), fires);
            l0 = engine.countPositive(w.codes().val());
            float[] val = new float[rows * weights.k()];
            engine.download(w.codes().val(), val);
            double s = 0;
            for (float v : val) {
                s += v;
            }
            l1 = s;
        } else {
            engine.countFires(w.f(), fires);
            l0 = engine.countPositive(w.f());
            engine.colSum(w.f(), 1f, colN, false);
            l1 = sum(colN, n);
        }
        engine.residual(w.xhat(), x, w.diff());
        double sqErr = engine.sumSquares(w.diff());
        double sumSqX = engine.sumSquares(x);
        double sumSqXhat = engine.sumSquares(w.xhat());
        engine.colSum(x, 1f, colD, false);
        float[] sx = new float[d];
        engine.download(colD, sx);
        double[] sumX = new double[d];
        for (int j = 0; j < d; j++) {
            sumX[j] = sx[j];
        }
        // cos via ⟨x, x̂⟩ = (‖x‖² + ‖x̂‖² − ‖x − x̂‖²)/2, from three row sums of squares
        engine.rowSumSquares(x, w.rowsA());
        engine.rowSumSquares(w.xhat(), w.rowsB());
        engine.rowSumSquares(w.diff(), w.rowsC());
        float[] a = new float[rows], b = new float[rows], c = new float[rows];
        engine.download(w.rowsA(), a);
        engine.download(w.rowsB(), b);
        engine.download(w.rowsC(), c);
        double cos = 0;
        for (int r = 0; r < rows; r++) {
            double denom = Math.sqrt((double) a[r] * b[r]);
            if (denom > 0) {
                cos += ((double) a[r] + b[r] - c[r]) / 2 / denom;
            }
        }
        int[] fi = new int[n];
        engine.download(fires, fi);
        long[] fl = new long[n];
        for (int i = 0; i < n; i++) {
            fl[i] = fi[i];
        }
        return new InferenceSums(rows, sqErr, sumX, sumSqX, sumSqXhat, cos, l0, l1, fl);
    }

    private double sum(Tensor t, int size) {
        float[] v = new float[size];
        engine.download(t, v);
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    /** x̂ [B, d_in] of the last {@link #run}, {@link #forward} or {@link #decode}. */
    public Tensor reconstruction() {
        if (ws == null) {
            throw new IllegalStateException("run() first");
        }
        return ws.xhat();
    }

    /** Dense codes [B·d_sae] of the last {@link #run}, {@link #forward} or {@link #encode}, row-major (TopK's sparse codes scattered on the host). */
    public float[] codesToHost() {
        if (ws == null) {
            throw new IllegalStateException("run() first");
        }
        int rows = ws.rows();
        float[] out = new float[rows * n];
        if (ws.codes() == null) {
            engine.download(ws.f(), out);
            return out;
        }
        int cap = rows * weights.k();
        int[] ptr = new int[rows + 1];
        int[] idx = new int[cap];
        float[] val = new float[cap];
        engine.download(ws.codes().rowPtr(), ptr);
        engine.download(ws.codes().idx(), idx);
        engine.download(ws.codes().val(), val);
        for (int r = 0; r < rows; r++) {
            for (int j = ptr[r]; j < ptr[r + 1]; j++) {
                out[r * n + idx[j]] = val[j];
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (ws != null) {
            ws.close();
        }
        wEnc.close();
        bEnc.close();
        wDec.close();
        bDec.close();
        if (logTheta != null) {
            logTheta.close();
        }
        colD.close();
        colN.close();
        fires.close();
    }
}
