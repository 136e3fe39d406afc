// Matryoshka's nested prefixes (architectures.md): the codes' rows split at latent-group boundaries (so the ordinary
// sparse decode and its backward work per group), per-group contributions turned into prefix residuals, and the
// weighted suffix sums that carry every prefix loss's gradient to the groups inside it. M = groups; the stacked
// tensors are [B·M, d] with row b·M + m for token b, group m. Same operation order as engine/cpu/PrefixKernels.

// out[b·M + m] = first entry of row b with latent >= ends[m-1] (row start for m = 0), out[B·M] = row_ptr[B].
// Latents ascend within a row (batchTopK's order), so each boundary is a binary search. One thread per row.
extern "C" __global__ void split_rows_at_groups(const int* row_ptr, const int* idx, const int* ends, int groups,
                                                int batch, int* out) {
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < batch; b += gridDim.x * blockDim.x) {
        const int start = row_ptr[b], end = row_ptr[b + 1];
        int p = start;
        for (int m = 0; m < groups; m++) {
            if (m > 0) {
                int lo = p, hi = end, bound = ends[m - 1];
                while (lo < hi) {
                    int mid = (lo + hi) >> 1;
                    if (idx[mid] < bound) lo = mid + 1; else hi = mid;
                }
                p = lo;
            }
            out[(size_t)b * groups + m] = p;
        }
        if (b == batch - 1) out[(size_t)batch * groups] = row_ptr[batch];
    }
}

// Per (b, c): acc = -xc[b, c]; for m: acc += contrib[b·M+m, c]; contrib[b·M+m, c] = acc; full_err[b, c] = acc.
extern "C" __global__ void prefix_residuals(float* contrib, const float* xc, float* full_err, int batch, int groups,
                                            int d) {
    const long long total = (long long)batch * d;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const long long b = i / d, c = i % d;
        float acc = -xc[i];
        for (int m = 0; m < groups; m++) {
            float* slot = contrib + (b * groups + m) * d + c;
            acc += *slot;
            *slot = acc;
        }
        full_err[i] = acc;
    }
}

// Per (b, c): out[b·M+M-1] = w[M-1]·err[b·M+M-1]; down to m = 0, out[b·M+m] = fma(w[m], err[b·M+m], out[b·M+m+1]).
extern "C" __global__ void weighted_suffix_sum(const float* err, const float* weights, float* out, int batch,
                                               int groups, int d) {
    const long long total = (long long)batch * d;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const long long b = i / d, c = i % d;
        float acc = 0.0f;
        for (int m = groups - 1; m >= 0; m--) {
            const long long at = (b * groups + m) * d + c;
            acc = fmaf(weights[m], err[at], acc);
            out[at] = acc;
        }
    }
}
