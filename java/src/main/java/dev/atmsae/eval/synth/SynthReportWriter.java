package dev.atmsae.eval.synth;

import dev.atmsae.eval.absorption.ReportWriter;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/** JSON and Markdown renderings of a ground-truth absorption report. */
public final class SynthReportWriter {
    private SynthReportWriter() {
    }

    public static String json(SynthAbsorption.Report r) {
        try {
            return ReportWriter.JSON.writeValueAsString(Map.of("synthetic_truth", r));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise report", e);
        }
    }

    public static String markdown(SynthAbsorption.Report r) {
        StringBuilder md = new StringBuilder("# Absorption against synthetic ground truth\n\n");
        md.append("Rules: `").append(r.ruleVersion()).append("`\n\n");
        md.append(String.format(Locale.ROOT, "Held-out samples: %d. MMCS %.4f, Hungarian MCC %.4f.%n%n", r.evalSamples(),
                r.mmcs(), r.mcc()));
        md.append("| metric | k-sparse main latents | main = argmax cos(d_i, f_P) |\n|---|---|---|\n");
        md.append("| absorption_fraction (§4.3) | ").append(fmt(r.meanAbsorptionFraction())).append(" | ")
                .append(fmt(r.meanAbsorptionFractionCos())).append(" |\n");
        md.append("| full_absorption (§4.4) | ").append(fmt(r.meanFullAbsorption())).append(" | ")
                .append(fmt(r.meanFullAbsorptionCos())).append(" |\n");
        md.append("| absorption_fraction_legacy (§4.5) | ").append(fmt(r.meanAbsorptionFractionLegacy())).append(" | |\n");
        md.append("| mean_num_split_features | ").append(fmt(r.meanNumSplitFeatures())).append(" | 1 |\n\n");
        md.append(String.format(Locale.ROOT, "P(parent latent silent | parent on, child on) = %s vs | no child on = %s; "
                        + "mean cos(d_child latent, f_P) = %s; parent latent: mean cos(d, f_P) = %s, cos(d, Σ f_child) = %s.%n%n",
                fmt(r.meanSilentGivenChild()), fmt(r.meanSilentGivenNoChild()), fmt(r.meanChildLatentCosWithParent()),
                fmt(r.meanParentLatentCos()), fmt(r.meanParentLatentCosWithChildren())));
        md.append("| root | N scored | main (k-sparse) | fraction | full | parent latent (cos) | fraction / full (cos main) "
                + "| silent: child / no child | child-latent cos f_P |\n|---|---|---|---|---|---|---|---|---|\n");
        for (SynthAbsorption.TreeResult t : r.trees()) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %.4f | %.4f | %d (%.3f) | %.4f / %.4f | %s / %s | %s |%n",
                    t.root(), t.nScored(), java.util.Arrays.toString(t.mainLatents()), t.fraction(), t.full(),
                    t.parentLatent(), t.parentLatentCos(), t.fractionCos(), t.fullCos(), fmt(t.silentGivenChild()),
                    fmt(t.silentGivenNoChild()), fmt(t.childLatentCosWithParent())));
        }
        return md.toString();
    }

    private static String fmt(Double v) {
        return v == null || !Double.isFinite(v) ? "—" : String.format(Locale.ROOT, "%.4f", v);
    }
}
