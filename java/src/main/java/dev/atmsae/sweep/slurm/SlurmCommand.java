package dev.atmsae.sweep.slurm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs one SLURM client command (sbatch, squeue, sacct) and captures what it printed. */
final class SlurmCommand {
    private SlurmCommand() {
    }

    /**
     * @param exitCode the command's exit status; -1 when it could not be started (not installed) or timed out
     * @param stdout   what it printed
     * @param stderr   what it complained, or why it could not run
     */
    record Result(int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        /** The first non-blank line of stderr (SLURM's one-line reason), or a placeholder. */
        String reason() {
            return stderr.lines().filter(l -> !l.isBlank()).findFirst().orElse("exit status " + exitCode).strip();
        }
    }

    static Result run(List<String> command, int timeoutSeconds) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            return new Result(-1, "", command.get(0) + " not found: " + e.getMessage());
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "", command.get(0) + " did not answer within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "", "interrupted");
        }
    }

    private static String drain(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
