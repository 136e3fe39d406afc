package dev.atmsae.engine.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to completion with extra environment variables: its exit status and everything it printed. */
public record ChildProcess(int exit, String output) {
    /** Runs {@code cmd} with {@code env} added, its output (stdout and stderr) kept in {@code log}; -1 on a timeout. */
    public static ChildProcess run(List<String> cmd, Map<String, String> env, Path log, long seconds)
            throws IOException, InterruptedException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        return new ChildProcess(done ? p.exitValue() : -1, Files.readString(log, StandardCharsets.UTF_8));
    }

    /** The last {@code n} lines of the output (for assertion messages). */
    public String tail(int n) {
        String[] lines = output.split("\n");
        return String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - n), lines.length));
    }
}
