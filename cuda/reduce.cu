// Reductions and element-wise helpers: column sums, float64 sum of squares, counts, axpy/scale/fill, and the
// activation backward kernels (ReLU family, JumpReLU's straight-through estimator).
#include "common.cuh"

#define COL_TILE 32
#define COL_ROWS 8

// out[j] = alpha·Σ_rows a[:, j] + (accumulate ? out[j] : 0). Block (32, 8), see atm_stats.cu.
extern "C" __global__ void col_sum(const float* a, int rows, int cols, float alpha, float* out, int accumulate) {
    __shared__ float s[COL_ROWS][COL_TILE];
    const int tx = threadIdx.x, ty = threadIdx.y, j = blockIdx.x * COL_TILE + tx;
    float acc = 0.0f;
    if (j < cols)
        for (int r = ty; r < rows; r += COL_ROWS) acc += a[(size_t)r * cols + j];
    s[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && j < cols) {
        float t = 0.0f;
        for (int r = 0; r < COL_ROWS; r++) t += s[r][tx];
        out[j] = alpha * t + (accumulate ? out[j] : 0.0f);
    }
}

// partial[block] = Σ t² over the block's grid-stride share, in float64; the host adds the partials (fixed grid, so
// the result is deterministic).
extern "C" __global__ void sum_squares_partial(const float* t, long long total, double* partial) {
    __shared__ double smem[32];
    double acc = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        double v = t[i];
        acc += v * v;
    }
    acc = block_sum(acc, smem);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// partial[block] = number of entries > 0.
extern "C" __global__ void count_positive_partial(const float* t, long long total, long long* partial) {
    __shared__ long long smem[32];
    long long acc = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        acc += t[i] > 0.0f;
    acc = block_sum(acc, smem);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// fires[i] += #{b : f[b, i] > 0}. Block (32, 8).
extern "C" __global__ void count_fires(const float* f, int batch, int n, int* fires) {
    __shared__ int s[COL_ROWS][COL_TILE];
    const int tx = threadIdx.x, ty = threadIdx.y, i = blockIdx.x * COL_TILE + tx;
    int acc = 0;
    if (i < n)
        for (int b = ty; b < batch; b += COL_ROWS) acc += f[(size_t)b * n + i] > 0.0f;
    s[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && i < n) {
        int t = 0;
        for (int r = 0; r < COL_ROWS; r++) t += s[r][tx];
        fires[i] += t;
    }
}

// fires[idx_j] += 1 for every used entry with val_j > 0.
extern "C" __global__ void count_fires_sparse(const int* row_ptr, int batch, const int* idx, const float* val, int* fires) {
    const int used = row_ptr[batch];
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < used; j += gridDim.x * blockDim.x)
        if (val[j] > 0.0f) atomicAdd(&fires[idx[j]], 1);
}

// y = alpha·x + y
extern "C" __global__ void axpy(float alpha, const float* x, float* y, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        y[i] = fmaf(alpha, x[i], y[i]);
}

// t = alpha·t
extern "C" __global__ void scale(float* t, float alpha, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        t[i] *= alpha;
}

// t = value
extern "C" __global__ void fill_f32(float* t, float value, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        t[i] = value;
}

// g_h = 1[f > 0]·(g_f + l1_grad_i); l1_grad may be null.
extern "C" __global__ void relu_backward(const float* f, const float* g_f, const float* l1_grad, float* g_h,
                                         int rows, int cols) {
    size_t total = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float extra = l1_grad != nullptr ? l1_grad[i % cols] : 0.0f;
        g_h[i] = f[i] > 0.0f ? g_f[i] + extra : 0.0f;
    }
}

// JumpReLU backward, rectangle-kernel STE (architectures.md). g_h = g_f·1[h > θ_i] element-wise, and
// g_log_theta_i = θ_i·Σ_b K((h − θ_i)/ε)·(g_f·(−θ_i/ε) − l0_coeff/ε), K(u) = 1[|u| < ½]. Block (32, 8).
extern "C" __global__ void jumprelu_backward(const float* h, const float* log_theta, const float* g_f, float eps,
                                             float l0_coeff, int batch, int n, float* g_h, float* g_log_theta) {
    __shared__ float s[COL_ROWS][COL_TILE];
    const int tx = threadIdx.x, ty = threadIdx.y, i = blockIdx.x * COL_TILE + tx;
    float acc = 0.0f, theta = 0.0f;
    if (i < n) {
        theta = jumprelu_theta(log_theta[i]);
        const float inv_eps = 1.0f / eps;
        for (int b = ty; b < batch; b += COL_ROWS) {
            size_t o = (size_t)b * n + i;
            float hv = h[o], gf = g_f[o];
            g_h[o] = hv > theta ? gf : 0.0f;
            float u = (hv - theta) * inv_eps;
            if (fabsf(u) < 0.5f) acc += gf * (-theta * inv_eps) - l0_coeff * inv_eps;
        }
    }
    s[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && i < n) {
        float t = 0.0f;
        for (int r = 0; r < COL_ROWS; r++) t += s[r][tx];
        g_log_theta[i] = theta * t;
    }
}
