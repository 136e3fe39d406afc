package dev.atmsae.engine.cpu;

import dev.atmsae.engine.ActiveEntryKernels;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.atmsae.engine.cpu.Vec.geti;

/**
 * The reference engine: tensors are off-heap segments, dense products go to OpenBLAS through FFM (the build bundled
 * from Maven by default, another one via {@code ATMSAE_BLAS}; see {@link OpenBlasLibrary}) or to a pure-Java sgemm
 * ({@link JavaGemm}; {@code ATMSAE_BLAS=java}, {@code forcePureJava}, or no bundled jar), every other kernel is Java
 * with the Vector API in the inner loops, run on a fixed pool of {@code threads} threads.
 *
 * <p>Guarantee: for given inputs, every kernel's results are bitwise identical for any thread count, on any CPU, with
 * each BLAS choice (two choices, or two CPUs, may round differently from each other; resume needs only the same
 * machine and library to give the same bits). By design, not by luck of a kernel: work is cut into pieces whose shapes
 * depend only on the problem shape, each output element belongs to one piece and is computed in a fixed operation
 * order (see {@link Vec}); dense products are cut into output tiles that each run as one single-threaded BLAS call
 * ({@link TiledGemm}; the inner dimension is never split); whole-tensor reductions sum fixed blocks in block order;
 * selections merge integer counts. Not thread-safe: one caller at a time.
 */
public final class CpuEngine implements Engine, ActiveEntryKernels {
    private final int threads;
    private final WorkerPool pool;
    private final WorkerScratch[] scratch;
    private final TiledGemm tiledGemm;
    private final ElementwiseKernels elementwise;
    private final RowKernels rowKernels;
    private final ColumnKernels columnKernels;
    private final TopKSelection topK;
    private final BatchTopKSelection batchTopK;
    private final SparseKernels sparse;
    private final AtmMasking atmMasking;
    private final PrefixKernels prefix;
    private final ActiveEntries activeEntries;
    private float[] theta = new float[0];
    private long tensorsAllocated;
    private long bytesAllocated;
    private boolean closed;

    /** An engine on all available processors, with the BLAS {@code ATMSAE_BLAS} picks (bundled OpenBLAS by default). */
    public CpuEngine() {
        this(Runtime.getRuntime().availableProcessors(), false);
    }

    /**
     * @param threads       worker threads (≥ 1) for the Java kernels and the product tiles
     * @param forcePureJava use the pure-Java BLAS whatever {@code ATMSAE_BLAS} says
     */
    public CpuEngine(int threads, boolean forcePureJava) {
        this(threads, forcePureJava, false);
    }

    /** {@code splitSmallLoops}: split every loop across all threads however small (for tests). */
    CpuEngine(int threads, boolean forcePureJava, boolean splitSmallLoops) {
        if (threads < 1) {
            throw new IllegalArgumentException("CPU engine needs at least 1 thread, got " + threads);
        }
        // The BLAS first: a bad ATMSAE_BLAS throws before any worker thread starts.
        OpenBlasLibrary.Choice choice = forcePureJava ? new OpenBlasLibrary.Choice(null, "forced by the caller")
                : OpenBlasLibrary.choose();
        DenseBlas blas = choice.library() != null ? new OpenBlas(choice.library())
                : new JavaGemm(choice.pureJavaReason());
        this.threads = threads;
        this.pool = new WorkerPool(threads, splitSmallLoops);
        this.scratch = WorkerScratch.forThreads(threads);
        this.tiledGemm = new TiledGemm(pool, blas);
        this.elementwise = new ElementwiseKernels(pool);
        this.rowKernels = new RowKernels(pool);
        this.columnKernels = new ColumnKernels(pool, scratch);
        this.topK = new TopKSelection(pool, scratch);
        this.batchTopK = new BatchTopKSelection(pool, scratch);
        this.sparse = new SparseKernels(pool);
        this.atmMasking = new AtmMasking(pool, scratch);
        this.prefix = new PrefixKernels(pool);
        this.activeEntries = new ActiveEntries(pool);
    }

    /** Whether dense products use OpenBLAS (false: the pure-Java fallback). */
    public boolean usesOpenBlas() {
        return tiledGemm.blas() instanceof OpenBlas;
    }

