// libcuda.so.1 of the emulated device: the CUDA driver API calls atmsae's engine makes (JCuda binds this library when
// it is loaded first, CudaAvailability does that for ATMSAE_CUDA_EMULATOR), implemented on the host with a real
// driver's contract: handles are checked, device memory is host memory with a registry of allocations (every copy
// and memset is range-checked; use after free and out-of-range copies return CUDA_ERROR_INVALID_VALUE), streams
// and events run synchronously (events record host time), cuModuleLoadData reads the fatbin's sm_90 SASS for each
// kernel's attributes and binds the kernel by name to its host build, and cuLaunchKernel enforces an H100/H200's
// limits before running the grid (runtime.cpp). A kernel that fails leaves the context in the sticky error a device
// would. Every other entry point JCuda's library links against answers CUDA_ERROR_NOT_SUPPORTED (driver_stubs.inc).
//
// Settings (read by cuInit):
//   ATMSAE_EMU_SCHEDULE  inorder (default: threads run in index order between meeting points) or fuzz:SEED
//   ATMSAE_EMU_SMS       the multiprocessor count the device reports (default 4: grid-stride loops then loop)
//   ATMSAE_EMU_KERNELS   host kernel libraries, ':'-separated (default: libatmsae_kernels_emu.so beside this file)
//   ATMSAE_EMU_STATS     a JSON file of per-kernel counters, rewritten at each module unload and at exit
//   ATMSAE_EMU_MEMORY_MB device memory (default 8192): allocations beyond it fail with CUDA_ERROR_OUT_OF_MEMORY
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_abi.h"
#include "fatbin.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
struct EmuContext;
struct EmuModule;
struct EmuFunction;
struct EmuStream;
struct EmuEvent;
typedef EmuContext* CUcontext;
typedef EmuModule* CUmodule;
typedef EmuFunction* CUfunction;
typedef EmuStream* CUstream;
typedef EmuEvent* CUevent;

#define CU_API extern "C" __attribute__((visibility("default")))

enum : CUresult {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
};

// The limits of an sm_90 part (H100 / H200), CUDA C++ Programming Guide, "Compute Capabilities".
constexpr int SM_ARCH = 90;
constexpr unsigned MAX_THREADS_PER_BLOCK = 1024;
constexpr unsigned MAX_BLOCK_DIM[3] = {1024, 1024, 64};
constexpr unsigned MAX_GRID_DIM[3] = {2147483647u, 65535, 65535};
constexpr unsigned DEFAULT_SMEM_PER_BLOCK = 48 * 1024;   // without the cuFuncSetAttribute opt-in
constexpr unsigned OPTIN_SMEM_PER_BLOCK = 227 * 1024;    // 228 KiB per SM less the 1 KiB reserved per block
constexpr unsigned REGISTERS_PER_BLOCK = 65536;
constexpr const char* DEVICE_NAME = "atmsae emulated CUDA device (host CPU, sm_90 limits)";

CU_API const char atmsaeEmulator[] = "atmsae emulated CUDA device, ABI 1";

// ------------------------------------------------------------------------------------------------ state

struct EmuContext {
    int refcount = 0;
    CUresult sticky = CUDA_SUCCESS;  // a failed kernel poisons the context until it is released
};

struct EmuFunction {
    EmuModule* module = nullptr;
    const EmuKernel* host = nullptr;
    emu::KernelInfo info;
    unsigned max_dynamic_smem = 0;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    unsigned max_threads = 0;
};

struct EmuModule {
    std::map<std::string, std::unique_ptr<EmuFunction>> functions;
};

struct EmuStream {
    unsigned flags = 0;
};

struct EmuEvent {
    unsigned flags = 0;
    bool recorded = false;
    std::chrono::steady_clock::time_point at;
};

struct HostLibrary {
    std::string path;
    std::map<std::string, const EmuKernel*> kernels;
};

