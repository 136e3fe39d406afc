package dev.atmsae.study;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.util.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code atmsae study} runs, read from one JSON file (docs/atm-study-config.md describes every key; the stage
 * files under studies/ are complete examples). Relative paths resolve against the file's directory.
 *
 * @param name       title of the report
 * @param data       where activations come from: a synthetic generator (SynthConfig keys, written once into
 *                   OUT/data) or shards with a probe set
 * @param width      dictionary width of every SAE
 * @param tokens     training tokens per SAE
 * @param batch      batch size
 * @param evalTokens tokens for reconstruction metrics
 * @param common     TrainConfig keys for every run ("key", or "arch:key" for one architecture)
 * @param baselines  baseline names: an architecture id (its defaults plus common), or the name of a variant
 * @param variants   baselines given as {@code {"name", "arch", "keys"}}: an architecture with keys of its own (e.g. a
 *                   Matryoshka with other groups), by name
 * @param atm        the ATM configurations: bases, one-factor changes, random search, or a stage-1 result to take
 *                   the best from
 * @param screen     stage 1 screening (one L0, one seed) or null to confirm every ATM configuration
 * @param confirm    the matched-L0 comparison: L0 targets, seeds and how many screened ATM configurations enter
 * @param absorption "truth" (synthetic ground truth) or "probe" (the probe set's classes)
 * @param winAgainst whose full absorption the win rule halves: {@link #WIN_TOPK} (issue 10) or
 *                   {@link #WIN_BEST_BASELINE} (issue 21: the lowest of every baseline at that L0); FVU is always
 *                   TopK's
 */
public record StudySpec(String name, Data data, int width, long tokens, int batch, long evalTokens,
                        Map<String, Object> common, List<String> baselines, Map<String, Baseline> variants,
                        AtmSpace atm, Screen screen, Confirm confirm, String absorption, String winAgainst) {
    public static final String WIN_TOPK = "topk";
    public static final String WIN_BEST_BASELINE = "best_baseline";

    /** A named baseline that is an architecture with keys of its own. */
    public record Baseline(String name, String arch, Map<String, Object> keys) {
    }

    /** Synthetic generator keys (SynthCommand's options in snake_case) or shard paths. */
    public record Data(Map<String, Object> synth, Path shards, Path evalShards, Path probeSet) {
    }

    /**
     * @param bases     ATM bases each getting a centre configuration (atm_base only) and every one-factor change
     * @param centre    keys of every ATM configuration (e.g. a short-run schedule)
     * @param baseKeys  extra centre keys per base (e.g. the jumprelu base's learning rate), by base name
     * @param oneFactor change sets applied one at a time around each base's centre
     * @param random    seeded random search over continuous knobs (null = none)
     * @param fromStudy a finished study's study.json whose best {@code fromTop} ATM configurations are used instead
     */
    public record AtmSpace(List<String> bases, Map<String, Object> centre, Map<String, Map<String, Object>> baseKeys,
                           List<Map<String, Object>> oneFactor, Random random, Path fromStudy, int fromTop) {

        /** The centre keys of one base: centre, then the base's own keys, then atm_base. */
        public Map<String, Object> centreOf(String base) {
            Map<String, Object> m = new LinkedHashMap<>(centre);
            m.putAll(baseKeys.getOrDefault(base, Map.of()));
            m.put("atm_base", base);
            return m;
        }
    }

    /** count configurations per base in {@code bases}, knobs drawn uniformly (log-uniformly where asked). */
    public record Random(int count, long seed, List<String> bases, Map<String, Range> ranges) {
    }

    public record Range(double min, double max, boolean log) {
    }

    public record Screen(double l0, long seed) {
    }

    public record Confirm(List<Double> l0s, List<Long> seeds, int top) {
    }

    static final ObjectMapper JSON = new ObjectMapper();

    public static StudySpec read(Path file) {
        return Source.read(file).spec();
    }

    /**
     * A study config as read: its file (absolute), its keys as written, and the spec they give. A plan keeps the file
     * and the keys, so that every task and the merge see the study exactly as it was planned.
     */
    public record Source(Path file, Map<String, Object> keys, StudySpec spec) {
        public static Source read(Path file) {
            Map<String, Object> m;
            try {
                m = JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() { });
            } catch (IOException e) {
                throw UserError.inFile(file, "cannot read study config: " + e.getMessage());
            }
            return of(file, m);
        }

        /** The spec of {@code keys}, read from {@code file} (relative paths in it are relative to its directory). */
        public static Source of(Path file, Map<String, Object> keys) {
            Path abs = file.toAbsolutePath().normalize();
            return new Source(abs, keys, fromMap(keys, abs.getParent(), file));
        }
    }

    static StudySpec fromMap(Map<String, Object> m, Path base, Path file) {
        Keys k = new Keys(m, file, "");
        k.only("name", "data", "width", "tokens", "batch", "eval_tokens", "common", "baselines", "atm", "screen",
                "confirm", "absorption", "win_against");
        Keys d = k.obj("data");
        d.only("synth", "shards", "eval_shards", "probe_set");
        Data data = new Data(d.has("synth") ? d.obj("synth").map() : null, d.path("shards", base),
                d.path("eval_shards", base), d.path("probe_set", base));
        if ((data.synth() == null) == (data.shards() == null)) {
            throw k.error("data", "needs exactly one of 'synth' (generator settings) or 'shards' (a directory)");
        }
        Keys a = k.obj("atm");
        a.only("bases", "centre", "base_keys", "one_factor", "random", "from_study", "from_top");
        Map<String, Map<String, Object>> baseKeys = new LinkedHashMap<>();
        if (a.has("base_keys")) {
            Keys bk = a.obj("base_keys");
            for (String b : bk.map().keySet()) {
                baseKeys.put(b, bk.obj(b).map());
            }
        }
        Random random = null;
        if (a.has("random")) {
            Keys r = a.obj("random");
            r.only("count", "seed", "bases", "ranges");
            Map<String, Range> ranges = new LinkedHashMap<>();
            Keys rk = r.obj("ranges");
            for (String knob : rk.map().keySet()) {
                Keys one = rk.obj(knob);
                one.only("min", "max", "log");
                Range range = new Range(one.num("min"), one.num("max"), one.has("log") && one.bool("log"));
                if (!(range.min() <= range.max()) || (range.log() && !(range.min() > 0))) {
                    throw rk.error(knob, "needs min ≤ max (and min > 0 with log)");
                }
                ranges.put(knob, range);
            }
            random = new Random((int) r.num("count"), (long) r.num("seed"), r.strings("bases"), ranges);
        }
        List<Map<String, Object>> oneFactor = new ArrayList<>();
        if (a.has("one_factor")) {
            for (Object o : a.list("one_factor")) {
                if (!(o instanceof Map<?, ?> change) || change.isEmpty()) {
                    throw a.error("one_factor", "must be a list of non-empty objects of TrainConfig keys");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> typed = (Map<String, Object>) change;
                oneFactor.add(typed);
            }
        }
        AtmSpace atm = new AtmSpace(a.has("bases") ? a.strings("bases") : List.of(),
                a.has("centre") ? a.obj("centre").map() : Map.of(), baseKeys, oneFactor, random, a.path("from_study", base),
                a.has("from_top") ? (int) a.num("from_top") : 3);
        Screen screen = null;
        if (k.has("screen")) {
            Keys s = k.obj("screen");
            s.only("l0", "seed");
            screen = new Screen(s.num("l0"), (long) s.num("seed"));
        }
        Keys c = k.obj("confirm");
        c.only("l0", "seeds", "top");
        List<Double> l0s = c.list("l0").stream().map(v -> ((Number) v).doubleValue()).toList();
        List<Long> seeds = c.list("seeds").stream().map(v -> ((Number) v).longValue()).toList();
        Confirm confirm = new Confirm(l0s, seeds, c.has("top") ? (int) c.num("top") : 6);
        String absorption = k.has("absorption") ? k.str("absorption") : data.synth() != null ? "truth" : "probe";
        if (!absorption.equals("truth") && !absorption.equals("probe")) {
            throw k.error("absorption", "must be truth or probe");
        }
        if (absorption.equals("probe") && data.probeSet() == null) {
            throw k.error("absorption", "probe needs data.probe_set");
        }
        String winAgainst = k.has("win_against") ? k.str("win_against") : WIN_TOPK;
        if (!winAgainst.equals(WIN_TOPK) && !winAgainst.equals(WIN_BEST_BASELINE)) {
            throw k.error("win_against", "must be " + WIN_TOPK + " or " + WIN_BEST_BASELINE);
        }
        Map<String, Baseline> variants = new LinkedHashMap<>();
        List<String> baselines = new ArrayList<>();
        for (Object o : k.list("baselines")) {
            Baseline b = baseline(o, k, "baselines");
            baselines.add(b.name());
            if (!b.keys().isEmpty() || !b.name().equals(b.arch())) {
                variants.put(b.name(), b);
            }
        }
        StudySpec spec = new StudySpec(k.has("name") ? k.str("name") : "ATM study", data, (int) k.num("width"),
                (long) k.num("tokens"), k.has("batch") ? (int) k.num("batch") : 4096,
                k.has("eval_tokens") ? (long) k.num("eval_tokens") : 65536,
                k.has("common") ? k.obj("common").map() : Map.of(), baselines, variants, atm, screen, confirm,
                absorption, winAgainst);
        if (l0s.isEmpty() || seeds.isEmpty()) {
            throw k.error("confirm", "needs at least one L0 target and one seed");
        }
        if (atm.bases().isEmpty() && atm.fromStudy() == null) {
            throw k.error("atm", "needs 'bases' (configurations to build) or 'from_study' (a finished stage 1)");
        }
        return spec;
    }

    /** An architecture id, or {@code {"name", "arch", "keys"}} (keys optional): one entry of a list of methods. */
    @SuppressWarnings("unchecked")
    static Baseline baseline(Object entry, Keys parent, String listKey) {
        if (entry instanceof String arch) {
            return new Baseline(arch, arch, Map.of());
        }
        if (!(entry instanceof Map<?, ?> m)) {
            throw parent.error(listKey, "entries must be architecture ids or {\"name\", \"arch\", \"keys\"} objects");
        }
        Keys b = new Keys((Map<String, Object>) m, parent.file(), parent.prefix() + listKey + ".");
        b.only("name", "arch", "keys");
        return new Baseline(b.str("name"), b.str("arch"), b.has("keys") ? b.obj("keys").map() : Map.of());
    }

    /** Typed, checked access to one JSON object; every error names the file and the key. */
    record Keys(Map<String, Object> map, Path file, String prefix) {
        UserError error(String key, String why) {
            return UserError.inFile(file, "study config: " + prefix + key + " " + why);
        }

        void only(String... known) {
            List<String> allowed = List.of(known);
            for (String key : map.keySet()) {
                if (!allowed.contains(key)) {
                    throw error(key, "is not a known key (known: " + String.join(", ", known) + ")");
                }
            }
        }

        boolean has(String key) {
            return map.get(key) != null;
        }

        Object need(String key) {
            Object v = map.get(key);
            if (v == null) {
                throw error(key, "is missing");
            }
            return v;
        }

        @SuppressWarnings("unchecked")
        Keys obj(String key) {
            if (!(need(key) instanceof Map<?, ?> inner)) {
                throw error(key, "must be an object");
            }
            return new Keys((Map<String, Object>) inner, file, prefix + key + ".");
        }

        List<?> list(String key) {
            if (!(need(key) instanceof List<?> l)) {
                throw error(key, "must be a list");
            }
            return l;
        }

        List<String> strings(String key) {
            List<String> out = new ArrayList<>();
            for (Object o : list(key)) {
                out.add(String.valueOf(o));
            }
            return out;
        }

        double num(String key) {
            if (!(need(key) instanceof Number n)) {
                throw error(key, "must be a number");
            }
            return n.doubleValue();
        }

        boolean bool(String key) {
            if (!(need(key) instanceof Boolean b)) {
                throw error(key, "must be true or false");
            }
            return b;
        }

        String str(String key) {
            return String.valueOf(need(key));
        }

        Path path(String key, Path base) {
            return has(key) ? base.resolve(str(key)).normalize() : null;
        }
    }
}
