// The emulated driver's own checks, run by EmulatedDriverTest (java/src/test/.../engine/cuda) once per schedule:
//   emu_driver_test FATBIN            every check; one line "ok NAME" or "FAIL NAME: why" each; exit 1 on a failure
//   emu_driver_test FATBIN store-past-end   launches a kernel that stores past its buffer (the sanitized build
//                                     must stop it there)
// FATBIN is tests/test_kernels.cu compiled by nvcc; ATMSAE_EMU_KERNELS names its host build.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

typedef unsigned long long CUdeviceptr;
typedef void* CUhandle;
extern "C" {
int cuInit(unsigned);
int cuDeviceGetCount(int*);
int cuDeviceGet(int*, int);
int cuDeviceGetName(char*, int, int);
int cuDeviceGetAttribute(int*, int, int);
int cuDevicePrimaryCtxRetain(CUhandle*, int);
int cuDevicePrimaryCtxRelease_v2(int);
int cuCtxSetCurrent(CUhandle);
int cuMemAlloc_v2(CUdeviceptr*, size_t);
int cuMemFree_v2(CUdeviceptr);
int cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
int cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
int cuMemsetD32Async(CUdeviceptr, unsigned, size_t, CUhandle);
int cuModuleLoadData(CUhandle*, const void*);
int cuModuleGetFunction(CUhandle*, CUhandle, const char*);
int cuFuncGetAttribute(int*, int, CUhandle);
int cuFuncSetAttribute(CUhandle, int, int);
int cuLaunchKernel(CUhandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUhandle, void**,
                   void**);
int cuStreamCreate(CUhandle*, unsigned);
int cuStreamDestroy_v2(CUhandle);
int cuEventCreate(CUhandle*, unsigned);
int cuEventDestroy_v2(CUhandle);
int cuEventRecord(CUhandle, CUhandle);
int cuEventElapsedTime(float*, CUhandle, CUhandle);
}