namespace {

std::recursive_mutex g_lock;
bool g_initialised = false;
EmuContext g_primary;
thread_local EmuContext* tl_current = nullptr;
std::set<EmuModule*> g_modules;
std::set<EmuStream*> g_streams;
std::set<EmuEvent*> g_events;
std::map<CUdeviceptr, size_t> g_live;   // allocation base -> bytes
std::map<CUdeviceptr, size_t> g_freed;  // recently freed, for the messages only
size_t g_live_bytes = 0;
std::vector<HostLibrary> g_libraries;
std::map<std::string, EmuKernelStats> g_stats;
uint64_t g_launches = 0;

struct Settings {
    bool fuzz = false;
    uint64_t seed = 0;
    int sms = 4;
    size_t memory = 8192ull << 20;
    std::string kernels;
    std::string stats;
    std::string schedule = "inorder";
} g_settings;

void say(const char* fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "atmsae-emu: %s\n", msg);
    std::fflush(stderr);
}

std::string own_directory() {
    Dl_info info;
    if (dladdr((void*)&own_directory, &info) == 0 || info.dli_fname == nullptr) return ".";
    std::string p = info.dli_fname;
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? "." : p.substr(0, slash);
}

void read_settings() {
    if (const char* s = std::getenv("ATMSAE_EMU_SCHEDULE"); s != nullptr && *s != 0) {
        g_settings.schedule = s;
        if (std::strncmp(s, "fuzz:", 5) == 0) {
            g_settings.fuzz = true;
            g_settings.seed = std::strtoull(s + 5, nullptr, 10);
        } else if (std::strcmp(s, "inorder") != 0) {
            say("ATMSAE_EMU_SCHEDULE=%s: expected inorder or fuzz:SEED; using inorder", s);
            g_settings.schedule = "inorder";
        }
    }
    if (const char* s = std::getenv("ATMSAE_EMU_SMS"); s != nullptr && std::atoi(s) > 0) g_settings.sms = std::atoi(s);
    if (const char* s = std::getenv("ATMSAE_EMU_MEMORY_MB"); s != nullptr && std::atoll(s) > 0)
        g_settings.memory = (size_t)std::atoll(s) << 20;
    const char* k = std::getenv("ATMSAE_EMU_KERNELS");
    g_settings.kernels = k != nullptr && *k != 0 ? k : own_directory() + "/libatmsae_kernels_emu.so";
    if (const char* s = std::getenv("ATMSAE_EMU_STATS")) g_settings.stats = s;
}

void write_stats() {
    if (g_settings.stats.empty()) return;
    std::string tmp = g_settings.stats + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) return;
    std::fprintf(f, "{\n  \"schedule\": \"%s\",\n  \"launches\": %llu,\n  \"kernels\": {", g_settings.schedule.c_str(),
                 (unsigned long long)g_launches);
    const char* sep = "\n";
    for (auto& [name, s] : g_stats) {
        std::fprintf(f, "%s    \"%s\": {\"launches\": %llu, \"blocks\": %llu, \"threads\": %llu, \"barriers\": %llu, "
                     "\"warp_ops\": %llu, \"atomics\": %llu, \"yields\": %llu}", sep, name.c_str(),
                     (unsigned long long)s.launches, (unsigned long long)s.blocks, (unsigned long long)s.threads,
                     (unsigned long long)s.barriers, (unsigned long long)s.warp_ops, (unsigned long long)s.atomics,
                     (unsigned long long)s.yields);
        sep = ",\n";
    }
    std::fprintf(f, "\n  }\n}\n");
    std::fclose(f);
    std::rename(tmp.c_str(), g_settings.stats.c_str());
}

// The calling thread's context, checked: none current, or poisoned by a failed kernel.
CUresult current_context() {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (tl_current == nullptr || tl_current->refcount == 0) return CUDA_ERROR_INVALID_CONTEXT;
    return tl_current->sticky;
}

