package dev.atmsae.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atmsae.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster modes without a cluster (in this process): plan, tasks and merge write what a local sweep or study
 * writes; a task stopped by a signal continues from its checkpoint to the same bytes; failures and bad input are one
 * line and exit 1; --status reads the files; --dry-run prints the sbatch scripts. The SLURM tests
 * ({@code sweep.slurm.SlurmClusterTest}) run the same steps as job arrays.
 *
 * <p>To compare a local run with a run of the same plan as tasks, the local output directory is moved aside and the
 * tasks write to the same path, so the paths the runs record are the same.
 */
public class ClusterModesTest {
    @TempDir
    Path tmp;

    private Path truth;

    @BeforeEach
    void syntheticData() {
        truth = tmp.resolve("truth");
        assertEquals(0, cli("synth", "--out", truth.toString(), "--tokens", "8000", "--eval-tokens", "1500", "--d",
                "16", "--trees", "2", "--children", "3", "--independent", "4").code());
    }

    private List<String> sweepArgs(Path out, String archs, String l0s) {
        return new ArrayList<>(List.of("sweep", "--data", truth.resolve("shards").toString(), "--truth",
                truth.toString(), "--probe-set", truth.resolve("probe_set").toString(), "--archs", archs,
                "--target-l0", l0s, "--width", "24", "--tokens", "6144", "--batch", "256", "--eval-tokens", "1024",
                "--threads", "1", "--quiet", "--out", out.toString()));
    }

    @Test
    void planTasksAndMergeWriteWhatALocalSweepWritesAndAStoppedTaskContinuesToTheSameBytes() throws Exception {
        Path out = tmp.resolve("sweep");
        Path local = tmp.resolve("local");
        Result localRun = cli(sweepArgs(out, "topk,relu", "2"));
        assertEquals(0, localRun.code(), localRun.err());
        Files.move(out, local);

        List<String> plan = sweepArgs(out, "topk,relu", "2");
        plan.add("--plan");
        assertEquals(0, cli(plan).code());
        assertEquals(0, cli("sweep", "--out", out.toString(), "--task", "1", "--threads", "1", "--quiet").code());
        Path weights = out.resolve("runs/relu-l0_2-s1/sae_weights.safetensors");
        long trained = Files.getLastModifiedTime(weights).toMillis();
        assertEquals(0, cli("sweep", "--out", out.toString(), "--task", "1", "--threads", "1", "--quiet").code());
        assertEquals(trained, Files.getLastModifiedTime(weights).toMillis(), "a finished run is kept as it is");

        // task 0 stopped mid-training as a signal stops it: a checkpoint, then the next task continues from it
        Plan read = Plan.read(out);
        Sweep sweep = new Sweep(SweepSpec.fromPlanMap(read.sweep(), "cpu", 1, true),
                () -> dev.atmsae.engine.Engines.cpu(1, false), System.err);
        AtomicInteger steps = new AtomicInteger();
        Sweep.TaskOutcome stopped = sweep.runPlanned(read, Sweep.STAGE, 0, "",
                () -> steps.incrementAndGet() >= 7 ? "SIGTERM" : null);
        assertEquals(Sweep.TaskState.STOPPED, stopped.state());
        assertTrue(stopped.message().contains("at step 7 of 24"), stopped.message());
        Path run = out.resolve("runs/topk-l0_2-s1");
        assertTrue(Files.exists(run.resolve("checkpoint/manifest.json")));
        Result status = cli("sweep", "--status", out.toString());
        assertTrue(status.out().contains("0 running, 0 failed, 1 pending") && status.out().contains("at step 7"),
                status.out());
        assertEquals(0, cli("sweep", "--out", out.toString(), "--task", "0", "--threads", "1", "--quiet").code());
        assertFalse(Files.exists(run.resolve("checkpoint")));
        assertTrue(Files.readString(run.resolve("metrics.json")).contains("\"resumed_from_step\" : 7"));

        Result merge = cli("sweep", "--out", out.toString(), "--merge");
        assertEquals(0, merge.code(), merge.err());
        assertEquals(localRun.out(), merge.out(), "the merge prints the local sweep's table");
        SameOutput.assertSame(local, out);
        assertTrue(cli("sweep", "--status", out.toString()).out().contains("2 done, 0 running, 0 failed, 0 pending"));
    }

