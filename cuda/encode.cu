// Encoder side: input centring, the bias epilogue after the cuBLAS product h = xc·W_encᵀ (optionally fused with the
// activation), ReLU / JumpReLU, per-token TopK and batch-wide BatchTopK selection into CSR codes.
#include "common.cuh"

// xc[b, j] = x[b, j] - b_dec[j]
extern "C" __global__ void center_rows(const float* x, const float* b_dec, float* xc, int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        xc[i] = x[i] - b_dec[i % cols];
}

// h[b, i] += b_enc[i]  (the epilogue of the encoder product)
extern "C" __global__ void bias_add_rows(float* h, const float* bias, int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        h[i] += bias[i % cols];
}

// Fused epilogue: h += b_enc, f = max(h, 0). One read and two writes instead of two kernels.
extern "C" __global__ void bias_relu_rows(float* h, const float* bias, float* f, int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = h[i] + bias[i % cols];
        h[i] = v;
        f[i] = fmaxf(v, 0.0f);
    }
}

// Fused epilogue: h += b_enc, f = h·1[h > θ], θ = jumprelu_theta(log_theta) (see common.cuh).
extern "C" __global__ void bias_jumprelu_rows(float* h, const float* bias, const float* log_theta, float* f,
                                              int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        int c = (int)(i % cols);
        float v = h[i] + bias[c];
        h[i] = v;
        f[i] = v > jumprelu_theta(log_theta[c]) ? v : 0.0f;
    }
}

// f = max(h, 0)
extern "C" __global__ void relu_forward(const float* h, float* f, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        f[i] = fmaxf(h[i], 0.0f);
}

// f = h·1[h > exp(log_theta_i)]
extern "C" __global__ void jumprelu_forward(const float* h, const float* log_theta, float* f, int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = h[i];
        f[i] = v > jumprelu_theta(log_theta[i % cols]) ? v : 0.0f;
    }
}

// ------------------------------------------------------------------------------------------------ per-token TopK

// Key of latent i in a row: disallowed latents get key 0, below every real value (even -inf), so they are picked
// only when fewer than k latents are allowed; they are then written with value 0 (decode treats them as absent).
__device__ __forceinline__ uint32_t topk_key(const float* row, const int* allow, int i) {
    if (allow != nullptr && allow[i] == 0) return 0u;
    return float_key(row[i]);
}

// One block per row (blockDim >= 256, multiple of 32). Radix-selects the k-th largest key in four 8-bit passes,
// then compacts in index order (so ties keep the lowest indices), then rank-sorts the k picks by (value desc,
// index asc). Dynamic shared memory: k·8 bytes.
extern "C" __global__ void topk_rows(const float* h, int n, int k, const int* allow, int batch,
                                     int* row_ptr, int* idx_out, float* val_out) {
    __shared__ unsigned int hist[256];
    __shared__ int scan_smem[32];
    __shared__ uint32_t s_prefix;
    __shared__ int s_remaining;
    DYNAMIC_SHARED(unsigned char, dyn);
    uint32_t* sel_key = (uint32_t*)dyn;
    int* sel_idx = (int*)(sel_key + k);

    const int b = blockIdx.x, tid = threadIdx.x;
    const float* row = h + (size_t)b * n;

    uint32_t prefix = 0, mask = 0;
    int remaining = k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = tid; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        // The loop runs on a warp-uniform base so all 32 lanes reach hist_add_warp together.
        for (int base = tid & ~31; base < n; base += blockDim.x) {
            int i = base + (tid & 31);
            uint32_t key = i < n ? topk_key(row, allow, i) : 0u;
            hist_add_warp(hist, (key >> shift) & 255u, i < n && (key & mask) == prefix);
        }
        __syncthreads();
        // Thread t looks at bin 255 - t; "above" counts the candidates in higher bins.
        int c = tid < 256 ? (int)hist[255 - tid] : 0;
        int total;
        int above = block_exclusive_scan(c, scan_smem, &total);
        if (tid < 256 && above < remaining && above + c >= remaining) {
            s_prefix = prefix | ((uint32_t)(255 - tid) << shift);
            s_remaining = remaining - above;
        }
        __syncthreads();
        prefix = s_prefix;
        remaining = s_remaining;
        mask |= 255u << shift;
    }
    // prefix is now the k-th largest key T; take every key > T and the first `remaining` keys == T.
    const uint32_t T = prefix;
    int base = 0, eq_seen = 0;
    for (int start = 0; start < n; start += blockDim.x) {
        int i = start + tid;
        uint32_t key = i < n ? topk_key(row, allow, i) : 0u;
        int eq = (i < n && key == T) ? 1 : 0;
        int eq_total;
        int eq_rank = block_exclusive_scan(eq, scan_smem, &eq_total);
        int take = (i < n && key > T) || (eq && eq_seen + eq_rank < remaining);
        int taken;
        int pos = block_exclusive_scan(take, scan_smem, &taken);
        if (take) {
            sel_key[base + pos] = key;
            sel_idx[base + pos] = i;
        }
        base += taken;
        eq_seen += eq_total;
        if (base >= k) break;  // uniform across the block: base and taken are block totals
    }
    __syncthreads();
    for (int j = tid; j < k; j += blockDim.x) {
        uint32_t kj = sel_key[j];
        int rank = 0;
        for (int m = 0; m < k; m++) {
            uint32_t km = sel_key[m];
            rank += (km > kj) || (km == kj && m < j);  // picks are in index order, so m < j means lower index
        }
        size_t o = (size_t)b * k + rank;
        idx_out[o] = sel_idx[j];
        val_out[o] = kj == 0u ? 0.0f : fmaxf(key_float(kj), 0.0f);
    }
    if (tid == 0) {
        row_ptr[b] = b * k;
        if (b == batch - 1) row_ptr[batch] = batch * k;
    }
}