bool valid_stream(CUstream s) {
    uintptr_t v = (uintptr_t)s;
    return v == 0 || v == 1 || v == 2 || g_streams.count(s) > 0;
}

// Where ptr lies: the live allocation holding [ptr, ptr + bytes), else the reason.
bool find_range(CUdeviceptr ptr, size_t bytes, std::string* why) {
    auto it = g_live.upper_bound(ptr);
    if (it != g_live.begin()) {
        --it;
        if (ptr >= it->first && ptr - it->first <= it->second) {
            if (bytes <= it->second - (ptr - it->first)) return true;
            char m[200];
            std::snprintf(m, sizeof m, "[0x%llx, +%zu) runs %llu bytes past the end of the %zu-byte allocation at 0x%llx",
                          ptr, bytes, bytes - (it->second - (ptr - it->first)), it->second, it->first);
            *why = m;
            return false;
        }
    }
    auto f = g_freed.upper_bound(ptr);
    if (f != g_freed.begin()) {
        --f;
        if (ptr >= f->first && ptr - f->first < f->second) {
            char m[160];
            std::snprintf(m, sizeof m, "0x%llx lies in the %zu-byte allocation at 0x%llx, which was freed (use after free)",
                          ptr, f->second, f->first);
            *why = m;
            return false;
        }
    }
    char m[120];
    std::snprintf(m, sizeof m, "0x%llx is not device memory of this context", ptr);
    *why = m;
    return false;
}

CUresult check_range(const char* call, CUdeviceptr ptr, size_t bytes) {
    std::string why;
    if (find_range(ptr, bytes, &why)) return CUDA_SUCCESS;
    say("%s: %s", call, why.c_str());
    return CUDA_ERROR_INVALID_VALUE;
}

CUresult load_libraries() {
    if (!g_libraries.empty()) return CUDA_SUCCESS;
    size_t start = 0;
    const std::string& list = g_settings.kernels;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        std::string path = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? list.size() + 1 : end + 1;
        if (path.empty()) continue;
        void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) {
            say("cannot load the host kernel library %s: %s", path.c_str(), dlerror());
            continue;
        }
        auto table = (EmuKernelTableFn)dlsym(h, EMU_KERNEL_TABLE_SYMBOL);
        if (table == nullptr) {
            say("%s has no %s", path.c_str(), EMU_KERNEL_TABLE_SYMBOL);
            continue;
        }
        int count = 0, abi = 0;
        const EmuKernel* kernels = table(&count, &abi);
        if (abi != EMU_ABI_VERSION) {
            say("%s speaks emulator ABI %d, this driver %d", path.c_str(), abi, EMU_ABI_VERSION);
            continue;
        }
        HostLibrary lib;
        lib.path = path;
        for (int i = 0; i < count; i++) lib.kernels[kernels[i].name] = &kernels[i];
        g_libraries.push_back(std::move(lib));
    }
    return g_libraries.empty() ? CUDA_ERROR_NO_BINARY_FOR_GPU : CUDA_SUCCESS;
}