    @Test
    void aFailedTaskIsRecordedAndTheMergeSaysSoInOneLine() throws Exception {
        Path out = tmp.resolve("sweep");
        List<String> plan = sweepArgs(out, "topk", "2,3");
        plan.add("--plan");
        assertEquals(0, cli(plan).code());
        ObjectMapper json = new ObjectMapper();
        JsonNode planJson = json.readTree(out.resolve("plan.json").toFile());
        ((ObjectNode) planJson.get("stages").get("sweep").get(1).get("config")).put("lr", -1.0);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("plan.json").toFile(), planJson);

        Result task = cli("sweep", "--out", out.toString(), "--task", "1", "--quiet");
        assertOneLineError(task, "run topk-l0_3-s1");
        Result status = cli("sweep", "--status", out.toString());
        assertTrue(status.out().contains("0 done, 0 running, 1 failed, 1 pending"), status.out());
        assertTrue(status.out().lines().anyMatch(l -> l.contains("topk-l0_3-s1") && l.contains("failed")
                && l.contains("lr")), status.out());
        assertOneLineError(cli("sweep", "--out", out.toString(), "--merge"), "no run has finished yet");

        assertEquals(0, cli("sweep", "--out", out.toString(), "--task", "0", "--quiet").code());
        Result merge = cli("sweep", "--out", out.toString(), "--merge");
        assertOneLineError(merge, "1 of 2 runs did not finish (topk-l0_3-s1 failed:");
        assertTrue(Files.readString(out.resolve("sweep.md")).contains("| topk | 2.000 |"), "the finished run's report");
    }

    @Test
    void badInputIsOneLineAndExitOne() throws Exception {
        Path out = tmp.resolve("sweep");
        List<String> plan = sweepArgs(out, "topk", "2");
        plan.add("--plan");
        assertEquals(0, cli(plan).code());
        assertOneLineError(cli("sweep", "--out", out.toString(), "--task", "5"), "--task 5 is out of range");
        assertOneLineError(cli("sweep", "--out", out.toString(), "--task", "x"), "must be a task index");

        List<String> other = sweepArgs(out, "relu", "2");
        other.add("--plan");
        assertOneLineError(cli(other), "belongs to another plan");

        Path file = out.resolve("plan.json");
        Files.writeString(file, Files.readString(file).replace("\"atmsae\" : \"dev\"", "\"atmsae\" : \"0.0.1\""));
        assertOneLineError(cli("sweep", "--out", out.toString(), "--task", "0"), "planned by atmsae 0.0.1");
        Files.writeString(file, Files.readString(file).replace("\"version\" : 1", "\"version\" : 7"));
        assertOneLineError(cli("sweep", "--out", out.toString(), "--merge"), "plan format version 7");

        Path other2 = tmp.resolve("sweep2");
        List<String> plan2 = sweepArgs(other2, "topk", "2");
        plan2.add("--plan");
        assertEquals(0, cli(plan2).code());
        Path moved = tmp.resolve("moved");
        Files.move(other2, moved);
        assertOneLineError(cli("sweep", "--out", moved.toString(), "--task", "0"), "(moved?)");
        assertOneLineError(cli("sweep", "--out", tmp.resolve("none").toString(), "--task", "0"), "no plan here");
    }

    @Test
    void dryRunPrintsTheChainedScriptsWithTheirResourcesAndSubmitsNothing() throws Exception {
        Path out = tmp.resolve("sweep");
        List<String> args = sweepArgs(out, "topk,relu", "2,3");
        args.addAll(List.of("--slurm", "--dry-run", "--gres", "gpu:1", "--cpus-per-task", "8", "--mem", "32G",
                "--time", "04:00:00", "--partition", "gpu", "--account", "lab", "--max-parallel", "2",
                "--sbatch=--qos=high", "--signal-grace", "120", "--launcher", "/opt/atmsae/bin/atmsae"));
        Result dry = cli(args);
        assertEquals(0, dry.code(), dry.err());
        String s = dry.out();
        for (String line : List.of("#SBATCH --array=0-3%2", "#SBATCH --gres=gpu:1", "#SBATCH --cpus-per-task=8",
                "#SBATCH --mem=32G", "#SBATCH --time=04:00:00", "#SBATCH --partition=gpu", "#SBATCH --account=lab",
                "#SBATCH --qos=high", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120", "#SBATCH --open-mode=append",
                "#SBATCH --output=" + out.resolve("logs/sweep-%a.log"), "#SBATCH --output=" + out.resolve("logs/merge.log"),
                "#SBATCH --dependency=afterok:<job id of sweep>", "scontrol requeue",
                "/opt/atmsae/bin/atmsae sweep --out " + out + " --task \"$SLURM_ARRAY_TASK_ID\" --engine cpu --threads 1",
                "exec /opt/atmsae/bin/atmsae sweep --out " + out + " --merge")) {
            assertTrue(s.contains(line), line + " in:\n" + s);
        }
        assertFalse(Files.exists(out), "a dry run writes nothing");

        Path config = tmp.resolve("study.json");
        Files.writeString(config, STUDY);
        Result study = cli("study", "--config", config.toString(), "--out", tmp.resolve("study").toString(),
                "--slurm", "--dry-run", "--gres", "gpu:1");
        assertEquals(0, study.code(), study.err());
        List<String> stages = study.out().lines().filter(l -> l.startsWith("#SBATCH --job-name=")).toList();
        assertEquals(List.of("#SBATCH --job-name=atmsae-screen-study", "#SBATCH --job-name=atmsae-select-study",
                "#SBATCH --job-name=atmsae-confirm-study", "#SBATCH --job-name=atmsae-report-study"), stages);
        // 3 screening runs; the confirmation array is sized for the largest selection: (1 baseline + top 1) × 2 L0
        assertTrue(study.out().contains("#SBATCH --array=0-2\n") && study.out().contains("#SBATCH --array=0-3\n"),
                study.out());
        assertTrue(study.out().contains("#SBATCH --dependency=afterok:<job id of select>"), study.out());
    }

    /** A reduced study: one baseline, two ATM centres, screening at one L0, confirmation of the best at two. */
    public static final String STUDY = """
            {
              "name": "reduced study (cluster modes test)",
              "data": {"synth": {"tokens": 8000, "eval_tokens": 1500, "d": 16, "trees": 2, "children": 3,
                                 "independent": 4}},
              "width": 24, "tokens": 6144, "batch": 256, "eval_tokens": 1024,
              "common": {"lr": 0.003},
              "baselines": ["topk"],
              "atm": {"bases": ["topk", "relu"], "centre": {"atm_mask_rate": 1.0}},
              "screen": {"l0": 3, "seed": 1},
              "confirm": {"l0": [2, 3], "seeds": [1], "top": 1}
            }
            """;

    @Test
    void studyStagesAsTasksSelectAndReportAsTheLocalStudy() throws Exception {
        Path config = tmp.resolve("study.json");
        Files.writeString(config, STUDY);
        Path out = tmp.resolve("study");
        Path local = tmp.resolve("local");
        assertEquals(0, cli("study", "--config", config.toString(), "--out", out.toString(), "--engine", "cpu",
                "--threads", "1", "--quiet").code());
        Files.move(out, local);

        assertEquals(0, cli("study", "--config", config.toString(), "--out", out.toString(), "--plan").code());
        assertOneLineError(cli("study", "--out", out.toString(), "--stage", "confirm", "--task", "0"),
                "no selection yet");
        assertOneLineError(cli("study", "--out", out.toString(), "--select"), "cannot select yet");
        for (int i = 0; i < 3; i++) {
            assertEquals(0, task(out, "screen", i).code());
        }
        assertOneLineError(task(out, "screen", 3), "--task 3 is out of range");
        Result select = cli("study", "--out", out.toString(), "--select");
        assertEquals(0, select.code(), select.err());
        for (int i = 0; i < 4; i++) { // the confirmation array's size: 1 baseline + top 1, at 2 L0 targets
            assertEquals(0, task(out, "confirm", i).code());
        }
        assertOneLineError(task(out, "confirm", 4), "--task 4 is out of range");
        Result status = cli("study", "--status", out.toString());
        assertTrue(status.out().contains("7 done, 0 running, 0 failed, 0 pending"), status.out());
        Result merge = cli("study", "--out", out.toString(), "--merge");
        assertEquals(0, merge.code(), merge.err());
        SameOutput.assertSame(local, out);
    }

    private Result task(Path out, String stage, int index) {
        return cli("study", "--out", out.toString(), "--stage", stage, "--task", Integer.toString(index), "--engine",
                "cpu", "--threads", "1", "--quiet");
    }

    private static void assertOneLineError(Result r, String expected) {
        assertEquals(1, r.code(), r.err());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("atmsae: ") && lines.get(0).contains(expected), r.err());
    }

    record Result(int code, String out, String err) {
    }

    private static Result cli(List<String> args) {
        return cli(args.toArray(String[]::new));
    }

    private static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }
}