// ------------------------------------------------------------------------------------------------ BatchTopK
// The kTotal largest positive entries of the flattened [B, n] batch. Positive floats order like their bit patterns,
// so the selection is a 3-pass radix select (11, 11, 10 bits) on the raw bits, with the running state on the device
// (no host round trip): state[0] = prefix T, state[1] = how many entries equal to T to keep (lowest flat index
// first), state[2] = done (all positives fit), state[3] = smallest kept bits, state[4] = number kept.

#define BTK_BINS 2048

// k_total <= 0 keeps nothing (as on the CPU): done at once with T above every positive float's bits, so the
// counts are zero; a T of 0 would keep every positive entry, past the codes' capacity.
extern "C" __global__ void batchtopk_init(int* state, int k_total, unsigned int* hist) {
    for (int i = threadIdx.x; i < BTK_BINS; i += blockDim.x) hist[i] = 0;
    if (threadIdx.x == 0) {
        state[0] = k_total > 0 ? 0 : 0x7fffffff;
        state[1] = k_total > 0 ? k_total : 0;
        state[2] = k_total > 0 ? 0 : 1;
        state[3] = 0x7fffffff;
        state[4] = 0;
    }
}

// Histogram of digit (bits >> shift) & (bins-1) over positive entries whose bits match the prefix under `mask`.
extern "C" __global__ void batchtopk_histogram(const float* h, long long total, int shift, int bins,
                                               unsigned int mask, const int* state, unsigned int* hist) {
    __shared__ unsigned int local[BTK_BINS];
    if (state[2]) return;
    const uint32_t prefix = (uint32_t)state[0];
    for (int i = threadIdx.x; i < bins; i += blockDim.x) local[i] = 0;
    __syncthreads();
    // Warp-uniform base index so all 32 lanes reach hist_add_warp together (blockDim is a multiple of 32).
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long base = blockIdx.x * (long long)blockDim.x + (threadIdx.x & ~31); base < total; base += stride) {
        long long i = base + (threadIdx.x & 31);
        float v = i < total ? h[i] : 0.0f;
        uint32_t u = __float_as_uint(v);
        hist_add_warp(local, (u >> shift) & (uint32_t)(bins - 1), v > 0.0f && (u & mask) == prefix);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < bins; i += blockDim.x)
        if (local[i]) atomicAdd(&hist[i], local[i]);
}

// One block of 1024 threads: picks the digit that holds the remaining-th largest candidate, updates the state and
// clears the histogram for the next pass. On the first pass, if at most kTotal entries are positive, keeps them all.
extern "C" __global__ void batchtopk_pick_digit(unsigned int* hist, int shift, int bins, int first_pass, int* state) {
    __shared__ int scan_smem[32];
    if (state[2]) return;  // uniform: every thread reads the same value
    const int per = bins / blockDim.x;  // bins owned by each thread, highest bins to thread 0
    const int tid = threadIdx.x;
    int counts[4];
    int c = 0;
    for (int r = 0; r < per; r++) {
        counts[r] = (int)hist[bins - 1 - (tid * per + r)];
        c += counts[r];
    }
    int total;
    int above = block_exclusive_scan(c, scan_smem, &total);
    const int remaining = state[1];
    const uint32_t prefix = (uint32_t)state[0];
    __syncthreads();
    if (first_pass && total <= remaining) {
        if (tid == 0) {
            state[0] = 0;  // keep every entry with bits > 0, i.e. every positive entry
            state[1] = 0;
            state[2] = 1;
        }
    } else {
        for (int r = 0; r < per; r++) {
            if (above < remaining && above + counts[r] >= remaining) {
                int digit = bins - 1 - (tid * per + r);
                state[0] = (int)(prefix | ((uint32_t)digit << shift));
                state[1] = remaining - above;
            }
            above += counts[r];
        }
    }
    for (int i = tid; i < bins; i += blockDim.x) hist[i] = 0;
}

