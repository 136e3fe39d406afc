// Host-side check of cuda/philox.cuh (no GPU needed): prints Philox-4x32-10 blocks and ATM mask uniforms for the
// inputs given on stdin, one query per line, so the Java test can compare them with train/Philox.java.
//   "block k0 k1 c0 c1 c2 c3"            -> the four output words in hex
//   "mask seed step token latent"        -> the float bits of philox_mask_uniform in hex
// Build: nvcc -I cuda -o philox_kat native-build/philox_kat.cu
#include <cstdio>
#include <cstring>
#include "philox.cuh"

int main() {
    char op[16];
    while (std::scanf("%15s", op) == 1) {
        if (std::strcmp(op, "block") == 0) {
            unsigned int k0, k1, c[4];
            if (std::scanf("%x %x %x %x %x %x", &k0, &k1, &c[0], &c[1], &c[2], &c[3]) != 6) return 2;
            philox4x32_10(k0, k1, c);
            std::printf("%08x %08x %08x %08x\n", c[0], c[1], c[2], c[3]);
        } else if (std::strcmp(op, "mask") == 0) {
            unsigned long long seed, step, token;
            unsigned int latent;
            if (std::scanf("%llx %llx %llx %x", &seed, &step, &token, &latent) != 4) return 2;
            float u = philox_mask_uniform(seed, step, token, latent);
            unsigned int bits;
            std::memcpy(&bits, &u, 4);
            std::printf("%08x\n", bits);
        } else {
            return 3;
        }
    }
    return 0;
}