    public int threads() {
        return threads;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String describe() {
        return "cpu: " + tiledGemm.blas().describe() + ", " + threads + (threads == 1 ? " thread" : " threads")
                + ", Vector API " + Vec.L + " float lanes";
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Tensor allocF32(int rows, int cols) {
        return counted(new CpuTensor(rows, cols, Tensor.DType.F32));
    }

    @Override
    public Tensor allocI32(int rows, int cols) {
        return counted(new CpuTensor(rows, cols, Tensor.DType.I32));
    }

    private CpuTensor counted(CpuTensor t) {
        tensorsAllocated++;
        bytesAllocated += t.bytes();
        return t;
    }

    /** Tensors allocated through this engine so far (a steady-state training step allocates none). */
    public long tensorsAllocated() {
        return tensorsAllocated;
    }

    /** Off-heap bytes allocated through this engine so far. */
    public long bytesAllocated() {
        return bytesAllocated;
    }

    @Override
    public void upload(Tensor dst, MemorySegment src) {
        CpuTensor t = cpu(dst, "dst");
        if (src.byteSize() < t.bytes()) {
            throw new IllegalArgumentException("upload: source has " + src.byteSize() + " bytes, tensor needs "
                    + t.bytes());
        }
        MemorySegment.copy(src, 0, t.segment(), 0, t.bytes());
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        CpuTensor t = f32(dst, "dst");
        checkLength(src.length, t, "upload");
        MemorySegment.copy(src, 0, t.segment(), ValueLayout.JAVA_FLOAT, 0, (int) t.size());
    }

    @Override
    public void upload(Tensor dst, int[] src) {
        CpuTensor t = i32(dst, "dst");
        checkLength(src.length, t, "upload");
        MemorySegment.copy(src, 0, t.segment(), ValueLayout.JAVA_INT, 0, (int) t.size());
    }

    @Override
    public void download(Tensor src, float[] dst) {
        CpuTensor t = f32(src, "src");
        checkLength(dst.length, t, "download");
        MemorySegment.copy(t.segment(), ValueLayout.JAVA_FLOAT, 0, dst, 0, (int) t.size());
    }

    @Override
    public void download(Tensor src, int[] dst) {
        CpuTensor t = i32(src, "src");
        checkLength(dst.length, t, "download");
        MemorySegment.copy(t.segment(), ValueLayout.JAVA_INT, 0, dst, 0, (int) t.size());
    }

    private static void checkLength(int length, CpuTensor t, String what) {
        if (length < t.size()) {
            throw new IllegalArgumentException(what + ": array of " + length + " for a tensor of " + t.size());
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuTensor s = cpu(src, "src");
        CpuTensor d = cpu(dst, "dst");
        if (s.dtype() != d.dtype() || s.size() != d.size()) {
            throw new IllegalArgumentException("copy: " + s + " into " + d);
        }
        MemorySegment.copy(s.segment(), 0, d.segment(), 0, s.bytes());
    }

    @Override
    public void fill(Tensor t, float value) {
        CpuTensor c = f32(t, "t");
        elementwise.fill(c.segment(), size(c), value);
    }

    @Override
    public void synchronize() {
        // kernels run synchronously on the CPU
    }

    // ---------------------------------------------------------------- dense linear algebra

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        CpuTensor ta = f32(a, "a");
        CpuTensor tb = f32(b, "b");
        CpuTensor tc = f32(c, "c");
        int m = transA ? ta.cols() : ta.rows();
        int k = transA ? ta.rows() : ta.cols();
        int kb = transB ? tb.cols() : tb.rows();
        int n = transB ? tb.rows() : tb.cols();
        if (k != kb || tc.rows() != m || tc.cols() != n) {
            throw new IllegalArgumentException("gemm: op(a) " + m + "x" + k + " · op(b) " + kb + "x" + n
                    + " into c " + tc.rows() + "x" + tc.cols());
        }
        if (k == 0) { // an empty sum: C = beta·C, with BLAS's convention that beta = 0 ignores C
            if (beta == 0f) {
                elementwise.fill(tc.segment(), size(tc), 0f);
            } else {
                elementwise.scale(tc.segment(), size(tc), beta);
            }
            return;
        }
        tiledGemm.sgemm(transA, transB, m, n, k, alpha, ta, tb, beta, tc);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        CpuTensor tx = f32(x, "x");
        CpuTensor ty = f32(y, "y");
        sameShape(tx, ty, "axpy");
        elementwise.axpy(alpha, tx.segment(), ty.segment(), size(tx));
    }

    @Override
    public void scale(Tensor t, float alpha) {
        CpuTensor c = f32(t, "t");
        elementwise.scale(c.segment(), size(c), alpha);
    }

    @Override
    public void colSum(Tensor a, float alpha, Tensor out, boolean accumulate) {
        CpuTensor ta = f32(a, "a");
        CpuTensor to = f32(out, "out");
        shape(to, 1, ta.cols(), "colSum out");
        columnKernels.colSum(ta.segment(), ta.rows(), ta.cols(), alpha, to.segment(), accumulate);
    }

    @Override
    public void rowSumSquares(Tensor w, Tensor out) {
        CpuTensor tw = f32(w, "w");
        CpuTensor to = f32(out, "out");
        shape(to, 1, tw.rows(), "rowSumSquares out");
        rowKernels.rowSumSquares(tw.segment(), to.segment(), tw.rows(), tw.cols());
    }

    @Override
    public double sumSquares(Tensor t) {
        CpuTensor c = f32(t, "t");
        return rowKernels.sumSquares(c.segment(), c.size());
    }

    // ---------------------------------------------------------------- encode

    @Override
    public void encodePre(Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor xc, Tensor h) {
        CpuTensor tx = f32(x, "x");
        CpuTensor tbDec = f32(bDec, "bDec");
        CpuTensor tw = f32(wEnc, "wEnc");
        CpuTensor tbEnc = f32(bEnc, "bEnc");
        CpuTensor txc = f32(xc, "xc");
        CpuTensor th = f32(h, "h");
        int rows = tx.rows();
        int d = tx.cols();
        int n = tw.rows();
        shape(tbDec, 1, d, "encodePre bDec");
        shape(tw, n, d, "encodePre wEnc");
        shape(tbEnc, 1, n, "encodePre bEnc");
        shape(txc, rows, d, "encodePre xc");
        shape(th, rows, n, "encodePre h");
        elementwise.broadcastRow(tx.segment(), tbDec.segment(), false, txc.segment(), rows, d);
        elementwise.repeatRow(tbEnc.segment(), th.segment(), rows, n);
        gemm(false, true, 1f, txc, tw, 1f, th);
    }

    @Override
    public void relu(Tensor h, Tensor f) {
        CpuTensor th = f32(h, "h");
        CpuTensor tf = f32(f, "f");
        sameShape(th, tf, "relu");
        elementwise.relu(th.segment(), tf.segment(), size(th));
    }

    @Override
    public void jumpRelu(Tensor h, Tensor logTheta, Tensor f) {
        CpuTensor th = f32(h, "h");
        CpuTensor tf = f32(f, "f");
        sameShape(th, tf, "jumpRelu");
        float[] thresholds = thresholds(logTheta, th.cols());
        elementwise.jumpRelu(th.segment(), thresholds, tf.segment(), th.rows(), th.cols());
    }

    /** θ_i = exp(logTheta_i), rounded once from float64, into reusable scratch. */
    private float[] thresholds(Tensor logTheta, int n) {
        CpuTensor t = f32(logTheta, "logTheta");
        shape(t, 1, n, "logTheta");
        if (theta.length < n) {
            theta = new float[n];
        }
        MemorySegment s = t.segment();
        for (int i = 0; i < n; i++) {
            theta[i] = (float) Math.exp(Vec.get(s, i));
        }
        return theta;
    }

    @Override
    public void topK(Tensor h, int k, Tensor allow, SparseCodes codes) {
        CpuTensor th = f32(h, "h");
        int rows = th.rows();
        int n = th.cols();
        checkCodes(codes, rows);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topK: k = " + k + " outside [0, " + n + "]");
        }
        if ((long) rows * k > codes.capacity()) {
            throw new IllegalArgumentException("topK: " + rows + "·" + k + " entries exceed capacity "
                    + codes.capacity());
        }
        MemorySegment allowSeg = null;
        if (allow != null) {
            CpuTensor ta = i32(allow, "allow");
            shape(ta, 1, n, "topK allow");
            allowSeg = ta.segment();
            int allowed = 0;
            for (int i = 0; i < n; i++) {
                if (geti(allowSeg, i) != 0) {
                    allowed++;
                }
            }
            if (allowed < k) {
                throw new IllegalArgumentException("topK: k = " + k + " but only " + allowed + " latents allowed");
            }
        }
        topK.topK(th.segment(), rows, n, k, allowSeg, seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()));
    }