// Per row: how many positive entries are > T and == T. One block per row.
extern "C" __global__ void batchtopk_row_counts(const float* h, int n, const int* state, int* gt_count, int* eq_count) {
    __shared__ int smem[32];
    const uint32_t T = (uint32_t)state[0];
    const float* row = h + (size_t)blockIdx.x * n;
    int gt = 0, eq = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = row[i];
        uint32_t u = __float_as_uint(v);
        if (v > 0.0f) {
            gt += u > T;
            eq += u == T;
        }
    }
    gt = block_sum(gt, smem);
    eq = block_sum(eq, smem);
    if (threadIdx.x == 0) {
        gt_count[blockIdx.x] = gt;
        eq_count[blockIdx.x] = eq;
    }
}

// One block: row b keeps all its "> T" entries and eq_take[b] = clamp(remEq − (== T entries in earlier rows), 0,
// eq_count[b]) of its "== T" entries; row_ptr is the exclusive prefix of the kept counts.
extern "C" __global__ void batchtopk_row_offsets(const int* gt_count, const int* eq_count, int batch, int* state,
                                                 int* row_ptr, int* eq_take) {
    __shared__ int smem[32];
    const int rem_eq = state[1];
    int eq_carry = 0, kept_carry = 0;
    for (int start = 0; start < batch; start += blockDim.x) {
        int b = start + threadIdx.x;
        int eq = b < batch ? eq_count[b] : 0;
        int eq_total;
        int eq_before = eq_carry + block_exclusive_scan(eq, smem, &eq_total);
        int take = min(max(rem_eq - eq_before, 0), eq);
        int kept = b < batch ? gt_count[b] + take : 0;
        int kept_total;
        int kept_before = kept_carry + block_exclusive_scan(kept, smem, &kept_total);
        if (b < batch) {
            row_ptr[b] = kept_before;
            eq_take[b] = take;
        }
        eq_carry += eq_total;
        kept_carry += kept_total;
    }
    if (threadIdx.x == 0) {
        row_ptr[batch] = kept_carry;
        state[4] = kept_carry;
    }
}

// One block per row: writes the kept entries in latent order at row_ptr[b] and folds their smallest bits into
// state[3] (positive floats compare like their bits).
extern "C" __global__ void batchtopk_compact(const float* h, int n, int* state, const int* row_ptr,
                                             const int* eq_take, int* idx_out, float* val_out) {
    __shared__ int smem[32];
    __shared__ unsigned int s_min;
    const uint32_t T = (uint32_t)state[0];
    const int b = blockIdx.x;
    const float* row = h + (size_t)b * n;
    const int take_eq = eq_take[b];
    int base = row_ptr[b];
    const int end = row_ptr[b + 1];
    if (threadIdx.x == 0) s_min = 0x7fffffffu;
    __syncthreads();
    uint32_t my_min = 0x7fffffffu;
    int eq_seen = 0;
    for (int start = 0; start < n && base < end; start += blockDim.x) {
        int i = start + threadIdx.x;
        float v = i < n ? row[i] : 0.0f;
        uint32_t u = __float_as_uint(v);
        int pos_ok = v > 0.0f;
        int eq = pos_ok && u == T;
        int eq_total;
        int eq_rank = block_exclusive_scan(eq, smem, &eq_total);
        int take = (pos_ok && u > T) || (eq && eq_seen + eq_rank < take_eq);
        int taken;
        int pos = block_exclusive_scan(take, smem, &taken);
        if (take) {
            idx_out[base + pos] = i;
            val_out[base + pos] = v;
            my_min = min(my_min, u);
        }
        base += taken;
        eq_seen += eq_total;
    }
    atomicMin(&s_min, my_min);
    __syncthreads();
    if (threadIdx.x == 0 && s_min != 0x7fffffffu) atomicMin((unsigned int*)&state[3], s_min);
}
