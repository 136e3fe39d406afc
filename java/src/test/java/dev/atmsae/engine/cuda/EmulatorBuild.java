package dev.atmsae.engine.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The emulated CUDA device built for the tests (native-build/emu/build.sh, once per variant and JVM): its directory,
 * or why it cannot be built here (no g++), which the tests that need it report as their skip reason.
 */
public final class EmulatorBuild {
    /** A build variant: the plain one, or the one under AddressSanitizer and UndefinedBehaviorSanitizer. */
    public enum Variant {
        PLAIN("plain"),
        SANITIZE("sanitize");

        final String dir;

        Variant(String dir) {
            this.dir = dir;
        }
    }

    private static final Map<Variant, Optional<Path>> BUILT = new ConcurrentHashMap<>();
    private static volatile String whyNot = "";

    private EmulatorBuild() {
    }

    /** The built device's directory (the value of ATMSAE_CUDA_EMULATOR), or empty with {@link #whyNot()} set. */
    public static synchronized Optional<Path> directory(Variant v) {
        return BUILT.computeIfAbsent(v, EmulatorBuild::build);
    }

    /** Why the last build was not possible. */
    public static String whyNot() {
        return whyNot;
    }

    /** The repository root (Surefire runs in java/). */
    public static Path repoRoot() {
        return NvccTool.repoRoot();
    }

    /** Builds the host kernel library alone, as {@code variant}, from the kernel sources in {@code sources}. */
    public static Path buildKernels(Path sources, Path out, Variant variant) throws IOException, InterruptedException {
        run(List.of(script().toString(), "kernels", sources.toString(), out.toString(), variant.dir));
        return out.resolve("libatmsae_kernels_emu.so");
    }

    /** AddressSanitizer's runtime, to preload into a JVM that loads the sanitized build. */
    public static Path asanRuntime() throws IOException, InterruptedException {
        return Path.of(run(List.of(cxx(), "-print-file-name=libasan.so")).strip());
    }

    private static Optional<Path> build(Variant v) {
        if (NvccTool.onPath(cxx()).isEmpty()) {
            whyNot = "no C++ compiler (" + cxx() + "): the emulated CUDA device cannot be built";
            return Optional.empty();
        }
        if (!FatbinResource.present()) {
            whyNot = "no fatbin in the build (nvcc missing): the emulated device reads the kernels' attributes from it";
            return Optional.empty();
        }
        try {
            run(List.of(script().toString(), v.dir));
        } catch (IOException | InterruptedException | IllegalStateException e) {
            throw new IllegalStateException("native-build/emu/build.sh " + v.dir + " failed: " + e.getMessage(), e);
        }
        Path dir = repoRoot().resolve("native-build/out/emu").resolve(v.dir);
        if (!Files.isRegularFile(dir.resolve("libcuda.so.1"))) {
            throw new IllegalStateException("native-build/emu/build.sh " + v.dir + " wrote no " + dir.resolve("libcuda.so.1"));
        }
        return Optional.of(dir);
    }

    private static Path script() {
        return repoRoot().resolve("native-build/emu/build.sh");
    }

    private static String cxx() {
        String env = System.getenv("CXX");
        return env == null || env.isBlank() ? "g++" : env;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        return NvccTool.run(cmd, "", 900);
    }
}
