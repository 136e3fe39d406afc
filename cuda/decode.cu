// Decoder side over CSR codes: gather-accumulate decode, its backward (dot products for the code gradient, an
// atomic or a latent-sorted scatter for the decoder gradient), the sparse encoder backward, the ReLU mask inside TopK, the residual.
// Row b's entries are idx/val[row_ptr[b] .. row_ptr[b+1]); entries with value 0 are absent.
#include "common.cuh"

// xhat[b] = Σ_j val_j·w_dec[idx_j] + b_dec (b_dec may be null). One block per row; each thread owns columns and
// walks the row's entries (the idx/val loads are warp-uniform broadcasts; the w_dec loads are coalesced).
extern "C" __global__ void sparse_decode(const int* row_ptr, const int* idx, const float* val, const float* w_dec,
                                         const float* b_dec, float* xhat, int d) {
    const int b = blockIdx.x;
    const int start = row_ptr[b], end = row_ptr[b + 1];
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float acc = b_dec != nullptr ? b_dec[c] : 0.0f;
        for (int j = start; j < end; j++) {
            float v = val[j];
            if (v != 0.0f) acc = fmaf(v, w_dec[(size_t)idx[j] * d + c], acc);
        }
        xhat[(size_t)b * d + c] = acc;
    }
}

// g_val[j] = <g_xhat[row(j)], w_dec[idx_j]>. One block per row, one warp per entry.
extern "C" __global__ void sparse_decode_grad_val(const int* row_ptr, const int* idx, const float* g_xhat,
                                                  const float* w_dec, float* g_val, int d) {
    const int b = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    const int start = row_ptr[b], end = row_ptr[b + 1];
    const float* g = g_xhat + (size_t)b * d;
    for (int j = start + warp; j < end; j += nwarps) {
        const float* w = w_dec + (size_t)idx[j] * d;
        float s = 0.0f;
        for (int c = lane; c < d; c += 32) s = fmaf(g[c], w[c], s);
        s = warp_sum(s);
        if (lane == 0) g_val[j] = s;
    }
}

// out[j] = 0 for j in [row_ptr[batch], capacity): BatchTopK leaves the tail of the code arrays unused.
extern "C" __global__ void sparse_zero_tail(const int* row_ptr, int batch, float* out, int capacity) {
    const int used = row_ptr[batch];
    for (int j = used + blockIdx.x * blockDim.x + threadIdx.x; j < capacity; j += gridDim.x * blockDim.x) out[j] = 0.0f;
}

// g_w[idx_j] += val_j·g_rows[row(j)] for entries with val_j != 0 (accumulated with atomics: several rows of the
// batch hit the same latent). Serves the decoder gradient (val = code, g_rows = dL/dxhat) and, through
// sparse_encoder_backward, the encoder gradient. One block per row; each thread owns columns.
__device__ __forceinline__ void scatter_rows(int b, const int* row_ptr, const int* idx, const float* coef,
                                             const float* val, const float* rows, float* g_w, int d) {
    const int start = row_ptr[b], end = row_ptr[b + 1];
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        const float r = rows[(size_t)b * d + c];
        for (int j = start; j < end; j++) {
            float a = coef[j];
            if (val[j] != 0.0f && a != 0.0f) atomicAdd(&g_w[(size_t)idx[j] * d + c], a * r);
        }
    }
}

extern "C" __global__ void sparse_decode_grad_wdec(const int* row_ptr, const int* idx, const float* val,
                                                   const float* g_xhat, float* g_wdec, int d) {
    scatter_rows(blockIdx.x, row_ptr, idx, val, val, g_xhat, g_wdec, d);
}

// g_wenc[idx_j] += g_pre_j·xc[row(j)], g_benc[idx_j] += g_pre_j, for entries with a nonzero value.
extern "C" __global__ void sparse_encoder_backward(const int* row_ptr, const int* idx, const float* val,
                                                   const float* g_pre, const float* xc, float* g_wenc,
                                                   float* g_benc, int d) {
    const int b = blockIdx.x;
    scatter_rows(b, row_ptr, idx, g_pre, val, xc, g_wenc, d);
    for (int j = row_ptr[b] + threadIdx.x; j < row_ptr[b + 1]; j += blockDim.x)
        if (val[j] != 0.0f && g_pre[j] != 0.0f) atomicAdd(&g_benc[idx[j]], g_pre[j]);
}

