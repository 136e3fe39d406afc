package dev.atmsae.engine.cpu;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a main class of the test class path in a child JVM with this JVM's flags and a changed environment: OpenBLAS
 * reads OPENBLAS_CORETYPE once, when it loads, so each kernel family needs its own process.
 */
final class ChildJvm {
    /** What the child printed (stdout and stderr merged) and its exit code. */
    record Result(int exitCode, String output) {
    }

    private ChildJvm() {
    }

    /**
     * Runs {@code mainClass} with {@code args}; {@code env} entries with a null value are removed from the child's
     * environment.
     */
    static Result run(Class<?> mainClass, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        env.forEach((key, value) -> {
            if (value == null) {
                pb.environment().remove(key);
            } else {
                pb.environment().put(key, value);
            }
        });
        Process p = pb.start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("child JVM did not finish:\n" + output);
        }
        return new Result(p.exitValue(), output);
    }
}
