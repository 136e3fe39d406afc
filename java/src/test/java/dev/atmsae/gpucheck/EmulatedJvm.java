package dev.atmsae.gpucheck;

import dev.atmsae.ChildProcess;
import dev.atmsae.engine.cuda.CudaEmulator;
import dev.atmsae.engine.cuda.EmulatorBuild;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A child JVM on the emulated CUDA device: the loader's libcuda.so.1 must be chosen when the process starts (and
 * AddressSanitizer's runtime preloaded before anything else), so the emulated runs cannot share the test JVM. The
 * child gets this JVM's flags and class path, ATMSAE_CUDA_EMULATOR, the schedule, and a file for the kernel counters.
 */
final class EmulatedJvm {
    private EmulatedJvm() {
    }

    /** Runs {@code main} with {@code args} on the device in {@code device}; the output is kept in {@code log}. */
    static ChildProcess run(Path device, EmulatorBuild.Variant variant, String schedule, Path stats, Map<String, String> env,
                            Path log, String main, String... args) throws IOException, InterruptedException {
        Map<String, String> all = new HashMap<>(env);
        all.put(CudaEmulator.ENV, device.toString());
        all.put("ATMSAE_EMU_SCHEDULE", schedule);
        all.put("ATMSAE_EMU_STATS", stats.toAbsolutePath().toString());
        if (variant == EmulatorBuild.Variant.SANITIZE) {
            all.put("LD_PRELOAD", EmulatorBuild.asanRuntime().toString());
            // The JVM uses SIGSEGV itself (implicit null checks) and its heap is never freed: leave both to it.
            all.put("ASAN_OPTIONS", "detect_leaks=0:handle_segv=0:allow_user_segv_handler=1");
            all.put("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        }
        return runWith(all, log, main, args);
    }

    /** Runs {@code main} with {@code args} and exactly the environment variables {@code env} added. */
    static ChildProcess runWith(Map<String, String> env, Path log, String main, String... args) throws IOException,
            InterruptedException {
        return ChildProcess.run(ChildProcess.java("3g", main, args), env, log, 900);
    }
}
