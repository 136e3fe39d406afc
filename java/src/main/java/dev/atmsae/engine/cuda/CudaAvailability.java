package dev.atmsae.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether the CUDA engine can run here, decided without touching JCuda until a driver and a device are known to
 * exist: JCuda's static initialiser throws UnsatisfiedLinkError without libcuda.so.1 and poisons the class for the
 * rest of the JVM (stack.md §2). The driver is probed through FFM; the answer is computed once and cached.
 */
public final class CudaAvailability {
    /** Set to any value to make the probe answer "disabled" (forces the CPU engine under {@code --engine auto}). */
    public static final String ENV_DISABLE = "ATMSAE_NO_CUDA";

    /**
     * available, or a one-line reason why not; {@code device} names the GPU and driver when available; {@code emulated}
     * when the device is the emulated one ({@link CudaEmulator}), which {@code --engine auto} never picks.
     */
    public record Result(boolean available, String reason, String device, boolean emulated) {
        static Result no(String reason) {
            return new Result(false, reason, "", false);
        }
    }

    private static final int CUDA_ERROR_NO_DEVICE = 100;
    private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    private static volatile Result cached;

    private CudaAvailability() {
    }

    /** Never throws; cached after the first call. */
    public static Result probe() {
        Result r = cached;
        if (r == null) {
            synchronized (CudaAvailability.class) {
                r = cached;
                if (r == null) {
                    try {
                        r = compute();
                    } catch (Throwable t) {
                        r = Result.no("probe failed: " + t);
                    }
                    cached = r;
                }
            }
        }
        return r;
    }

    /** The class-path resource JCuda loads its driver binding from, for the JCuda version on the class path. */
    public static String jcudaDriverResource() {
        return "/lib/" + jcuda.LibUtils.createLibraryFileName(jcudaDriverLibrary());
    }

    private static String jcudaDriverLibrary() {
        return jcuda.LibUtils.createPlatformLibraryName("JCudaDriver-" + jcuda.JCudaVersion.get());
    }

    /**
     * Loads JCuda's driver binding the way JCudaDriver's initialiser does, without initialising that class (which
     * would poison it for the JVM on failure): "" when it loaded, else the loader's message (on a host without
     * libcuda.so.1 it names that library). Used by the bundle's smoke test.
     */
    public static String loadJCudaDriver() {
        try {
            jcuda.LibUtilsCuda.loadLibrary(jcudaDriverLibrary());
            return "";
        } catch (Throwable t) {
            // JCuda folds every attempt's stack trace into the message: keep the line that says why.
            String[] lines = String.valueOf(t.getMessage()).split("\n");
            for (String line : lines) {
                if (line.contains("libcuda.so")) {
                    return line.strip();
                }
            }
            return lines[0].strip();
        }
    }

    private static Result compute() throws Throwable {
        if (System.getenv(ENV_DISABLE) != null) {
            return Result.no("disabled by " + ENV_DISABLE);
        }
        // Arena.global(): the driver stays loaded for the life of the JVM, as it would once JCuda loads it. The
        // emulated driver is loaded by its path first, so JCuda's binding (whose libcuda.so.1 dependency the loader
        // matches by soname to what is already loaded) binds to it and not to a driver on the library path.
        Optional<Path> emulator = CudaEmulator.directory();
        SymbolLookup cuda;
        if (emulator.isPresent()) {
            Path lib = emulator.get().resolve(CudaEmulator.DRIVER);
            if (!Files.isRegularFile(lib)) {
                return Result.no(CudaEmulator.ENV + "=" + emulator.get() + ": no " + CudaEmulator.DRIVER
                        + " there (native-build/emu/build.sh builds it)");
            }
            cuda = SymbolLookup.libraryLookup(lib, Arena.global());
            if (cuda.find(CudaEmulator.MARKER).isEmpty()) {
                return Result.no(CudaEmulator.ENV + "=" + emulator.get() + ": " + lib + " is not atmsae's emulated driver");
            }
        } else {
            try {
                cuda = SymbolLookup.libraryLookup(CudaEmulator.DRIVER, Arena.global());
            } catch (IllegalArgumentException e) {
                return Result.no("no driver: libcuda.so.1 not found");
            }
            if (cuda.find(CudaEmulator.MARKER).isPresent()) {
                return Result.no("the libcuda.so.1 on the library path is atmsae's emulated device; set "
                        + CudaEmulator.ENV + " to its directory to use it");
            }
        }
        Linker linker = Linker.nativeLinker();
        MethodHandle cuInit = linker.downcallHandle(cuda.findOrThrow("cuInit"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle version = linker.downcallHandle(cuda.findOrThrow("cuDriverGetVersion"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle count = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetCount"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle deviceGet = linker.downcallHandle(cuda.findOrThrow("cuDeviceGet"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle deviceName = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetName"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        String device;
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) cuInit.invokeExact(0);
            if (rc == CUDA_ERROR_NO_DEVICE) {
                return Result.no("no device: cuInit returned CUDA_ERROR_NO_DEVICE");
            }
            if (rc == CUDA_ERROR_INSUFFICIENT_DRIVER) {
                return Result.no("no device: the driver is too old (cuInit returned CUDA_ERROR_INSUFFICIENT_DRIVER)");
            }
            if (rc != 0) {
                return Result.no("no device: cuInit returned CUresult " + rc);
            }
            MemorySegment out = arena.allocate(JAVA_INT);
            if ((int) count.invokeExact(out) != 0 || out.get(JAVA_INT, 0) == 0) {
                return Result.no("no device: cuDeviceGetCount found none");
            }
            int devices = out.get(JAVA_INT, 0);
            int driver = (int) version.invokeExact(out) == 0 ? out.get(JAVA_INT, 0) : 0;
            MemorySegment dev = arena.allocate(JAVA_INT);
            MemorySegment name = arena.allocate(256);
            String gpu = (int) deviceGet.invokeExact(dev, 0) == 0
                    && (int) deviceName.invokeExact(name, 256, dev.get(JAVA_INT, 0)) == 0 ? name.getString(0) : "device 0";
            device = gpu + " (" + devices + " device" + (devices > 1 ? "s" : "") + ", driver CUDA "
                    + driver / 1000 + "." + (driver % 1000) / 10 + ")";
        }
        if (!FatbinResource.present()) {
            return Result.no("no fatbin in the jar: the build ran without nvcc (native-build/build.sh)");
        }
        CublasFfm.Location cublas = CublasFfm.locate();
        if (cublas.found().isEmpty()) {
            return Result.no("no cuBLAS: searched " + String.join(", ", cublas.searched())
                    + " (set " + CublasFfm.ENV_PATH + " to libcublas.so.13)");
        }
        try {
            // Only now, with a driver present, is it safe to let JCuda load its JNI library.
            jcuda.driver.JCudaDriver.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            return Result.no("JCuda's driver binding did not load: " + e.getMessage());
        }
        return new Result(true, "available", device + ", cuBLAS " + cublas.found().get(), emulator.isPresent());
    }
}
