package dev.atmsae.study;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.util.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code atmsae regime-map} runs, read from one JSON file (docs/atm-study-config.md, "Regime maps"): synthetic
 * data regimes (generator settings over a common base) × dictionary widths relative to each regime's true feature
 * count × L0 targets relative to its mean number of active features × methods × seeds, every SAE scored against the
 * ground truth. It asks where a method absorbs, not which method wins.
 *
 * @param name        report title
 * @param regimes     the data regimes, each its generator settings resolved over the base
 * @param widths      dictionary widths as multiples of the regime's true feature count
 * @param l0          L0 targets as multiples of the regime's mean active features (rounded to a whole k ≥ 1)
 * @param methods     architectures or named variants; a string value of a variant's keys may hold {@code {roots}}
 *                    (the regime's roots + independent features) or {@code {parents}} (its roots), replaced per regime
 * @param seeds       training seeds
 * @param tokens      training tokens per SAE
 * @param batch       batch size
 * @param evalTokens  tokens for reconstruction metrics
 * @param common      TrainConfig keys for every run ("key" or "arch:key")
 * @param strong      the thresholds of "absorbs strongly"
 */
public record RegimeMapSpec(String name, List<Regime> regimes, List<Double> widths, List<Double> l0,
                            List<StudySpec.Baseline> methods, List<Long> seeds, long tokens, int batch, long evalTokens,
                            Map<String, Object> common, Strong strong) {

    /**
     * @param name   directory-safe name
     * @param source where the setting comes from (a paper's toy model, a one-factor change), for the report
     * @param keys   the generator settings given for this regime (over the base)
     * @param config the resolved generator settings
     */
    public record Regime(String name, String source, Map<String, Object> keys, SynthConfig config) {
    }

    /** A cell absorbs strongly when full absorption ≥, parent silent | child ≥ and FVU ≤ these. */
    public record Strong(double fullAbsorption, double silentGivenChild, double fvu) {
        public boolean holds(double full, double silent, double fvuValue) {
            return full >= fullAbsorption && silent >= silentGivenChild && fvuValue <= fvu;
        }
    }

    public static RegimeMapSpec read(Path file) {
        Map<String, Object> m;
        try {
            m = StudySpec.JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot read regime-map config: " + e.getMessage());
        }
        return fromMap(m, file);
    }

    static RegimeMapSpec fromMap(Map<String, Object> m, Path file) {
        StudySpec.Keys k = new StudySpec.Keys(m, file, "");
        k.only("name", "base", "regimes", "widths", "l0", "methods", "seeds", "tokens", "batch", "eval_tokens",
                "common", "strong");
        Map<String, Object> base = k.has("base") ? k.obj("base").map() : Map.of();
        List<Regime> regimes = new ArrayList<>();
        for (Object o : k.list("regimes")) {
            if (!(o instanceof Map<?, ?>)) {
                throw k.error("regimes", "entries must be objects {\"name\", \"source\", \"synth\"}");
            }
            @SuppressWarnings("unchecked")
            StudySpec.Keys r = new StudySpec.Keys((Map<String, Object>) o, file, "regimes.");
            r.only("name", "source", "synth");
            String name = r.str("name");
            if (!name.matches("[A-Za-z0-9._-]+") || regimes.stream().anyMatch(g -> g.name().equals(name))) {
                throw r.error("name", "'" + name + "' must be unique and directory-safe (letters, digits, . _ -)");
            }
            Map<String, Object> keys = r.has("synth") ? r.obj("synth").map() : Map.of();
            Map<String, Object> resolved = new LinkedHashMap<>(base);
            resolved.putAll(keys);
            SynthConfig config;
            try {
                config = SynthConfig.fromMap(resolved);
            } catch (UserError e) {
                throw UserError.inFile(file, "regime-map config: regime " + name + ": " + e.getMessage());
            }
            regimes.add(new Regime(name, r.has("source") ? r.str("source") : "", keys, config));
        }
        List<StudySpec.Baseline> methods = new ArrayList<>();
        for (Object o : k.list("methods")) {
            StudySpec.Baseline b = StudySpec.baseline(o, k, "methods");
            if (methods.stream().anyMatch(x -> x.name().equals(b.name()))) {
                throw k.error("methods", "names '" + b.name() + "' twice");
            }
            methods.add(b);
        }
        List<Double> widths = positives(k, "widths");
        List<Double> l0 = positives(k, "l0");
        Strong strong = new Strong(0.2, 0.5, 0.1);
        if (k.has("strong")) {
            StudySpec.Keys s = k.obj("strong");
            s.only("full_absorption", "silent_given_child", "fvu");
            strong = new Strong(s.num("full_absorption"), s.num("silent_given_child"), s.num("fvu"));
        }
        RegimeMapSpec spec = new RegimeMapSpec(k.has("name") ? k.str("name") : "Absorption regime map", regimes,
                widths, l0, methods, k.list("seeds").stream().map(v -> ((Number) v).longValue()).toList(),
                (long) k.num("tokens"), k.has("batch") ? (int) k.num("batch") : 1024,
                k.has("eval_tokens") ? (long) k.num("eval_tokens") : 32768,
                k.has("common") ? k.obj("common").map() : Map.of(), strong);
        if (regimes.isEmpty() || methods.isEmpty() || spec.seeds().isEmpty()) {
            throw k.error("regimes", "needs at least one regime, one method and one seed");
        }
        return spec;
    }

    private static List<Double> positives(StudySpec.Keys k, String key) {
        List<Double> out = new ArrayList<>();
        for (Object v : k.list(key)) {
            if (!(v instanceof Number n) || !(n.doubleValue() > 0)) {
                throw k.error(key, "must be a list of positive numbers");
            }
            out.add(n.doubleValue());
        }
        if (out.isEmpty()) {
            throw k.error(key, "must not be empty");
        }
        return out;
    }

    /** Dictionary width of {@code factor} × the regime's feature count. */
    public static int width(Regime r, double factor) {
        return Math.max(1, (int) Math.round(factor * r.config().features()));
    }

    /** The whole k of {@code factor} × the regime's mean active features (at least 1). */
    public static int k(Regime r, double factor) {
        return Math.max(1, (int) Math.round(factor * r.config().meanActiveFeatures()));
    }

    /** A method's keys for one regime: {@code {roots}} and {@code {parents}} in string values replaced. */
    public static Map<String, Object> keysFor(StudySpec.Baseline method, Regime r) {
        Map<String, Object> out = new LinkedHashMap<>();
        method.keys().forEach((key, v) -> out.put(key, v instanceof String s
                ? s.replace("{roots}", Integer.toString(r.config().rootLevelFeatures()))
                        .replace("{parents}", Integer.toString(r.config().trees()))
                : v));
        return out;
    }
}
