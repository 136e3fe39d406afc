package dev.atmsae.engine.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds nvcc the way native-build/build.sh does ($NVCC, then PATH), for tests that need the host compiler. */
final class NvccTool {
    private NvccTool() {
    }

    static Optional<Path> find() {
        String env = System.getenv("NVCC");
        if (env != null && Files.isExecutable(Path.of(env))) {
            return Optional.of(Path.of(env));
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "nvcc");
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
}