    @Override
    public float batchTopK(Tensor h, int kTotal, SparseCodes codes) {
        CpuTensor th = f32(h, "h");
        checkCodes(codes, th.rows());
        if (kTotal < 0 || kTotal > codes.capacity()) {
            throw new IllegalArgumentException("batchTopK: kTotal = " + kTotal + " outside [0, capacity "
                    + codes.capacity() + "]");
        }
        return batchTopK.select(th.segment(), th.rows(), th.cols(), kTotal, seg(codes.rowPtr()), seg(codes.idx()),
                seg(codes.val()));
    }

    // ---------------------------------------------------------------- decode

    @Override
    public void sparseDecode(SparseCodes codes, Tensor wDec, Tensor bDec, Tensor xhat) {
        CpuTensor tw = f32(wDec, "wDec");
        CpuTensor tx = f32(xhat, "xhat");
        int d = tw.cols();
        checkCodes(codes, tx.rows());
        shape(tx, codes.batch(), d, "sparseDecode xhat");
        MemorySegment bias = optionalRow(bDec, d, "bDec", "sparseDecode bDec");
        checkEntries(codes, tw.rows());
        sparse.decode(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(), tw.segment(), bias,
                tx.segment(), d);
    }

    @Override
    public void sparseDecodeBackward(SparseCodes codes, Tensor gXhat, Tensor wDec, Tensor gVal, Tensor gWDec) {
        CpuTensor tg = f32(gXhat, "gXhat");
        CpuTensor tw = f32(wDec, "wDec");
        CpuTensor tgv = f32(gVal, "gVal");
        CpuTensor tgw = f32(gWDec, "gWDec");
        int n = tw.rows();
        int d = tw.cols();
        checkCodes(codes, tg.rows());
        shape(tg, codes.batch(), d, "sparseDecodeBackward gXhat");
        shape(tgv, 1, codes.capacity(), "sparseDecodeBackward gVal");
        shape(tgw, n, d, "sparseDecodeBackward gWDec");
        sparse.decodeBackward(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(),
                codes.capacity(), tg.segment(), tw.segment(), n, d, tgv.segment(), tgw.segment());
    }

