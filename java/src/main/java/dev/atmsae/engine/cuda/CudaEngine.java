package dev.atmsae.engine.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuFuncGetAttribute;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.SparseCodes;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.Tensor.DType;
import dev.atmsae.util.UserError;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * The {@link Engine} on an NVIDIA GPU: the driver API through JCuda (primary context, one blocking stream, the
 * fatbin module), dense products through cuBLAS bound with FFM ({@link CublasFfm}), every other kernel from
 * {@code cuda/*.cu} (one Java method per kernel family, named as in {@link Kernel}).
 *
 * <p>Ordering: every kernel and cuBLAS call goes to one stream created blocking (flag 0), so the synchronous
 * cuMemcpy calls on the legacy default stream are ordered with it both ways (an upload from pageable memory may
 * return before its DMA ends; the blocking stream still waits for it). Methods that return host values therefore
 * see all earlier work. Not thread-safe: one training loop drives one engine, from any thread (the primary context
 * is made current on each calling thread).
 */
public final class CudaEngine implements Engine {
    private static final int THREADS = 256;
    private static final int ROW_THREADS = 512;
    /** Rows shorter than this get 256-thread blocks: a 512-thread block would leave most of its threads idle. */
    private static final int SHORT_ROW = 1024;
    private static final int COL_TILE = 32;
    private static final int COL_ROWS = 8;
    private static final int PARTIALS = 1024;
    private static final int DEFAULT_DYNAMIC_SMEM = 48 * 1024;
    /** Upload slice: a multiple of 4 (whole floats) well under a ByteBuffer's 2 GiB limit. */
    static final long UPLOAD_SLICE_BYTES = 1L << 30;
    private static final DevPtr NULL = new DevPtr();

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final RawStream stream = new RawStream();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private final CudaModule module;
    private final CublasFfm cublas;
    private final String deviceName;
    private final int smCount;
    private final int maxDynamicSmem;
    private Precision precision;
    private SparseScatter scatter = SparseScatter.SORTED;
    private boolean closed;

    /**
     * How the sparse backward kernels accumulate rows into gWDec / gWEnc. The two add the same terms in different
     * orders, so their sums agree up to float rounding (CudaParity holds both to the same float64 reference).
     */
    public enum SparseScatter {
        /** One float atomicAdd per (entry, column): B·k·d atomics, order set by the scheduler (not reproducible). */
        ATOMIC,
        /**
         * Entries bucketed by latent (counting sort, each bucket then sorted by entry), one block per latent adding
         * its rows in batch order: no float atomics, bitwise reproducible run to run.
         */
        SORTED
    }

    // Scratch owned by the engine (freed in close()).
    private final DevPtr partials = new DevPtr();
    private final DevPtr btkState = new DevPtr();
    private final DevPtr btkHist = new DevPtr();
    private DevPtr btkGt;
    private DevPtr btkEq;
    private DevPtr btkTake;
    private int btkRowsCapacity;
    private int topkSmemSet = 0;
    private final int topkStaticSmem;
    private final DevPtr latCounts = new DevPtr();
    private final DevPtr latStart = new DevPtr();
    private final DevPtr latCursor = new DevPtr();
    private final DevPtr latEntries = new DevPtr();
    private final DevPtr latRows = new DevPtr();
    private int latN = -1;
    private int latCapacity = -1;

    /** Opens device {@code ordinal}; throws UserError (message starting "--engine cuda: ") when CUDA is unusable. */
    public static CudaEngine open(int ordinal, Precision precision) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            throw new UserError("--engine cuda: " + probe.reason());
        }
        return new CudaEngine(ordinal, precision);
    }

    private CudaEngine(int ordinal, Precision precision) {
        this.precision = precision;
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        cuDeviceGet(device, ordinal);
        cuDevicePrimaryCtxRetain(context, device);
        makeCurrent();
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int len = 0;
        while (len < name.length && name[len] != 0) {
            len++;
        }
        deviceName = new String(name, 0, len, StandardCharsets.US_ASCII);
        smCount = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxDynamicSmem = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        cuStreamCreate(stream, 0);
        module = new CudaModule();
        topkStaticSmem = functionAttribute(Kernel.TOPK_ROWS, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
        cublas = new CublasFfm(stream.address());
        cuMemAlloc(partials, PARTIALS * 8L);
        cuMemAlloc(btkState, 8 * 4L);
        cuMemAlloc(btkHist, 2048 * 4L);
    }

    private int functionAttribute(Kernel k, int attr) {
        int[] v = new int[1];
        cuFuncGetAttribute(v, attr, module.function(k));
        return v[0];
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    /** Makes the engine's primary context current on the calling thread (once per thread). */
    void makeCurrent() {
        if (!current.get()) {
            cuCtxSetCurrent(context);
            current.set(Boolean.TRUE);
        }
    }

    boolean isClosed() {
        return closed;
    }

    RawStream stream() {
        return stream;
    }

    public Precision precision() {
        return precision;
    }

    /** Switches the arithmetic of later dense products (weights stay float32). */
    public void setPrecision(Precision precision) {
        this.precision = precision;
    }

    public SparseScatter sparseScatter() {
        return scatter;
    }

    /** Chooses the sparse backward accumulation (benchmarks and the self-test run both). */
    public void setSparseScatter(SparseScatter scatter) {
        this.scatter = scatter;
    }

    /** A CUDA-event timer on this engine's stream (benchmarks). */
    public CudaTimer newTimer() {
        return new CudaTimer(this);
    }

    public String deviceName() {
        return deviceName;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String describe() {
        return "cuda: " + deviceName + ", " + smCount + " SMs, cuBLAS " + cublas.version() + " (" + cublas.library()
                + ") via FFM, " + precision;
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Tensor allocF32(int rows, int cols) {
        return alloc(rows, cols, DType.F32);
    }

    @Override
    public Tensor allocI32(int rows, int cols) {
        return alloc(rows, cols, DType.I32);
    }

    private Tensor alloc(int rows, int cols, DType dtype) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        }
        makeCurrent();
        DevPtr p = new DevPtr();
        long size = (long) rows * cols;
        cuMemAlloc(p, Math.max(4L, size * 4L));
        if (size > 0) {
            cuMemsetD32Async(p, 0, size, stream);
        }
        return new CudaTensor(this, p, rows, cols, dtype);
    }

    @Override
    public void upload(Tensor dst, MemorySegment src) {
        upload(dst, src, UPLOAD_SLICE_BYTES);
    }

    /**
     * {@link #upload(Tensor, MemorySegment)} in slices of {@code sliceBytes} (a multiple of 4; small ones let the GPU
     * checks see that the slice offsets add up).
     */
    public void upload(Tensor dst, MemorySegment src, long sliceBytes) {
        CudaTensor d = f32(dst, "upload dst");
        if (src.byteSize() < d.bytes()) {
            throw new IllegalArgumentException("upload: source holds " + src.byteSize() + " bytes, tensor needs " + d.bytes());
        }
        makeCurrent();
        // A ByteBuffer or float[] holds < 2 GiB, and a W_enc of 131072 x 4096 floats is 2^31 bytes: copy in slices.
        forEachSlice(d.bytes(), sliceBytes, (offset, length) -> {
            MemorySegment part = src.asSlice(offset, length);
            Pointer host = src.isNative() ? Pointer.to(part.asByteBuffer()) : Pointer.to(part.toArray(JAVA_FLOAT_UNALIGNED));
            cuMemcpyHtoD(d.ptr.withByteOffset(offset), host, length);
        });
    }

    /** One host-to-device copy of {@code length} bytes at byte {@code offset}. */
    @FunctionalInterface
    interface SliceCopy {
        void copy(long offset, long length);
    }

    /** Calls {@code copy} for consecutive slices of at most {@code maxSlice} bytes covering [0, bytes); none if 0. */
    static void forEachSlice(long bytes, long maxSlice, SliceCopy copy) {
        for (long offset = 0; offset < bytes; offset += maxSlice) {
            copy.copy(offset, Math.min(maxSlice, bytes - offset));
        }
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        uploadArray(f32(dst, "upload dst"), src.length, Pointer.to(src));
    }

    @Override
    public void upload(Tensor dst, int[] src) {
        uploadArray(i32(dst, "upload dst"), src.length, Pointer.to(src));
    }

    @Override
    public void download(Tensor src, float[] dst) {
        downloadArray(f32(src, "download src"), dst.length, Pointer.to(dst));
    }

    @Override
    public void download(Tensor src, int[] dst) {
        downloadArray(i32(src, "download src"), dst.length, Pointer.to(dst));
    }

    /** Copies a host array of {@code length} elements (already checked for dtype) into d. */
    private void uploadArray(CudaTensor d, int length, Pointer host) {
        requireLength(length, d, "upload");
        makeCurrent();
        if (d.size() > 0) {
            cuMemcpyHtoD(d.ptr, host, d.bytes());
        }
    }

    /** Copies s into a host array of {@code length} elements (already checked for dtype). */
    private void downloadArray(CudaTensor s, int length, Pointer host) {
        requireLength(length, s, "download");
        makeCurrent();
        if (s.size() > 0) {
            cuMemcpyDtoH(host, s.ptr, s.bytes());
        }
    }

    private static void requireLength(int length, CudaTensor t, String what) {
        if (length < t.size()) {
            throw new IllegalArgumentException(what + ": host array of " + length + " for a tensor of " + t.size());
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CudaTensor s = own(src, "copy src"), d = own(dst, "copy dst");
        sameShape(s, d, "copy");
        if (s.dtype() != d.dtype()) {
            throw new IllegalArgumentException("copy: dtype " + s.dtype() + " -> " + d.dtype());
        }
        makeCurrent();
        if (s.size() > 0) {
            cuMemcpyDtoDAsync(d.ptr, s.ptr, s.bytes(), stream);
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        CudaTensor c = own(t, "fill");
        makeCurrent();
        if (c.size() == 0) {
            return;
        }
        if (c.dtype() == DType.F32) {
            launch1d(Kernel.FILL_F32, c.size(), c, value, c.size());
        } else {
            cuMemsetD32Async(c.ptr, (int) value, c.size(), stream);
        }
    }

    @Override
    public void synchronize() {
        makeCurrent();
        cuStreamSynchronize(stream);
    }

    // ---------------------------------------------------------------- dense linear algebra

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        CudaTensor ta = f32(a, "gemm A"), tb = f32(b, "gemm B"), tc = f32(c, "gemm C");
        int m = transA ? ta.cols() : ta.rows();
        int k = transA ? ta.rows() : ta.cols();
        int kb = transB ? tb.cols() : tb.rows();
        int n = transB ? tb.rows() : tb.cols();
        if (k != kb || tc.rows() != m || tc.cols() != n) {
            throw new IllegalArgumentException("gemm: op(A) " + m + "x" + k + ", op(B) " + kb + "x" + n + ", C "
                    + tc.rows() + "x" + tc.cols());
        }
        makeCurrent();
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) { // an empty sum: C = beta·C, with BLAS's convention that beta = 0 ignores C (NaN included)
            if (beta == 0f) {
                fill(tc, 0f);
            } else {
                scale(tc, beta);
            }
            return;
        }
        cublas.gemmRowMajor(transA, transB, m, n, k, alpha, ta.address(), Math.max(1, ta.cols()), tb.address(),
                Math.max(1, tb.cols()), beta, tc.address(), n, precision);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        CudaTensor tx = f32(x, "axpy x"), ty = f32(y, "axpy y");
        sameShape(tx, ty, "axpy");
        launch1d(Kernel.AXPY, tx.size(), alpha, tx, ty, tx.size());
    }

    @Override
    public void scale(Tensor t, float alpha) {
        CudaTensor c = f32(t, "scale");
        launch1d(Kernel.SCALE, c.size(), c, alpha, c.size());
    }

    @Override
    public void colSum(Tensor a, float alpha, Tensor out, boolean accumulate) {
        CudaTensor ta = f32(a, "colSum a"), to = f32(out, "colSum out");
        vector(to, ta.cols(), "colSum out");
        launchCols(Kernel.COL_SUM, ta.cols(), ta, ta.rows(), ta.cols(), alpha, to, accumulate ? 1 : 0);
    }

    @Override
    public void rowSumSquares(Tensor w, Tensor out) {
        CudaTensor tw = f32(w, "rowSumSquares w"), to = f32(out, "rowSumSquares out");
        vector(to, tw.rows(), "rowSumSquares out");
        launchRowsPerWarp(Kernel.ROW_SUM_SQUARES, tw.rows(), tw, to, tw.rows(), tw.cols());
    }

    @Override
    public double sumSquares(Tensor t) {
        double s = 0;
        for (long bits : partialResults(Kernel.SUM_SQUARES_PARTIAL, f32(t, "sumSquares"))) {
            s += Double.longBitsToDouble(bits);
        }
        return s;
    }

    // ---------------------------------------------------------------- encode

    @Override
    public void encodePre(Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor xc, Tensor h) {
        CudaTensor th = centreAndProject("encodePre", x, bDec, wEnc, bEnc, xc, h);
        launch1d(Kernel.BIAS_ADD_ROWS, th.size(), th, f32(bEnc, "encodePre bEnc"), th.rows(), th.cols());
    }

    /**
     * encodePre fused with ReLU (CUDA-only fast path): h as in encodePre and f = max(h, 0), one epilogue kernel.
     */
    public void encodePreRelu(Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor xc, Tensor h, Tensor f) {
        CudaTensor th = centreAndProject("encodePreRelu", x, bDec, wEnc, bEnc, xc, h), tf = f32(f, "encodePreRelu f");
        sameShape(th, tf, "encodePreRelu h/f");
        launch1d(Kernel.BIAS_RELU_ROWS, th.size(), th, f32(bEnc, "encodePreRelu bEnc"), tf, th.rows(), th.cols());
    }

    /**
     * encodePre fused with JumpReLU (CUDA-only fast path): h as in encodePre and f = h·1[h > θ], θ = exp(log θ) per
     * latent, one epilogue kernel.
     */
    public void encodePreJumpRelu(Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor logTheta, Tensor xc, Tensor h,
                                  Tensor f) {
        CudaTensor th = centreAndProject("encodePreJumpRelu", x, bDec, wEnc, bEnc, xc, h);
        CudaTensor tf = f32(f, "encodePreJumpRelu f"), tt = f32(logTheta, "encodePreJumpRelu logTheta");
        sameShape(th, tf, "encodePreJumpRelu h/f");
        vector(tt, th.cols(), "encodePreJumpRelu logTheta");
        launch1d(Kernel.BIAS_JUMPRELU_ROWS, th.size(), th, f32(bEnc, "encodePreJumpRelu bEnc"), tt, tf, th.rows(),
                th.cols());
    }

    /**
     * The encoder's prologue and product, shared by encodePre and its fused forms: xc = x − b_dec, h = xc·W_encᵀ, every
     * shape checked (b_enc's too); the caller's epilogue kernel adds b_enc. Returns h.
     */
    private CudaTensor centreAndProject(String what, Tensor x, Tensor bDec, Tensor wEnc, Tensor bEnc, Tensor xc,
                                        Tensor h) {
        CudaTensor tx = f32(x, what + " x"), txc = f32(xc, what + " xc"), th = f32(h, what + " h");
        CudaTensor tw = f32(wEnc, what + " wEnc");
        CudaTensor tbd = f32(bDec, what + " bDec"), tbe = f32(bEnc, what + " bEnc");
        int b = tx.rows(), d = tx.cols(), n = tw.rows();
        sameShape(tx, txc, what + " x/xc");
        if (tw.cols() != d || th.rows() != b || th.cols() != n) {
            throw new IllegalArgumentException(what + ": x " + b + "x" + d + ", wEnc " + tw.rows() + "x" + tw.cols()
                    + ", h " + th.rows() + "x" + th.cols());
        }
        vector(tbd, d, what + " bDec");
        vector(tbe, n, what + " bEnc");
        launch1d(Kernel.CENTER_ROWS, tx.size(), tx, tbd, txc, b, d);
        gemm(false, true, 1f, txc, tw, 0f, th);
        return th;
    }

    @Override
    public void relu(Tensor h, Tensor f) {
        CudaTensor th = f32(h, "relu h"), tf = f32(f, "relu f");
        sameShape(th, tf, "relu");
        launch1d(Kernel.RELU_FORWARD, th.size(), th, tf, th.size());
    }

    @Override
    public void jumpRelu(Tensor h, Tensor logTheta, Tensor f) {
        CudaTensor th = f32(h, "jumpRelu h"), tt = f32(logTheta, "jumpRelu logTheta"), tf = f32(f, "jumpRelu f");
        sameShape(th, tf, "jumpRelu");
        vector(tt, th.cols(), "jumpRelu logTheta");
        launch1d(Kernel.JUMPRELU_FORWARD, th.size(), th, tt, tf, th.rows(), th.cols());
    }

    /**
     * {@inheritDoc} The allow mask must admit at least k latents (a caller error, which the CPU engine reports);
     * checking it here would cost a device round trip per call, so the kernel instead pads such a row with the
     * lowest-index disallowed latents at value 0, which decode treats as absent.
     */
    @Override
    public void topK(Tensor h, int k, Tensor allow, SparseCodes codes) {
        CudaTensor th = f32(h, "topK h");
        int b = th.rows(), n = th.cols();
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topK: k = " + k + " outside [0, " + n + "]");
        }
        DevPtr ta = optionalVector(allow, DType.I32, n, "topK allow", "topK allow");
        checkCodes(codes, b, (long) b * k, "topK");
        int smem = topKDynamicSmem(k, topkStaticSmem, maxDynamicSmem);
        makeCurrent();
        if (k == 0 || b == 0) {
            cuMemsetD32Async(dev(codes.rowPtr()), 0, b + 1L, stream);   // every row empty (B = 0: rowPtr[0] = 0)
            return;
        }
        if (needsSmemOptIn(smem, topkStaticSmem) && smem > topkSmemSet) {
            cuFuncSetAttribute(module.function(Kernel.TOPK_ROWS),
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem);
            topkSmemSet = smem;
        }
        launch(Kernel.TOPK_ROWS, b, 1, rowThreads(n), 1, smem, th, n, k, ta, b,
                dev(codes.rowPtr()), dev(codes.idx()), dev(codes.val()));
    }

    /** Threads per block of the one-block-per-row kernels (topk_rows needs at least 256: one per histogram bin). */
    static int rowThreads(int n) {
        return n < SHORT_ROW ? 256 : ROW_THREADS;
    }

    /**
     * topk_rows's dynamic shared memory for k (k·8 bytes: keys and indices of the picks), checked against what a
     * block may hold in all, {@code optInBytes}, less the kernel's own static shared memory.
     */
    static int topKDynamicSmem(int k, int staticBytes, int optInBytes) {
        long dynamic = k * 8L;
        if (dynamic + staticBytes > optInBytes) {
            throw new IllegalArgumentException("topK: k = " + k + " needs " + dynamic + " B of shared memory besides the "
                    + "kernel's " + staticBytes + " B; a block on this device holds at most " + optInBytes + " B");
        }
        return (int) dynamic;
    }

    /** Whether a launch needs the dynamic-shared-memory opt-in: static plus dynamic above the default 48 KiB. */
    static boolean needsSmemOptIn(int dynamicBytes, int staticBytes) {
        return dynamicBytes + staticBytes > DEFAULT_DYNAMIC_SMEM;
    }

    @Override
    public float batchTopK(Tensor h, int kTotal, SparseCodes codes) {
        CudaTensor th = f32(h, "batchTopK h");
        int b = th.rows(), n = th.cols();
        if (kTotal < 0) {
            throw new IllegalArgumentException("batchTopK: kTotal = " + kTotal);
        }
        checkCodes(codes, b, kTotal, "batchTopK");
        makeCurrent();
        if (kTotal == 0) {
            // Nothing kept, as on the CPU (the kernels would agree since batchtopk_init handles it; this skips them).
            cuMemsetD32Async(dev(codes.rowPtr()), 0, b + 1L, stream);
            return 0f;
        }
        ensureBatchTopKRows(b);
        long total = th.size();
        int histBlocks = (int) Math.max(1, Math.min(ceilDiv(total, ROW_THREADS), smCount * 4L));
        launch(Kernel.BATCHTOPK_INIT, 1, 1, 1024, 1, 0, btkState, kTotal, btkHist);
        // Three radix passes over the raw bits of positive floats: bits 31..21, 20..10, 9..0.
        int[][] passes = {{21, 2048, 0x00000000, 1}, {10, 2048, 0xFFE00000, 0}, {0, 1024, 0xFFFFFC00, 0}};
        for (int[] p : passes) {
            launch(Kernel.BATCHTOPK_HISTOGRAM, histBlocks, 1, ROW_THREADS, 1, 0, th, total, p[0], p[1], p[2], btkState, btkHist);
            launch(Kernel.BATCHTOPK_PICK_DIGIT, 1, 1, 1024, 1, 0, btkHist, p[0], p[1], p[3], btkState);
        }
        DevPtr gt = btkGt, eq = btkEq, take = btkTake;
        if (b > 0) {
            launch(Kernel.BATCHTOPK_ROW_COUNTS, b, 1, rowThreads(n), 1, 0, th, n, btkState, gt, eq);
        }
        launch(Kernel.BATCHTOPK_ROW_OFFSETS, 1, 1, 1024, 1, 0, gt, eq, b, btkState, dev(codes.rowPtr()), take);
        if (b > 0) {
            launch(Kernel.BATCHTOPK_COMPACT, b, 1, rowThreads(n), 1, 0, th, n, btkState, dev(codes.rowPtr()), take,
                    dev(codes.idx()), dev(codes.val()));
        }
        int[] state = new int[5];
        cuMemcpyDtoH(Pointer.to(state), btkState, 20L);
        return state[4] == 0 ? 0f : Float.intBitsToFloat(state[3]);
    }

    private void ensureBatchTopKRows(int b) {
        if (btkGt == null || btkRowsCapacity < b) {
            freeBatchTopKRows();
            btkRowsCapacity = Math.max(b, 1);
            btkGt = new DevPtr();
            btkEq = new DevPtr();
            btkTake = new DevPtr();
            cuMemAlloc(btkGt, btkRowsCapacity * 4L);
            cuMemAlloc(btkEq, btkRowsCapacity * 4L);
            cuMemAlloc(btkTake, btkRowsCapacity * 4L);
        }
    }

    private void freeBatchTopKRows() {
        if (btkGt != null) {
            cuMemFree(btkGt);
            cuMemFree(btkEq);
            cuMemFree(btkTake);
            btkGt = null;
        }
    }

    // ---------------------------------------------------------------- decode

    @Override
    public void sparseDecode(SparseCodes codes, Tensor wDec, Tensor bDec, Tensor xhat) {
        CudaTensor tw = f32(wDec, "sparseDecode wDec"), tx = f32(xhat, "sparseDecode xhat");
        int d = tw.cols();
        if (tx.cols() != d || tx.rows() != codes.batch()) {
            throw new IllegalArgumentException("sparseDecode: xhat " + tx.rows() + "x" + tx.cols() + " for batch "
                    + codes.batch() + ", d " + d);
        }
        DevPtr tb = optionalVector(bDec, DType.F32, d, "sparseDecode bDec", "sparseDecode bDec");
        checkCodes(codes, codes.batch(), 0, "sparseDecode");
        if (codes.batch() == 0) {
            return;
        }
        launch(Kernel.SPARSE_DECODE, codes.batch(), 1, THREADS, 1, 0, dev(codes.rowPtr()), dev(codes.idx()),
                dev(codes.val()), tw, tb, tx, d);
    }

    @Override
    public void sparseDecodeBackward(SparseCodes codes, Tensor gXhat, Tensor wDec, Tensor gVal, Tensor gWDec) {
        CudaTensor tg = f32(gXhat, "sparseDecodeBackward gXhat"), tw = f32(wDec, "wDec");
        CudaTensor tgv = f32(gVal, "gVal"), tgw = f32(gWDec, "gWDec");
        int d = tw.cols();
        sameShape(tw, tgw, "sparseDecodeBackward wDec/gWDec");
        if (tg.rows() != codes.batch() || tg.cols() != d) {
            throw new IllegalArgumentException("sparseDecodeBackward: gXhat " + tg.rows() + "x" + tg.cols());
        }
        vector(tgv, codes.capacity(), "sparseDecodeBackward gVal");
        checkCodes(codes, codes.batch(), 0, "sparseDecodeBackward");
        int b = codes.batch();
        if (b > 0) {
            launch(Kernel.SPARSE_DECODE_GRAD_VAL, b, 1, THREADS, 1, 0, dev(codes.rowPtr()), dev(codes.idx()), tg, tw, tgv, d);
        }
        launch1d(Kernel.SPARSE_ZERO_TAIL, codes.capacity(), dev(codes.rowPtr()), b, tgv, codes.capacity());
        if (b == 0) {
            return;
        }
        if (scatter == SparseScatter.SORTED) {
            gatherRowsByLatent(codes, tgw, dev(codes.val()), tg, NULL, d);
        } else {
            launch(Kernel.SPARSE_DECODE_GRAD_WDEC, b, 1, THREADS, 1, 0, dev(codes.rowPtr()), dev(codes.idx()),
                    dev(codes.val()), tg, tgw, d);
        }
    }

    /** Buckets the used entries with val != 0 by latent: latStart [n+1], latEntries/latRows [capacity]. */
    private void buildLatentIndex(SparseCodes codes, int n) {
        if (latN < n || latCapacity < codes.capacity()) {
            freeLatentIndex();
            latN = Math.max(n, latN);
            latCapacity = Math.max(Math.max(codes.capacity(), 1), latCapacity);
            cuMemAlloc(latCounts, latN * 4L);
            cuMemAlloc(latStart, (latN + 1) * 4L);
            cuMemAlloc(latCursor, latN * 4L);
            cuMemAlloc(latEntries, latCapacity * 4L);
            cuMemAlloc(latRows, latCapacity * 4L);
        }
        cuMemsetD32Async(latCounts, 0, n, stream);
        launch1d(Kernel.LATENT_COUNT, codes.capacity(), dev(codes.rowPtr()), codes.batch(), dev(codes.idx()),
                dev(codes.val()), latCounts);
        launch(Kernel.LATENT_OFFSETS, 1, 1, 1024, 1, 0, latCounts, n, latStart, latCursor);
        launch(Kernel.LATENT_FILL, codes.batch(), 1, THREADS, 1, 0, dev(codes.rowPtr()), dev(codes.idx()),
                dev(codes.val()), latCursor, latEntries, latRows);
        launch(Kernel.LATENT_SORT_BUCKETS, n, 1, THREADS, 1, 0, latStart, latEntries, latRows);
    }

    private void freeLatentIndex() {
        if (latN >= 0) {
            cuMemFree(latCounts);
            cuMemFree(latStart);
            cuMemFree(latCursor);
            cuMemFree(latEntries);
            cuMemFree(latRows);
        }
    }

    /**
     * The SORTED scatter: buckets the entries by latent, then one block per latent adds its entries' rows of
     * {@code rowsSrc}, weighted by {@code weights}, into row i of gW (and their weights into gB unless NULL).
     */
    private void gatherRowsByLatent(SparseCodes codes, CudaTensor gW, Object weights, CudaTensor rowsSrc, Object gB,
                                    int d) {
        buildLatentIndex(codes, gW.rows());
        launch(Kernel.LATENT_GATHER_ROWS, gW.rows(), 1, THREADS, 1, 0, latStart, latEntries, latRows, weights,
                rowsSrc, gW, gB, d);
    }

    @Override
    public void sparseEncoderBackward(SparseCodes codes, Tensor gPre, Tensor xc, Tensor gWEnc, Tensor gBEnc) {
        CudaTensor tgp = f32(gPre, "sparseEncoderBackward gPre"), txc = f32(xc, "xc");
        CudaTensor tgw = f32(gWEnc, "gWEnc"), tgb = f32(gBEnc, "gBEnc");
        int d = txc.cols();
        if (txc.rows() != codes.batch() || tgw.cols() != d) {
            throw new IllegalArgumentException("sparseEncoderBackward: xc " + txc.rows() + "x" + d + ", gWEnc "
                    + tgw.rows() + "x" + tgw.cols());
        }
        vector(tgp, codes.capacity(), "sparseEncoderBackward gPre");
        vector(tgb, tgw.rows(), "sparseEncoderBackward gBEnc");
        checkCodes(codes, codes.batch(), 0, "sparseEncoderBackward");
        if (codes.batch() == 0) {
            return;
        }
        if (scatter == SparseScatter.SORTED) {
            gatherRowsByLatent(codes, tgw, tgp, txc, tgb, d);
        } else {
            launch(Kernel.SPARSE_ENCODER_BACKWARD, codes.batch(), 1, THREADS, 1, 0, dev(codes.rowPtr()),
                    dev(codes.idx()), dev(codes.val()), tgp, txc, tgw, tgb, d);
        }
    }

    @Override
    public void sparseReluMask(SparseCodes codes, Tensor gVal) {
        CudaTensor tg = f32(gVal, "sparseReluMask gVal");
        vector(tg, codes.capacity(), "sparseReluMask gVal");
        launch1d(Kernel.SPARSE_RELU_MASK, codes.capacity(), dev(codes.val()), tg, codes.capacity());
    }

    @Override
    public void residual(Tensor xhat, Tensor x, Tensor err) {
        CudaTensor a = f32(xhat, "residual xhat"), b = f32(x, "residual x"), e = f32(err, "residual err");
        sameShape(a, b, "residual");
        sameShape(a, e, "residual");
        launch1d(Kernel.RESIDUAL, a.size(), a, b, e, a.size());
    }

    // ---------------------------------------------------------------- Matryoshka prefixes

    @Override
    public void splitRowsAtGroups(SparseCodes codes, Tensor groupEnds, Tensor rowPtrOut) {
        CudaTensor te = i32(groupEnds, "splitRowsAtGroups groupEnds"), to = i32(rowPtrOut, "rowPtrOut");
        checkCodes(codes, codes.batch(), 0, "splitRowsAtGroups");
        int groups = te.cols();
        vector(te, groups, "splitRowsAtGroups groupEnds");
        vector(to, codes.batch() * groups + 1, "splitRowsAtGroups rowPtrOut");
        if (codes.batch() == 0) {
            cuMemsetD32Async(to.ptr, 0, 1, stream);
            return;
        }
        launch1d(Kernel.SPLIT_ROWS_AT_GROUPS, codes.batch(), dev(codes.rowPtr()), dev(codes.idx()), te, groups,
                codes.batch(), to);
    }

    @Override
    public void prefixResiduals(Tensor contrib, Tensor xc, Tensor fullErr) {
        CudaTensor tc = f32(contrib, "prefixResiduals contrib"), tx = f32(xc, "xc"), tf = f32(fullErr, "fullErr");
        sameShape(tx, tf, "prefixResiduals xc/fullErr");
        if (tx.rows() < 1 || tc.cols() != tx.cols() || tc.rows() % tx.rows() != 0 || tc.rows() == 0) {
            throw new IllegalArgumentException("prefixResiduals: contrib " + tc.rows() + "x" + tc.cols()
                    + " is not [B·M, d] for xc " + tx.rows() + "x" + tx.cols());
        }
        launch1d(Kernel.PREFIX_RESIDUALS, tx.size(), tc, tx, tf, tx.rows(), tc.rows() / tx.rows(), tx.cols());
    }

    @Override
    public void weightedSuffixSum(Tensor prefixErr, Tensor weights, Tensor out) {
        CudaTensor te = f32(prefixErr, "weightedSuffixSum prefixErr"), tw = f32(weights, "weights");
        CudaTensor to = f32(out, "weightedSuffixSum out");
        sameShape(te, to, "weightedSuffixSum");
        int groups = tw.cols();
        vector(tw, groups, "weightedSuffixSum weights");
        if (groups < 1 || te.rows() % groups != 0) {
            throw new IllegalArgumentException("weightedSuffixSum: " + te.rows() + " rows are not B·" + groups);
        }
        int rows = te.rows() / groups;
        launch1d(Kernel.WEIGHTED_SUFFIX_SUM, (long) rows * te.cols(), te, tw, to, rows, groups, te.cols());
    }

    // ---------------------------------------------------------------- activation backward

    @Override
    public void reluBackward(Tensor f, Tensor gF, Tensor l1Grad, Tensor gH) {
        CudaTensor tf = f32(f, "reluBackward f"), tg = f32(gF, "gF"), th = f32(gH, "gH");
        sameShape(tf, tg, "reluBackward");
        sameShape(tf, th, "reluBackward");
        DevPtr tl = optionalVector(l1Grad, DType.F32, tf.cols(), "l1Grad", "reluBackward l1Grad");
        launch1d(Kernel.RELU_BACKWARD, tf.size(), tf, tg, tl, th, tf.rows(), tf.cols());
    }

    @Override
    public void jumpReluBackward(Tensor h, Tensor logTheta, Tensor gF, float eps, float l0Coeff, Tensor gH,
                                 Tensor gLogTheta) {
        CudaTensor th = f32(h, "jumpReluBackward h"), tt = f32(logTheta, "logTheta"), tg = f32(gF, "gF");
        CudaTensor tgh = f32(gH, "gH"), tgt = f32(gLogTheta, "gLogTheta");
        sameShape(th, tg, "jumpReluBackward");
        sameShape(th, tgh, "jumpReluBackward");
        vector(tt, th.cols(), "jumpReluBackward logTheta");
        vector(tgt, th.cols(), "jumpReluBackward gLogTheta");
        launchCols(Kernel.JUMPRELU_BACKWARD, th.cols(), th, tt, tg, eps, l0Coeff, th.rows(), th.cols(), tgh, tgt);
    }

    // ---------------------------------------------------------------- ATM

    @Override
    public void atmStats(Tensor f, Tensor eDotD, Tensor dNormSq, Tensor a, Tensor q, Tensor rho) {
        CudaTensor tf = f32(f, "atmStats f"), te = f32(eDotD, "eDotD"), tn = f32(dNormSq, "dNormSq");
        CudaTensor ta = f32(a, "a"), tq = f32(q, "q"), tr = f32(rho, "rho");
        sameShape(tf, te, "atmStats f/eDotD");
        int n = tf.cols();
        vector(tn, n, "atmStats dNormSq");
        vector(ta, n, "atmStats a");
        vector(tq, n, "atmStats q");
        vector(tr, n, "atmStats rho");
        if (tf.rows() == 0) {
            throw new IllegalArgumentException("atmStats: empty batch");
        }
        launchCols(Kernel.ATM_STATS, n, tf, te, tn, tf.rows(), n, ta, tq, tr);
    }

    @Override
    public void atmMask(Tensor f, Tensor p, long seed, long step, long rowOffset, Tensor fMasked) {
        CudaTensor tf = f32(f, "atmMask f"), tp = f32(p, "atmMask p"), tm = f32(fMasked, "atmMask fMasked");
        sameShape(tf, tm, "atmMask");
        vector(tp, tf.cols(), "atmMask p");
        long groups = (long) tf.rows() * ((tf.cols() + 3) / 4);
        launch1d(Kernel.ATM_MASK, groups, tf, tp, tf.rows(), tf.cols(), (int) seed, (int) (seed >>> 32), (int) step,
                (int) (step >>> 32), rowOffset, tm);
    }

    @Override
    public void scaleColumns(Tensor t, Tensor s) {
        CudaTensor tt = f32(t, "scaleColumns t"), ts = f32(s, "scaleColumns s");
        vector(ts, tt.cols(), "scaleColumns s");
        launch1d(Kernel.SCALE_COLUMNS, tt.size(), tt, ts, tt.rows(), tt.cols());
    }

    @Override
    public void atmMaskSparse(SparseCodes codes, Tensor values, Tensor p, Tensor scale, long seed, long step,
                              long rowOffset, Tensor out) {
        checkCodes(codes, codes.batch(), 0, "atmMaskSparse");
        CudaTensor tv = f32(values, "atmMaskSparse values"), tp = f32(p, "atmMaskSparse p");
        CudaTensor to = f32(out, "atmMaskSparse out");
        vector(tv, codes.capacity(), "atmMaskSparse values");
        vector(to, codes.capacity(), "atmMaskSparse out");
        DevPtr ts = optionalVector(scale, DType.F32, tp.cols(), "scale", "atmMaskSparse scale");
        if (codes.batch() == 0) {
            fill(out, 0f);
            return;
        }
        launch1d(Kernel.ATM_MASK_SPARSE, codes.capacity(), dev(codes.rowPtr()), dev(codes.idx()), tv, tp, ts,
                codes.batch(), codes.capacity(), (int) seed, (int) (seed >>> 32), (int) step, (int) (step >>> 32),
                rowOffset, to);
    }

    // ---------------------------------------------------------------- optimiser

    @Override
    public void adam(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                     long step, float gradScale) {
        CudaTensor tp = f32(param, "adam param"), tg = f32(grad, "grad"), tm = f32(m, "m"), tv = f32(v, "v");
        sameShape(tp, tg, "adam");
        sameShape(tp, tm, "adam");
        sameShape(tp, tv, "adam");
        if (step < 1) {
            throw new IllegalArgumentException("adam: step " + step + " (must be >= 1)");
        }
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        launch1d(Kernel.ADAM_STEP, tp.size(), tp, tg, tm, tv, tp.size(), lr, beta1, beta2, eps, bc1, bc2, gradScale);
    }

    @Override
    public void removeParallelComponent(Tensor w, Tensor gW) {
        CudaTensor tw = f32(w, "removeParallelComponent w"), tg = f32(gW, "gW");
        sameShape(tw, tg, "removeParallelComponent");
        launchRowsPerWarp(Kernel.REMOVE_PARALLEL_ROWS, tw.rows(), tw, tg, tw.rows(), tw.cols());
    }

    @Override
    public void normalizeRows(Tensor w) {
        CudaTensor tw = f32(w, "normalizeRows");
        launchRowsPerWarp(Kernel.NORMALIZE_ROWS, tw.rows(), tw, tw.rows(), tw.cols());
    }

    // ---------------------------------------------------------------- metrics

    @Override
    public void countFires(Tensor f, Tensor fires) {
        CudaTensor tf = f32(f, "countFires f"), tc = i32(fires, "countFires fires");
        vector(tc, tf.cols(), "countFires fires");
        launchCols(Kernel.COUNT_FIRES, tf.cols(), tf, tf.rows(), tf.cols(), tc);
    }

    @Override
    public void countFiresSparse(SparseCodes codes, Tensor fires) {
        CudaTensor tc = i32(fires, "countFiresSparse fires");
        checkCodes(codes, codes.batch(), 0, "countFiresSparse");
        launch1d(Kernel.COUNT_FIRES_SPARSE, codes.capacity(), dev(codes.rowPtr()), codes.batch(), dev(codes.idx()),
                dev(codes.val()), tc);
    }

    @Override
    public long countPositive(Tensor t) {
        long s = 0;
        for (long v : partialResults(Kernel.COUNT_POSITIVE_PARTIAL, f32(t, "countPositive"))) {
            s += v;
        }
        return s;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        makeCurrent();
        try {
            cuStreamSynchronize(stream);
            cuMemFree(partials);
            cuMemFree(btkState);
            cuMemFree(btkHist);
            freeBatchTopKRows();
            freeLatentIndex();
            module.close();
            cuStreamDestroy(stream);
        } catch (CudaException e) {
            // A failed kernel left the context in a sticky error: every call fails now, and releasing the context
            // frees what they would have. Closing must still release it (and not hide the error that caused this).
        } finally {
            cublas.close();
            cuDevicePrimaryCtxRelease(device);
        }
    }

    // ---------------------------------------------------------------- launching

    private void launch1d(Kernel k, long work, Object... args) {
        if (work <= 0) {
            return;
        }
        // Grid-stride kernels: enough blocks to fill every SM several times, no more.
        int blocks = (int) Math.max(1, Math.min(ceilDiv(work, THREADS), smCount * 16L));
        launch(k, blocks, 1, THREADS, 1, 0, args);
    }

    /** Per-latent column reductions: block (32, 8), one block per 32 columns. */
    private void launchCols(Kernel k, int cols, Object... args) {
        if (cols <= 0) {
            return;
        }
        launch(k, (int) ceilDiv(cols, COL_TILE), 1, COL_TILE, COL_ROWS, 0, args);
    }

    /** One warp per row, 8 rows per block. */
    private void launchRowsPerWarp(Kernel k, int rows, Object... args) {
        if (rows <= 0) {
            return;
        }
        launch(k, (int) ceilDiv(rows, THREADS / 32), 1, THREADS, 1, 0, args);
    }

    /**
     * Runs a two-stage reduction's first stage (kernel args: c, c.size(), partials; one 8-byte partial per block)
     * and returns the raw partials for the host to add in block order (a double's bits or a long): empty for an
     * empty tensor.
     */
    private long[] partialResults(Kernel k, CudaTensor c) {
        if (c.size() == 0) {
            return new long[0];
        }
        int blocks = (int) Math.max(1, Math.min(ceilDiv(c.size(), THREADS), PARTIALS));
        launch(k, blocks, 1, THREADS, 1, 0, c, c.size(), partials);
        long[] host = new long[blocks];
        cuMemcpyDtoH(Pointer.to(host), partials, blocks * 8L);
        return host;
    }

    private void launch(Kernel k, int gx, int gy, int bx, int by, int smem, Object... args) {
        makeCurrent();
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case CudaTensor t -> Pointer.to(t.ptr);
                case DevPtr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Long v -> Pointer.to(new long[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + args[i]);
            };
        }
        CUfunction f = module.function(k);
        cuLaunchKernel(f, gx, gy, 1, bx, by, 1, smem, stream, Pointer.to(params), null);
    }

    // ---------------------------------------------------------------- checks

    private CudaTensor own(Tensor t, String what) {
        if (!(t instanceof CudaTensor c) || c.owner != this) {
            throw new IllegalArgumentException(what + ": tensor " + t + " does not belong to this CUDA engine");
        }
        if (c.isClosed()) {
            throw new IllegalStateException(what + ": tensor is closed");
        }
        return c;
    }

    private CudaTensor f32(Tensor t, String what) {
        return typed(t, DType.F32, what);
    }

    private CudaTensor i32(Tensor t, String what) {
        return typed(t, DType.I32, what);
    }

    private CudaTensor typed(Tensor t, DType dtype, String what) {
        CudaTensor c = own(t, what);
        if (c.dtype() != dtype) {
            throw new IllegalArgumentException(what + ": expected " + dtype + ", got " + c.dtype());
        }
        return c;
    }

    /** An optional row vector argument: NULL when absent, else its pointer once dtype and length are checked. */
    private DevPtr optionalVector(Tensor t, DType dtype, int length, String name, String what) {
        if (t == null) {
            return NULL;
        }
        CudaTensor c = typed(t, dtype, name);
        vector(c, length, what);
        return c.ptr;
    }

    private DevPtr dev(Tensor t) {
        return own(t, "codes").ptr;
    }

    private static void sameShape(Tensor a, Tensor b, String what) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException(what + ": shapes " + a.rows() + "x" + a.cols() + " and " + b.rows() + "x" + b.cols());
        }
    }

    private static void vector(Tensor t, int length, String what) {
        if (t.size() != length) {
            throw new IllegalArgumentException(what + ": expected " + length + " values, got " + t.rows() + "x" + t.cols());
        }
    }

    private void checkCodes(SparseCodes codes, int batch, long needCapacity, String what) {
        i32(codes.rowPtr(), what + " rowPtr");
        i32(codes.idx(), what + " idx");
        f32(codes.val(), what + " val");
        if (codes.batch() != batch || codes.rowPtr().size() != batch + 1L) {
            throw new IllegalArgumentException(what + ": codes for batch " + codes.batch() + ", data has " + batch);
        }
        if (codes.capacity() < needCapacity || codes.idx().size() < codes.capacity() || codes.val().size() < codes.capacity()) {
            throw new IllegalArgumentException(what + ": codes capacity " + codes.capacity() + " < " + needCapacity);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
