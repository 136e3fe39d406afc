// libcublas.so.13 of the emulated device: the cuBLAS calls CublasFfm binds, with cuBLAS's contract (cuBLAS Library
// User Guide, cublasGemmEx): column-major operands, op(A) and op(B) by transpose codes, leading dimensions and types
// validated with the status cuBLAS returns, alpha and beta read from host memory (the default pointer mode), and
// beta = 0 overwriting C whatever it held. Operands must lie in live device allocations of the current context (the
// emulated driver's registry), so a wrong leading dimension or size shows up as a failed call, not a wrong number.
//
// Arithmetic: products accumulate in float, in k order, with fused multiply-adds. The reduced-precision compute
// types round each operand element first, as the tensor cores see them: TF32 keeps 10 mantissa bits (round to
// nearest, ties away), BF16 7 (round to nearest even), FP16 converts to half. cuBLAS's own kernels choose other
// orders (and split-K); the emulator reproduces the contract, not its rounding.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "emu_abi.h"

#define CUBLAS_API extern "C" __attribute__((visibility("default")))

struct EmuCublas {
    void* stream = nullptr;
    int math_mode = 0;
};
typedef EmuCublas* cublasHandle_t;

enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
};
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum { CUDA_R_32F = 0 };
enum {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_PEDANTIC = 69,
    CUBLAS_COMPUTE_32F_FAST_16F = 74,
    CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};
enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TENSOR_OP_MATH = 1, CUBLAS_PEDANTIC_MATH = 2, CUBLAS_TF32_TENSOR_OP_MATH = 3 };

// From the emulated driver (libcuda.so.1): the stream check.
extern "C" int cuStreamSynchronize(void* stream);

namespace {
std::mutex g_lock;
std::set<cublasHandle_t> g_handles;
int g_created = 0, g_destroyed = 0, g_last_compute = -1, g_last_math = -1;

bool live(cublasHandle_t h) {
    std::lock_guard<std::mutex> g(g_lock);
    return g_handles.count(h) > 0;
}

void say(const char* what) {
    std::fprintf(stderr, "atmsae-emu: cublasGemmEx: %s\n", what);
    std::fflush(stderr);
}

enum class Rounding { NONE, TF32, BF16, FP16 };

float round_operand(float v, Rounding r) {
    if (r == Rounding::NONE || !std::isfinite(v)) return v;
    uint32_t u;
    std::memcpy(&u, &v, 4);
    switch (r) {
        case Rounding::TF32: u = (u + 0x1000u) & 0xffffe000u; break;                 // nearest, ties away
        case Rounding::BF16: u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u; break;  // nearest even
        default: return (float)(_Float16)v;
    }
    std::memcpy(&v, &u, 4);
    return v;
}

// The bytes a column-major rows x cols operand with leading dimension ld spans.
size_t span(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * sizeof(float);
}

bool overlaps(uint64_t a, size_t na, uint64_t b, size_t nb) { return na > 0 && nb > 0 && a < b + nb && b < a + na; }

// acc[i] += a[i] * b for i < m, each a fused multiply-add (the FMA build where the CPU has it).
__attribute__((target_clones("fma", "default"))) void axpy_fma(float* acc, const float* a, float b, int m) {
    for (int i = 0; i < m; i++) acc[i] = std::fma(a[i], b, acc[i]);
}
}  // namespace