// Binds every kernel of the image to a host build with the same parameters (a stale fatbin or a stale host build
// would otherwise run with shifted arguments).
CUresult bind_module(const emu::FatbinImage& image, EmuModule* m) {
    for (const HostLibrary& lib : g_libraries) {
        bool all = true;
        for (auto& [name, info] : image.kernels) all = all && lib.kernels.count(name) > 0;
        if (!all) continue;
        for (auto& [name, info] : image.kernels) {
            const EmuKernel* host = lib.kernels.at(name);
            bool same = (size_t)host->param_count == info.param_sizes.size();
            for (int i = 0; same && i < host->param_count; i++) same = host->params[i].size == info.param_sizes[i];
            if (!same) {
                std::string dev, hst;
                for (uint32_t s : info.param_sizes) dev += std::to_string(s) + " ";
                for (int i = 0; i < host->param_count; i++) hst += std::to_string(host->params[i].size) + " ";
                say("cuModuleLoadData: kernel %s takes parameters of sizes [ %s] in the fatbin but [ %s] in %s (one "
                    "of them is stale)", name.c_str(), dev.c_str(), hst.c_str(), lib.path.c_str());
                return CUDA_ERROR_INVALID_IMAGE;
            }
            auto f = std::make_unique<EmuFunction>();
            f->module = m;
            f->host = host;
            f->info = info;
            f->max_dynamic_smem = DEFAULT_SMEM_PER_BLOCK - std::min(info.static_smem, DEFAULT_SMEM_PER_BLOCK);
            // Registers are allocated per warp in units of 256 (8 per thread); a block must fit the 64K of an SM.
            unsigned regs = std::max(1u, (info.registers + 7) / 8 * 8);
            f->max_threads = std::min(MAX_THREADS_PER_BLOCK, REGISTERS_PER_BLOCK / regs / 32 * 32);
            m->functions[name] = std::move(f);
        }
        return CUDA_SUCCESS;
    }
    say("cuModuleLoadData: no host kernel library (%s) builds every kernel of this fatbin", g_settings.kernels.c_str());
    return CUDA_ERROR_NO_BINARY_FOR_GPU;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ for the emulated cuBLAS

extern "C" __attribute__((visibility("default"))) int atmsaeEmuCheckRange(uint64_t ptr, size_t bytes, char* err,
                                                                          size_t errlen) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    CUresult r = current_context();
    if (r != CUDA_SUCCESS) {
        std::snprintf(err, errlen, "no usable context (CUresult %d)", r);
        return r;
    }
    std::string why;
    if (find_range(ptr, bytes, &why)) return 0;
    std::snprintf(err, errlen, "%s", why.c_str());
    return CUDA_ERROR_ILLEGAL_ADDRESS;
}

// ------------------------------------------------------------------------------------------------ init, device

CU_API CUresult cuInit(unsigned flags) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!g_initialised) {
        read_settings();
        std::atexit(write_stats);
        g_initialised = true;
    }
    return CUDA_SUCCESS;
}

CU_API CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

CU_API CUresult cuDeviceGetCount(int* count) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

CU_API CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

CU_API CUresult cuDeviceGetName(char* name, int len, CUdevice device) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (size_t)len, "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

CU_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = g_settings.memory;
    return CUDA_SUCCESS;
}

CU_API CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    switch (attribute) {
        case 1: *value = (int)MAX_THREADS_PER_BLOCK; break;
        case 2: case 3: case 4: *value = (int)MAX_BLOCK_DIM[attribute - 2]; break;
        case 5: case 6: case 7: *value = (int)MAX_GRID_DIM[attribute - 5]; break;
        case 8: *value = (int)DEFAULT_SMEM_PER_BLOCK; break;
        case 9: *value = 65536; break;                       // total constant memory
        case 10: *value = 32; break;                         // warp size
        case 12: *value = (int)REGISTERS_PER_BLOCK; break;
        case 13: *value = 1980000; break;                    // clock rate, kHz
        case 16: *value = g_settings.sms; break;             // multiprocessor count
        case 18: *value = 0; break;                          // integrated
        case 31: *value = 1; break;                          // concurrent kernels
        case 38: *value = 50 << 20; break;                   // L2 cache bytes
        case 39: *value = 2048; break;                       // threads per multiprocessor
        case 41: *value = 1; break;                          // unified addressing
        case 75: *value = SM_ARCH / 10; break;
        case 76: *value = SM_ARCH % 10; break;
        case 81: *value = 228 * 1024; break;                 // shared memory per multiprocessor
        case 82: *value = 65536; break;                      // registers per multiprocessor
        case 97: *value = (int)OPTIN_SMEM_PER_BLOCK; break;
        case 106: *value = 32; break;                        // blocks per multiprocessor
        case 111: *value = 1024; break;                      // reserved shared memory per block
        default:
            say("cuDeviceGetAttribute: attribute %d is not emulated", attribute);
            return CUDA_ERROR_NOT_SUPPORTED;
    }
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------------------------------------ contexts

