// Reads what a real driver reads off an nvcc fatbin before it launches anything: the kernels of the sm_90 SASS
// (the emulated device is an sm_90 part) with their static shared memory, registers and parameter layout. The
// emulated driver answers cuFuncGetAttribute and enforces the launch limits from these, and checks that the host
// build of every kernel takes the same parameters as the device code the fatbin carries.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace emu {

struct KernelInfo {
    std::string name;
    uint32_t static_smem = 0;           // user-declared static shared memory (the reserved system 1 KiB excluded)
    uint32_t registers = 0;             // per thread
    std::vector<uint32_t> param_sizes;  // in parameter order
};

struct FatbinImage {
    int arch = 0;  // the SM version whose SASS was read
    std::map<std::string, KernelInfo> kernels;
};

// Parses `image`; on failure returns false with the reason in *why.
bool parse_fatbin(const void* image, size_t max_bytes, int want_arch, FatbinImage* out, std::string* why);

}  // namespace emu
