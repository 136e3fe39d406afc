package dev.atmsae.eval.absorption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.io.NpyArrays;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and writes probe-set directories: {@code acts.npy} [N, d] f32 + {@code probe_set.json} (docs/probe-sets.md). */
public final class ProbeSets {
    public static final String ACTS = "acts.npy";
    public static final String META = "probe_set.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ProbeSets() {
    }

    /**
     * A train/test split that keeps every group (file, document, word) whole: each distinct group goes to test with
     * probability {@code testFraction}, decided by Philox stream STREAM_SPLIT on (seed, group id), so the split does not
     * depend on row order. Returns 0 (train) / 1 (test) per row.
     */
    public static int[] splitByGroup(int[] group, double testFraction, long seed) {
        int[] split = new int[group.length];
        for (int i = 0; i < group.length; i++) {
            double u = dev.atmsae.core.Philox.uniform(seed, dev.atmsae.core.Philox.STREAM_SPLIT, group[i] & 0xFFFFFFFFL);
            split[i] = u < testFraction ? ProbeSet.TEST : ProbeSet.TRAIN;
        }
        return split;
    }

    /** The 26 first-letter parents a..z, without children (SAEBench's task). */
    public static List<ProbeSet.ParentClass> firstLetterParents() {
        List<ProbeSet.ParentClass> out = new ArrayList<>();
        for (char c = 'a'; c <= 'z'; c++) {
            out.add(new ProbeSet.ParentClass(String.valueOf(c), List.of()));
        }
        return out;
    }

    public static void write(Path dir, ProbeSet set) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw UserError.inFile(dir, "cannot create directory: " + e.getMessage());
        }
        NpyArrays.writeF32(dir.resolve(ACTS), set.acts(), set.n(), set.d());
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("format", "atmsae-probe-set/1");
        meta.put("name", set.name());
        meta.put("kind", set.kind());
        meta.put("d", set.d());
        meta.put("n", set.n());
        meta.put("source", set.source() == null ? Map.of() : set.source());
        List<Map<String, Object>> parents = new ArrayList<>();
        for (ProbeSet.ParentClass p : set.parents()) {
            Map<String, Object> parent = new LinkedHashMap<>(); // not Map.of: its order changes from JVM to JVM
            parent.put("name", p.name());
            parent.put("children", p.children());
            parents.add(parent);
        }
        meta.put("parents", parents);
        meta.put("parent", set.parent());
        meta.put("child", set.child());
        meta.put("split", set.split());
        if (set.group() != null) {
            meta.put("group", set.group());
        }
        if (set.word() != null) {
            meta.put("word", set.word());
        }
        try {
            dev.atmsae.io.AtomicFiles.writeBytes(dir.resolve(META), JSON.writeValueAsBytes(meta));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise probe-set JSON", e);
        }
    }

    public static ProbeSet read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw UserError.inFile(dir, "not a probe-set directory (expected " + ACTS + " and " + META + ")");
        }
        Path file = dir.resolve(META);
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot read probe-set JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        int d = requireInt(file, root, "d");
        NpyArrays.Array acts = NpyArrays.read(dir.resolve(ACTS));
        if (acts.f32() == null || acts.shape().length != 2) {
            throw UserError.inFile(dir.resolve(ACTS), "expected a 2-D float array [N, d]");
        }
        if (acts.cols() != d) {
            throw UserError.inFile(dir.resolve(ACTS), "has d = " + acts.cols() + " but " + META + " says d = " + d);
        }
        List<ProbeSet.ParentClass> parents = new ArrayList<>();
        JsonNode parentsNode = root.get("parents");
        if (parentsNode == null || !parentsNode.isArray() || parentsNode.isEmpty()) {
            throw UserError.inFile(file, "missing or empty 'parents' array");
        }
        for (JsonNode p : parentsNode) {
            List<String> children = new ArrayList<>();
            if (p.has("children")) {
                p.get("children").forEach(c -> children.add(c.asText()));
            }
            if (!p.has("name")) {
                throw UserError.inFile(file, "a parent entry has no 'name'");
            }
            parents.add(new ProbeSet.ParentClass(p.get("name").asText(), children));
        }
        int n = (int) acts.rows();
        int[] parent = intArray(file, root, "parent", n);
        int[] child = root.has("child") ? intArray(file, root, "child", n) : filled(n, -1);
        int[] split = intArray(file, root, "split", n);
        int[] group = root.has("group") ? intArray(file, root, "group", n) : null;
        List<String> word = null;
        if (root.has("word")) {
            JsonNode w = root.get("word");
            if (w.size() != n) {
                throw UserError.inFile(file, "'word' has " + w.size() + " entries but acts.npy has " + n + " rows");
            }
            word = new ArrayList<>(n);
            for (JsonNode x : w) {
                word.add(x.asText());
            }
        }
        Map<String, Object> source = root.has("source") ? JSON.convertValue(root.get("source"), Map.class) : Map.of();
        String kind = root.has("kind") ? root.get("kind").asText() : "custom";
        String name = root.has("name") ? root.get("name").asText() : dir.getFileName().toString();
        try {
            return new ProbeSet(name, kind, d, source, acts.f32(), parents, parent, child, split, group, word);
        } catch (IllegalArgumentException e) {
            throw UserError.inFile(file, e.getMessage());
        }
    }

    private static int requireInt(Path file, JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw UserError.inFile(file, "missing integer '" + key + "'");
        }
        return v.asInt();
    }

    private static int[] intArray(Path file, JsonNode root, String key, int n) {
        JsonNode v = root.get(key);
        if (v == null || !v.isArray()) {
            throw UserError.inFile(file, "missing array '" + key + "'");
        }
        if (v.size() != n) {
            throw UserError.inFile(file, "'" + key + "' has " + v.size() + " entries but acts.npy has " + n + " rows");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = v.get(i).asInt();
        }
        return out;
    }

    private static int[] filled(int n, int value) {
        int[] out = new int[n];
        java.util.Arrays.fill(out, value);
        return out;
    }
}