CU_API CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice device) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    g_primary.refcount++;
    *ctx = &g_primary;
    return CUDA_SUCCESS;
}

// Releasing the last reference destroys the primary context: its memory, modules, streams and events go with it.
CU_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (g_primary.refcount == 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--g_primary.refcount == 0) {
        for (auto& [base, bytes] : g_live) {
            std::free((void*)base);
            g_freed[base] = bytes;
        }
        g_live.clear();
        g_live_bytes = 0;
        for (EmuModule* m : g_modules) delete m;
        for (EmuStream* s : g_streams) delete s;
        for (EmuEvent* e : g_events) delete e;
        g_modules.clear();
        g_streams.clear();
        g_events.clear();
        g_primary.sticky = CUDA_SUCCESS;
        write_stats();
    }
    return CUDA_SUCCESS;
}

CU_API CUresult cuCtxSetCurrent(CUcontext ctx) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && (ctx != &g_primary || g_primary.refcount == 0)) return CUDA_ERROR_INVALID_CONTEXT;
    tl_current = ctx;
    return CUDA_SUCCESS;
}

CU_API CUresult cuCtxGetCurrent(CUcontext* ctx) {
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *ctx = tl_current;
    return CUDA_SUCCESS;
}

CU_API CUresult cuCtxSynchronize() {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    return current_context();
}

// ------------------------------------------------------------------------------------------------ memory

CU_API CUresult cuMemAlloc_v2(CUdeviceptr* ptr, size_t bytes) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (ptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytes > g_settings.memory - std::min(g_live_bytes, g_settings.memory)) {
        say("cuMemAlloc: %zu bytes requested, %zu of the device's %zu in use", bytes, g_live_bytes, g_settings.memory);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    // Each allocation is its own host allocation of exactly the size asked (AddressSanitizer then sees an overrun
    // at the faulting line), aligned as cudaMalloc's are.
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    CUdeviceptr d = (CUdeviceptr)(uintptr_t)p;
    g_freed.erase(d);
    g_live[d] = bytes;
    g_live_bytes += bytes;
    *ptr = d;
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemFree_v2(CUdeviceptr ptr) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (ptr == 0) return CUDA_SUCCESS;
    auto it = g_live.find(ptr);
    if (it == g_live.end()) {
        std::string why;
        if (find_range(ptr, 1, &why)) why = "it lies inside one";
        say("cuMemFree(0x%llx): not the start of a live allocation: %s", ptr, why.c_str());
        return CUDA_ERROR_INVALID_VALUE;
    }
    g_live_bytes -= it->second;
    g_freed[ptr] = it->second;
    if (g_freed.size() > 65536) g_freed.erase(g_freed.begin());
    g_live.erase(it);
    std::free((void*)(uintptr_t)ptr);
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (free_bytes == nullptr || total == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *total = g_settings.memory;
    *free_bytes = g_settings.memory - std::min(g_live_bytes, g_settings.memory);
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (bytes == 0) return CUDA_SUCCESS;
    if (src == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = check_range("cuMemcpyHtoD", dst, bytes); r != CUDA_SUCCESS) return r;
    std::memcpy((void*)(uintptr_t)dst, src, bytes);
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    return cuMemcpyHtoD_v2(dst, src, bytes);
}

CU_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (bytes == 0) return CUDA_SUCCESS;
    if (dst == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = check_range("cuMemcpyDtoH", src, bytes); r != CUDA_SUCCESS) return r;
    std::memcpy(dst, (const void*)(uintptr_t)src, bytes);
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    return cuMemcpyDtoH_v2(dst, src, bytes);
}

