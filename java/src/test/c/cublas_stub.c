// A stand-in for libcublas with the ABI of the few entry points CublasFfm binds, for tests on hosts without a GPU:
// "device" pointers are host addresses and cublasGemmEx is a plain column-major float product, so the row-major
// swap in CublasFfm.gemmRowMajor can be checked against a row-major reference. Counts handle creation/destruction.
#include <stdlib.h>

static int creates, destroys, last_compute, last_math_mode;

int cublasCreate_v2(void** handle) { *handle = malloc(16); creates++; return 0; }
int cublasDestroy_v2(void* handle) { free(handle); destroys++; return 0; }
int cublasGetVersion_v2(void* handle, int* version) { (void)handle; *version = 130100; return 0; }
int cublasSetStream_v2(void* handle, long stream) { (void)handle; (void)stream; return 0; }
int cublasSetMathMode(void* handle, int mode) { (void)handle; last_math_mode = mode; return 0; }

// C[m, n] = alpha·op(A)·op(B) + beta·C, all column-major; op = transpose when the op code is 1.
int cublasGemmEx(void* handle, int opA, int opB, int m, int n, int k, const float* alpha, const float* a, int atype,
                 int lda, const float* b, int btype, int ldb, const float* beta, float* c, int ctype, int ldc,
                 int compute, int algo) {
    (void)handle; (void)atype; (void)btype; (void)ctype; (void)algo;
    last_compute = compute;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = opA ? a[p + (long)i * lda] : a[i + (long)p * lda];
                double bv = opB ? b[j + (long)p * ldb] : b[p + (long)j * ldb];
                s += av * bv;
            }
            double old = *beta == 0.0f ? 0.0 : *beta * c[i + (long)j * ldc];  // BLAS: beta = 0 ignores C
            c[i + (long)j * ldc] = (float)(*alpha * s + old);
        }
    }
    return 0;
}

// Test hook: {creates, destroys, last compute type, last math mode}.
void stub_counts(int* out) { out[0] = creates; out[1] = destroys; out[2] = last_compute; out[3] = last_math_mode; }
