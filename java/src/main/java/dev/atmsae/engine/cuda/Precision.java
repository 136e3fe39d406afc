package dev.atmsae.engine.cuda;

/**
 * Arithmetic of the dense products (cuBLAS). Weights, gradients and Adam moments stay float32 in every mode; only
 * the product's inner arithmetic changes, through cuBLAS's compute type on float32 operands.
 */
public enum Precision {
    /** Plain float32 (CUBLAS_COMPUTE_32F: no TF32 or bf16 rounding of the operands). */
    FP32(68),
    /** TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32): 10-bit mantissa inputs, float32 accumulate. */
    TF32(77),
    /** BF16 tensor cores (CUBLAS_COMPUTE_32F_FAST_16BF): cuBLAS rounds the float32 operands to bf16. */
    BF16(75);

    final int cublasComputeType;

    Precision(int cublasComputeType) {
        this.cublasComputeType = cublasComputeType;
    }
}
