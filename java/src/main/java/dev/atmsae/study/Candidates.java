package dev.atmsae.study;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.util.UserError;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Expands a {@link StudySpec} into its configurations: the baselines, then per ATM base its centre (the base with
 * the study's centre keys) and every one-factor change around it, then the random-search draws (the knobs of each
 * draw uniform, or log-uniform, in their ranges, 4 significant digits, from a SplittableRandom of the given seed:
 * the same file always gives the same configurations). With {@code from_study} the ATM configurations are instead the
 * best of a finished study's ranking. Every configuration's keys are checked against TrainConfig here, before any
 * training starts.
 */
final class Candidates {
    private Candidates() {
    }

    static List<Candidate> expand(StudySpec spec) {
        List<Candidate> out = new ArrayList<>();
        for (String name : spec.baselines()) {
            StudySpec.Baseline variant = spec.variants().get(name);
            out.add(variant == null ? new Candidate(name, "baseline", name, null, null, Map.of())
                    : new Candidate(name, "baseline", variant.arch(), null, null, variant.keys()));
        }
        StudySpec.AtmSpace atm = spec.atm();
        if (atm.fromStudy() != null) {
            out.addAll(fromStudy(atm));
        }
        for (String base : atm.bases()) {
            Map<String, Object> centre = atm.centreOf(base);
            out.add(new Candidate("atm-" + base, "centre", "atm", base, null, centre));
            for (Map<String, Object> change : atm.oneFactor()) {
                Map<String, Object> keys = new LinkedHashMap<>(centre);
                keys.putAll(change);
                if (!applies(keys)) {
                    continue;
                }
                out.add(new Candidate("atm-" + base + "+" + label(change), "one_factor", "atm", base,
                        String.join("+", new TreeMap<>(change).keySet()), keys));
            }
        }
        if (atm.random() != null) {
            StudySpec.Random r = atm.random();
            SplittableRandom rng = new SplittableRandom(r.seed());
            for (int i = 1; i <= r.count(); i++) {
                for (String base : r.bases()) {
                    Map<String, Object> keys = atm.centreOf(base);
                    r.ranges().forEach((knob, range) -> keys.put(knob, draw(rng, range)));
                    out.add(new Candidate("atm-" + base + "+r" + i, "random", "atm", base, null, keys));
                }
            }
        }
        List<String> names = new ArrayList<>();
        for (Candidate c : out) {
            if (names.contains(c.name())) {
                throw new UserError("study config: two configurations are both named " + c.name());
            }
            names.add(c.name());
            check(spec, c);
        }
        return out;
    }

    /** A one-factor change that sets a base-specific key the base lacks (e.g. gate on topk) is left out. */
    private static boolean applies(Map<String, Object> keys) {
        return !("gate".equals(keys.get("atm_eval_mask")) && "topk".equals(keys.get("atm_base")));
    }

    private static void check(StudySpec spec, Candidate c) {
        Map<String, Object> m = new LinkedHashMap<>();
        spec.common().forEach((k, v) -> {
            if (!k.contains(":")) {
                m.put(k, v);
            }
        });
        m.putAll(c.keys());
        m.put("arch", c.arch());
        m.remove("target_l0");
        m.put("k", 1);
        try {
            TrainConfig.fromMap(m);
        } catch (UserError e) {
            throw new UserError("study config: configuration " + c.name() + ": " + e.getMessage());
        }
    }

    static String label(Map<String, Object> change) {
        List<String> parts = new ArrayList<>();
        new TreeMap<>(change).forEach((k, v) -> parts.add(k.replaceFirst("^atm_", "") + "=" + v));
        return String.join(",", parts);
    }

    private static double draw(SplittableRandom rng, StudySpec.Range range) {
        double u = rng.nextDouble();
        double v = range.log() ? Math.exp(Math.log(range.min()) + u * (Math.log(range.max()) - Math.log(range.min())))
                : range.min() + u * (range.max() - range.min());
        return new BigDecimal(v).round(new MathContext(4)).doubleValue();
    }

    /**
     * The best {@code from_top} ATM configurations of a finished study's ranking whose mask was active, renamed role
     * "selected".
     */
    @SuppressWarnings("unchecked")
    private static List<Candidate> fromStudy(StudySpec.AtmSpace atm) {
        Map<String, Object> study;
        try {
            study = StudySpec.JSON.readValue(Files.readString(atm.fromStudy()),
                    new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(atm.fromStudy(), "cannot read the earlier study's results: " + e.getMessage());
        }
        Object ranking = study.get("ranking");
        if (!(ranking instanceof List<?> list)) {
            throw UserError.inFile(atm.fromStudy(), "has no 'ranking' (is it an atmsae study.json?)");
        }
        List<Candidate> out = new ArrayList<>();
        for (Object o : list) {
            Map<String, Object> entry = (Map<String, Object>) o;
            Candidate c = Candidate.fromMap((Map<String, Object>) entry.get("candidate"));
            boolean inactive = Boolean.TRUE.equals(entry.get("mask_inactive")); // its base under another name
            if (c.isAtm() && !inactive && out.size() < atm.fromTop()) {
                out.add(new Candidate(c.name(), "selected", c.arch(), c.base(), c.factor(), c.keys()));
            }
        }
        if (out.isEmpty()) {
            throw UserError.inFile(atm.fromStudy(), "ranks no ATM configuration");
        }
        return out;
    }
}
