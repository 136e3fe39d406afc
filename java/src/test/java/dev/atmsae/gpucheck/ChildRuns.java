package dev.atmsae.gpucheck;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atmsae.ChildProcess;
import dev.atmsae.engine.cuda.EmulatorBuild;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A test class's child runs on the emulated device, started together in its @BeforeAll (as many at once as there
 * are processors: each is mostly one thread) and awaited by the tests that check them.
 */
final class ChildRuns implements AutoCloseable {
    private final ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
    private final Map<String, Future<ChildProcess>> runs = new ConcurrentHashMap<>();

    void start(String key, Callable<ChildProcess> run) {
        runs.put(key, pool.submit(run));
    }

    /** The finished run {@code key}, or a skip with the reason the {@code variant} device could not be built. */
    ChildProcess result(String key, EmulatorBuild.Variant variant) throws Exception {
        assumeTrue(EmulatorBuild.directory(variant).isPresent(), EmulatorBuild.whyNot());
        return runs.get(key).get();
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
