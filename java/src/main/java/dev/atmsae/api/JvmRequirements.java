package dev.atmsae.api;

/**
 * The one JVM option the library cannot do without, checked once at the API boundary before any work: the CPU
 * engine's kernels are written with the Vector API, an incubator module the JVM only resolves when told to. Without
 * it the first kernel class would fail to load deep inside the engine with a {@link NoClassDefFoundError}; here it is
 * an {@link AtmsaeException} that names the flag. ({@code --enable-native-access=ALL-UNNAMED} is not checked: without
 * it JDK 25 runs the native BLAS and CUDA bindings and prints a warning; {@link Boundary} names the flag should a JVM
 * set to deny native access refuse them.)
 */
final class JvmRequirements {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final String VECTOR_FLAG = "--add-modules " + VECTOR_MODULE;
    static final String NATIVE_ACCESS_FLAG = "--enable-native-access=ALL-UNNAMED";

    /** Null when every requirement holds, else the one-line problem; computed once (the JVM's options never change). */
    private static final String PROBLEM = problem(ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent());

    private JvmRequirements() {
    }

    /** Throws the {@link AtmsaeException} naming the missing JVM option, if one is missing. */
    static void check() {
        if (PROBLEM != null) {
            throw new AtmsaeException(PROBLEM, null);
        }
    }

    /** The problem for a JVM with or without the Vector API module (separate so a test can check the message). */
    static String problem(boolean vectorModulePresent) {
        return vectorModulePresent ? null : "this JVM was started without the Vector API module that atmsae's CPU "
                + "kernels use: add the JVM option " + VECTOR_FLAG + " (java command line, Maven Surefire argLine or "
                + "exec arguments, Gradle jvmArgs; README, \"As a library\")";
    }
}
