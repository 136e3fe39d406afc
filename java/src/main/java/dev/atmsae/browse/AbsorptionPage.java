package dev.atmsae.browse;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.AbsorptionRows;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.io.SaeWeights;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The absorption view's data ({@code data/absorption.js}): the {@link AbsorptionEval} report of the SAE on the probe
 * set (the numbers {@code atmsae absorption} prints) and, per parent class, its scored rows from
 * {@link AbsorptionRows}: absorbed rows first (largest fraction first), at most {@code maxRows} of them.
 */
final class AbsorptionPage {
    private AbsorptionPage() {
    }

    static Map<String, Object> data(ProbeSet set, SaeWeights sae, SaeForward.Codes codes, AbsorptionEval.ProbeCache cache,
                                    int maxRows) {
        AbsorptionOptions options = AbsorptionOptions.defaults();
        AbsorptionReport report = AbsorptionEval.run(set, sae, codes, options, cache);
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> probe = new LinkedHashMap<>();
        probe.put("name", set.name());
        probe.put("kind", set.kind());
        probe.put("rows", set.n());
        probe.put("layer", set.source() == null ? null : set.source().get("layer"));
        m.put("probe_set", probe);
        m.put("rule_version", report.ruleVersion());
        m.put("valid", report.valid());
        m.put("classes_kept", report.classesKept());
        m.put("mean_absorption_fraction", report.meanAbsorptionFraction());
        m.put("mean_full_absorption", report.meanFullAbsorption());
        m.put("mean_num_split_features", report.meanNumSplitFeatures());
        List<Map<String, Object>> classes = new ArrayList<>();
        for (AbsorptionReport.ClassResult c : report.classes()) {
            classes.add(classData(c, AbsorptionRows.of(set, sae, codes, options, cache, c), maxRows));
        }
        m.put("classes", classes);
        return m;
    }

    private static Map<String, Object> classData(AbsorptionReport.ClassResult c, List<AbsorptionRows.Row> rows, int maxRows) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("kept", c.kept());
        m.put("drop_reason", c.dropReason());
        m.put("probe_f1", Jsonp.round(c.probe().f1(), 3));
        m.put("main", c.mainLatents());
        m.put("top_cos_latent", c.topCosLatent());
        m.put("top_cos", Jsonp.round(c.topCos(), 3));
        m.put("n_scored", c.nScored());
        m.put("fraction", Jsonp.round(c.absorptionFraction(), 4));
        m.put("full", Jsonp.round(c.fullAbsorption(), 4));
        List<Map<String, Object>> absorbing = new ArrayList<>();
        for (AbsorptionReport.AbsorbingLatent a : c.absorbingLatents()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("latent", a.latent());
            x.put("count", a.count());
            x.put("cos", Jsonp.round(a.cosWithProbe(), 3));
            x.put("children", a.children());
            absorbing.add(x);
        }
        m.put("absorbing", absorbing);
        List<Map<String, Object>> children = new ArrayList<>();
        for (AbsorptionReport.ChildBreakdown b : c.children()) {
            children.add(Map.of("child", b.child(), "n", b.nScored(), "fraction", Jsonp.round(b.absorptionFraction(), 3),
                    "full", Jsonp.round(b.fullAbsorption(), 3)));
        }
        m.put("children", children);
        List<AbsorptionRows.Row> absorbed = rows.stream().filter(r -> r.fraction() > 0 || r.full())
                .sorted(Comparator.comparingDouble((AbsorptionRows.Row r) -> -r.fraction())
                        .thenComparing(r -> !r.full()).thenComparingInt(AbsorptionRows.Row::row))
                .toList();
        m.put("n_absorbed", absorbed.size());
        List<Map<String, Object>> shown = new ArrayList<>();
        for (AbsorptionRows.Row r : absorbed.subList(0, Math.min(maxRows, absorbed.size()))) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("row", r.row());
            x.put("word", r.word());
            x.put("child", r.child());
            x.put("a", Jsonp.round(r.a(), 3));
            x.put("main_share", Jsonp.round(r.mainShare(), 3));
            x.put("fraction", Jsonp.round(r.fraction(), 3));
            x.put("full", r.full());
            x.put("absorbers", r.absorbers().stream().map(a -> new Object[] {a.latent(), Jsonp.round(a.share(), 3)})
                    .toList());
            shown.add(x);
        }
        m.put("rows", shown);
        return m;
    }
}
