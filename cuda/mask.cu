// ATM stochastic thresholded masking (atm.md step 7) with in-kernel Philox: the same bits as Philox.maskUniform.
#include "common.cuh"
#include "philox.cuh"

// f_masked[b, i] = u(seed, step, row_offset + b, i) < p_i ? 0 : f[b, i]. One thread per (token, group of four
// latents): the four latents 4g..4g+3 share the Philox counter (g, token, step) and use its four words.
extern "C" __global__ void atm_mask(const float* f, const float* p, int batch, int n, unsigned int seed_lo,
                                    unsigned int seed_hi, unsigned int step_lo, unsigned int step_hi,
                                    long long row_offset, float* f_masked) {
    const int groups = (n + 3) >> 2;
    const long long total = (long long)batch * groups;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total; t += (long long)gridDim.x * blockDim.x) {
        const int b = (int)(t / groups), g = (int)(t % groups);
        const unsigned long long token = (unsigned long long)(row_offset + b);
        uint32_t c[4] = {(uint32_t)g, (uint32_t)token, step_lo, step_hi};
        philox4x32_10(seed_lo, seed_hi, c);
        const size_t row = (size_t)b * n;
#pragma unroll
        for (int w = 0; w < 4; w++) {
            int i = 4 * g + w;
            if (i < n) {
                float u = philox_unit_float(c[w]);
                f_masked[row + i] = u < p[i] ? 0.0f : f[row + i];
            }
        }
    }
}
