// Shared device helpers: warp/block reductions and scans, the float <-> order-preserving key map used by the
// radix selections. Every helper assumes blockDim.x is a multiple of 32 (all launches use 256 or 512 threads).
#pragma once
#include <stdint.h>

#define FULL_MASK 0xffffffffu

// A kernel's dynamic shared memory (the launch's sharedMemBytes) as `type name[]`. Written through this macro, in the
// manner of HIP's HIP_DYNAMIC_SHARED, so the host emulator (native-build/emu/cuda_emu.h, which defines it first) can
// give each block its own buffer: an `extern __shared__` declaration has no host C++ equivalent.
#ifndef DYNAMIC_SHARED
#define DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ long long warp_sum_ll(long long v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

// Sum over the block, returned to every thread. smem: 32 slots of T.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* smem) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    T t = lane < nwarps ? smem[lane] : T(0);
    for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(FULL_MASK, t, o);
    __syncthreads();  // smem may be reused right after
    return t;
}

// Exclusive prefix sum of v over the block in thread order; *total gets the block total (every thread).
// smem: 32 ints. Used for ordered compaction (selected entries keep their index order).
__device__ __forceinline__ int block_exclusive_scan(int v, int* smem, int* total) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    int x = v;
    for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(FULL_MASK, x, o);
        if (lane >= o) x += y;
    }
    if (lane == 31) smem[warp] = x;
    __syncthreads();
    if (warp == 0) {
        int t = lane < nwarps ? smem[lane] : 0;
        for (int o = 1; o < 32; o <<= 1) {
            int y = __shfl_up_sync(FULL_MASK, t, o);
            if (lane >= o) t += y;
        }
        if (lane < nwarps) smem[lane] = t;
    }
    __syncthreads();
    int before = warp > 0 ? smem[warp - 1] : 0;
    *total = smem[nwarps - 1];
    __syncthreads();
    return before + x - v;
}

// hist[bin] += 1 for every lane with want set, with one shared-memory atomic per distinct bin in the warp:
// radix-select histograms of real activations pile into a few exponent bins, where plain atomics would serialise
// 32-way. Must be called by all 32 lanes together (callers loop on a warp-uniform base index); 1-D blocks only.
__device__ __forceinline__ void hist_add_warp(unsigned int* hist, unsigned int bin, bool want) {
    unsigned int key = want ? bin : 0xffffffffu;
    unsigned int peers = __match_any_sync(FULL_MASK, key);
    if (want && (int)(threadIdx.x & 31) == __ffs(peers) - 1) atomicAdd(&hist[bin], (unsigned int)__popc(peers));
}

// Order-preserving map float -> uint32 (larger float, larger key). -0 is folded into +0 first so that the two zeros
// tie (and ties break by index) exactly as float comparison does on the CPU.
__device__ __forceinline__ uint32_t float_key(float f) {
    if (f == 0.0f) f = 0.0f;
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float key_float(uint32_t k) {
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    return __uint_as_float(u);
}

// JumpReLU threshold θ = exp(log θ) rounded once to float: exp in double (≤ 1 ulp of a double) and then rounded, so
// θ equals the CPU engine's (float) Math.exp(logTheta) bit for bit (barring a double-rounding tie, ~2⁻²⁹ of inputs),
// where expf (≤ 2 ulp of a float) would often differ in the last bit and flip h > θ for h next to the threshold.
__host__ __device__ __forceinline__ float jumprelu_theta(float log_theta) {
    return (float)exp((double)log_theta);
}

// One compare-exchange stage of an ascending bitonic sort of keys[0, m) (vals move with their keys), for the network
// over the next power of two ≥ m with virtual +inf keys past m: every exchange puts the smaller key at the lower
// index, so a virtual key never has to move and pairs that reach past m are skipped. The stages, in order: for size =
// 2, 4, … up to that power of two, one mirror stage (stride = size/2, element r of a block against element size−1−r),
// then the plain stages stride = size/4, …, 1. Pairs of one stage are disjoint: threads tid, tid + nthreads, … split
// them, and the caller separates stages with a barrier (one thread on the host runs them all).
__host__ __device__ __forceinline__ void bitonic_stage(int* keys, int* vals, int m, int size, int stride, bool mirror,
                                                       int tid, int nthreads) {
    int padded = 1;
    while (padded < m) padded <<= 1;
    for (int p = tid; p < padded / 2; p += nthreads) {
        int lo, hi;
        if (mirror) {
            int half = size / 2, base = (p / half) * size, r = p % half;
            lo = base + r;
            hi = base + size - 1 - r;
        } else {
            lo = (p / stride) * 2 * stride + p % stride;
            hi = lo + stride;
        }
        if (hi < m && keys[lo] > keys[hi]) {
            int k = keys[lo], v = vals[lo];
            keys[lo] = keys[hi];
            vals[lo] = vals[hi];
            keys[hi] = k;
            vals[hi] = v;
        }
    }
}
