// The interface between the emulated driver (libcuda.so.1, driver.cpp) and a host build of a module's kernels
// (libatmsae_kernels_emu.so: the unchanged cuda/*.cu compiled by g++ with cuda_emu.h, plus the block scheduler of
// runtime.cpp). The driver validates everything a real driver validates (handles, limits, memory), then hands one
// launch to the kernel library, which runs the grid with CUDA's execution semantics on the calling thread.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMU_ABI_VERSION 1

// One kernel parameter as the host build declares it.
typedef struct {
    uint32_t size;       // sizeof the parameter type
    int is_pointer;      // a pointer: the driver checks it names device memory (or is null)
} EmuParam;

// How a launch runs: grid and block shape, dynamic shared memory, the schedule.
typedef struct {
    const char* kernel;  // its name, for error messages
    unsigned grid[3];
    unsigned block[3];
    size_t dynamic_smem;
    int fuzz;            // 0: threads run in index order between barriers; 1: seeded random order, random yields
    uint64_t seed;       // this launch's schedule seed (fuzz only)
    int poison;          // byte written over shared memory before each block (CUDA leaves it uninitialised)
} EmuLaunch;

// Counters of one kernel, summed over its launches (for the suite's "every kernel ran" check and the stats file).
typedef struct {
    uint64_t launches, blocks, threads, barriers, warp_ops, atomics, yields;
} EmuKernelStats;

typedef struct {
    const char* name;
    int param_count;
    const EmuParam* params;
    // Runs the whole grid; 0 when it completed, else non-zero with a one-line reason in err (a deadlock, a
    // divergent barrier, a warp collective whose mask names an exited lane, ...).
    int (*launch)(const EmuLaunch* how, void** params, EmuKernelStats* stats, char* err, size_t errlen);
} EmuKernel;

// Exported by every host kernel library: its kernels (the table lives as long as the library).
typedef const EmuKernel* (*EmuKernelTableFn)(int* count, int* abi_version);
#define EMU_KERNEL_TABLE_SYMBOL "atmsae_emu_kernel_table"

// Exported by the emulated driver for the emulated cuBLAS (and tests): whether [ptr, ptr + bytes) lies inside one
// live device allocation; 0 when it does, else a CUDA error code with the reason in err.
int atmsaeEmuCheckRange(uint64_t ptr, size_t bytes, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif
