// The prelude that lets the unchanged cuda/*.cu compile for the host (g++ -include cuda_emu.h -D__CUDA_ARCH__=900):
// CUDA's qualifiers, built-in variables, vector types and the device intrinsics the kernels use, each with the
// semantics the CUDA C++ Programming Guide gives it. Everything that makes threads meet (__syncthreads, the warp
// collectives) or that the schedule may interleave (atomics, fences) calls into the block scheduler (runtime.cpp);
// the rest is plain host arithmetic. Reference: CUDA C++ Programming Guide, "C++ Language Extensions".
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <type_traits>

// ------------------------------------------------------------------------------------------------ qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __constant__ static
// Static shared memory: one copy per block, as on the device. Blocks run one at a time (runtime.cpp), so a static
// variable is that copy; the section lets the scheduler overwrite all of it with a poison byte before each block,
// since CUDA leaves shared memory uninitialised.
#define __shared__ __attribute__((section("emu_shared"))) static
// Dynamic shared memory (the launch's sharedMemBytes), portable CUDA in the manner of HIP's HIP_DYNAMIC_SHARED: the
// kernels write DYNAMIC_SHARED(type, name), which cuda/common.cuh defines as the usual extern __shared__ array.
#define DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::emu::dynamic_smem())

#define warpSize 32

// ------------------------------------------------------------------------------------------------ vector types
#define EMU_VEC1(T, N, A) struct __attribute__((aligned(A))) N##1 { T x; }; \
    static inline N##1 make_##N##1(T x) { return N##1{x}; }
#define EMU_VEC2(T, N, A) struct __attribute__((aligned(A))) N##2 { T x, y; }; \
    static inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }
#define EMU_VEC3(T, N) struct N##3 { T x, y, z; }; \
    static inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }
#define EMU_VEC4(T, N, A) struct __attribute__((aligned(A))) N##4 { T x, y, z, w; }; \
    static inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
#define EMU_VECS(T, N, S) EMU_VEC1(T, N, S) EMU_VEC2(T, N, 2 * S) EMU_VEC3(T, N) EMU_VEC4(T, N, (S >= 8 ? 16 : 4 * S))
EMU_VECS(signed char, char, 1)
EMU_VECS(unsigned char, uchar, 1)
EMU_VECS(short, short, 2)
EMU_VECS(unsigned short, ushort, 2)
EMU_VECS(int, int, 4)
EMU_VECS(long, long, 8)
EMU_VECS(unsigned long, ulong, 8)
EMU_VECS(long long, longlong, 8)
EMU_VECS(unsigned long long, ulonglong, 8)
EMU_VECS(float, float, 4)
EMU_VECS(double, double, 8)
// uint3 is also the type of threadIdx / blockIdx; dim3 of blockDim / gridDim.
EMU_VEC1(unsigned int, uint, 4)
EMU_VEC2(unsigned int, uint, 8)
struct uint3 {
    unsigned int x, y, z;
};
static inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }
EMU_VEC4(unsigned int, uint, 16)
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};
#undef EMU_VECS
#undef EMU_VEC1
#undef EMU_VEC2
#undef EMU_VEC3
#undef EMU_VEC4

// ------------------------------------------------------------------------------------------------ the scheduler
namespace emu {
// What a running thread sees of itself and its block (runtime.cpp owns the rest).
struct ThreadView {
    uint3 idx;
};
struct BlockView {
    uint3 idx;
    dim3 dim;
    dim3 grid;
};
// initial-exec: every threadIdx in a kernel reads these, and the general model costs a __tls_get_addr call each time.
extern thread_local ThreadView* tl_thread __attribute__((tls_model("initial-exec")));
extern thread_local BlockView* tl_block __attribute__((tls_model("initial-exec")));

enum class WarpOp { SHFL, SHFL_UP, SHFL_DOWN, SHFL_XOR, BALLOT, ANY, ALL, MATCH_ANY, MATCH_ALL, SYNC, REDUCE_ADD,
                    REDUCE_MIN, REDUCE_MAX, REDUCE_AND, REDUCE_OR, REDUCE_XOR };
enum class BarrierOp { PLAIN, COUNT, AND, OR };

// A block-wide barrier (__syncthreads and its reducing forms); returns the reduction (PLAIN: 0).
int block_barrier(BarrierOp op, int predicate, const char* file, int line);
// A warp collective: every lane named in mask must reach the same op with the same mask. value: the lane's operand
// (raw bits, zero-extended); arg: source lane, delta or lane mask; segment: the width argument of the shuffles.
// Returns the lane's result as raw bits. *pred_out (match_all only) receives the predicate.
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int segment, int* pred_out,
                         const char* file, int line);
