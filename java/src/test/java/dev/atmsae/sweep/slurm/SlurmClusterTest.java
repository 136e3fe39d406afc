package dev.atmsae.sweep.slurm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atmsae.cli.Main;
import dev.atmsae.sweep.ClusterModesTest;
import dev.atmsae.sweep.SameOutput;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sweeps and a study submitted to a real SLURM (one node on this machine, see {@link LocalSlurm}) give the bytes a
 * local run gives: a 6-run sweep one of whose tasks is signalled mid-training as SLURM does before a time limit
 * (requeued, continued from its checkpoint), failing tasks (a bad setting in the plan, a missing shard) shown by --status and the merge,
 * a resubmission that trains nothing, and a study whose selection step picks what the local study picks. Every run
 * is tiny (synthetic data, width 24, 24 steps); the jobs' JVMs run the classes under test.
 *
 * <p>Each scenario runs in its own directory with {@code --out sweep} (relative), so that the paths a run records are
 * the same as the local run's; the data paths are absolute.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlurmClusterTest {
    private static final Pattern JOB = Pattern.compile("^(\\w+): job (\\d+)", Pattern.MULTILINE);

    private Path tmp;
    private LocalSlurm slurm;
    private Path truth;

    @BeforeAll
    void startSlurmAndRunTheLocalSweep(@TempDir Path dir) throws Exception {
        tmp = dir;
        slurm = LocalSlurm.startOrSkip(tmp.resolve("slurm"));
        truth = tmp.resolve("truth");
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), "synth",
                "--out", truth.toString(), "--tokens", "12000", "--eval-tokens", "1500", "--d", "16", "--trees", "2",
                "--children", "3", "--independent", "4"));
        LocalSlurm.Result local = slurm.local(dir("local"), sweepArgs(truth.resolve("shards"), "topk,relu", "2,3,4"));
        assertEquals(0, local.exitCode(), local.output());
        note("local sweep done");
    }

    @AfterAll
    void stopSlurm() {
        if (slurm != null) {
            slurm.close();
        }
    }

    private Path dir(String name) throws Exception {
        return Files.createDirectories(tmp.resolve(name));
    }

    /** A sweep of archs × L0 targets at seed 1 into ./sweep, one CPU thread (as each task gets one CPU). */
    private String[] sweepArgs(Path data, String archs, String l0s, String... more) {
        List<String> a = new ArrayList<>(List.of("sweep", "--data", data.toString(), "--truth", truth.toString(),
                "--probe-set", truth.resolve("probe_set").toString(), "--archs", archs, "--target-l0", l0s,
                "--seeds", "1", "--width", "24", "--tokens", "6144", "--batch", "256", "--eval-tokens", "1024",
                "--threads", "1", "--quiet", "--out", "sweep"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Submits with --slurm (one CPU per task) from {@code cwd}; returns stage → job id. */
    private Map<String, String> submit(Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--slurm", "--cpus-per-task", "1", "--launcher", slurm.launcher().toString()));
        LocalSlurm.Result r = slurm.atmsae(cwd, env, a.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.output());
        Map<String, String> jobs = new java.util.LinkedHashMap<>();
        Matcher m = JOB.matcher(r.output());
        while (m.find()) {
            jobs.put(m.group(1), m.group(2));
        }
        assertFalse(jobs.isEmpty(), r.output());
        return jobs;
    }

    /**
     * The 6-run sweep through SLURM, one of whose tasks gets, mid-training, the signal SLURM sends before a time limit:
     * it checkpoints, requeues itself and continues; every file equals the local sweep's.
     */
    @Test
    @Order(1)
    void sixRunSweepWithATaskSignalledMidTrainingEqualsTheLocalSweepByteForByte() throws Exception {
        Path cwd = dir("slurm6");
        // 100 ms per step (a test hook) so the signal reliably lands mid-training: 24 steps, about 2.5 s a run
        Map<String, String> jobs = submit(cwd, Map.of("ATMSAE_JAVA_OPTS", "-Datmsae.test.stepDelayMillis=100"),
                sweepArgs(truth.resolve("shards"), "topk,relu", "2,3,4"));
        assertEquals(List.of("sweep", "merge"), List.copyOf(jobs.keySet()));
        note("submitted " + jobs);
        String task = jobs.get("sweep") + "_0";
        Path out = cwd.resolve("sweep");
        Path log = out.resolve("logs/sweep-0.log");
        LocalSlurm.waitFor(120, "training to start", () -> lines(out.resolve("runs/topk-l0_2-s1/metrics.jsonl")) >= 5);
        // what SLURM sends the batch shell GRACE seconds before the time limit (--signal=B:USR1@GRACE). While other
        // tasks of the array are pending, scancel delivers it but answers "can not be altered now" and sends it
        // again every few seconds for a minute and more: it is stopped once the task has taken the first one
        Process scancel = slurm.background("scancel", "--batch", "--signal=USR1", task);
        LocalSlurm.waitFor(30, "the task to take the signal", () -> read(log).contains("checkpointing"));
        scancel.destroy();
        note("signalled " + task);
        LocalSlurm.waitFor(90, "the task to be requeued and started again", () -> {
            String state = call("squeue", "-h", "-o", "%T|%r", "-j", task).output().strip();
            if (state.startsWith("PENDING|BeginTime")) {
                // SLURM holds a requeued job back for two minutes; a test has no need to wait for that
                call("scontrol", "update", "JobId=" + task, "StartTime=now");
            }
            return read(log).contains("start 2");
        });
        note("requeued " + task + " started again");
        slurm.waitUntilGone(300, jobs.values().toArray(String[]::new));
        note("all jobs done");
        assertTrue(Files.exists(out.resolve("sweep.md")), LocalSlurm.logs(out));
        String taskLog = read(log);
        assertTrue(taskLog.contains("requeueing " + task) && taskLog.contains("continuing from its checkpoint"),
                taskLog);
        assertFalse(Files.exists(out.resolve("runs/topk-l0_2-s1/checkpoint")), "a finished run keeps no checkpoint");
        SameOutput.assertSame(tmp.resolve("local/sweep"), out);
        for (int t = 0; t < 6; t++) {
            assertTrue(Files.exists(out.resolve("logs/sweep-" + t + ".log")), "one log per task");
        }
        LocalSlurm.Result status = slurm.atmsae(cwd, Map.of(), "sweep", "--status", "sweep");
        assertTrue(status.output().contains("6 done, 0 running, 0 failed, 0 pending"), status.output());
        if (slurm.hasAccounting()) {
            String acct = call("sacct", "-n", "-P", "-X", "-D", "-o", "JobID,State", "-j",
                    String.join(",", jobs.values())).output();
            assertTrue(acct.contains(task + "|REQUEUED") && acct.contains(task + "|COMPLETED"), acct);
            assertEquals(7, acct.lines().filter(l -> l.endsWith("|COMPLETED")).count(), acct);
        }
    }

    @Test
    @Order(2)
    void resubmittingAFinishedSweepTrainsNothing() throws Exception {
        Path cwd = tmp.resolve("slurm6");
        Path weights = cwd.resolve("sweep/runs/relu-l0_3-s1/sae_weights.safetensors");
        long before = Files.getLastModifiedTime(weights).toMillis();
        Map<String, String> jobs = submit(cwd, Map.of(), sweepArgs(truth.resolve("shards"), "topk,relu", "2,3,4"));
        assertEquals(List.of("merge"), List.copyOf(jobs.keySet()), "no task array: every run has finished");
        slurm.waitUntilGone(120, jobs.get("merge"));
        assertEquals(before, Files.getLastModifiedTime(weights).toMillis(), "nothing was trained again");
        SameOutput.assertSame(tmp.resolve("local/sweep"), cwd.resolve("sweep"));
    }

    @Test
    @Order(4)
    void failingTasksAreShownFailedByStatusAndTheMergeWhichStillReportsTheRest() throws Exception {
        // a bad setting: task 1's learning rate edited to -1 in the plan
        Path bad = dir("fail");
        assertEquals(0, slurm.atmsae(bad, Map.of(), sweepArgs(truth.resolve("shards"), "topk", "2,3", "--plan"))
                .exitCode());
        ObjectMapper json = new ObjectMapper();
        JsonNode plan = json.readTree(bad.resolve("sweep/plan.json").toFile());
        ((ObjectNode) plan.get("stages").get("sweep").get(1).get("config")).put("lr", -1.0);
        json.writerWithDefaultPrettyPrinter().writeValue(bad.resolve("sweep/plan.json").toFile(), plan);
        // a missing shard: the training data's only shard deleted after planning
        Path missing = dir("missing");
        Path shards = Files.createDirectories(missing.resolve("shards"));
        try (Stream<Path> files = Files.list(truth.resolve("shards"))) {
            for (Path f : files.toList()) {
                Files.copy(f, shards.resolve(f.getFileName()));
            }
        }
        assertEquals(0, slurm.atmsae(missing, Map.of(), sweepArgs(shards, "topk", "2,3", "--plan")).exitCode());
        try (Stream<Path> files = Files.list(shards)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Map<String, String> badJobs = submit(bad, Map.of(), "sweep", "--out", "sweep"); // the plan as it stands
        Map<String, String> missingJobs = submit(missing, Map.of(), "sweep", "--out", "sweep");
        slurm.waitUntilGone(240, badJobs.get("sweep"), missingJobs.get("sweep"));
        note("failing sweeps done");

        LocalSlurm.Result status = slurm.atmsae(bad, Map.of(), "sweep", "--status", "sweep");
        assertTrue(status.output().contains("1 done, 0 running, 1 failed, 0 pending"), status.output());
        assertTrue(status.output().lines().anyMatch(l -> l.contains("topk-l0_3-s1") && l.contains("failed")
                && l.contains("lr")), status.output());
        LocalSlurm.Result merge = slurm.atmsae(bad, Map.of(), "sweep", "--out", "sweep", "--merge");
        assertEquals(1, merge.exitCode(), merge.output());
        String error = merge.withoutJvmNotice().lines().filter(l -> l.startsWith("atmsae:")).findFirst().orElse("");
        assertTrue(error.contains("1 of 2 runs did not finish") && error.contains("topk-l0_3-s1"), merge.output());
        assertEquals(1, merge.withoutJvmNotice().lines().filter(l -> l.startsWith("atmsae")).count(), merge.output());
        String md = Files.readString(bad.resolve("sweep/sweep.md"));
        assertTrue(md.contains("| topk | 2.000 |") && !md.contains("| 3.000 |"), md);

        status = slurm.atmsae(missing, Map.of(), "sweep", "--status", "sweep");
        assertTrue(status.output().contains("0 done, 0 running, 2 failed, 0 pending"), status.output());
        assertTrue(status.output().contains("shards"), status.output());
        merge = slurm.atmsae(missing, Map.of(), "sweep", "--out", "sweep", "--merge");
        assertEquals(1, merge.exitCode(), merge.output());
        assertEquals(1, merge.withoutJvmNotice().lines().filter(l -> !l.isBlank()).count(), merge.output());
        assertTrue(merge.output().contains("no run has finished"), merge.output());
    }

    @Test
    @Order(5)
    void aStudyThroughSlurmSelectsAndReportsWhatTheLocalStudyDoes() throws Exception {
        Path config = tmp.resolve("study.json");
        Files.writeString(config, ClusterModesTest.STUDY);
        String[] args = {"study", "--config", config.toString(), "--out", "study", "--engine", "cpu", "--threads",
            "1", "--quiet"};
        Path local = dir("local-study");
        LocalSlurm.Result localRun = slurm.local(local, args);
        assertEquals(0, localRun.exitCode(), localRun.output());

        Path cwd = dir("slurm-study");
        note("local study done");
        Map<String, String> jobs = submit(cwd, Map.of(), args);
        assertEquals(List.of("screen", "select", "confirm", "report"), List.copyOf(jobs.keySet()));
        slurm.waitUntilGone(300, jobs.values().toArray(String[]::new));
        note("study jobs done");
        Path out = cwd.resolve("study");
        assertTrue(Files.exists(out.resolve("study.md")), LocalSlurm.logs(out));
        assertArrayEquals(Files.readAllBytes(local.resolve("study/selection.json")),
                Files.readAllBytes(out.resolve("selection.json")), "the selection step chose as the local study did");
        SameOutput.assertSame(local.resolve("study"), out);
    }

    private final long t0 = System.nanoTime();

    /** A timestamped progress line, so a slow or stuck run shows where its time went. */
    private void note(String what) {
        System.out.printf(java.util.Locale.ROOT, "[SlurmClusterTest +%.1f s] %s%n", (System.nanoTime() - t0) / 1e9,
                what);
    }

    private LocalSlurm.Result call(String... command) {
        try {
            return slurm.slurm(command);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static long lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).size() : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