CU_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (bytes == 0) return CUDA_SUCCESS;
    if (CUresult r = check_range("cuMemcpyDtoD (source)", src, bytes); r != CUDA_SUCCESS) return r;
    if (CUresult r = check_range("cuMemcpyDtoD (destination)", dst, bytes); r != CUDA_SUCCESS) return r;
    std::memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, bytes);
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    return cuMemcpyDtoDAsync_v2(dst, src, bytes, nullptr);
}

CU_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count, CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (dst % 4 != 0) {
        say("cuMemsetD32: 0x%llx is not 4-byte aligned", dst);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (count == 0) return CUDA_SUCCESS;
    if (CUresult r = check_range("cuMemsetD32", dst, count * 4); r != CUDA_SUCCESS) return r;
    unsigned* p = (unsigned*)(uintptr_t)dst;
    for (size_t i = 0; i < count; i++) p[i] = value;
    return CUDA_SUCCESS;
}

CU_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t count) {
    return cuMemsetD32Async(dst, value, count, nullptr);
}

// ------------------------------------------------------------------------------------------------ streams, events

namespace {
// A stream or event handle: created with flags up to max_flags, live until destroyed.
template <typename T>
CUresult create_handle(std::set<T*>& live, T** out, unsigned flags, unsigned max_flags) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (out == nullptr || flags > max_flags) return CUDA_ERROR_INVALID_VALUE;
    T* h = new T;
    h->flags = flags;
    live.insert(h);
    *out = h;
    return CUDA_SUCCESS;
}

template <typename T>
CUresult destroy_handle(std::set<T*>& live, T* h) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (live.erase(h) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete h;
    return CUDA_SUCCESS;
}
}  // namespace

CU_API CUresult cuStreamCreate(CUstream* stream, unsigned flags) { return create_handle(g_streams, stream, flags, 1); }

CU_API CUresult cuStreamDestroy_v2(CUstream stream) { return destroy_handle(g_streams, stream); }

// Work runs when it is queued, so a stream is always idle.
CU_API CUresult cuStreamSynchronize(CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    return valid_stream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CU_API CUresult cuEventCreate(CUevent* event, unsigned flags) { return create_handle(g_events, event, flags, 0xf); }

CU_API CUresult cuEventDestroy_v2(CUevent event) { return destroy_handle(g_events, event); }

CU_API CUresult cuEventRecord(CUevent event, CUstream stream) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (g_events.count(event) == 0 || !valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    event->recorded = true;
    event->at = std::chrono::steady_clock::now();
    return CUDA_SUCCESS;
}

CU_API CUresult cuEventSynchronize(CUevent event) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    return g_events.count(event) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CU_API CUresult cuEventQuery(CUevent event) { return cuEventSynchronize(event); }

CU_API CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent stop) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (ms == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (g_events.count(start) == 0 || g_events.count(stop) == 0 || !start->recorded || !stop->recorded
        || ((start->flags | stop->flags) & 0x2 /* CU_EVENT_DISABLE_TIMING */))
        return CUDA_ERROR_INVALID_HANDLE;
    *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
    return CUDA_SUCCESS;
}

CU_API CUresult cuEventElapsedTime_v2(float* ms, CUevent start, CUevent stop) { return cuEventElapsedTime(ms, start, stop); }

// ------------------------------------------------------------------------------------------------ modules

CU_API CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    // The fatbin header states its own size: 16 header bytes and the body.
    uint64_t body;
    uint16_t header;
    std::memcpy(&header, (const char*)image + 6, 2);
    std::memcpy(&body, (const char*)image + 8, 8);
    emu::FatbinImage parsed;
    std::string why;
    if (!emu::parse_fatbin(image, (size_t)header + body, SM_ARCH, &parsed, &why)) {
        say("cuModuleLoadData: %s", why.c_str());
        return why.rfind("no sm_", 0) == 0 ? CUDA_ERROR_NO_BINARY_FOR_GPU : CUDA_ERROR_INVALID_IMAGE;
    }
    if (CUresult r = load_libraries(); r != CUDA_SUCCESS) return r;
    auto m = std::make_unique<EmuModule>();
    if (CUresult r = bind_module(parsed, m.get()); r != CUDA_SUCCESS) return r;
    *module = m.release();
    g_modules.insert(*module);
    return CUDA_SUCCESS;
}