// A point where the schedule may switch threads (atomics and fences, under the fuzzing schedule).
void interleave_point(bool atomic);
unsigned char* dynamic_smem();
unsigned active_lanes();

template <typename T>
inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp collectives move at most 64 bits");
    uint64_t b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}

template <typename T>
inline T from_bits(uint64_t b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}
}  // namespace emu

#define threadIdx (::emu::tl_thread->idx)
#define blockIdx (::emu::tl_block->idx)
#define blockDim (::emu::tl_block->dim)
#define gridDim (::emu::tl_block->grid)

// ------------------------------------------------------------------------------------------------ synchronisation
#define __syncthreads() ((void)::emu::block_barrier(::emu::BarrierOp::PLAIN, 0, __FILE__, __LINE__))
#define __syncthreads_count(p) ::emu::block_barrier(::emu::BarrierOp::COUNT, (p) != 0, __FILE__, __LINE__)
#define __syncthreads_and(p) ::emu::block_barrier(::emu::BarrierOp::AND, (p) != 0, __FILE__, __LINE__)
#define __syncthreads_or(p) ::emu::block_barrier(::emu::BarrierOp::OR, (p) != 0, __FILE__, __LINE__)
#define __syncwarp(...) ((void)::emu::warp_collective(::emu::WarpOp::SYNC, EMU_MASK_OR_FULL(__VA_ARGS__), 0, 0, 32, \
                                                        nullptr, __FILE__, __LINE__))
#define EMU_MASK_OR_FULL(...) (0xffffffffu __VA_OPT__(& 0u) __VA_OPT__(| (__VA_ARGS__)))
#define __threadfence() ::emu::interleave_point(false)
#define __threadfence_block() ::emu::interleave_point(false)
#define __threadfence_system() ::emu::interleave_point(false)
#define __activemask() ::emu::active_lanes()

namespace emu {
template <typename T>
inline T shfl(WarpOp op, unsigned mask, T var, int arg, int width, const char* file, int line) {
    return from_bits<T>(warp_collective(op, mask, to_bits(var), arg, width, nullptr, file, line));
}
}  // namespace emu
#define __shfl_sync(mask, var, src, ...) \
    ::emu::shfl(::emu::WarpOp::SHFL, mask, var, src, EMU_WIDTH(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_up_sync(mask, var, delta, ...) \
    ::emu::shfl(::emu::WarpOp::SHFL_UP, mask, var, delta, EMU_WIDTH(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_down_sync(mask, var, delta, ...) \
    ::emu::shfl(::emu::WarpOp::SHFL_DOWN, mask, var, delta, EMU_WIDTH(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_xor_sync(mask, var, lane_mask, ...) \
    ::emu::shfl(::emu::WarpOp::SHFL_XOR, mask, var, lane_mask, EMU_WIDTH(__VA_ARGS__), __FILE__, __LINE__)
#define EMU_WIDTH(...) (32 __VA_OPT__(* 0 + (__VA_ARGS__)))
#define __ballot_sync(mask, p) ((unsigned)::emu::warp_collective(::emu::WarpOp::BALLOT, mask, (p) != 0, 0, 32, \
                                                                 nullptr, __FILE__, __LINE__))
#define __any_sync(mask, p) ((int)::emu::warp_collective(::emu::WarpOp::ANY, mask, (p) != 0, 0, 32, nullptr, \
                                                         __FILE__, __LINE__))
#define __all_sync(mask, p) ((int)::emu::warp_collective(::emu::WarpOp::ALL, mask, (p) != 0, 0, 32, nullptr, \
                                                         __FILE__, __LINE__))
#define __match_any_sync(mask, v) ((unsigned)::emu::warp_collective(::emu::WarpOp::MATCH_ANY, mask, \
        ::emu::to_bits(v), 0, 32, nullptr, __FILE__, __LINE__))
#define __match_all_sync(mask, v, pred) ((unsigned)::emu::warp_collective(::emu::WarpOp::MATCH_ALL, mask, \
        ::emu::to_bits(v), 0, 32, pred, __FILE__, __LINE__))