    @Override
    public void sparseEncoderBackward(SparseCodes codes, Tensor gPre, Tensor xc, Tensor gWEnc, Tensor gBEnc) {
        CpuTensor tgp = f32(gPre, "gPre");
        CpuTensor txc = f32(xc, "xc");
        CpuTensor tgw = f32(gWEnc, "gWEnc");
        CpuTensor tgb = f32(gBEnc, "gBEnc");
        int n = tgw.rows();
        int d = tgw.cols();
        checkCodes(codes, txc.rows());
        shape(tgp, 1, codes.capacity(), "sparseEncoderBackward gPre");
        shape(txc, codes.batch(), d, "sparseEncoderBackward xc");
        shape(tgb, 1, n, "sparseEncoderBackward gBEnc");
        sparse.encoderBackward(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(),
                codes.capacity(), tgp.segment(), txc.segment(), n, d, tgw.segment(), tgb.segment());
    }

    @Override
    public void sparseReluMask(SparseCodes codes, Tensor gVal) {
        CpuTensor tgv = f32(gVal, "gVal");
        checkCodes(codes, codes.batch());
        shape(tgv, 1, codes.capacity(), "sparseReluMask gVal");
        sparse.reluMask(seg(codes.val()), tgv.segment(), codes.capacity());
    }

    @Override
    public void residual(Tensor xhat, Tensor x, Tensor err) {
        CpuTensor th = f32(xhat, "xhat");
        CpuTensor tx = f32(x, "x");
        CpuTensor te = f32(err, "err");
        sameShape(th, tx, "residual");
        sameShape(th, te, "residual");
        elementwise.subtract(th.segment(), tx.segment(), te.segment(), size(th));
    }

    // ---------------------------------------------------------------- Matryoshka prefixes

