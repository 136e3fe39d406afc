// Small kernels for the emulated driver's own checks (emu_driver_test.cpp): each exercises one part of CUDA's
// execution model, and some are broken on purpose (a missing barrier, a divergent barrier, a collective naming an
// exited lane, a deadlock, an out-of-bounds store) to show the emulator reports what a device would leave undefined.
// Compiled by nvcc into a fatbin (for the kernels' attributes) and by g++ for the host, like cuda/*.cu.
#include "../../../cuda/common.cuh"

// out[b·T + t] = t + 1 of the next thread, through shared memory with a barrier between the write and the read.
extern "C" __global__ void barrier_rotate(int* out) {
    __shared__ int s[1024];
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int n = blockDim.x * blockDim.y * blockDim.z;
    s[t] = t + 1;
    __syncthreads();
    out[(size_t)(blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z)) * n + t] = s[(t + 1) % n];
}

// The same without the barrier: a thread may read its neighbour's slot before the neighbour wrote it.
extern "C" __global__ void racy_rotate(int* out) {
    __shared__ int s[1024];
    const int t = threadIdx.x, n = blockDim.x;
    s[t] = t + 1;
    out[blockIdx.x * n + t] = s[(t + 1) % n];
}

// Warp-synchronous shared memory without __syncwarp: relies on lock-step, which Volta and later do not promise.
extern "C" __global__ void warp_racy(int* out) {
    __shared__ int s[32];
    const int lane = threadIdx.x & 31;
    s[lane] = lane + 1;
    out[threadIdx.x] = s[(lane + 1) & 31];
}

// The same with __syncwarp: correct.
extern "C" __global__ void warp_synced(int* out) {
    __shared__ int s[32];
    const int lane = threadIdx.x & 31;
    s[lane] = lane + 1;
    __syncwarp();
    out[threadIdx.x] = s[(lane + 1) & 31];
}

// Every warp collective on a known input: out has 13 ints per thread.
extern "C" __global__ void warp_ops(const int* in, int* out) {
    const int t = threadIdx.x, lane = t & 31;
    const int v = in[t];
    int* o = out + 13 * t;
    o[0] = __shfl_sync(FULL_MASK, v, 7);
    o[1] = __shfl_sync(FULL_MASK, v, lane + 3, 8);
    o[2] = __shfl_up_sync(FULL_MASK, v, 2);
    o[3] = __shfl_up_sync(FULL_MASK, v, 3, 16);
    o[4] = __shfl_down_sync(FULL_MASK, v, 5);
    o[5] = __shfl_down_sync(FULL_MASK, v, 1, 4);
    o[6] = __shfl_xor_sync(FULL_MASK, v, 9);
    o[7] = (int)__ballot_sync(FULL_MASK, v & 1);
    o[8] = __any_sync(FULL_MASK, v == 11);
    o[9] = __all_sync(FULL_MASK, v >= 0);
    o[10] = (int)__match_any_sync(FULL_MASK, v % 3);
    o[11] = (int)warp_sum((float)v);
    o[12] = __syncthreads_count(v & 1);
}

// A barrier reached at two different places (undefined behaviour on a device).
extern "C" __global__ void divergent_barrier(int* out) {
    if (threadIdx.x < 32) {
        __syncthreads();
        out[threadIdx.x] = 1;
    } else {
        __syncthreads();
        out[threadIdx.x] = 2;
    }
}

// Lane 5 exits, then the rest of its warp shuffles with a full mask that still names it.
extern "C" __global__ void shuffle_after_exit(int* out) {
    if ((threadIdx.x & 31) == 5) return;
    out[threadIdx.x] = __shfl_xor_sync(FULL_MASK, (int)threadIdx.x, 1);
}

// Lane 0 waits at __syncthreads while the other lanes of its warp wait for it in a shuffle: a device hangs.
extern "C" __global__ void deadlock(int* out) {
    if (threadIdx.x == 0) {
        __syncthreads();
    } else {
        out[threadIdx.x] = __shfl_sync(FULL_MASK, (int)threadIdx.x, 0);
    }
}

// Float atomics whose sum depends on their order: 1e8, then +1 and -1e8 interleaved across threads.
extern "C" __global__ void atomic_order(const float* in, float* out, int n) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) atomicAdd(out, in[i]);
}

// 40 KiB of static shared memory plus a dynamic buffer: over 48 KiB in all needs the opt-in.
extern "C" __global__ void big_static_smem(int* out) {
    __shared__ int big[10 * 1024];
    DYNAMIC_SHARED(int, extra);
    big[threadIdx.x] = (int)threadIdx.x;
    extra[threadIdx.x] = 2 * (int)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = big[threadIdx.x] + extra[threadIdx.x];
}

// Reads shared memory no thread wrote: CUDA leaves it uninitialised, the emulator fills it with a poison byte.
extern "C" __global__ void read_uninitialised(int* out) {
    __shared__ int s[64];
    out[threadIdx.x] = s[threadIdx.x];
}

// Stores one element past the end of out (n elements): caught by AddressSanitizer in the sanitized build.
extern "C" __global__ void store_past_end(int* out, int n) {
    if (threadIdx.x == 0) out[n] = 1;
}

// A 2-D block: linear thread ids and the grid's coordinates.
extern "C" __global__ void coordinates(int* out) {
    const int t = threadIdx.x + blockDim.x * threadIdx.y;
    const int b = blockIdx.x + gridDim.x * blockIdx.y;
    out[b * blockDim.x * blockDim.y + t] = (int)(blockIdx.y * 1000000 + blockIdx.x * 10000 + threadIdx.y * 100 + threadIdx.x);
}
