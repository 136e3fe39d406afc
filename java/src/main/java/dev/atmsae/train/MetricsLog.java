package dev.atmsae.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.util.UserError;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run's metrics stream, {@code DIR/metrics.jsonl}: one JSON object per line, flushed line by line so a crashed or
 * interrupted run keeps everything up to its last line. A resumed run first drops the lines past the checkpoint's step
 * (they were written after the checkpoint and will be written again), so the file reads as one uninterrupted run.
 */
public final class MetricsLog implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final Path path;
    private final BufferedWriter out;

    private MetricsLog(Path path, BufferedWriter out) {
        this.path = path;
        this.out = out;
    }

    /** Starts a fresh stream (truncating an old one). */
    public static MetricsLog create(Path path) {
        return open(path, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Continues a stream after a resume at {@code step}: lines with a larger {@code step} field are removed. */
    public static MetricsLog resume(Path path, long step) {
        if (Files.exists(path)) {
            try {
                StringBuilder kept = new StringBuilder();
                for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        var node = JSON.readTree(line);
                        if (node.has("step") && node.get("step").asLong() > step) {
                            continue;
                        }
                    } catch (IOException torn) {
                        continue; // a line cut off by a kill: drop it
                    }
                    kept.append(line).append('\n');
                }
                Files.writeString(path, kept.toString(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw UserError.inFile(path, "cannot rewrite metrics stream: " + e.getMessage());
            }
        }
        return open(path, StandardOpenOption.APPEND);
    }

    private static MetricsLog open(Path path, StandardOpenOption mode) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            return new MetricsLog(path, Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, mode));
        } catch (IOException e) {
            throw UserError.inFile(path, "cannot open metrics stream: " + e.getMessage());
        }
    }

    /** Converts any record or bean (e.g. the architecture's step metrics) to an ordered map of its fields. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> fieldsOf(Object value) {
        if (value == null) {
            return new LinkedHashMap<>();
        }
        return new LinkedHashMap<>(JSON.convertValue(value, Map.class));
    }

    /** Appends one line. */
    public void write(Map<String, Object> record) {
        try {
            out.write(JSON.writeValueAsString(record));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw UserError.inFile(path, "cannot write metrics: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // the lines were flushed one by one
        }
    }
}
