package dev.atmsae.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.data.ActivationLoader;
import dev.atmsae.data.NpyWriter;
import dev.atmsae.io.AtomicFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Activation-loader throughput: float32 shards (~1 GiB per width, d = 384 and d = 2304, in a temp directory, read
 * once to warm the page cache) streamed through {@link ActivationLoader} in batches of 4096 rows, sequential and
 * shuffled. The consumer touches one float per row (so every batch is really consumed, but the consumer is never the
 * bottleneck). Reports GB/s and tokens/s over the measured interval and HdrHistogram percentiles of the time spent
 * inside {@code next()} (batch delivery latency); prints a Markdown table and writes loader.json to the output dir.
 *
 * <p>Usage: {@code LoaderBench OUT_DIR [seconds per case, default 10] [GiB per width, default 1]
 * [widths, default 384,2304] [orders, default sequential,shuffled] [reader threads, default 1,2]}.
 */
public final class LoaderBench {
    private static final int BATCH = 4096;

    private LoaderBench() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Paths.get(args.length > 0 ? args[0] : "bench-out");
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 10;
        double gib = args.length > 2 ? Double.parseDouble(args[2]) : 1;
        int[] widths = java.util.Arrays.stream((args.length > 3 ? args[3] : "384,2304").split(","))
                .mapToInt(Integer::parseInt).toArray();
        String orders = args.length > 4 ? args[4] : "sequential,shuffled";
        int[] readers = java.util.Arrays.stream((args.length > 5 ? args[5] : "1,2").split(","))
                .mapToInt(Integer::parseInt).toArray();
        Path tmp = Files.createTempDirectory("atmsae-loaderbench");
        List<Map<String, Object>> results = new ArrayList<>();
        try {
            for (int d : widths) {
                Path shards = tmp.resolve("d" + d);
                long rows = (long) (gib * (1L << 30) / (4.0 * d));
                generate(shards, d, rows, 4);
                warmPageCache(shards);
                for (boolean shuffle : new boolean[] {false, true}) {
                    if (orders.contains(shuffle ? "shuffled" : "sequential")) {
                        for (int r : readers) {
                            results.add(runCase(shards, d, shuffle, r, seconds));
                        }
                    }
                }
                deleteTree(shards);
            }
        } finally {
            deleteTree(tmp);
        }
        StringBuilder md = new StringBuilder();
        md.append("| d | order | readers | GB/s | tokens/s | reader GB/s | stall s | next() p50 µs | p99 µs | max µs | batches |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : results) {
            md.append(String.format("| %d | %s | %d | %.2f | %.3g | %.2f | %.2f | %.1f | %.1f | %.1f | %d |%n", r.get("d"),
                    r.get("order"), r.get("readers"), r.get("gb_per_s"), r.get("tokens_per_s"), r.get("reader_gb_per_s"),
                    r.get("stall_s"), r.get("next_p50_us"), r.get("next_p99_us"), r.get("next_max_us"),
                    r.get("batches")));
        }
        System.out.print(md);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "loader");
        doc.put("batch_size", BATCH);
        doc.put("seconds_per_case", seconds);
        doc.put("gib_per_width", gib);
        doc.put("cpus", Runtime.getRuntime().availableProcessors());
        doc.put("load_average_at_end", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        doc.put("java", System.getProperty("java.version"));
        doc.put("results", results);
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc);
        AtomicFiles.writeString(out.resolve("loader.json"), json + "\n");
        AtomicFiles.writeString(out.resolve("loader.md"), md.toString());
    }

    private static Map<String, Object> runCase(Path shards, int d, boolean shuffle, int readers, double seconds) {
        ActivationLoader.Options o = ActivationLoader.Options.defaults(BATCH).withShuffle(shuffle).withSeed(1234)
                .withReaders(readers);
        Histogram latency = new Histogram(60_000_000_000L, 3);
        long batchBytes = 4L * BATCH * d;
        double sink = 0;
        long batches = 0;
        long reader0;
        long stall0;
        try (ActivationLoader loader = ActivationLoader.open(shards, o)) {
            // warm-up: JIT and the reader's first window, not measured
            long warmEnd = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < warmEnd) {
                sink += touch(loader.next(), d);
            }
            reader0 = loader.producedBytes();
            stall0 = (long) (loader.stallSeconds() * 1e9);
            long readerNs0 = loader.producingNanos();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            long now = t0;
            while (now < end) {
                long a = System.nanoTime();
                MemorySegment b = loader.next();
                now = System.nanoTime();
                latency.recordValue(now - a);
                sink += touch(b, d);
                batches++;
            }
            double elapsed = (System.nanoTime() - t0) * 1e-9;
            double gb = batches * (double) batchBytes / 1e9;
            long readerNs = loader.producingNanos() - readerNs0;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("d", d);
            r.put("order", shuffle ? "shuffled (window 64)" : "sequential");
            r.put("readers", readers);
            r.put("batches", batches);
            r.put("seconds", elapsed);
            r.put("gb_per_s", gb / elapsed);
            r.put("tokens_per_s", batches * (double) BATCH / elapsed);
            r.put("reader_gb_per_s", readerNs <= 0 ? 0.0 : (loader.producedBytes() - reader0) / (double) readerNs);
            r.put("stall_s", loader.stallSeconds() - stall0 * 1e-9);
            r.put("next_p50_us", latency.getValueAtPercentile(50) / 1e3);
            r.put("next_p99_us", latency.getValueAtPercentile(99) / 1e3);
            r.put("next_max_us", latency.getMaxValue() / 1e3);
            r.put("checksum", sink);
            System.err.printf("d=%d %s readers=%d: %.2f GB/s%n", d, r.get("order"), readers, gb / elapsed);
            return r;
        }
    }

    /** Reads one float per row, so the consumer truly visits every row of the batch. */
    private static double touch(MemorySegment batch, int d) {
        double s = 0;
        long stride = 4L * d;
        for (int r = 0; r < BATCH; r++) {
            s += batch.get(ValueLayout.JAVA_FLOAT, r * stride + (r % d) * 4L);
        }
        return s;
    }

    /** Writes {@code parts} float32 .npy shards holding {@code rows} rows of width {@code d} in all. */
    private static void generate(Path dir, int d, long rows, int parts) {
        long x = 0x9E3779B97F4A7C15L;
        float[] block = new float[4096 * d];
        for (int p = 0; p < parts; p++) {
            long n = rows / parts + (p < rows % parts ? 1 : 0);
            try (NpyWriter.Stream w = NpyWriter.stream(dir.resolve(String.format("shard_%03d.npy", p)), d)) {
                for (long done = 0; done < n; ) {
                    int c = (int) Math.min(4096, n - done);
                    for (int i = 0; i < c * d; i++) {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        block[i] = ((x >>> 40) - (1L << 23)) * 0x1p-23f + 0x1p-30f; // ≈ U(-1,1), never exactly 0
                    }
                    w.append(block, 0, c);
                    done += c;
                }
            }
        }
    }

    private static void warmPageCache(Path dir) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    while (ch.read(buf) > 0) {
                        buf.clear();
                    }
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
