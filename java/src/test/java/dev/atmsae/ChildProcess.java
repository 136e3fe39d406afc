package dev.atmsae;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command run to completion in a changed environment (a child JVM for what must be chosen when a process starts:
 * the OpenBLAS kernel family, the emulated CUDA device): its exit status and everything it printed.
 */
public record ChildProcess(int exitCode, String output) {
    /**
     * Runs {@code cmd} with {@code env} applied (a null value removes the variable); its output (stdout and stderr)
     * is kept in {@code log}, or a temporary file when null. Exit -1: it ran past {@code seconds} and was killed.
     */
    public static ChildProcess run(List<String> cmd, Map<String, String> env, Path log, long seconds)
            throws IOException, InterruptedException {
        Path out = log != null ? log.toAbsolutePath() : Files.createTempFile("atmsae-child", ".log");
        Files.createDirectories(out.getParent());
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            env.forEach((key, value) -> {
                if (value == null) {
                    pb.environment().remove(key);
                } else {
                    pb.environment().put(key, value);
                }
            });
            Process p = pb.start();
            p.getOutputStream().close();
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            return new ChildProcess(done ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            if (log == null) {
                Files.deleteIfExists(out);
            }
        }
    }

    /** A JVM with this one's flags (not its heap size or agents), {@code -Xmx heap} and class path, running main. */
    public static List<String> java(String heap, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx" + heap);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The last {@code n} lines of the output (for assertion messages). */
    public String tail(int n) {
        String[] lines = output.split("\n");
        return String.join("\n", Arrays.asList(lines).subList(Math.max(0, lines.length - n), lines.length));
    }
}
