package dev.atmsae;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints why a test was skipped (a failed assumption, e.g. "no CUDA device: no driver: libcuda.so.1 not found"), so
 * a run without a GPU says so in its output and not only in Surefire's skip count. Registered for every test class
 * through JUnit's extension auto-detection (src/test/resources).
 */
public final class SkipReporter implements TestWatcher {
    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        System.out.println("SKIPPED " + context.getRequiredTestClass().getSimpleName() + "." + context.getDisplayName()
                + ": " + cause.getMessage());
    }
}