CU_API CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned n, void* options, void** values) {
    (void)n;
    (void)options;
    (void)values;
    return cuModuleLoadData(module, image);
}

CU_API CUresult cuModuleUnload(CUmodule module) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS && r != CUDA_ERROR_LAUNCH_FAILED && r != CUDA_ERROR_ILLEGAL_ADDRESS)
        return r;
    if (g_modules.erase(module) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete module;
    write_stats();
    return CUDA_SUCCESS;
}

CU_API CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (function == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (g_modules.count(module) == 0) return CUDA_ERROR_INVALID_HANDLE;
    auto it = module->functions.find(name);
    if (it == module->functions.end()) return CUDA_ERROR_NOT_FOUND;
    *function = it->second.get();
    return CUDA_SUCCESS;
}

namespace {
bool valid_function(CUfunction f) { return f != nullptr && g_modules.count(f->module) > 0; }
}  // namespace

CU_API CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction f) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!valid_function(f)) return CUDA_ERROR_INVALID_HANDLE;
    switch (attribute) {
        case 0: *value = (int)f->max_threads; break;
        case 1: *value = (int)f->info.static_smem; break;
        case 4: *value = (int)f->info.registers; break;
        case 5: case 6: *value = SM_ARCH; break;                 // PTX and binary versions
        case 8: *value = (int)f->max_dynamic_smem; break;
        default:
            say("cuFuncGetAttribute: attribute %d is not emulated", attribute);
            return CUDA_ERROR_NOT_SUPPORTED;
    }
    return CUDA_SUCCESS;
}

CU_API CUresult cuFuncSetAttribute(CUfunction f, int attribute, int value) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (!valid_function(f)) return CUDA_ERROR_INVALID_HANDLE;
    if (attribute == 8) {  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: the opt-in above 48 KiB
        if (value < 0 || (unsigned)value + f->info.static_smem > OPTIN_SMEM_PER_BLOCK) {
            say("cuFuncSetAttribute(%s): %d bytes of dynamic shared memory and %u static exceed the %u a block may "
                "have", f->host->name, value, f->info.static_smem, OPTIN_SMEM_PER_BLOCK);
            return CUDA_ERROR_INVALID_VALUE;
        }
        f->max_dynamic_smem = (unsigned)value;
        return CUDA_SUCCESS;
    }
    if (attribute == 9) return value >= -1 && value <= 100 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;  // carveout hint
    say("cuFuncSetAttribute: attribute %d is not emulated", attribute);
    return CUDA_ERROR_NOT_SUPPORTED;
}

// ------------------------------------------------------------------------------------------------ launch

