package dev.atmsae.sweep.slurm;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Submits a chain of stages with sbatch, each waiting for the one before it ({@code --dependency=afterok}), and
 * records it: the scripts in {@code OUT/slurm/STAGE.sbatch} and every submission's job ids in
 * {@code OUT/slurm/jobs.json} (which {@code --status} asks squeue and sacct about). A dry run prints the scripts and
 * the sbatch commands and submits and writes nothing.
 */
public final class SlurmSubmission {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One submitted stage. */
    public record Submitted(String stage, String jobId, String array, Path script) {
    }

    private final SlurmResources resources;
    private final Path out;
    private final Path cwd;
    private final String launcher;
    private final List<String> header;

    /**
     * @param out      the output directory (absolute)
     * @param cwd      the directory the plan was made in (every job starts there)
     * @param launcher the command that runs atmsae on a compute node
     * @param header   comment lines for every script (what planned it)
     */
    public SlurmSubmission(SlurmResources resources, Path out, Path cwd, String launcher, List<String> header) {
        this.resources = resources;
        this.out = out.toAbsolutePath().normalize();
        this.cwd = cwd;
        this.launcher = launcher;
        this.header = List.copyOf(header);
    }

    /** Prints every stage's script and sbatch command; submits nothing. */
    public void dryRun(List<SlurmJob> jobs, PrintWriter print) {
        String previous = null;
        for (SlurmJob job : jobs) {
            Path script = scriptFile(job);
            print.println("# ---- " + script + "   (submitted as: sbatch --parsable " + script + ")");
            print.print(render(job, previous == null ? null : "<job id of " + previous + ">"));
            print.println();
            previous = job.stage();
        }
        print.flush();
    }

    /**
     * Submits the stages in order, each depending on the one before; returns what was submitted. A refusal is a
     * one-line error naming the stage and what was submitted before it (that keeps running).
     */
    public List<Submitted> submit(List<SlurmJob> jobs) {
        List<Submitted> submitted = new ArrayList<>();
        try {
            Files.createDirectories(out.resolve("logs"));
        } catch (IOException e) {
            throw UserError.inFile(out.resolve("logs"), "cannot create the log directory: " + e.getMessage());
        }
        String previous = null;
        for (SlurmJob job : jobs) {
            Path script = scriptFile(job);
            AtomicFiles.writeString(script, render(job, previous));
            SlurmCommand.Result r = SlurmCommand.run(List.of("sbatch", "--parsable", script.toString()), 60);
            if (!r.ok()) {
                record(submitted);
                throw new UserError("sbatch refused stage " + job.stage() + " (" + r.reason() + ")"
                        + (submitted.isEmpty() ? "" : "; already submitted: " + submitted.stream()
                        .map(s -> s.stage() + " = job " + s.jobId()).toList()));
            }
            String jobId = r.stdout().strip().split(";")[0];
            submitted.add(new Submitted(job.stage(), jobId, job.isArray() ? job.arraySpec(resources.maxParallel())
                    : null, script));
            previous = jobId;
        }
        record(submitted);
        return submitted;
    }

    private String render(SlurmJob job, String dependency) {
        return SlurmScript.render(job, resources, out, cwd, launcher, dependency, header);
    }

    private Path scriptFile(SlurmJob job) {
        return out.resolve("slurm").resolve(job.stage() + ".sbatch");
    }

    /** Appends a submission to OUT/slurm/jobs.json. */
    private void record(List<Submitted> submitted) {
        if (submitted.isEmpty()) {
            return;
        }
        Path file = out.resolve("slurm").resolve("jobs.json");
        Map<String, Object> all = readJobs(file);
        @SuppressWarnings("unchecked")
        List<Object> submissions = new ArrayList<>((List<Object>) all.getOrDefault("submissions", List.of()));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("submitted", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (Submitted s : submitted) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("stage", s.stage());
            j.put("job_id", s.jobId());
            j.put("array", s.array());
            j.put("script", out.relativize(s.script()).toString());
            jobs.add(j);
        }
        entry.put("jobs", jobs);
        submissions.add(entry);
        all.put("submissions", submissions);
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(all));
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot write: " + e.getMessage());
        }
    }

    private static Map<String, Object> readJobs(Path file) {
        if (!Files.exists(file)) {
            return new LinkedHashMap<>();
        }
        try {
            return JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(file, "unreadable: " + e.getMessage());
        }
    }

    /**
     * The job id of each stage, latest submission last (so a stage resubmitted later maps to its newest job), from
     * OUT/slurm/jobs.json; empty when nothing was submitted from this directory.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, List<String>> jobsByStage(Path out) {
        Map<String, List<String>> byStage = new LinkedHashMap<>();
        Path file = out.resolve("slurm").resolve("jobs.json");
        if (!Files.exists(file)) {
            return byStage;
        }
        for (Object s : (List<Object>) readJobs(file).getOrDefault("submissions", List.of())) {
            for (Object j : (List<Object>) ((Map<String, Object>) s).get("jobs")) {
                Map<String, Object> job = (Map<String, Object>) j;
                byStage.computeIfAbsent((String) job.get("stage"), k -> new ArrayList<>())
                        .add((String) job.get("job_id"));
            }
        }
        return byStage;
    }
}
