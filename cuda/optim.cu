// Optimiser kernels: Adam, the decoder-row gradient projection, row renormalisation, row norms.
#include "common.cuh"

// Adam with bias correction; bc1 = 1 − β1^t and bc2 = 1 − β2^t come from the host (double, then float).
extern "C" __global__ void adam_step(float* param, const float* grad, float* m, float* v, long long total, float lr,
                                     float beta1, float beta2, float eps, float bc1, float bc2, float grad_scale) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        float g = grad_scale * grad[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

// One warp per row: g_i −= (g_i·w_i / ‖w_i‖²)·w_i (rows with ‖w_i‖ = 0 are left alone).
extern "C" __global__ void remove_parallel_rows(const float* w, float* g, int rows, int cols) {
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* wr = w + (size_t)r * cols;
    float* gr = g + (size_t)r * cols;
    float dot = 0.0f, nrm = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        dot = fmaf(gr[c], wr[c], dot);
        nrm = fmaf(wr[c], wr[c], nrm);
    }
    dot = warp_sum(dot);
    nrm = warp_sum(nrm);
    if (nrm <= 0.0f) return;
    const float coef = dot / nrm;
    for (int c = lane; c < cols; c += 32) gr[c] -= coef * wr[c];
}

// One warp per row: w_i /= ‖w_i‖ (rows of norm 0 are left alone).
extern "C" __global__ void normalize_rows(float* w, int rows, int cols) {
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= rows) return;
    float* wr = w + (size_t)r * cols;
    float s = 0.0f;
    for (int c = lane; c < cols; c += 32) s = fmaf(wr[c], wr[c], s);
    s = warp_sum(s);
    if (s <= 0.0f) return;
    const float norm = sqrtf(s);
    for (int c = lane; c < cols; c += 32) wr[c] /= norm;
}

// One warp per row: out[i] = Σ_j w[i, j]².
extern "C" __global__ void row_sum_squares(const float* w, float* out, int rows, int cols) {
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float* wr = w + (size_t)r * cols;
    float s = 0.0f;
    for (int c = lane; c < cols; c += 32) s = fmaf(wr[c], wr[c], s);
    s = warp_sum(s);
    if (lane == 0) out[r] = s;
}