CUBLAS_API int cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    std::lock_guard<std::mutex> g(g_lock);
    *handle = new EmuCublas;
    g_handles.insert(*handle);
    g_created++;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasDestroy_v2(cublasHandle_t handle) {
    std::lock_guard<std::mutex> g(g_lock);
    if (g_handles.erase(handle) == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete handle;
    g_destroyed++;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasGetVersion_v2(cublasHandle_t handle, int* version) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (version == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *version = 130000;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasSetStream_v2(cublasHandle_t handle, void* stream) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasGetStream_v2(cublasHandle_t handle, void** stream) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (stream == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    int base = mode & ~16;  // CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION may be or-ed in
    if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH) return CUBLAS_STATUS_INVALID_VALUE;
    handle->math_mode = mode;
    g_last_math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasGetMathMode(cublasHandle_t handle, int* mode) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = handle->math_mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_API int cublasGemmEx(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const void* alpha,
                            const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                            void* C, int Ctype, int ldc, int compute, int algo) {
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    bool ops_ok = (transa == CUBLAS_OP_N || transa == CUBLAS_OP_T || transa == CUBLAS_OP_C)
                  && (transb == CUBLAS_OP_N || transb == CUBLAS_OP_T || transb == CUBLAS_OP_C);
    int a_rows = transa == CUBLAS_OP_N ? m : k, a_cols = transa == CUBLAS_OP_N ? k : m;
    int b_rows = transb == CUBLAS_OP_N ? k : n, b_cols = transb == CUBLAS_OP_N ? n : k;
    if (!ops_ok || m < 0 || n < 0 || k < 0 || lda < std::max(1, a_rows) || ldb < std::max(1, b_rows)
        || ldc < std::max(1, m) || alpha == nullptr || beta == nullptr) {
        char why[200];
        std::snprintf(why, sizeof why, "invalid value: transa %d transb %d m %d n %d k %d lda %d ldb %d ldc %d", transa,
                      transb, m, n, k, lda, ldb, ldc);
        say(why);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (!((algo >= -1 && algo <= 23) || (algo >= 99 && algo <= 115))) return CUBLAS_STATUS_INVALID_VALUE;
    Rounding rounding;
    switch (compute) {
        case CUBLAS_COMPUTE_32F:
            rounding = (handle->math_mode & ~16) == CUBLAS_TF32_TENSOR_OP_MATH ? Rounding::TF32 : Rounding::NONE;
            break;
        case CUBLAS_COMPUTE_32F_PEDANTIC: rounding = Rounding::NONE; break;
        case CUBLAS_COMPUTE_32F_FAST_TF32: rounding = Rounding::TF32; break;
        case CUBLAS_COMPUTE_32F_FAST_16BF: rounding = Rounding::BF16; break;
        case CUBLAS_COMPUTE_32F_FAST_16F: rounding = Rounding::FP16; break;
        default: say("compute type not emulated"); return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (Atype != CUDA_R_32F || Btype != CUDA_R_32F || Ctype != CUDA_R_32F) {
        say("only float32 operands are emulated");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    {
        std::lock_guard<std::mutex> g(g_lock);
        g_last_compute = compute;
    }
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    if (cuStreamSynchronize(handle->stream) != 0) {
        say("the handle's stream is not a live stream of the current context");
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    size_t a_bytes = k == 0 ? 0 : span(a_rows, a_cols, lda), b_bytes = k == 0 ? 0 : span(b_rows, b_cols, ldb);
    size_t c_bytes = span(m, n, ldc);
    char err[300];
    const char* names[3] = {"A", "B", "C"};
    const void* ptrs[3] = {A, B, C};
    size_t sizes[3] = {a_bytes, b_bytes, c_bytes};
    for (int i = 0; i < 3; i++) {
        if (sizes[i] > 0 && atmsaeEmuCheckRange((uint64_t)(uintptr_t)ptrs[i], sizes[i], err, sizeof err) != 0) {
            char why[400];
            std::snprintf(why, sizeof why, "operand %s (%zu bytes): %s", names[i], sizes[i], err);
            say(why);
            return CUBLAS_STATUS_EXECUTION_FAILED;
        }
    }
    if (overlaps((uintptr_t)C, c_bytes, (uintptr_t)A, a_bytes) || overlaps((uintptr_t)C, c_bytes, (uintptr_t)B, b_bytes)) {
        say("C overlaps A or B (cuBLAS leaves the result undefined)");
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    const float* a = (const float*)A;
    const float* b = (const float*)B;
    float* c = (float*)C;
    float al, be;
    std::memcpy(&al, alpha, 4);
    std::memcpy(&be, beta, 4);
    // op(A) packed column-major (m x k) and rounded once; then column j of C accumulates column p of op(A) times
    // op(B)[p, j] for p = 0, 1, ..., k-1.
    std::vector<float> opa((size_t)m * k), acc(m);
    for (int p = 0; p < k; p++)
        for (int i = 0; i < m; i++)
            opa[(size_t)p * m + i] = round_operand(transa == CUBLAS_OP_N ? a[i + (size_t)p * lda] : a[p + (size_t)i * lda],
                                                   rounding);
    for (int j = 0; j < n; j++) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int p = 0; p < k; p++) {
            float bv = round_operand(transb == CUBLAS_OP_N ? b[p + (size_t)j * ldb] : b[j + (size_t)p * ldb], rounding);
            axpy_fma(acc.data(), &opa[(size_t)p * m], bv, m);
        }
        float* cj = c + (size_t)j * ldc;
        for (int i = 0; i < m; i++) cj[i] = be == 0.0f ? al * acc[i] : std::fma(be, cj[i], al * acc[i]);
    }
    return CUBLAS_STATUS_SUCCESS;
}

// Test hook: {handles created, destroyed, the last compute type, the last math mode}.
CUBLAS_API void atmsaeEmuCublasCounts(int* out) {
    std::lock_guard<std::mutex> g(g_lock);
    out[0] = g_created;
    out[1] = g_destroyed;
    out[2] = g_last_compute;
    out[3] = g_last_math;
}
