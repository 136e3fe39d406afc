package dev.atmsae.gpucheck;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs every test tagged {@value #TAG} — the CUDA engine's tests, unchanged, with their own assertions and tolerances
 * — in this JVM, which {@link EmulatedCudaSuiteTest} starts on the emulated device. One line per test, then the
 * totals. Exit 0 only when tests ran and all passed: a skipped test here means the device was not found, a failure.
 */
public final class EmulatedSuiteMain {
    /** The JUnit tag of the tests that need a CUDA device. */
    public static final String TAG = "cuda";
    /** Tests that repeat the others' kernels over many steps (left out of the slow sanitized run). */
    public static final String LONG = "long";

    private EmulatedSuiteMain() {
    }

    /** {@code --exclude-tag T} leaves out the tests tagged T as well. */
    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("dev.atmsae")).filters(TagFilter.includeTags(TAG));
        if (args.length == 2 && args[0].equals("--exclude-tag")) {
            builder.filters(TagFilter.excludeTags(args[1]));
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener lines = new TestExecutionListener() {
            private final java.util.Map<String, Long> started = new java.util.HashMap<>();

            @Override
            public void executionStarted(TestIdentifier id) {
                started.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    double seconds = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1e9;
                    String why = result.getThrowable().map(t -> ": " + t).orElse("");
                    String status = switch (result.getStatus()) {
                        case SUCCESSFUL -> "PASS";
                        case ABORTED -> "SKIP";
                        case FAILED -> "FAIL";
                    };
                    System.out.printf("%s %s (%.1f s)%s%n", status, name(id), seconds, why);
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println("SKIP " + name(id) + ": " + reason);
            }
        };
        launcher.execute(request, summary, lines);
        TestExecutionSummary s = summary.getSummary();
        long skipped = s.getTestsSkippedCount() + s.getTestsAbortedCount();
        System.out.printf("emulated suite: %d tests, %d passed, %d failed, %d skipped%n", s.getTestsFoundCount(),
                s.getTestsSucceededCount(), s.getTestsFailedCount(), skipped);
        boolean ok = s.getTestsFoundCount() > 0 && s.getTotalFailureCount() == 0 && skipped == 0;
        System.exit(ok ? 0 : 1);
    }

    private static String name(TestIdentifier id) {
        String uid = id.getUniqueId();
        int cls = uid.indexOf("[class:");
        String owner = cls < 0 ? "" : uid.substring(cls + 7, uid.indexOf(']', cls));
        return owner.substring(owner.lastIndexOf('.') + 1) + "." + id.getDisplayName();
    }
}
