package dev.atmsae.engine.cpu;

import dev.atmsae.util.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The OpenBLAS the CPU engine runs, loaded once per process into the global arena and set to one thread (the engine
 * parallelises over output tiles itself, see {@link TiledGemm}).
 *
 * <p>Which library: by default the one bundled in the Maven artifact org.bytedeco:openblas (linux-x86_64 natives),
 * extracted at first use into a per-version cache directory ({@link #cacheRoot()}) and loaded from there, dependencies
 * first, so every machine runs the same build with no system package. The environment variable {@value #ENV}
 * overrides it: a path (or a library name the dynamic linker finds) of another OpenBLAS, or {@code java} for the
 * pure-Java BLAS. Without the bundled jar on the class path (the GPU-host bundle leaves it out) the engine uses the
 * pure-Java BLAS.
 */
final class OpenBlasLibrary {
    /** The environment variable that picks the BLAS. */
    static final String ENV = "ATMSAE_BLAS";
    /** {@value #ENV} value that forces the pure-Java BLAS. */
    static final String PURE_JAVA = "java";
    private static final String BUNDLE = "/org/bytedeco/openblas/linux-x86_64/";
    private static final String BUNDLE_POM = "/META-INF/maven/org.bytedeco/openblas/pom.properties";
    /** The bundled libraries in load order: each one's dependencies before it. */
    private static final String[] BUNDLED_FILES = {"libgcc_s.so.1", "libquadmath.so.0", "libgfortran.so.5",
            "libopenblas.so.0"};

    /** What dense products run on: an OpenBLAS ({@code library} ≠ null), or the pure-Java BLAS and why. */
    record Choice(OpenBlasLibrary library, String pureJavaReason) {
    }

    private static Choice chosen;

    private final MethodHandle sgemm;
    private final MethodHandle setNumThreads;
    private final String source;
    private final String config;
    private final String coreName;
    /** The file it was loaded from; null when the dynamic linker found it by name. */
    private final Path file;
    /** What {@link NarrowKernels} found, or null. */
    private final String narrowKernels;

    private OpenBlasLibrary(MethodHandle sgemm, MethodHandle setNumThreads, String source, String config,
                            String coreName, Path file, String narrowKernels) {
        this.sgemm = sgemm;
        this.setNumThreads = setNumThreads;
        this.source = source;
        this.config = config;
        this.coreName = coreName;
        this.file = file;
        this.narrowKernels = narrowKernels;
    }

    /**
     * The process's choice under {@value #ENV} (resolved and loaded once; a bad setting throws every time). When
     * OPENBLAS_CORETYPE narrows the loaded OpenBLAS's kernels ({@link NarrowKernels}), says so once, on stderr, with
     * the measured cost, and {@link #describe()} carries it into every engine description (reports, the bench).
     */
    static synchronized Choice choose() {
        if (chosen == null) {
            Choice choice = resolve(System.getenv(ENV));
            OpenBlasLibrary library = choice.library();
            String note = library == null ? null : NarrowKernels.check(library, library.file);
            if (note != null) {
                System.err.println("atmsae: note: " + note);
                choice = new Choice(new OpenBlasLibrary(library.sgemm, library.setNumThreads, library.source,
                        library.config, library.coreName, library.file, note), null);
            }
            chosen = choice;
        }
        return chosen;
    }

    /** The choice for one {@value #ENV} value (null or empty: the bundled library). */
    static Choice resolve(String setting) {
        if (setting == null || setting.isBlank()) {
            return bundled();
        }
        String value = setting.strip();
        if (value.equalsIgnoreCase(PURE_JAVA)) {
            return new Choice(null, ENV + "=" + PURE_JAVA);
        }
        String what = ENV + "=" + value;
        SymbolLookup lookup;
        if (value.contains("/")) {
            Path path = Path.of(value);
            if (!Files.isRegularFile(path)) {
                throw new UserError(what + ": no such file (a path to libopenblas.so, or \"" + PURE_JAVA
                        + "\" for the pure-Java BLAS)");
            }
            lookup = load(path, what);
            return new Choice(bind(lookup, what, path), null);
        } else {
            try {
                lookup = SymbolLookup.libraryLookup(value, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new UserError(what + ": the dynamic linker cannot find or load it (" + e.getMessage() + ")");
            }
        }
        return new Choice(bind(lookup, what, null), null);
    }

    /** The bundled OpenBLAS; the pure-Java BLAS when its jar is not on the class path or this is not x86-64 Linux. */
    private static Choice bundled() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new Choice(null, "no bundled OpenBLAS for " + os + "/" + arch);
        }
        if (OpenBlasLibrary.class.getResource(BUNDLE + "libopenblas.so.0") == null) {
            return new Choice(null, "org.bytedeco:openblas is not on the class path");
        }
        String version = bundledVersion();
        Path dir = bundledDirectory(version);
        SymbolLookup lookup = null;
        Path target = null;
        for (String file : BUNDLED_FILES) {
            target = dir.resolve(file);
            extract(BUNDLE + file, target);
            lookup = load(target, "bundled " + target);
        }
        return new Choice(bind(lookup, "bundled org.bytedeco:openblas " + version + " from " + dir, target), null);
    }

    /**
     * Where extracted natives live: {@code $ATMSAE_CACHE}, else {@code $XDG_CACHE_HOME/atmsae}, else
     * {@code ~/.cache/atmsae}.
     */
    static Path cacheRoot() {
        String cache = System.getenv("ATMSAE_CACHE");
        if (cache != null && !cache.isBlank()) {
            return Path.of(cache);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "atmsae");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "atmsae");
    }

    /** Where the bundled libraries of this org.bytedeco:openblas version are extracted to. */
    static Path bundledDirectory(String version) {
        return cacheRoot().resolve("natives").resolve("openblas-" + version + "-linux-x86_64");
    }

    /** The org.bytedeco:openblas version on the class path ("unknown" when its pom.properties is missing). */
    static String bundledVersion() {
        try (InputStream in = OpenBlasLibrary.class.getResourceAsStream(BUNDLE_POM)) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * Copies a class-path resource to {@code target} unless a file of the same size is already there: written to a
     * temporary file in the same directory, then renamed over the target, so concurrent JVMs never see half a file.
     */
    private static void extract(String resource, Path target) {
        URL url = OpenBlasLibrary.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("the org.bytedeco:openblas jar has no " + resource);
        }
        try {
            URLConnection connection = url.openConnection();
            long size = connection.getContentLengthLong();
            if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) {
                return; // extracted by an earlier run
            }
            Files.createDirectories(target.getParent());
            Path part = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".part");
            try (InputStream in = connection.getInputStream()) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(part);
            }
        } catch (IOException e) {
            throw new UserError(target.getParent() + ": cannot extract the bundled OpenBLAS here (" + e.getMessage()
                    + "); set ATMSAE_CACHE to a writable directory, or " + ENV + "=" + PURE_JAVA, e);
        }
    }

    private static SymbolLookup load(Path path, String what) {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UserError(what + ": cannot load it (" + e.getMessage() + ")");
        }
    }

    /**
     * Binds cblas_sgemm, sets OpenBLAS's own thread count to 1 and reads its build description; {@code file} is where
     * it was loaded from (null: found by name).
     */
    static OpenBlasLibrary bind(SymbolLookup lookup, String source, Path file) {
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> gemm = lookup.find("cblas_sgemm");
        Optional<MemorySegment> setThreads = lookup.find("openblas_set_num_threads");
        if (gemm.isEmpty() || setThreads.isEmpty()) {
            throw new UserError(source + ": not an OpenBLAS (needs cblas_sgemm and openblas_set_num_threads)");
        }
        // Pointers go as 64-bit integers (what the x86-64 and AArch64 C ABIs pass them as): the engine adds tile
        // offsets to tensor addresses without allocating a MemorySegment per call.
        MethodHandle sgemm = linker.downcallHandle(gemm.get(), FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_FLOAT,
                JAVA_LONG, JAVA_INT));
        OpenBlasLibrary library = new OpenBlasLibrary(sgemm,
                linker.downcallHandle(setThreads.get(), FunctionDescriptor.ofVoid(JAVA_INT)), source,
                cString(linker, lookup, "openblas_get_config"), cString(linker, lookup, "openblas_get_corename"), file,
                null);
        library.setThreads(1);
        return library;
    }

    /** The string a {@code char* f(void)} returns, or "?" when the symbol is absent. */
    private static String cString(Linker linker, SymbolLookup lookup, String function) {
        Optional<MemorySegment> symbol = lookup.find(function);
        if (symbol.isEmpty()) {
            return "?";
        }
        try {
            MemorySegment s = (MemorySegment) linker.downcallHandle(symbol.get(), FunctionDescriptor.of(ADDRESS))
                    .invokeExact();
            return s.reinterpret(1024).getString(0).strip();
        } catch (Throwable t) {
            throw new IllegalStateException(function + " failed", t);
        }
    }

    MethodHandle sgemm() {
        return sgemm;
    }

    /**
     * OpenBLAS's own thread count, process-wide. The engine keeps it at 1 (set once at load); only a benchmark that
     * compares the tiles with one multi-threaded OpenBLAS call changes it, and sets it back.
     */
    void setThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    String config() {
        return config;
    }

    String coreName() {
        return coreName;
    }

    /** What {@link NarrowKernels} said about this library's kernels, or null. */
    String narrowKernels() {
        return narrowKernels;
    }

    /**
     * E.g. "OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=128 (core Zen; bundled …)", plus the narrowed
     * kernels' note where there is one.
     */
    String describe() {
        return config + " (core " + coreName + "; " + source + ")"
                + (narrowKernels == null ? "" : " [" + narrowKernels + "]");
    }
}
