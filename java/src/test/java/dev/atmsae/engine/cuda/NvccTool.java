package dev.atmsae.engine.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Finds nvcc the way native-build/build.sh does ($NVCC, then PATH), for tests that need the host compiler. */
final class NvccTool {
    private NvccTool() {
    }

    static Optional<Path> find() {
        String env = System.getenv("NVCC");
        if (env != null && Files.isExecutable(Path.of(env))) {
            return Optional.of(Path.of(env));
        }
        return onPath("nvcc");
    }

    /** {@code command} as the shell would find it on PATH (or the path itself, when it names one). */
    static Optional<Path> onPath(String command) {
        if (command.contains("/")) {
            return Files.isExecutable(Path.of(command)) ? Optional.of(Path.of(command)) : Optional.empty();
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The repository root (Surefire runs in java/). */
    static Path repoRoot() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("cuda")) ? here : here.getParent();
    }

    /** Runs cmd with stdin, returns stdout and stderr together; throws when it fails or takes over two minutes. */
    static String run(List<String> cmd, String stdin) throws IOException, InterruptedException {
        return run(cmd, stdin, 120);
    }

    /** {@link #run(List, String)} with a time limit of {@code seconds}. */
    static String run(List<String> cmd, String stdin, long seconds) throws IOException, InterruptedException {
        // stdin from a file: written through a pipe, a long input would block once the unread output fills its pipe.
        Path input = Files.createTempFile("atmsae-stdin", ".txt");
        try {
            Files.writeString(input, stdin, StandardCharsets.US_ASCII);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(input.toFile()).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            if (!p.waitFor(seconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(cmd + " failed: " + output);
            }
            return output;
        } finally {
            Files.deleteIfExists(input);
        }
    }
}