    @Override
    public void splitRowsAtGroups(SparseCodes codes, Tensor groupEnds, Tensor rowPtrOut) {
        CpuTensor te = i32(groupEnds, "groupEnds");
        CpuTensor to = i32(rowPtrOut, "rowPtrOut");
        checkCodes(codes, codes.batch());
        int groups = te.cols();
        shape(te, 1, groups, "splitRowsAtGroups groupEnds");
        shape(to, 1, codes.batch() * groups + 1, "splitRowsAtGroups rowPtrOut");
        for (int m = 1; m < groups; m++) {
            if (geti(te.segment(), m) <= geti(te.segment(), m - 1)) {
                throw new IllegalArgumentException("splitRowsAtGroups: groupEnds not strictly increasing at " + m);
            }
        }
        prefix.splitRows(seg(codes.rowPtr()), seg(codes.idx()), codes.batch(), te.segment(), groups, to.segment());
    }

    @Override
    public void prefixResiduals(Tensor contrib, Tensor xc, Tensor fullErr) {
        CpuTensor tc = f32(contrib, "contrib");
        CpuTensor tx = f32(xc, "xc");
        CpuTensor tf = f32(fullErr, "fullErr");
        sameShape(tx, tf, "prefixResiduals xc/fullErr");
        int groups = groupsOf(tc, tx, "prefixResiduals");
        prefix.prefixResiduals(tc.segment(), tx.segment(), tf.segment(), tx.rows(), groups, tx.cols());
    }

    @Override
    public void weightedSuffixSum(Tensor prefixErr, Tensor weights, Tensor out) {
        CpuTensor te = f32(prefixErr, "prefixErr");
        CpuTensor tw = f32(weights, "weights");
        CpuTensor to = f32(out, "out");
        sameShape(te, to, "weightedSuffixSum");
        int groups = tw.cols();
        shape(tw, 1, groups, "weightedSuffixSum weights");
        if (groups < 1 || te.rows() % groups != 0) {
            throw new IllegalArgumentException("weightedSuffixSum: " + te.rows() + " rows are not B·" + groups);
        }
        prefix.weightedSuffixSum(te.segment(), tw.segment(), to.segment(), te.rows() / groups, groups, te.cols());
    }

    /** M for a [B·M, d] tensor beside a [B, d] one. */
    private static int groupsOf(CpuTensor stacked, CpuTensor perRow, String what) {
        if (stacked.cols() != perRow.cols() || perRow.rows() < 1 || stacked.rows() % perRow.rows() != 0
                || stacked.rows() == 0) {
            throw new IllegalArgumentException(what + ": [" + stacked.rows() + ", " + stacked.cols()
                    + "] is not [B·M, d] for [" + perRow.rows() + ", " + perRow.cols() + "]");
        }
        return stacked.rows() / perRow.rows();
    }

    // ---------------------------------------------------------------- activation backward

    @Override
    public void reluBackward(Tensor f, Tensor gF, Tensor l1Grad, Tensor gH) {
        CpuTensor tf = f32(f, "f");
        CpuTensor tg = f32(gF, "gF");
        CpuTensor th = f32(gH, "gH");
        sameShape(tf, tg, "reluBackward");
        sameShape(tf, th, "reluBackward");
        MemorySegment l1 = optionalRow(l1Grad, tf.cols(), "l1Grad", "reluBackward l1Grad");
        elementwise.reluBackward(tf.segment(), tg.segment(), l1, th.segment(), tf.rows(), tf.cols());
    }

    @Override
    public void jumpReluBackward(Tensor h, Tensor logTheta, Tensor gF, float eps, float l0Coeff, Tensor gH,
                                 Tensor gLogTheta) {
        CpuTensor th = f32(h, "h");
        CpuTensor tg = f32(gF, "gF");
        CpuTensor tgh = f32(gH, "gH");
        CpuTensor tgl = f32(gLogTheta, "gLogTheta");
        sameShape(th, tg, "jumpReluBackward");
        sameShape(th, tgh, "jumpReluBackward");
        shape(tgl, 1, th.cols(), "jumpReluBackward gLogTheta");
        float[] thresholds = thresholds(logTheta, th.cols());
        columnKernels.jumpReluBackward(th.segment(), thresholds, tg.segment(), eps, l0Coeff, tgh.segment(),
                tgl.segment(), th.rows(), th.cols());
    }

    // ---------------------------------------------------------------- ATM

