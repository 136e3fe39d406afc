package dev.atmsae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.cli.Main;
import dev.atmsae.io.SaeExport;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with a real child JVM: SIGKILL in the middle of a checkpoint write leaves the previous checkpoint
 * loadable (and resuming from it reproduces the uninterrupted run bit for bit); SIGTERM makes the loop write a
 * checkpoint at a step boundary and exit 130.
 */
class CheckpointKillTest {
    private static final int D = 12;

    @TempDir
    Path tmp;

    private static List<String> trainArgs(Path shard, Path out, long tokens) {
        return List.of("train", "--data", shard.toString(), "--arch", "atm", "--width", "24", "--tokens",
                Long.toString(tokens), "--batch", "32", "--seed", "3", "--lr", "0.003", "--threads", "1",
                "--checkpoint-every", "2", "--metrics-every", "1", "--quiet", "--out", out.toString());
    }

    private static Process startChild(List<String> args, String... systemProperties) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx256m");
        cmd.addAll(List.of(systemProperties));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, Process child, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (!child.isAlive()) {
                throw new AssertionError("child exited with " + child.exitValue() + " before " + what);
            }
            if (System.nanoTime() > deadline) {
                child.destroyForcibly();
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void sigkillDuringCheckpointWriteKeepsPreviousCheckpoint() throws Exception {
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 32 * 8, D, 5);
        Path killed = tmp.resolve("killed");
        Path marker = tmp.resolve("paused");
        long tokens = 32L * 10;
        Process child = startChild(trainArgs(shard, killed, tokens),
                "-D" + Checkpoint.PAUSE_PROPERTY + "=4:" + marker);
        waitFor(() -> Files.exists(marker), child, "the checkpoint writer to pause");
        child.destroyForcibly(); // SIGKILL on Unix
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue());

        // the new state file and a half-written temporary manifest are on disk, yet the checkpoint reads as step 2
        try (Stream<Path> files = Files.list(Checkpoint.dirOf(killed))) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith(".manifest.json.tmp")), names.toString());
            assertTrue(names.contains("state-000000000004.safetensors"), names.toString());
        }
        Checkpoint.State state = Checkpoint.read(killed);
        assertEquals(2, state.step());
        assertEquals(2, state.batchesDelivered());

        assertEquals(0, Main.run("train", "--resume", killed.toString(), "--threads", "1", "--quiet"));
        Path straight = tmp.resolve("straight");
        assertEquals(0, Main.run(trainArgs(shard, straight, tokens).toArray(String[]::new)));
        assertArrayEquals(Files.readAllBytes(straight.resolve(SaeExport.WEIGHTS)),
                Files.readAllBytes(killed.resolve(SaeExport.WEIGHTS)));
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).size(),
                Files.readAllLines(killed.resolve("metrics.jsonl")).size());
    }

    @Test
    void sigtermCheckpointsAtStepBoundaryAndResumes() throws Exception {
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 32 * 8, D, 6);
        Path run = tmp.resolve("run");
        long tokens = 32L * 200_000; // far longer than the test waits
        List<String> args = new ArrayList<>(trainArgs(shard, run, tokens));
        args.set(args.indexOf("--checkpoint-every") + 1, "0"); // only the signal writes a checkpoint
        Process child = startChild(args);
        Path metrics = run.resolve("metrics.jsonl");
        waitFor(() -> lines(metrics) >= 20, child, "20 training steps");
        child.destroy(); // SIGTERM
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(130, child.exitValue());
        Checkpoint.State state = Checkpoint.read(run);
        assertTrue(state.step() >= 20, "step " + state.step());
        assertEquals(state.step(), state.batchesDelivered());
        assertTrue(lines(metrics) >= state.step());
        assertTrue(!Files.exists(run.resolve(SaeExport.WEIGHTS)), "an interrupted run exports nothing");
    }

    private static long lines(Path p) {
        try {
            return Files.exists(p) ? Files.readAllLines(p).size() : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