#define EMU_REDUCE(op, mask, v) ((decltype(v))::emu::warp_collective(::emu::WarpOp::op, mask, \
        ::emu::to_bits(v), std::is_signed<decltype(v)>::value, 32, nullptr, __FILE__, __LINE__))
#define __reduce_add_sync(mask, v) EMU_REDUCE(REDUCE_ADD, mask, v)
#define __reduce_min_sync(mask, v) EMU_REDUCE(REDUCE_MIN, mask, v)
#define __reduce_max_sync(mask, v) EMU_REDUCE(REDUCE_MAX, mask, v)
#define __reduce_and_sync(mask, v) EMU_REDUCE(REDUCE_AND, mask, v)
#define __reduce_or_sync(mask, v) EMU_REDUCE(REDUCE_OR, mask, v)
#define __reduce_xor_sync(mask, v) EMU_REDUCE(REDUCE_XOR, mask, v)

// ------------------------------------------------------------------------------------------------ atomics
// Blocks and their threads run on one host thread, switching only at the scheduler's points, so a read-modify-write
// between two points is atomic with respect to every other device thread. Under the fuzzing schedule each atomic
// may first yield, so the order of atomics from different threads varies with the seed.
namespace emu {
template <typename T, typename F>
inline T atomic_rmw(T* address, F f) {
    interleave_point(true);
    T old = *address;
    *address = f(old);
    return old;
}
}  // namespace emu
#define EMU_ATOMIC(name, expr)                                                              \
    template <typename T, typename U>                                                       \
    inline T name(T* address, U val) {                                                      \
        return ::emu::atomic_rmw(address, [&](T old) -> T { (void)old; return (T)(expr); }); \
    }
EMU_ATOMIC(atomicAdd, old + (T)val)
EMU_ATOMIC(atomicSub, old - (T)val)
EMU_ATOMIC(atomicExch, (T)val)
EMU_ATOMIC(atomicMin, (T)val < old ? (T)val : old)
EMU_ATOMIC(atomicMax, (T)val > old ? (T)val : old)
EMU_ATOMIC(atomicAnd, old & (T)val)
EMU_ATOMIC(atomicOr, old | (T)val)
EMU_ATOMIC(atomicXor, old ^ (T)val)
EMU_ATOMIC(atomicInc, old >= (T)val ? (T)0 : (T)(old + 1))
EMU_ATOMIC(atomicDec, (old == 0 || old > (T)val) ? (T)val : (T)(old - 1))
#undef EMU_ATOMIC
template <typename T, typename U, typename V>
inline T atomicCAS(T* address, U compare, V val) {
    return ::emu::atomic_rmw(address, [&](T old) -> T { return old == (T)compare ? (T)val : old; });
}

// ------------------------------------------------------------------------------------------------ intrinsics
// Integer and bit intrinsics (CUDA Math API, "Integer Intrinsics").
__forceinline__ unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
__forceinline__ int __mulhi(int a, int b) { return (int)(((int64_t)a * b) >> 32); }
__forceinline__ unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
__forceinline__ long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
__forceinline__ int __popc(unsigned x) { return __builtin_popcount(x); }
__forceinline__ int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
__forceinline__ int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
__forceinline__ int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
__forceinline__ int __ffs(int x) { return __builtin_ffs(x); }
__forceinline__ int __ffsll(long long x) { return __builtin_ffsll(x); }
__forceinline__ unsigned __brev(unsigned x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}
__forceinline__ unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
    uint64_t v = ((uint64_t)y << 32) | x;
    unsigned r = 0;
    for (int i = 0; i < 4; i++) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
    return r;
}
__forceinline__ int __sad(int x, int y, unsigned z) { return (x > y ? x - y : y - x) + (int)z; }

// Reinterpretation.
__forceinline__ unsigned __float_as_uint(float f) { return ::emu::from_bits<unsigned>(::emu::to_bits(f)); }
__forceinline__ int __float_as_int(float f) { return ::emu::from_bits<int>(::emu::to_bits(f)); }
__forceinline__ float __uint_as_float(unsigned u) { return ::emu::from_bits<float>(::emu::to_bits(u)); }
__forceinline__ float __int_as_float(int i) { return ::emu::from_bits<float>(::emu::to_bits(i)); }
__forceinline__ long long __double_as_longlong(double d) { return ::emu::from_bits<long long>(::emu::to_bits(d)); }
__forceinline__ double __longlong_as_double(long long l) { return ::emu::from_bits<double>(::emu::to_bits(l)); }