    @Override
    public void atmStats(Tensor f, Tensor eDotD, Tensor dNormSq, Tensor a, Tensor q, Tensor rho) {
        CpuTensor tf = f32(f, "f");
        CpuTensor te = f32(eDotD, "eDotD");
        int n = tf.cols();
        sameShape(tf, te, "atmStats");
        CpuTensor td = f32(dNormSq, "dNormSq");
        CpuTensor ta = f32(a, "a");
        CpuTensor tq = f32(q, "q");
        CpuTensor tr = f32(rho, "rho");
        shape(td, 1, n, "atmStats dNormSq");
        shape(ta, 1, n, "atmStats a");
        shape(tq, 1, n, "atmStats q");
        shape(tr, 1, n, "atmStats rho");
        columnKernels.atmStats(tf.segment(), te.segment(), td.segment(), tf.rows(), n, ta.segment(), tq.segment(),
                tr.segment());
    }

    @Override
    public void atmMask(Tensor f, Tensor p, long seed, long step, long rowOffset, Tensor fMasked) {
        CpuTensor tf = f32(f, "f");
        CpuTensor tp = f32(p, "p");
        CpuTensor tm = f32(fMasked, "fMasked");
        sameShape(tf, tm, "atmMask");
        shape(tp, 1, tf.cols(), "atmMask p");
        atmMasking.mask(tf.segment(), tp.segment(), seed, step, rowOffset, tm.segment(), tf.rows(), tf.cols());
    }

    @Override
    public void scaleColumns(Tensor t, Tensor s) {
        CpuTensor tt = f32(t, "t");
        CpuTensor ts = f32(s, "s");
        shape(ts, 1, tt.cols(), "scaleColumns s");
        elementwise.scaleColumns(tt.segment(), ts.segment(), tt.rows(), tt.cols());
    }

    @Override
    public void atmMaskSparse(SparseCodes codes, Tensor values, Tensor p, Tensor scale, long seed, long step,
                              long rowOffset, Tensor out) {
        checkCodes(codes, codes.batch());
        CpuTensor tv = f32(values, "values");
        CpuTensor tp = f32(p, "p");
        CpuTensor to = f32(out, "out");
        shape(tv, 1, codes.capacity(), "atmMaskSparse values");
        shape(to, 1, codes.capacity(), "atmMaskSparse out");
        checkEntries(codes, tp.cols());
        shape(tp, 1, tp.cols(), "atmMaskSparse p");
        MemorySegment scaleSeg = null;
        if (scale != null) {
            CpuTensor tsc = f32(scale, "scale");
            shape(tsc, 1, tp.cols(), "atmMaskSparse scale");
            scaleSeg = tsc.segment();
        }
        SparseAtmMasking.mask(pool, seg(codes.rowPtr()), seg(codes.idx()), codes.batch(), codes.capacity(),
                tv.segment(), tp.segment(), scaleSeg, seed, step, rowOffset, to.segment());
    }

    // ---------------------------------------------------------------- optimiser

    @Override
    public void adam(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                     long step, float gradScale) {
        CpuTensor tp = f32(param, "param");
        CpuTensor tg = f32(grad, "grad");
        CpuTensor tm = f32(m, "m");
        CpuTensor tv = f32(v, "v");
        sameShape(tp, tg, "adam");
        sameShape(tp, tm, "adam");
        sameShape(tp, tv, "adam");
        if (step < 1) {
            throw new IllegalArgumentException("adam: step must be ≥ 1, got " + step);
        }
        float c1 = (float) (1.0 - Math.pow(beta1, step));
        float c2 = (float) (1.0 - Math.pow(beta2, step));
        elementwise.adam(tp.segment(), tg.segment(), tm.segment(), tv.segment(), size(tp), lr, beta1, beta2, eps,
                c1, c2, gradScale);
    }

    @Override
    public void removeParallelComponent(Tensor w, Tensor gW) {
        CpuTensor tw = f32(w, "w");
        CpuTensor tg = f32(gW, "gW");
        sameShape(tw, tg, "removeParallelComponent");
        rowKernels.removeParallelComponent(tw.segment(), tg.segment(), tw.rows(), tw.cols());
    }

    @Override
    public void normalizeRows(Tensor w) {
        CpuTensor tw = f32(w, "w");
        rowKernels.normalizeRows(tw.segment(), tw.rows(), tw.cols());
    }

    // ---------------------------------------------------------------- metrics