// g_val[j] = 0 where val[j] <= 0 (the ReLU inside TopK / BatchTopK).
extern "C" __global__ void sparse_relu_mask(const float* val, float* g_val, int capacity) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < capacity; j += gridDim.x * blockDim.x)
        if (!(val[j] > 0.0f)) g_val[j] = 0.0f;
}

// err = xhat - x
extern "C" __global__ void residual(const float* xhat, const float* x, float* err, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        err[i] = xhat[i] - x[i];
}

// ------------------------------------------------------------------------------------------------ latent-sorted path
// The same scatters without float atomics: entries are bucketed by latent (counting sort: count, scan, fill), then
// one block per latent gathers its entries' rows. Reads B·k·d floats like the decode instead of issuing B·k·d
// atomics. Entries with val == 0 are left out (absent codes), as in the atomic path.

// counts[idx_j] += 1 for used entries with val_j != 0 (counts zeroed by the host).
extern "C" __global__ void latent_count(const int* row_ptr, int batch, const int* idx, const float* val, int* counts) {
    const int used = row_ptr[batch];
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < used; j += gridDim.x * blockDim.x)
        if (val[j] != 0.0f) atomicAdd(&counts[idx[j]], 1);
}

// One block: start[i] = Σ_{i' < i} counts[i'] (start[n] = total), cursor[i] = start[i] for latent_fill.
extern "C" __global__ void latent_offsets(const int* counts, int n, int* start, int* cursor) {
    __shared__ int smem[32];
    int carry = 0;
    for (int base = 0; base < n; base += blockDim.x) {
        int i = base + threadIdx.x;
        int c = i < n ? counts[i] : 0;
        int total;
        int before = carry + block_exclusive_scan(c, smem, &total);
        if (i < n) {
            start[i] = before;
            cursor[i] = before;
        }
        carry += total;
    }
    if (threadIdx.x == 0) start[n] = carry;
}

// One block per batch row: writes each used entry (val != 0) into its latent's bucket: entries[p] = j, rows[p] = b.
// The order inside a bucket follows the atomics; latent_sort_buckets then makes it canonical.
extern "C" __global__ void latent_fill(const int* row_ptr, const int* idx, const float* val, int* cursor,
                                       int* entries, int* rows) {
    const int b = blockIdx.x;
    for (int j = row_ptr[b] + threadIdx.x; j < row_ptr[b + 1]; j += blockDim.x) {
        if (val[j] != 0.0f) {
            int p = atomicAdd(&cursor[idx[j]], 1);
            entries[p] = j;
            rows[p] = b;
        }
    }
}

// One block per latent: sorts its bucket by entry index (rows follow), so the gather below adds a latent's rows in
// batch order whatever order the atomics of latent_fill left: the SORTED sums are bitwise reproducible run to run.
extern "C" __global__ void latent_sort_buckets(const int* start, int* entries, int* rows) {
    const int p0 = start[blockIdx.x], m = start[blockIdx.x + 1] - p0;
    if (m < 2) return;  // uniform over the block
    for (int size = 2; size / 2 < m; size <<= 1) {
        bitonic_stage(entries + p0, rows + p0, m, size, size / 2, true, threadIdx.x, blockDim.x);
        __syncthreads();
        for (int stride = size / 4; stride > 0; stride >>= 1) {
            bitonic_stage(entries + p0, rows + p0, m, size, stride, false, threadIdx.x, blockDim.x);
            __syncthreads();
        }
    }
}

// One block per latent i: g_w[i] += Σ_{p in bucket i} coef[entries[p]]·src[rows[p]], and g_b[i] += Σ coef when
// g_b is given. Serves gWDec (coef = val, src = gXhat) and gWEnc/gBEnc (coef = gPre, src = xc).
extern "C" __global__ void latent_gather_rows(const int* start, const int* entries, const int* rows,
                                              const float* coef, const float* src, float* g_w, float* g_b, int d) {
    const int i = blockIdx.x;
    const int p0 = start[i], p1 = start[i + 1];
    if (p0 == p1) return;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float acc = 0.0f;
        for (int p = p0; p < p1; p++) acc = fmaf(coef[entries[p]], src[(size_t)rows[p] * d + c], acc);
        g_w[(size_t)i * d + c] += acc;
    }
    if (g_b != nullptr && threadIdx.x == 0) {
        float s = 0.0f;
        for (int p = p0; p < p1; p++) s += coef[entries[p]];
        g_b[i] += s;
    }
}
