package dev.atmsae.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Compares two output directories of the same plan (a local sweep or study and one run as tasks) byte for byte. The
 * only parts allowed to differ are wall-clock and per-process facts — how long a step took, how many tokens this
 * process trained after a resume — which a run records beside its results: in the files that hold them they are
 * removed before the bytes are compared. Bookkeeping of how the runs were carried out (status/, slurm/, logs/, and
 * the plan's working directory) is not part of the output.
 */
public final class SameOutput {
    /** Keys whose values are wall-clock times, speeds or per-process counts. */
    public static final Set<String> WALL_CLOCK = Set.of("seconds", "train_seconds", "tokens_per_s", "stall_fraction",
            "elapsed_s", "wall_seconds", "train_seconds_this_process", "tokens_this_process", "resumed_from_step");
    /** Files that hold such keys. */
    static final Set<String> TIMED = Set.of("metrics.json", "metrics.jsonl", "result.json", "sweep.json", "study.json");
    private static final Set<String> BOOKKEEPING = Set.of("status", "slurm", "logs");
    private static final ObjectMapper JSON = new ObjectMapper();

    private SameOutput() {
    }

    /** Every file of {@code expected} is in {@code actual} with the same bytes, and {@code actual} has no other. */
    public static void assertSame(Path expected, Path actual) throws IOException {
        List<String> want = files(expected);
        List<String> got = files(actual);
        assertEquals(want, got, "the same files in " + expected + " and " + actual);
        assertTrue(want.size() > 5, "compared " + want);
        for (String f : want) {
            assertSameFile(expected.resolve(f), actual.resolve(f));
        }
    }

    /** One file: bytes, after removing the wall-clock keys where it has them. */
    public static void assertSameFile(Path expected, Path actual) throws IOException {
        String name = expected.getFileName().toString();
        if (TIMED.contains(name) || name.equals("plan.json")) {
            assertEquals(withoutWallClock(expected), withoutWallClock(actual), expected + " vs " + actual);
        } else {
            assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(actual), expected + " vs " + actual);
        }
    }

    /** The file's text with every wall-clock key removed (and a plan's working directory). */
    static String withoutWallClock(Path file) throws IOException {
        StringBuilder out = new StringBuilder();
        boolean lines = file.getFileName().toString().endsWith(".jsonl");
        for (String chunk : lines ? Files.readAllLines(file) : List.of(Files.readString(file))) {
            if (chunk.isBlank()) {
                continue;
            }
            JsonNode node = JSON.readTree(chunk);
            strip(node);
            if (file.getFileName().toString().equals("plan.json")) {
                ((ObjectNode) node).remove("cwd");
            }
            out.append(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node)).append('\n');
        }
        return out.toString();
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode o) {
            o.remove(WALL_CLOCK);
        }
        node.forEach(SameOutput::strip);
    }

    private static List<String> files(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                Path rel = root.relativize(p);
                if (!BOOKKEEPING.contains(rel.getName(0).toString())) {
                    out.add(rel.toString());
                }
            }
        }
        return out;
    }
}