    @Override
    public void countFires(Tensor f, Tensor fires) {
        CpuTensor tf = f32(f, "f");
        CpuTensor tc = i32(fires, "fires");
        shape(tc, 1, tf.cols(), "countFires fires");
        columnKernels.countFires(tf.segment(), tf.rows(), tf.cols(), tc.segment());
    }

    @Override
    public void countFiresSparse(SparseCodes codes, Tensor fires) {
        CpuTensor tc = i32(fires, "fires");
        checkCodes(codes, codes.batch());
        sparse.countFires(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(), tc.cols(),
                tc.segment());
    }

    @Override
    public long countPositive(Tensor t) {
        CpuTensor c = f32(t, "t");
        return rowKernels.countPositive(c.segment(), c.size());
    }

    // ---------------------------------------------------------------- active entries of dense codes

    @Override
    public long gatherActive(Tensor f, Tensor h, Tensor floor, SparseCodes codes) {
        CpuTensor tf = f32(f, "f");
        int rows = tf.rows();
        int n = tf.cols();
        checkCodes(codes, rows);
        MemorySegment floorSeg = optionalRow(floor, n, "floor", "gatherActive floor");
        MemorySegment key = tf.segment();
        if (floorSeg != null) {
            CpuTensor th = f32(h, "h");
            sameShape(tf, th, "gatherActive");
            key = th.segment();
        }
        return activeEntries.gather(tf.segment(), key, floorSeg, rows, n, seg(codes.rowPtr()), seg(codes.idx()),
                seg(codes.val()), codes.capacity());
    }

    @Override
    public void sampledDots(SparseCodes codes, Tensor a, Tensor w, float alpha, Tensor out) {
        CpuTensor ta = f32(a, "a");
        CpuTensor tw = f32(w, "w");
        CpuTensor to = f32(out, "out");
        checkCodes(codes, ta.rows());
        shape(tw, tw.rows(), ta.cols(), "sampledDots w");
        shape(to, 1, codes.capacity(), "sampledDots out");
        checkEntries(codes, tw.rows());
        sparse.sampledDots(seg(codes.rowPtr()), seg(codes.idx()), codes.batch(), codes.capacity(), ta.segment(),
                tw.segment(), ta.cols(), alpha, to.segment());
    }

    @Override
    public void sparseColSum(SparseCodes codes, Tensor out) {
        CpuTensor to = f32(out, "out");
        checkCodes(codes, codes.batch());
        checkEntries(codes, to.cols());
        activeEntries.colSum(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(), to.cols(),
                to.segment());
    }

    @Override
    public void sparseReluBackward(SparseCodes codes, Tensor l1Grad, Tensor gVal) {
        CpuTensor tg = f32(gVal, "gVal");
        checkCodes(codes, codes.batch());
        shape(tg, 1, codes.capacity(), "sparseReluBackward gVal");
        MemorySegment l1 = null;
        if (l1Grad != null) {
            CpuTensor tl = f32(l1Grad, "l1Grad");
            checkEntries(codes, tl.cols());
            l1 = optionalRow(l1Grad, tl.cols(), "l1Grad", "sparseReluBackward l1Grad");
        }
        activeEntries.reluBackward(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(),
                codes.capacity(), l1, tg.segment());
    }

    @Override
    public void sparseJumpReluBackward(SparseCodes codes, Tensor h, Tensor logTheta, float eps, float l0Coeff,
                                       Tensor gVal, Tensor gLogTheta) {
        CpuTensor th = f32(h, "h");
        CpuTensor tg = f32(gVal, "gVal");
        CpuTensor tgl = f32(gLogTheta, "gLogTheta");
        int n = th.cols();
        checkCodes(codes, th.rows());
        checkEntries(codes, n);
        shape(tg, 1, codes.capacity(), "sparseJumpReluBackward gVal");
        shape(tgl, 1, n, "sparseJumpReluBackward gLogTheta");
        float[] thresholds = thresholds(logTheta, n);
        activeEntries.jumpReluBackward(seg(codes.rowPtr()), seg(codes.idx()), codes.batch(), codes.capacity(),
                th.segment(), thresholds, n, eps, l0Coeff, tg.segment(), tgl.segment());
    }

