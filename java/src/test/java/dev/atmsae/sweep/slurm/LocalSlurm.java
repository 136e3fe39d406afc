package dev.atmsae.sweep.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.atmsae.cli.Main;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real one-node SLURM for the cluster tests: Debian's munged, slurmctld and slurmd (and slurmdbd with MariaDB, so
 * sacct answers) started by tools/local-slurm.sh with every socket, port and state file private to one directory,
 * and stopped — every job cancelled, every daemon waited for — when closed or when the JVM exits. Without root or
 * without the packages (tools/install-slurm.sh installs them as root with apt) the tests are skipped with the reason.
 * Also writes the launcher the jobs run: this JVM's classes and flags, so they run the code under test.
 */
final class LocalSlurm implements AutoCloseable {
    private static final Path SCRIPT = Path.of("..", "tools", "local-slurm.sh").toAbsolutePath().normalize();

    private final Path dir;
    private final Path launcher;
    private final Map<String, String> env = new HashMap<>();
    private final Thread stopAtExit;

    private LocalSlurm(Path dir, Path launcher) {
        this.dir = dir;
        this.launcher = launcher;
        this.stopAtExit = new Thread(this::stop, "atmsae-local-slurm-stop");
    }

    /**
     * Starts SLURM in {@code dir} in the background (it takes seconds: {@link #atmsae} and {@link #slurm} wait for
     * it), or skips the calling tests saying why it cannot.
     */
    static LocalSlurm startOrSkip(Path dir) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "skipped: the SLURM tests start slurmd, which runs jobs as their owner and needs root");
        for (String tool : List.of("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")) {
            Assumptions.assumeTrue(onPath(tool), "skipped: SLURM is not installed (" + tool + " not found); `make "
                    + "test` installs it as root with apt (tools/install-slurm.sh)");
        }
        LocalSlurm slurm = new LocalSlurm(dir, writeLauncher(dir.resolveSibling("atmsae")));
        Runtime.getRuntime().addShutdownHook(slurm.stopAtExit);
        slurm.starting = CompletableFuture.supplyAsync(() -> {
            try {
                return run(dir.getParent(), Map.of(), 180, "bash", SCRIPT.toString(), "start", dir.toString());
            } catch (Exception e) {
                return new Result(-1, e.toString());
            }
        });
        return slurm;
    }

    private CompletableFuture<Result> starting;

    /** Waits for the start; a SLURM that is installed but will not start fails the tests with its reason. */
    private synchronized void ready() {
        if (env.containsKey("SLURM_CONF")) {
            return;
        }
        Result started = starting.join();
        if (started.exitCode() != 0) {
            fail("tools/local-slurm.sh could not start SLURM: " + started.output());
        }
        String conf = started.output().lines().filter(l -> l.startsWith("SLURM_CONF=")).findFirst()
                .orElseThrow().substring("SLURM_CONF=".length());
        env.put("SLURM_CONF", conf);
    }

    /** The command the jobs run for atmsae: this JVM's java, flags and class path ($ATMSAE_JAVA_OPTS appended). */
    Path launcher() {
        return launcher;
    }

    private static Path writeLauncher(Path file) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx1g");
        StringBuilder s = new StringBuilder("#!/bin/bash\n# atmsae from the classes under test\nexec");
        for (String c : cmd) {
            s.append(' ').append(SlurmScript.quote(c));
        }
        s.append(" ${ATMSAE_JAVA_OPTS:-} -cp ").append(SlurmScript.quote(System.getProperty("java.class.path")))
                .append(' ').append(Main.class.getName()).append(" \"$@\"\n");
        Files.createDirectories(file.getParent());
        Files.writeString(file, s.toString());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** What a command printed (stdout and stderr together) and its exit status. */
    record Result(int exitCode, String output) {
        /** The output without the JVM's incubator-module notice. */
        String withoutJvmNotice() {
            return output.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                    .reduce("", (a, b) -> a + b + "\n");
        }
    }

    /** Runs atmsae (the launcher) in {@code cwd} without SLURM (a local run to compare with). */
    Result local(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return run(cwd, Map.of(), 600, cmd.toArray(String[]::new));
    }

    /** Runs atmsae (the launcher) in {@code cwd} against this SLURM. */
    Result atmsae(Path cwd, Map<String, String> extraEnv, String... args) throws Exception {
        ready();
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        Map<String, String> e = new HashMap<>(env);
        e.putAll(extraEnv);
        return run(cwd, e, 600, cmd.toArray(String[]::new));
    }

    /** Runs a SLURM client command (squeue, scancel, sacct, ...) against this SLURM. */
    Result slurm(String... command) throws Exception {
        ready();
        return run(dir, env, 60, command);
    }

    /** Starts a SLURM client command against this SLURM without waiting for it (its output is discarded). */
    Process background(String... command) throws Exception {
        ready();
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true);
        pb.environment().putAll(env);
        return pb.start();
    }

    /** True when sacct answers (accounting through slurmdbd is up). */
    boolean hasAccounting() throws Exception {
        return slurm("sacct", "-n", "-X", "-j", "1").exitCode() == 0;
    }

    /** Waits until none of {@code jobIds} is queued or running any more. */
    void waitUntilGone(int timeoutSeconds, String... jobIds) throws Exception {
        waitFor(timeoutSeconds, "jobs " + String.join(",", jobIds) + " to finish", () -> {
            try {
                Result q = slurm("squeue", "-h", "-o", "%i", "-j", String.join(",", jobIds));
                return q.exitCode() != 0 || q.output().isBlank();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static void waitFor(int timeoutSeconds, String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutSeconds + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    /** The log files of the jobs, for a failure message. */
    static String logs(Path out) throws IOException {
        Path logs = out.resolve("logs");
        if (!Files.isDirectory(logs)) {
            return "(no logs)";
        }
        StringBuilder s = new StringBuilder();
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.sorted().toList()) {
                s.append("==> ").append(f).append('\n').append(Files.readString(f));
            }
        }
        return s.toString();
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it stops SLURM itself
        }
    }

    private void stop() {
        try {
            if (starting != null) {
                starting.join(); // a start still under way would leave daemons behind
            }
            Result r = run(dir.getParent(), Map.of(), 120, "bash", SCRIPT.toString(), "stop", dir.toString());
            assertEquals(0, r.exitCode(), "tools/local-slurm.sh stop: " + r.output());
        } catch (Exception e) {
            System.err.println("atmsae: could not stop the test SLURM in " + dir + ": " + e);
        }
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool));
    }

    private static Result run(Path cwd, Map<String, String> env, int timeoutSeconds, String... command)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
