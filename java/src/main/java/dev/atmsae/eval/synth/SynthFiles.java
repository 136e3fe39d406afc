package dev.atmsae.eval.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.io.NpyArrays;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * On-disk layout of a synthetic data set (docs/probe-sets.md):
 * <pre>
 * OUT/shards/shard_00000.npy …   [rows, d] f32 training activations (samples 0 .. tokens−1)
 * OUT/truth/truth.json           format, generator config, hierarchy (roots, children), independent feature ids
 * OUT/truth/features.npy         [features, d] f32 unit directions
 * OUT/truth/true_rowptr.npy      [tokens+1] i8  CSR of the true activations of the training samples
 * OUT/truth/true_feature.npy     [nnz] i4
 * OUT/truth/true_value.npy       [nnz] f4
 * OUT/probe_set/                 a `truth`-kind probe set from the held-out samples (tokens .. tokens+evalTokens−1)
 * </pre>
 */
public final class SynthFiles {
    public static final String FORMAT = "atmsae-synth-truth/1";
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).enable(SerializationFeature.INDENT_OUTPUT);

    private SynthFiles() {
    }

    /** Generates and writes everything; returns the number of shards written. */
    public static int write(Path out, SynthConfig cfg) {
        if (cfg.tokens() > Integer.MAX_VALUE - 1) {
            throw new UserError("synth: at most " + (Integer.MAX_VALUE - 1) + " training samples per data set");
        }
        SynthGenerator gen = new SynthGenerator(cfg);
        Path shards = out.resolve("shards"), truth = out.resolve("truth");
        try {
            Files.createDirectories(shards);
            Files.createDirectories(truth);
        } catch (IOException e) {
            throw UserError.inFile(out, "cannot create output directories: " + e.getMessage());
        }
        long[] rowPtr = new long[(int) cfg.tokens() + 1];
        List<int[]> featureParts = new ArrayList<>();
        List<float[]> valueParts = new ArrayList<>();
        int shard = 0;
        for (long start = 0; start < cfg.tokens(); start += cfg.shardTokens(), shard++) {
            int count = (int) Math.min(cfg.shardTokens(), cfg.tokens() - start);
            SynthGenerator.Batch b = gen.generate(start, count);
            dev.atmsae.data.NpyWriter.write(shards.resolve(String.format("shard_%05d.npy", shard)), b.x(), count, cfg.d());
            for (int r = 0; r < count; r++) {
                rowPtr[(int) (start + r) + 1] = rowPtr[(int) (start + r)] + (b.rowPtr()[r + 1] - b.rowPtr()[r]);
            }
            featureParts.add(b.feature());
            valueParts.add(b.value());
        }
        NpyArrays.writeI64(truth.resolve("true_rowptr.npy"), rowPtr, rowPtr.length);
        int nnz = (int) rowPtr[rowPtr.length - 1];
        int[] feature = new int[nnz];
        float[] value = new float[nnz];
        int at = 0;
        for (int p = 0; p < featureParts.size(); p++) {
            System.arraycopy(featureParts.get(p), 0, feature, at, featureParts.get(p).length);
            System.arraycopy(valueParts.get(p), 0, value, at, valueParts.get(p).length);
            at += featureParts.get(p).length;
        }
        NpyArrays.writeI32(truth.resolve("true_feature.npy"), feature, nnz);
        NpyArrays.writeF32(truth.resolve("true_value.npy"), value, nnz);
        NpyArrays.writeF32(truth.resolve("features.npy"), gen.directions(), cfg.features(), cfg.d());
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("config", cfg);
        List<Map<String, Object>> trees = new ArrayList<>();
        for (int t = 0; t < cfg.trees(); t++) {
            List<Integer> children = new ArrayList<>();
            for (int c = 0; c < cfg.children(); c++) {
                children.add(cfg.child(t, c));
            }
            Map<String, Object> tree = new LinkedHashMap<>(); // not Map.of: its order changes from JVM to JVM
            tree.put("root", cfg.root(t));
            tree.put("children", children);
            trees.add(tree);
        }
        meta.put("trees", trees);
        List<Integer> independent = new ArrayList<>();
        for (int m = 0; m < cfg.independent(); m++) {
            independent.add(cfg.independentFeature(m));
        }
        meta.put("independent", independent);
        meta.put("eval_samples", List.of(cfg.tokens(), cfg.tokens() + cfg.evalTokens()));
        try {
            dev.atmsae.io.AtomicFiles.writeBytes(truth.resolve("truth.json"), JSON.writeValueAsBytes(meta));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise truth.json", e);
        }
        if (cfg.evalTokens() > 0 && cfg.trees() > 0) {
            ProbeSets.write(out.resolve("probe_set"), probeSet(gen, gen.generate(cfg.tokens(), cfg.evalTokens())));
        }
        return shard;
    }

    /** Reads truth.json back into a generator (the held-out samples are regenerated exactly from it). */
    public static SynthGenerator readTruth(Path dir) {
        Path truthDir = Files.isDirectory(dir.resolve("truth")) ? dir.resolve("truth") : dir;
        Path file = truthDir.resolve("truth.json");
        if (!Files.isRegularFile(file)) {
            throw UserError.inFile(file, "missing: not a synthetic truth directory (run 'atmsae synth' first)");
        }
        SynthConfig cfg;
        try {
            var root = JSON.readTree(file.toFile());
            if (!FORMAT.equals(root.path("format").asText())) {
                throw UserError.inFile(file, "format is '" + root.path("format").asText() + "', expected " + FORMAT);
            }
            cfg = JSON.treeToValue(root.get("config"), SynthConfig.class);
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot read: " + e.getMessage().lines().findFirst().orElse(""));
        }
        SynthGenerator gen = new SynthGenerator(cfg);
        Path features = truthDir.resolve("features.npy");
        if (Files.isRegularFile(features)) {
            float[] stored = NpyArrays.read(features).f32();
            if (!java.util.Arrays.equals(stored, gen.directions())) {
                throw UserError.inFile(features, "does not match the directions regenerated from truth.json (edited file?)");
            }
        }
        return gen;
    }

    /**
     * The `truth`-kind probe set of a batch: parents = tree roots, children = their children; rows where more than
     * one root fires are left out (a probe-set row has one parent label); first 80% of the samples train, rest test.
     */
    public static ProbeSet probeSet(SynthGenerator gen, SynthGenerator.Batch b) {
        SynthConfig cfg = gen.config();
        List<ProbeSet.ParentClass> parents = new ArrayList<>();
        for (int t = 0; t < cfg.trees(); t++) {
            List<String> children = new ArrayList<>();
            for (int c = 0; c < cfg.children(); c++) {
                children.add("f" + cfg.child(t, c));
            }
            parents.add(new ProbeSet.ParentClass("f" + cfg.root(t), children));
        }
        List<Integer> keep = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        for (int r = 0; r < b.count(); r++) {
            int parent = -1, child = -1, roots = 0;
            for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                int f = b.feature()[p];
                if (f < cfg.trees() * (1 + cfg.children())) {
                    int t = f / (1 + cfg.children()), within = f % (1 + cfg.children());
                    if (within == 0) {
                        roots++;
                        parent = t;
                    } else {
                        child = within - 1;
                    }
                }
            }
            if (roots <= 1) {
                keep.add(r);
                labels.add(new int[] {parent, parent < 0 ? -1 : child});
            }
        }
        int n = keep.size(), d = cfg.d();
        float[] acts = new float[n * d];
        int[] parent = new int[n], child = new int[n], split = new int[n], group = new int[n];
        for (int i = 0; i < n; i++) {
            int r = keep.get(i);
            System.arraycopy(b.x(), r * d, acts, i * d, d);
            parent[i] = labels.get(i)[0];
            child[i] = labels.get(i)[1];
            split[i] = r < 0.8 * b.count() ? ProbeSet.TRAIN : ProbeSet.TEST;
            group[i] = (int) (b.start() + r);
        }
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("generator", FORMAT);
        source.put("seed", cfg.seed());
        source.put("samples", List.of(b.start(), b.start() + b.count()));
        return new ProbeSet("synth-truth", "truth", d, source, acts, parents, parent, child, split, group, null);
    }
}