// Conversions with an explicit rounding mode (host default rounding is round-to-nearest-even).
__forceinline__ int __float2int_rn(float f) { return (int)std::nearbyint(f); }
__forceinline__ int __float2int_rz(float f) { return (int)f; }
__forceinline__ int __float2int_rd(float f) { return (int)std::floor(f); }
__forceinline__ int __float2int_ru(float f) { return (int)std::ceil(f); }
__forceinline__ unsigned __float2uint_rn(float f) { return (unsigned)std::nearbyint(f); }
__forceinline__ float __int2float_rn(int i) { return (float)i; }
__forceinline__ float __uint2float_rn(unsigned u) { return (float)u; }
__forceinline__ long long __float2ll_rn(float f) { return (long long)std::nearbyint(f); }
__forceinline__ float __double2float_rn(double d) { return (float)d; }

// Single-precision arithmetic with explicit rounding: the host's IEEE operations, never contracted into an FMA.
__forceinline__ float __fadd_rn(float a, float b) { return a + b; }
__forceinline__ float __fsub_rn(float a, float b) { return a - b; }
__forceinline__ float __fmul_rn(float a, float b) { return a * b; }
__forceinline__ float __fdiv_rn(float a, float b) { return a / b; }
__forceinline__ float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
__forceinline__ float __frcp_rn(float a) { return 1.0f / a; }
__forceinline__ float __fsqrt_rn(float a) { return std::sqrt(a); }
__forceinline__ double __dadd_rn(double a, double b) { return a + b; }
__forceinline__ double __dmul_rn(double a, double b) { return a * b; }
__forceinline__ double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
// Fast-math intrinsics: the device uses lower-accuracy hardware approximations; the host gives the accurate value
// (cuda/README.md lists this among what the emulator cannot show).
__forceinline__ float __expf(float x) { return std::exp(x); }
__forceinline__ float __exp10f(float x) { return std::pow(10.0f, x); }
__forceinline__ float __logf(float x) { return std::log(x); }
__forceinline__ float __log2f(float x) { return std::log2(x); }
__forceinline__ float __log10f(float x) { return std::log10(x); }
__forceinline__ float __powf(float x, float y) { return std::pow(x, y); }
__forceinline__ float __sinf(float x) { return std::sin(x); }
__forceinline__ float __cosf(float x) { return std::cos(x); }
__forceinline__ float __tanf(float x) { return std::tan(x); }
__forceinline__ float __fdividef(float a, float b) { return a / b; }
__forceinline__ float __saturatef(float x) { return x > 1.0f ? 1.0f : (x >= 0.0f ? x : 0.0f); }
__forceinline__ float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
__forceinline__ double rsqrt(double x) { return 1.0 / std::sqrt(x); }
__forceinline__ float exp10f(float x) { return std::pow(10.0f, x); }

// CUDA's overloaded min / max for every arithmetic type (host C++ has only std::min / std::max).
#define EMU_MINMAX(T)                                      \
    __forceinline__ T min(T a, T b) { return a < b ? a : b; } \
    __forceinline__ T max(T a, T b) { return a > b ? a : b; }
EMU_MINMAX(int)
EMU_MINMAX(unsigned int)
EMU_MINMAX(long)
EMU_MINMAX(unsigned long)
EMU_MINMAX(long long)
EMU_MINMAX(unsigned long long)
#undef EMU_MINMAX
__forceinline__ float min(float a, float b) { return std::fmin(a, b); }
__forceinline__ float max(float a, float b) { return std::fmax(a, b); }
__forceinline__ double min(double a, double b) { return std::fmin(a, b); }
__forceinline__ double max(double a, double b) { return std::fmax(a, b); }

// Read-only cache loads: a plain load on the host.
template <typename T>
__forceinline__ T __ldg(const T* p) { return *p; }
template <typename T>
__forceinline__ T __ldcg(const T* p) { return *p; }
template <typename T>
__forceinline__ T __ldcs(const T* p) { return *p; }
template <typename T>
__forceinline__ void __stcg(T* p, T v) { *p = v; }
template <typename T>
__forceinline__ void __stcs(T* p, T v) { *p = v; }

// <cmath> names device code uses unqualified.
using std::isfinite;
using std::isinf;
using std::isnan;
using std::signbit;