namespace {
enum { OK = 0, INVALID_VALUE = 1, NOT_INITIALIZED = 3, INVALID_IMAGE = 200, INVALID_CONTEXT = 201,
       INVALID_HANDLE = 400, NOT_FOUND = 500, ILLEGAL_ADDRESS = 700, LAUNCH_FAILED = 719 };

std::vector<char> g_image;
CUhandle g_ctx = nullptr, g_module = nullptr;
int g_failures = 0;
bool g_fuzz = false;

struct Failure {
    std::string why;
};

void expect(bool ok, const std::string& why) {
    if (!ok) throw Failure{why};
}

void expect_rc(int got, int want, const char* call) {
    if (got != want) throw Failure{std::string(call) + " returned " + std::to_string(got) + ", expected " + std::to_string(want)};
}

void run(const char* name, const std::function<void()>& body) {
    try {
        body();
        std::printf("ok %s\n", name);
    } catch (const Failure& f) {
        std::printf("FAIL %s: %s\n", name, f.why.c_str());
        g_failures++;
    }
    std::fflush(stdout);
}

// A fresh primary context with the test module loaded (after a failed kernel poisoned the old one).
void fresh_context() {
    if (g_ctx != nullptr) cuDevicePrimaryCtxRelease_v2(0);
    expect_rc(cuDevicePrimaryCtxRetain(&g_ctx, 0), OK, "cuDevicePrimaryCtxRetain");
    expect_rc(cuCtxSetCurrent(g_ctx), OK, "cuCtxSetCurrent");
    expect_rc(cuModuleLoadData(&g_module, g_image.data()), OK, "cuModuleLoadData");
}

CUhandle function(const char* name) {
    CUhandle f = nullptr;
    expect_rc(cuModuleGetFunction(&f, g_module, name), OK, name);
    return f;
}

CUdeviceptr alloc(size_t bytes) {
    CUdeviceptr p = 0;
    expect_rc(cuMemAlloc_v2(&p, bytes), OK, "cuMemAlloc");
    return p;
}

std::vector<int> download(CUdeviceptr p, size_t n) {
    std::vector<int> v(n);
    expect_rc(cuMemcpyDtoH_v2(v.data(), p, n * 4), OK, "cuMemcpyDtoH");
    return v;
}

int launch(const char* kernel, unsigned gx, unsigned gy, unsigned bx, unsigned by, unsigned bz, unsigned smem,
           std::vector<void*> args) {
    return cuLaunchKernel(function(kernel), gx, gy, 1, bx, by, bz, smem, nullptr, args.data(), nullptr);
}

// A kernel that must fail: the launch reports CUDA_ERROR_LAUNCH_FAILED and the context stays poisoned.
void expect_launch_failure(const char* kernel, unsigned threads) {
    CUdeviceptr out = alloc(4096);
    expect_rc(launch(kernel, 1, 1, threads, 1, 1, 0, {&out}), LAUNCH_FAILED, kernel);
    CUdeviceptr p;
    expect_rc(cuMemAlloc_v2(&p, 4), LAUNCH_FAILED, "cuMemAlloc after a failed kernel (sticky error)");
    fresh_context();
}

void checks() {
    run("calls before cuInit fail", [] {
        int n;
        expect_rc(cuDeviceGetCount(&n), NOT_INITIALIZED, "cuDeviceGetCount");
    });
    expect_rc(cuInit(0), OK, "cuInit");
    run("no current context", [] {
        CUdeviceptr p;
        expect_rc(cuMemAlloc_v2(&p, 16), INVALID_CONTEXT, "cuMemAlloc");
    });
    run("device", [] {
        char name[256];
        int v;
        expect_rc(cuDeviceGetName(name, sizeof name, 0), OK, "cuDeviceGetName");
        expect(std::strstr(name, "emulated") != nullptr, std::string("name: ") + name);
        expect_rc(cuDeviceGetAttribute(&v, 97, 0), OK, "cuDeviceGetAttribute");
        expect(v == 227 * 1024, "opt-in shared memory " + std::to_string(v));
        int d;
        expect_rc(cuDeviceGet(&d, 1), 101, "cuDeviceGet(1)");
    });
    fresh_context();
    run("memory registry", [] {
        CUdeviceptr p, none;
        std::vector<char> host(200);
        expect_rc(cuMemAlloc_v2(&none, 0), INVALID_VALUE, "cuMemAlloc(0)");
        p = alloc(100);
        expect_rc(cuMemcpyHtoD_v2(p, host.data(), 100), OK, "copy of 100 into 100");
        expect_rc(cuMemcpyHtoD_v2(p, host.data(), 101), INVALID_VALUE, "copy of 101 into 100");
        expect_rc(cuMemcpyDtoH_v2(host.data(), p + 96, 8), INVALID_VALUE, "copy out across the end");
        expect_rc(cuMemsetD32Async(p, 7, 25, nullptr), OK, "memset of 25 words");
        expect_rc(cuMemsetD32Async(p, 7, 26, nullptr), INVALID_VALUE, "memset of 26 words");
        expect_rc(cuMemsetD32Async(p + 2, 7, 1, nullptr), INVALID_VALUE, "misaligned memset");
        expect_rc(cuMemFree_v2(p + 4), INVALID_VALUE, "free inside an allocation");
        expect_rc(cuMemFree_v2(p), OK, "free");
        expect_rc(cuMemcpyHtoD_v2(p, host.data(), 4), INVALID_VALUE, "copy after free");
        expect_rc(cuMemFree_v2(p), INVALID_VALUE, "double free");
    });
    run("modules and attributes", [] {
        CUhandle m, f;
        const char junk[32] = "not a fatbin";
        expect_rc(cuModuleLoadData(&m, junk), INVALID_IMAGE, "cuModuleLoadData(junk)");
        expect_rc(cuModuleGetFunction(&f, g_module, "no_such_kernel"), NOT_FOUND, "cuModuleGetFunction");
        int v;
        expect_rc(cuFuncGetAttribute(&v, 1, function("barrier_rotate")), OK, "SHARED_SIZE_BYTES");
        expect(v == 4096, "barrier_rotate static shared memory " + std::to_string(v));
        expect_rc(cuFuncGetAttribute(&v, 1, function("big_static_smem")), OK, "SHARED_SIZE_BYTES");
        expect(v == 40960, "big_static_smem static shared memory " + std::to_string(v));
        expect_rc(cuFuncGetAttribute(&v, 8, function("big_static_smem")), OK, "MAX_DYNAMIC_SHARED_SIZE_BYTES");
        expect(v == 48 * 1024 - 40960, "default dynamic allowance " + std::to_string(v));
        expect_rc(cuFuncGetAttribute(&v, 0, function("barrier_rotate")), OK, "MAX_THREADS_PER_BLOCK");
        expect(v == 1024, "max threads " + std::to_string(v));
        expect_rc(cuFuncGetAttribute(&v, 4, function("warp_ops")), OK, "NUM_REGS");
        expect(v > 0 && v <= 255, "registers " + std::to_string(v));
    });
    run("launch limits", [] {
        CUdeviceptr out = alloc(4 * 8192);
        expect_rc(launch("barrier_rotate", 1, 1, 1025, 1, 1, 0, {&out}), INVALID_VALUE, "1025 threads");
        expect_rc(launch("barrier_rotate", 1, 1, 32, 32, 2, 0, {&out}), INVALID_VALUE, "32x32x2 threads");
        expect_rc(launch("barrier_rotate", 1, 1, 1, 1, 65, 0, {&out}), INVALID_VALUE, "block z 65");
        expect_rc(launch("barrier_rotate", 1, 65536, 1, 1, 1, 0, {&out}), INVALID_VALUE, "grid y 65536");
        expect_rc(launch("barrier_rotate", 0, 1, 32, 1, 1, 0, {&out}), INVALID_VALUE, "grid x 0");
        expect_rc(launch("barrier_rotate", 1, 1, 1024, 1, 1, 0, {&out}), OK, "1024 threads");
        std::vector<int> got = download(out, 1024);
        for (int t = 0; t < 1024; t++) expect(got[t] == (t + 1) % 1024 + 1, "rotate at " + std::to_string(t));
    });
    run("barrier in 3-D blocks of a 2-D grid", [] {
        const int n = 64 * 2 * 2, blocks = 6;
        CUdeviceptr out = alloc(4 * n * blocks);
        expect_rc(launch("barrier_rotate", 3, 2, 64, 2, 2, 0, {&out}), OK, "launch");
        std::vector<int> got = download(out, (size_t)n * blocks);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < n; t++) expect(got[b * n + t] == (t + 1) % n + 1, "block " + std::to_string(b));
    });
    run("coordinates", [] {
        CUdeviceptr out = alloc(4 * 72);
        expect_rc(launch("coordinates", 3, 2, 4, 3, 1, 0, {&out}), OK, "launch");
        std::vector<int> got = download(out, 72);
        for (int by = 0; by < 2; by++)
            for (int bx = 0; bx < 3; bx++)
                for (int ty = 0; ty < 3; ty++)
                    for (int tx = 0; tx < 4; tx++) {
                        int at = (by * 3 + bx) * 12 + ty * 4 + tx;
                        expect(got[at] == by * 1000000 + bx * 10000 + ty * 100 + tx, "at " + std::to_string(at));
                    }
    });
    run("a missing __syncthreads is caught", [] {
        CUdeviceptr out = alloc(4 * 256);
        expect_rc(launch("racy_rotate", 1, 1, 256, 1, 1, 0, {&out}), OK, "launch");
        std::vector<int> got = download(out, 256);
        int wrong = 0;
        for (int t = 0; t < 256; t++) wrong += got[t] != (t + 1) % 256 + 1;
        expect(wrong > 0, "every thread read its neighbour's value without a barrier");
    });
    run("warp lock-step without __syncwarp is caught", [] {
        CUdeviceptr racy = alloc(4 * 64), synced = alloc(4 * 64);
        expect_rc(launch("warp_racy", 1, 1, 64, 1, 1, 0, {&racy}), OK, "warp_racy");
        expect_rc(launch("warp_synced", 1, 1, 64, 1, 1, 0, {&synced}), OK, "warp_synced");
        std::vector<int> r = download(racy, 64), s = download(synced, 64);
        int wrong = 0;
        for (int t = 0; t < 64; t++) {
            expect(s[t] == ((t & 31) + 1) % 32 + 1, "warp_synced at " + std::to_string(t));
            wrong += r[t] != s[t];
        }
        expect(wrong > 0, "warp_racy read every value as if the warp ran in lock-step");
    });
    run("warp collectives", [] {
        const int T = 64;
        std::vector<int> in(T);
        unsigned seed = 12345;
        for (int& v : in) v = (int)((seed = seed * 1103515245u + 12345u) >> 20) % 23;
        in[40] = 11;
        CUdeviceptr din = alloc(4 * T), dout = alloc(4 * 13 * T);
        expect_rc(cuMemcpyHtoD_v2(din, in.data(), 4 * T), OK, "upload");
        expect_rc(launch("warp_ops", 1, 1, T, 1, 1, 0, {&din, &dout}), OK, "launch");
        std::vector<int> got = download(dout, 13 * T);
        int odd = 0;
        for (int v : in) odd += v & 1;
        for (int t = 0; t < T; t++) {
            int lane = t & 31, w = t & ~31;
            auto at = [&](int l) { return in[w + l]; };
            int want[13];
            want[0] = at(7);
            want[1] = at((lane & ~7) + ((lane + 3) & 7));
            want[2] = lane >= 2 ? at(lane - 2) : in[t];
            want[3] = (lane & 15) >= 3 ? at(lane - 3) : in[t];
            want[4] = lane + 5 < 32 ? at(lane + 5) : in[t];
            want[5] = (lane & 3) + 1 < 4 ? at(lane + 1) : in[t];
            want[6] = at(lane ^ 9);
            unsigned ballot = 0, match = 0;
            bool any = false, all = true;
            int sum = 0;
            for (int l = 0; l < 32; l++) {
                ballot |= (unsigned)(at(l) & 1) << l;
                any |= at(l) == 11;
                all &= at(l) >= 0;
                if (at(l) % 3 == in[t] % 3) match |= 1u << l;
                sum += at(l);
            }
            want[7] = (int)ballot;
            want[8] = any;
            want[9] = all;
            want[10] = (int)match;
            want[11] = sum;
            want[12] = odd;
            for (int i = 0; i < 13; i++)
                expect(got[13 * t + i] == want[i], "thread " + std::to_string(t) + " result " + std::to_string(i) + ": "
                       + std::to_string(got[13 * t + i]) + " != " + std::to_string(want[i]));
        }
    });
    run("uninitialised shared memory reads the poison", [] {
        CUdeviceptr out = alloc(4 * 64);
        expect_rc(launch("read_uninitialised", 1, 1, 64, 1, 1, 0, {&out}), OK, "launch");
        std::vector<int> got = download(out, 64);
        if (!g_fuzz)
            for (int v : got) expect(v == -1, "read " + std::to_string(v) + ", not the 0xff poison");
    });
    run("shared memory above 48 KiB needs the opt-in", [] {
        CUdeviceptr out = alloc(4 * 256);
        CUhandle f = function("big_static_smem");
        expect_rc(launch("big_static_smem", 1, 1, 256, 1, 1, 16 * 1024, {&out}), INVALID_VALUE, "40 KiB + 16 KiB");
        expect_rc(cuFuncSetAttribute(f, 8, 190 * 1024), INVALID_VALUE, "opt-in to 40 + 190 KiB");
        expect_rc(cuFuncSetAttribute(f, 8, 227 * 1024 - 40960), OK, "opt-in to exactly 227 KiB");
        expect_rc(cuFuncSetAttribute(f, 8, 16 * 1024), OK, "opt-in to 16 KiB");
        expect_rc(launch("big_static_smem", 1, 1, 256, 1, 1, 16 * 1024, {&out}), OK, "40 KiB + 16 KiB after opt-in");
        expect_rc(launch("big_static_smem", 1, 1, 256, 1, 1, 16 * 1024 + 4, {&out}), INVALID_VALUE, "past the opt-in");
        std::vector<int> got = download(out, 256);
        for (int t = 0; t < 256; t++) expect(got[t] == 3 * t, "at " + std::to_string(t));
    });
    run("atomics: the order is the schedule's", [] {
        const int n = 512;
        std::vector<float> in(n);
        for (int i = 0; i < n; i++) in[i] = i == 0 ? 1e8f : (i % 2 ? 1.0f : -1.0f) * (i % 7 == 0 ? 1e8f : 3.0f);
        CUdeviceptr din = alloc(4 * n), dout = alloc(4);
        expect_rc(cuMemcpyHtoD_v2(din, in.data(), 4 * n), OK, "upload");
        std::set<unsigned> sums;
        for (int round = 0; round < 12; round++) {
            float zero = 0;
            int count = n;
            expect_rc(cuMemcpyHtoD_v2(dout, &zero, 4), OK, "zero");
            expect_rc(launch("atomic_order", 1, 1, 256, 1, 1, 0, {&din, &dout, &count}), OK, "launch");
            float s;
            expect_rc(cuMemcpyDtoH_v2(&s, dout, 4), OK, "download");
            unsigned bits;
            std::memcpy(&bits, &s, 4);
            sums.insert(bits);
        }
        if (g_fuzz) expect(sums.size() > 1, "12 fuzzed schedules gave one float sum");
        else expect(sums.size() == 1, "the in-order schedule gave " + std::to_string(sums.size()) + " sums");
    });
    run("a dangling pointer argument is an illegal address", [] {
        CUdeviceptr p = alloc(64);
        expect_rc(cuMemFree_v2(p), OK, "free");
        expect_rc(launch("barrier_rotate", 1, 1, 16, 1, 1, 0, {&p}), ILLEGAL_ADDRESS, "launch with a freed buffer");
        CUdeviceptr q;
        expect_rc(cuMemAlloc_v2(&q, 4), ILLEGAL_ADDRESS, "cuMemAlloc after it (sticky)");
        fresh_context();
    });
    run("a barrier reached at two places fails the launch", [] { expect_launch_failure("divergent_barrier", 64); });
    run("a shuffle naming an exited lane fails the launch", [] { expect_launch_failure("shuffle_after_exit", 64); });
    run("a deadlock fails the launch", [] { expect_launch_failure("deadlock", 32); });
    run("streams and events", [] {
        CUhandle s, a, b;
        float ms;
        expect_rc(cuStreamCreate(&s, 0), OK, "cuStreamCreate");
        expect_rc(cuEventCreate(&a, 0), OK, "cuEventCreate");
        expect_rc(cuEventCreate(&b, 0), OK, "cuEventCreate");
        expect_rc(cuEventElapsedTime(&ms, a, b), INVALID_HANDLE, "elapsed time before recording");
        expect_rc(cuEventRecord(a, s), OK, "record");
        expect_rc(cuEventRecord(b, s), OK, "record");
        expect_rc(cuEventElapsedTime(&ms, a, b), OK, "elapsed time");
        expect(ms >= 0, "negative elapsed time");
        expect_rc(cuStreamDestroy_v2(s), OK, "cuStreamDestroy");
        CUdeviceptr out = alloc(64);
        void* args[] = {&out};
        expect_rc(cuLaunchKernel(function("barrier_rotate"), 1, 1, 1, 16, 1, 1, 0, s, args, nullptr), INVALID_HANDLE,
                  "launch on a destroyed stream");
        expect_rc(cuEventDestroy_v2(a), OK, "cuEventDestroy");
        expect_rc(cuEventDestroy_v2(a), INVALID_HANDLE, "cuEventDestroy twice");
    });
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: emu_driver_test FATBIN [store-past-end]\n");
        return 64;
    }
    std::ifstream in(argv[1], std::ios::binary);
    g_image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (g_image.size() < 16) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    const char* schedule = std::getenv("ATMSAE_EMU_SCHEDULE");
    g_fuzz = schedule != nullptr && std::strncmp(schedule, "fuzz:", 5) == 0;
    if (argc > 2 && std::strcmp(argv[2], "store-past-end") == 0) {
        cuInit(0);
        fresh_context();
        CUdeviceptr out = alloc(4 * 16);
        int n = 16;
        int rc = launch("store_past_end", 1, 1, 32, 1, 1, 0, {&out, &n});
        std::printf("store_past_end returned %d\n", rc);
        return 0;
    }
    try {
        checks();
    } catch (const Failure& f) {
        std::printf("FAIL setup: %s\n", f.why.c_str());
        return 1;
    }
    std::printf("%d failed\n", g_failures);
    return g_failures == 0 ? 0 : 1;
}
