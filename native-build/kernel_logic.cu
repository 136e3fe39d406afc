// Host-side checks of device helpers in cuda/common.cuh (no GPU needed), driven by the Java test over stdin:
//   "theta <hex float bits of log θ>"  -> the hex float bits of jumprelu_theta (JumpReLU's threshold)
//   "sort <m> <seed>"                   -> the bitonic_stage network (run as latent_sort_buckets runs it, with
//                                          `threads` simulated threads per stage) sorts a shuffled bucket of m
//                                          distinct entry ids with their rows: prints "ok" or what went wrong
// Build: nvcc -I cuda -o kernel_logic native-build/kernel_logic.cu
#include <cstdio>
#include <cstring>
#include <vector>
#include "common.cuh"

// The kernel's loop, one stage at a time; within a stage the simulated threads run one after another (the pairs of
// a stage are disjoint, so any interleaving gives the same result).
static void sort_bucket(int* keys, int* vals, int m, int threads) {
    if (m < 2) return;
    for (int size = 2; size / 2 < m; size <<= 1) {
        for (int t = 0; t < threads; t++) bitonic_stage(keys, vals, m, size, size / 2, true, t, threads);
        for (int stride = size / 4; stride > 0; stride >>= 1)
            for (int t = 0; t < threads; t++) bitonic_stage(keys, vals, m, size, stride, false, t, threads);
    }
}

int main() {
    char op[16];
    while (std::scanf("%15s", op) == 1) {
        if (std::strcmp(op, "theta") == 0) {
            unsigned int bits;
            if (std::scanf("%x", &bits) != 1) return 2;
            float lt;
            std::memcpy(&lt, &bits, 4);
            float theta = jumprelu_theta(lt);
            std::memcpy(&bits, &theta, 4);
            std::printf("%08x\n", bits);
        } else if (std::strcmp(op, "sort") == 0) {
            int m;
            unsigned long long seed;
            if (std::scanf("%d %llu", &m, &seed) != 2) return 2;
            std::vector<int> keys(m), vals(m);
            for (int i = 0; i < m; i++) keys[i] = 3 * i + 1;  // distinct entry ids, ascending
            for (int i = m - 1; i > 0; i--) {                  // Fisher-Yates with a 64-bit LCG
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                int j = (int)((seed >> 33) % (unsigned long long)(i + 1));
                int t = keys[i]; keys[i] = keys[j]; keys[j] = t;
            }
            for (int i = 0; i < m; i++) vals[i] = keys[i] / 3 + 7;  // the row that goes with each entry
            sort_bucket(keys.data(), vals.data(), m, 256);
            const char* bad = nullptr;
            for (int i = 0; i < m && !bad; i++) {
                if (keys[i] != 3 * i + 1) bad = "keys out of order";
                else if (vals[i] != i + 7) bad = "a row left its entry";
            }
            std::printf("%s\n", bad ? bad : "ok");
        } else {
            return 3;
        }
    }
    return 0;
}