    @Override
    public void sparseAtmStats(SparseCodes codes, Tensor eDotD, Tensor dNormSq, Tensor a, Tensor q, Tensor rho) {
        CpuTensor te = f32(eDotD, "eDotD");
        CpuTensor td = f32(dNormSq, "dNormSq");
        int n = td.cols();
        checkCodes(codes, codes.batch());
        checkEntries(codes, n);
        shape(te, 1, codes.capacity(), "sparseAtmStats eDotD");
        CpuTensor ta = f32(a, "a");
        CpuTensor tq = f32(q, "q");
        CpuTensor tr = f32(rho, "rho");
        shape(td, 1, n, "sparseAtmStats dNormSq");
        shape(ta, 1, n, "sparseAtmStats a");
        shape(tq, 1, n, "sparseAtmStats q");
        shape(tr, 1, n, "sparseAtmStats rho");
        activeEntries.atmStats(seg(codes.rowPtr()), seg(codes.idx()), seg(codes.val()), codes.batch(), te.segment(),
                td.segment(), n, ta.segment(), tq.segment(), tr.segment());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.close();
        }
    }

    // ---------------------------------------------------------------- checks

    private static CpuTensor cpu(Tensor t, String name) {
        if (t instanceof CpuTensor c) {
            return c;
        }
        throw new IllegalArgumentException(name + ": " + (t == null ? "null" : t.getClass().getSimpleName())
                + " is not a CPU engine tensor");
    }

    private static CpuTensor f32(Tensor t, String name) {
        CpuTensor c = cpu(t, name);
        if (c.dtype() != Tensor.DType.F32) {
            throw new IllegalArgumentException(name + ": expected F32, got " + c);
        }
        return c;
    }

    private static CpuTensor i32(Tensor t, String name) {
        CpuTensor c = cpu(t, name);
        if (c.dtype() != Tensor.DType.I32) {
            throw new IllegalArgumentException(name + ": expected I32, got " + c);
        }
        return c;
    }

    /** An optional F32 [1, cols] argument: null when absent, else its memory once dtype and shape are checked. */
    private static MemorySegment optionalRow(Tensor t, int cols, String name, String what) {
        if (t == null) {
            return null;
        }
        CpuTensor c = f32(t, name);
        shape(c, 1, cols, what);
        return c.segment();
    }

    private static MemorySegment seg(Tensor t) {
        return cpu(t, "sparse codes").segment();
    }

    private static int size(CpuTensor t) {
        return Math.toIntExact(t.size());
    }

    private static void shape(CpuTensor t, int rows, int cols, String what) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(what + ": expected [" + rows + ", " + cols + "], got [" + t.rows()
                    + ", " + t.cols() + "]");
        }
    }

    private static void sameShape(CpuTensor a, CpuTensor b, String what) {
        shape(b, a.rows(), a.cols(), what);
    }

    private static void checkCodes(SparseCodes codes, int batch) {
        if (codes.batch() != batch) {
            throw new IllegalArgumentException("sparse codes for " + codes.batch() + " rows used with " + batch);
        }
        shape(i32(codes.rowPtr(), "rowPtr"), 1, batch + 1, "sparse codes rowPtr");
        shape(i32(codes.idx(), "idx"), 1, codes.capacity(), "sparse codes idx");
        shape(f32(codes.val(), "val"), 1, codes.capacity(), "sparse codes val");
    }

    /** Every stored latent index lies in [0, n) and rowPtr is a valid prefix within capacity. */
    private static void checkEntries(SparseCodes codes, int n) {
        MemorySegment rowPtr = seg(codes.rowPtr());
        MemorySegment idx = seg(codes.idx());
        int total = geti(rowPtr, codes.batch());
        if (geti(rowPtr, 0) != 0 || total < 0 || total > codes.capacity()) {
            throw new IllegalArgumentException("sparse codes: rowPtr[B] = " + total + " outside [0, capacity "
                    + codes.capacity() + "]");
        }
        for (int b = 0; b < codes.batch(); b++) {
            if (geti(rowPtr, b + 1) < geti(rowPtr, b)) {
                throw new IllegalArgumentException("sparse codes: rowPtr not ascending at row " + b);
            }
        }
        for (int j = 0; j < total; j++) {
            int latent = geti(idx, j);
            if (latent < 0 || latent >= n) {
                throw new IllegalArgumentException("sparse codes: latent " + latent + " at entry " + j
                        + " outside [0, " + n + ")");
            }
        }
    }
}
