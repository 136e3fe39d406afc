package dev.atmsae.eval.absorption;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** JSON (snake_case keys) and Markdown renderings of absorption and sparse-probing results. */
public final class ReportWriter {
    public static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private ReportWriter() {
    }

    /** {"absorption": ..., "sparse_probing": ...}; either may be null and is then left out. */
    public static String json(AbsorptionReport absorption, SparseProbing.Report sparse) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (absorption != null) {
            root.put("absorption", absorption);
        }
        if (sparse != null) {
            root.put("sparse_probing", sparse);
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise report", e);
        }
    }

    public static String markdown(AbsorptionReport r, SparseProbing.Report sparse) {
        StringBuilder md = new StringBuilder();
        if (r != null) {
            md.append("# Feature absorption — ").append(r.probeSet()).append(" (").append(r.probeSetKind()).append(")\n\n");
            md.append("Rules: `").append(r.ruleVersion()).append("`\n\n");
            md.append(String.format(Locale.ROOT, "SAE: %s. Classes kept: %d (min probe F1 > %.2f; need ≥ %d) — %s.%n%n",
                    r.sae(), r.classesKept(), r.minProbeF1(), r.minClassesForEval(),
                    r.valid() ? "valid" : "**NOT VALID: too few classes pass the probe filter**"));
            md.append("| metric | mean | std |\n|---|---|---|\n");
            row(md, "absorption_fraction (§4.3, primary)", r.meanAbsorptionFraction(), r.stdAbsorptionFraction());
            row(md, "absorption_fraction_legacy (§4.5)", r.meanAbsorptionFractionLegacy(), r.stdAbsorptionFractionLegacy());
            row(md, "full_absorption (§4.4) = mean_absorption_score", r.meanFullAbsorption(), r.stdFullAbsorption());
            row(md, "mean_num_split_features", r.meanNumSplitFeatures(), r.stdNumSplitFeatures());
            md.append("\n## Per class\n\n| class | kept | probe F1 (p=.5 / tuned) | N scored | fraction | legacy | full "
                    + "| main latents | top absorbing latents (count: children) |\n|---|---|---|---|---|---|---|---|---|\n");
            for (AbsorptionReport.ClassResult c : r.classes()) {
                StringBuilder abs = new StringBuilder();
                for (AbsorptionReport.AbsorbingLatent a : c.absorbingLatents()) {
                    abs.append(String.format(Locale.ROOT, "#%d ×%d %s; ", a.latent(), a.count(), a.children()));
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %.3f / %.3f | %d | %.4f | %.4f | %.4f | %s | %s |%n",
                        c.name(), c.kept() ? "yes" : "no", c.probe().f1(), c.probe().tunedF1(), c.nScored(),
                        c.absorptionFraction(), c.absorptionFractionLegacy(), c.fullAbsorption(),
                        java.util.Arrays.toString(c.mainLatents()), abs));
            }
            if (!r.dropped().isEmpty()) {
                md.append("\n## Dropped classes\n\n");
                for (AbsorptionReport.DroppedClass d : r.dropped()) {
                    md.append("- ").append(d.name()).append(": ").append(d.reason()).append('\n');
                }
            }
            md.append("\n## Children of scored samples\n\n| class | child | N scored | fraction | full |\n|---|---|---|---|---|\n");
            for (AbsorptionReport.ClassResult c : r.classes()) {
                for (AbsorptionReport.ChildBreakdown b : c.children()) {
                    md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.4f | %.4f |%n", c.name(), b.child(),
                            b.nScored(), b.absorptionFraction(), b.fullAbsorption()));
                }
            }
        }
        if (sparse != null) {
            md.append("\n# Sparse probing (balanced accuracy, mean over classes)\n\n| k | SAE latents | raw dims |\n|---|---|---|\n");
            for (int q = 0; q < sparse.ks().length; q++) {
                md.append(String.format(Locale.ROOT, "| %d | %.4f | %.4f |%n", sparse.ks()[q], sparse.meanSaeAccuracy()[q],
                        sparse.meanRawAccuracy()[q]));
            }
            md.append(String.format(Locale.ROOT, "%n%d classes probed", sparse.classes().size()));
            if (!sparse.skipped().isEmpty()) {
                md.append("; skipped (too few positives): ").append(String.join(", ", sparse.skipped()));
            }
            md.append("\n");
        }
        return md.toString();
    }

    private static void row(StringBuilder md, String name, Double mean, Double std) {
        md.append("| ").append(name).append(" | ").append(fmt(mean)).append(" | ").append(fmt(std)).append(" |\n");
    }

    private static String fmt(Double v) {
        return v == null ? "—" : String.format(Locale.ROOT, "%.4f", v);
    }
}
