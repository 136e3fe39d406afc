// Philox-4x32-10 (Salmon et al., SC'11), bit-identical to java/.../train/Philox.java. Host and device: the host
// build of native-build/philox_kat.cu checks it against Random123's known answers and Java's maskUniform.
#pragma once
#include <stdint.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__host__ __device__ __forceinline__ uint32_t philox_mulhi(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return (uint32_t)(((uint64_t)a * b) >> 32);
#endif
}

// Ten rounds over counter c (in place) with key (k0, k1).
__host__ __device__ __forceinline__ void philox4x32_10(uint32_t k0, uint32_t k1, uint32_t c[4]) {
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = philox_mulhi(PHILOX_M0, c[0]), lo0 = PHILOX_M0 * c[0];
        uint32_t hi1 = philox_mulhi(PHILOX_M1, c[2]), lo1 = PHILOX_M1 * c[2];
        uint32_t n0 = hi1 ^ c[1] ^ k0;
        uint32_t n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
}

// A word -> float in [0, 1) with 24 random bits; exact in float32, so every engine gets the same value.
__host__ __device__ __forceinline__ float philox_unit_float(uint32_t w) {
    return (float)(w >> 8) * (1.0f / 16777216.0f);
}

// Philox.maskUniform: key = (seed lo, seed hi), counter = (latent >> 2, token lo, step lo, step hi), word latent & 3.
__host__ __device__ __forceinline__ float philox_mask_uniform(uint64_t seed, uint64_t step, uint64_t token,
                                                              uint32_t latent) {
    uint32_t c[4] = {latent >> 2, (uint32_t)token, (uint32_t)step, (uint32_t)(step >> 32)};
    philox4x32_10((uint32_t)seed, (uint32_t)(seed >> 32), c);
    return philox_unit_float(c[latent & 3]);
}
