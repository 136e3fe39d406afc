// How a host kernel library describes its kernels to the emulated driver: each kernel's parameter list read off its
// C++ signature (sizes, which are pointers), and a launcher that copies the arguments out of cuLaunchKernel's
// kernelParams array once and runs the grid (runtime.cpp) with every thread calling the kernel on them.
// build.sh generates the table (one EMU_KERNEL(name) per `extern "C" __global__` function of the sources).
#pragma once
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "emu_abi.h"

int emu_run_grid(const EmuLaunch* how, void (*body)(void*), void* ctx, EmuKernelStats* stats, char* err,
                 size_t errlen);

namespace emu {
template <typename>
struct Signature;

template <typename... A>
struct Signature<void (*)(A...)> {
    using Args = std::tuple<std::decay_t<A>...>;
    static constexpr int count = (int)sizeof...(A);
    static constexpr EmuParam params[count > 0 ? count : 1] = {EmuParam{(uint32_t)sizeof(A), std::is_pointer_v<A>}...};

    // kernelParams[i] points at argument i's bytes (cuLaunchKernel's contract).
    static Args unpack(void** kernel_params) { return unpack(kernel_params, std::index_sequence_for<A...>{}); }

    template <size_t... I>
    static Args unpack(void** kernel_params, std::index_sequence<I...>) {
        Args args;
        (std::memcpy(&std::get<I>(args), kernel_params[I], sizeof(std::tuple_element_t<I, Args>)), ...);
        return args;
    }
};

template <auto Kernel>
struct Entry {
    using Sig = Signature<decltype(Kernel)>;

    static void body(void* args) { std::apply(Kernel, *static_cast<typename Sig::Args*>(args)); }

    static int launch(const EmuLaunch* how, void** kernel_params, EmuKernelStats* stats, char* err, size_t errlen);
};

template <auto Kernel>
int Entry<Kernel>::launch(const EmuLaunch* how, void** kernel_params, EmuKernelStats* stats, char* err,
                          size_t errlen) {
    typename Sig::Args args = Sig::unpack(kernel_params);
    return emu_run_grid(how, &body, &args, stats, err, errlen);
}
}  // namespace emu

#define EMU_KERNEL(fn) \
    EmuKernel { #fn, ::emu::Signature<decltype(&fn)>::count, ::emu::Signature<decltype(&fn)>::params, &::emu::Entry<&fn>::launch }

#define EMU_EXPORT_TABLE(table)                                                                                \
    extern "C" __attribute__((visibility("default"))) const EmuKernel* atmsae_emu_kernel_table(int* count,    \
                                                                                             int* abi) {     \
        *count = (int)(sizeof(table) / sizeof(table[0]));                                                      \
        *abi = EMU_ABI_VERSION;                                                                                \
        return table;                                                                                           \
    }
