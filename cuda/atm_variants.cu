// ATM variants (atm.md, open choices): the per-latent rescaling of kept codes and the mask on sparse (TopK /
// BatchTopK) codes, in-kernel Philox bit-identical to Philox.maskUniform.
#include "common.cuh"
#include "philox.cuh"

// t[b, i] *= s[i]
extern "C" __global__ void scale_columns(float* t, const float* s, int rows, int cols) {
    const long long total = (long long)rows * cols;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
        t[e] *= s[e % cols];
}

// out[j] = u(seed, step, row_offset + b, idx[j]) < p[idx[j]] ? 0 : values[j] * (scale ? scale[idx[j]] : 1) for the
// entries j of row b; entries past row_ptr[batch] get 0. One thread per entry; its row by binary search in row_ptr.
// values may alias out (each thread reads and writes only its own entry).
extern "C" __global__ void atm_mask_sparse(const int* row_ptr, const int* idx, const float* values, const float* p,
                                           const float* scale, int batch, int capacity, unsigned int seed_lo,
                                           unsigned int seed_hi, unsigned int step_lo, unsigned int step_hi,
                                           long long row_offset, float* out) {
    const int used = row_ptr[batch];
    const uint64_t seed = ((uint64_t)seed_hi << 32) | seed_lo;
    const uint64_t step = ((uint64_t)step_hi << 32) | step_lo;
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < capacity; j += gridDim.x * blockDim.x) {
        if (j >= used) {
            out[j] = 0.0f;
            continue;
        }
        int lo = 0, hi = batch - 1;  // the last row b with row_ptr[b] <= j
        while (lo < hi) {
            int mid = (lo + hi + 1) >> 1;
            if (row_ptr[mid] <= j) lo = mid; else hi = mid - 1;
        }
        const int latent = idx[j];
        const float pv = p[latent];
        const bool masked = pv > 0.0f &&
            philox_mask_uniform(seed, step, (uint64_t)(row_offset + lo), (uint32_t)latent) < pv;
        out[j] = masked ? 0.0f : (scale ? values[j] * scale[latent] : values[j]);
    }
}
