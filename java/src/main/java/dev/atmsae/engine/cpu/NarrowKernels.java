package dev.atmsae.engine.cpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Whether {@code OPENBLAS_CORETYPE} makes OpenBLAS run narrower kernels than this CPU has, and what that costs here.
 *
 * <p>Some machines set {@code OPENBLAS_CORETYPE=Haswell} for every process (older OpenBLAS builds crash or compute
 * wrong results with their AVX-512 kernels on some processors). The variable also reaches the OpenBLAS atmsae
 * bundles (0.3.31), which then runs AVX2 kernels on an AVX-512 CPU: on an AMD EPYC Zen 5 every dense product ran at
 * about half speed, with nothing saying so. OpenBLAS reads the variable once, when it loads; so to know what the CPU's
 * own kernels would do, a copy of the same library file is loaded with the variable removed from the C environment
 * for that one {@code dlopen} (a copy, because the dynamic linker hands back the already loaded library for the same
 * file), its core asked for, and one encoder-shaped single-threaded product (the engine's tiles are single-threaded)
 * timed on each library, alternately, best of three. The check runs only where the variable is set, the forced core
 * has no AVX-512 kernels and /proc/cpuinfo lists avx512f; it costs about 0.3 s once per process there.
 */
final class NarrowKernels {
    static final String CORETYPE = "OPENBLAS_CORETYPE";
    /** OpenBLAS core names whose sgemm kernels use AVX-512 (lower case). */
    private static final Set<String> AVX512_CORES = Set.of("skylakex", "cooperlake", "sapphirerapids");
    /** The timed product: [M, K]·[N, K]ᵀ, the encoder's layout at a tile's size. */
    private static final int M = 512;
    private static final int N = 2048;
    private static final int K = 384;

    private NarrowKernels() {
    }

    /** Whether OpenBLAS's core {@code name} (as openblas_get_corename reports it) runs AVX-512 sgemm kernels. */
    static boolean avx512Core(String name) {
        return AVX512_CORES.contains(name.strip().toLowerCase(Locale.ROOT));
    }

    /**
     * The note for {@code forced}, loaded from {@code file}, or null when the kernels are not narrowed (variable unset,
     * an AVX-512 core already, or no AVX-512 on this CPU) or the comparison cannot be made (then null too: the check
     * must never stop the engine from starting).
     */
    static String check(OpenBlasLibrary forced, Path file) {
        String coreType = System.getenv(CORETYPE);
        if (coreType == null || coreType.isBlank() || file == null || avx512Core(forced.coreName())
                || !cpuFlags().contains("avx512f")) {
            return null;
        }
        try {
            OpenBlasLibrary own = loadWithoutCoreType(file);
            if (!avx512Core(own.coreName())) {
                return null;
            }
            double[] rates = compare(forced, own);
            double cost = rates[1] / rates[0];
            // below 10% the two are within a shared machine's noise: nothing to act on
            String advice = cost < 1.1 ? "no cost worth acting on here"
                    : "unset " + CORETYPE + " for atmsae's commands to use them";
            return String.format(Locale.ROOT, "%s=%s makes OpenBLAS run its %s (AVX2) kernels on this AVX-512 CPU, "
                            + "whose own are %s: one single-threaded %dx%dx%d product ran at %.0f GFLOP/s against "
                            + "%.0f (measured now, %.2fx); %s", CORETYPE, coreType.strip(), forced.coreName(),
                    own.coreName(), M, N, K, rates[0], rates[1], cost, advice);
        } catch (RuntimeException | Error e) {
            return null;
        }
    }

    /**
     * A second instance of the library at {@code file}, loaded (from a copy in atmsae's cache) with {@value #CORETYPE}
     * removed from the C environment for the {@code dlopen}, then put back.
     */
    private static OpenBlasLibrary loadWithoutCoreType(Path file) {
        Path copy = OpenBlasLibrary.cacheRoot().resolve("natives").resolve("own-core")
                .resolve(Integer.toHexString(file.toAbsolutePath().toString().hashCode()) + "-" + file.getFileName());
        try {
            if (!Files.isRegularFile(copy) || Files.size(copy) != Files.size(file)) {
                Files.createDirectories(copy.getParent());
                Path part = Files.createTempFile(copy.getParent(), copy.getFileName().toString(), ".part");
                Files.copy(file, part, StandardCopyOption.REPLACE_EXISTING);
                Files.move(part, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy " + file + ": " + e.getMessage(), e);
        }
        String value = System.getenv(CORETYPE);
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle unsetenv = linker.downcallHandle(libc.find("unsetenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle setenv = linker.downcallHandle(libc.find("setenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            MemorySegment name = arena.allocateFrom(CORETYPE);
            int unused = (int) unsetenv.invokeExact(name);
            try {
                return OpenBlasLibrary.bind(SymbolLookup.libraryLookup(copy, Arena.global()),
                        "copy loaded without " + CORETYPE, copy);
            } finally {
                unused = (int) setenv.invokeExact(name, arena.allocateFrom(value), 1);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv/unsetenv failed", t);
        }
    }

    /** GFLOP/s of the timed product on {@code forced} and on {@code own}: alternating, best of three each. */
    private static double[] compare(OpenBlasLibrary forced, OpenBlasLibrary own) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = filled(arena, (long) M * K);
            MemorySegment b = filled(arena, (long) N * K);
            MemorySegment c = arena.allocate((long) M * N * Float.BYTES, 64);
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
            List<OpenBlasLibrary> libraries = List.of(forced, own);
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 2; i++) {
                    long t0 = System.nanoTime();
                    product(libraries.get(i), a, b, c);
                    double s = (System.nanoTime() - t0) * 1e-9;
                    if (round > 0) { // the first round pays for OpenBLAS's buffers and the JIT
                        best[i] = Math.min(best[i], s);
                    }
                }
            }
            double flop = 2.0 * M * N * K;
            return new double[] {flop / best[0] * 1e-9, flop / best[1] * 1e-9};
        }
    }

    private static MemorySegment filled(Arena arena, long count) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(JAVA_FLOAT, i, (i % 13) * 0.01f - 0.06f);
        }
        return s;
    }

    private static void product(OpenBlasLibrary library, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            // row-major C[M, N] = A[M, K]·B[N, K]ᵀ (101 = CblasRowMajor, 111/112 = no transpose/transpose)
            library.sgemm().invokeExact(101, 111, 112, M, N, K, 1f, a.address(), K, b.address(), K, 0f, c.address(),
                    N);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** The CPU's feature flags from /proc/cpuinfo (empty where it cannot be read). */
    private static Set<String> cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return Set.of(line.substring(line.indexOf(':') + 1).strip().split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: no flags
        }
        return Set.of();
    }
}
