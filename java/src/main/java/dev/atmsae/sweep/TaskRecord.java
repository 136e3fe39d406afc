package dev.atmsae.sweep;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a task last said about its run, in {@code OUT/status/NAME.json}: running, stopped (a checkpoint written,
 * waiting to be continued), failed (with the one-line reason) or done, with the host, process and SLURM job it ran
 * in. It lives outside the run directory, so a run's files are the same however it was run; {@code --status} and the
 * merge read it. Each task writes only its own record, atomically.
 *
 * @param state   running | stopped | failed | done
 * @param message the failure's one line, or where a stopped run stands; null otherwise
 * @param host    the machine the task ran on
 * @param pid     its process id
 * @param job     the SLURM array task ("JOB_INDEX") or null outside SLURM
 * @param updated when the record was written (UTC, seconds)
 */
public record TaskRecord(String state, String message, String host, long pid, String job, String updated) {
    public static final String RUNNING = "running";
    public static final String STOPPED = "stopped";
    public static final String FAILED = "failed";
    public static final String DONE = "done";

    /** The record of this process in state {@code state}. */
    static TaskRecord now(String state, String message) {
        return new TaskRecord(state, message, hostName(), ProcessHandle.current().pid(), slurmJob(),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    /** The SLURM array task this process runs as, e.g. "1234_5" (a plain job id outside an array), or null. */
    static String slurmJob() {
        String array = System.getenv("SLURM_ARRAY_JOB_ID");
        String index = System.getenv("SLURM_ARRAY_TASK_ID");
        if (array != null && index != null) {
            return array + "_" + index;
        }
        return System.getenv("SLURM_JOB_ID");
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return ManagementFactory.getRuntimeMXBean().getName();
        }
    }

    static Path file(Path out, String runName) {
        return out.resolve("status").resolve(runName + ".json");
    }

    void write(Path out, String runName) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", state);
        m.put("message", message);
        m.put("host", host);
        m.put("pid", pid);
        m.put("job", job);
        m.put("updated", updated);
        Sweep.write(file(out, runName), m);
    }

    /** The record of a run, if a task wrote one (an unreadable one counts as none). */
    public static Optional<TaskRecord> read(Path out, String runName) {
        Path f = file(out, runName);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            Map<String, Object> m = Sweep.JSON.readValue(Files.readString(f),
                    new TypeReference<LinkedHashMap<String, Object>>() { });
            return Optional.of(new TaskRecord((String) m.get("state"), (String) m.get("message"),
                    (String) m.get("host"), ((Number) m.get("pid")).longValue(), (String) m.get("job"),
                    (String) m.get("updated")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** True when this record's process is alive on this machine (false when it ran elsewhere or is gone). */
    public boolean processAliveHere() {
        return hostName().equals(host) && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** True when it ran on this machine. */
    public boolean ranHere() {
        return hostName().equals(host);
    }
}