CU_API CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned smem, CUstream stream, void** params, void** extra) {
    std::lock_guard<std::recursive_mutex> g(g_lock);
    if (CUresult r = current_context(); r != CUDA_SUCCESS) return r;
    if (!valid_function(f) || !valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    const char* name = f->host->name;
    unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
    for (int i = 0; i < 3; i++) {
        if (grid[i] == 0 || grid[i] > MAX_GRID_DIM[i] || block[i] == 0 || block[i] > MAX_BLOCK_DIM[i]) {
            say("cuLaunchKernel(%s): grid (%u,%u,%u) x block (%u,%u,%u) is outside the device's limits", name, gx, gy,
                gz, bx, by, bz);
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    uint64_t threads = (uint64_t)bx * by * bz;
    if (threads > MAX_THREADS_PER_BLOCK) {
        say("cuLaunchKernel(%s): %llu threads per block (at most %u)", name, (unsigned long long)threads,
            MAX_THREADS_PER_BLOCK);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (threads > f->max_threads) {
        say("cuLaunchKernel(%s): %llu threads per block need more than the %u registers of a block (%u per thread)",
            name, (unsigned long long)threads, REGISTERS_PER_BLOCK, f->info.registers);
        return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
    }
    if (smem > f->max_dynamic_smem) {
        say("cuLaunchKernel(%s): %u bytes of dynamic shared memory with %u static; the kernel allows %u dynamic (%s)",
            name, smem, f->info.static_smem, f->max_dynamic_smem,
            f->max_dynamic_smem + f->info.static_smem <= DEFAULT_SMEM_PER_BLOCK
                ? "above 48 KiB in all needs cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)" : "its opt-in");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (extra != nullptr) {
        say("cuLaunchKernel(%s): the `extra` argument form is not emulated", name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (params == nullptr && f->host->param_count > 0) return CUDA_ERROR_INVALID_VALUE;
    // A pointer argument must be null or point into (or just past) a live allocation: the kernel would otherwise
    // fault on its first access, which a device reports as an illegal address.
    for (int i = 0; i < f->host->param_count; i++) {
        if (!f->host->params[i].is_pointer) continue;
        CUdeviceptr p;
        std::memcpy(&p, params[i], sizeof p);
        std::string why;
        if (p != 0 && !find_range(p, 0, &why)) {
            say("cuLaunchKernel(%s): argument %d: %s", name, i, why.c_str());
            tl_current->sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
            return CUDA_ERROR_ILLEGAL_ADDRESS;
        }
    }
    EmuLaunch how;
    how.kernel = name;
    std::memcpy(how.grid, grid, sizeof grid);
    std::memcpy(how.block, block, sizeof block);
    how.dynamic_smem = smem;
    how.fuzz = g_settings.fuzz;
    // SplitMix64 of (seed, launch number): a failing schedule replays from the same seed.
    uint64_t z = g_settings.seed + 0x9e3779b97f4a7c15ull * (++g_launches);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    how.seed = z ^ (z >> 31);
    how.poison = 0xff;
    char err[1024] = "";
    if (f->host->launch(&how, params, &g_stats[name], err, sizeof err) != 0) {
        say("kernel failed: %s", err);
        tl_current->sticky = CUDA_ERROR_LAUNCH_FAILED;
        return CUDA_ERROR_LAUNCH_FAILED;
    }
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------------------------------------ errors

namespace {
const char* error_name(CUresult r) {
    switch (r) {
        case CUDA_SUCCESS: return "CUDA_SUCCESS";
        case CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
        case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
        case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
        case CUDA_ERROR_INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
        case CUDA_ERROR_INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
        case CUDA_ERROR_INVALID_CONTEXT: return "CUDA_ERROR_INVALID_CONTEXT";
        case CUDA_ERROR_NO_BINARY_FOR_GPU: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
        case CUDA_ERROR_INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
        case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
        case CUDA_ERROR_ILLEGAL_ADDRESS: return "CUDA_ERROR_ILLEGAL_ADDRESS";
        case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
        case CUDA_ERROR_LAUNCH_FAILED: return "CUDA_ERROR_LAUNCH_FAILED";
        case CUDA_ERROR_NOT_SUPPORTED: return "CUDA_ERROR_NOT_SUPPORTED";
        default: return nullptr;
    }
}
}  // namespace

CU_API CUresult cuGetErrorName(CUresult error, const char** name) {
    if (name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *name = error_name(error);
    return *name == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CU_API CUresult cuGetErrorString(CUresult error, const char** text) { return cuGetErrorName(error, text); }

// Every other entry point JCuda's driver binding links against: present so the binding loads, never emulated.
#define EMU_NOT_EMULATED(fn)                                         \
    CU_API CUresult fn(...) {                                        \
        say(#fn " is not emulated (cuda/README.md lists what is)"); \
        return CUDA_ERROR_NOT_SUPPORTED;                             \
    }
#include "driver_stubs.inc"
