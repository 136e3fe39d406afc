// ATM per-latent batch statistics (atm.md step 2) in one pass over f and eDotD.
#include "common.cuh"

// Column-reduction layout shared by the per-latent kernels: block (32, 8); threadIdx.x picks the latent within a
// tile of 32 (coalesced row reads), threadIdx.y strides over the batch; partial sums meet in shared memory.
#define COL_TILE 32
#define COL_ROWS 8

// a_i = mean_b f, q_i = mean_b 1[f > 0], rho_i = max(0, mean_b (f²·‖d_i‖² + 2·f·eDotD_{b,i})).
extern "C" __global__ void atm_stats(const float* f, const float* e_dot_d, const float* d_norm_sq, int batch, int n,
                                     float* a, float* q, float* rho) {
    __shared__ float sa[COL_ROWS][COL_TILE], sq[COL_ROWS][COL_TILE], sr[COL_ROWS][COL_TILE];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int i = blockIdx.x * COL_TILE + tx;
    float acc_a = 0.0f, acc_q = 0.0f, acc_r = 0.0f;
    if (i < n) {
        const float dn = d_norm_sq[i];
        for (int b = ty; b < batch; b += COL_ROWS) {
            size_t o = (size_t)b * n + i;
            float v = f[o];
            acc_a += v;
            acc_q += v > 0.0f ? 1.0f : 0.0f;
            acc_r += v * (v * dn + 2.0f * e_dot_d[o]);
        }
    }
    sa[ty][tx] = acc_a;
    sq[ty][tx] = acc_q;
    sr[ty][tx] = acc_r;
    __syncthreads();
    if (ty == 0 && i < n) {
        float ta = 0.0f, tq = 0.0f, tr = 0.0f;
        for (int r = 0; r < COL_ROWS; r++) {
            ta += sa[r][tx];
            tq += sq[r][tx];
            tr += sr[r][tx];
        }
        float inv = 1.0f / (float)batch;
        a[i] = ta * inv;
        q[i] = tq * inv;
        rho[i] = fmaxf(tr * inv, 0.0f);
    }
}
