package dev.atmsae.eval.absorption;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.io.SaeWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * The scored rows behind one class of an {@link AbsorptionReport}, row by row: the same rows, A, probe and main
 * latents as {@link AbsorptionEval} used (the probe comes from the same {@link AbsorptionEval.ProbeCache}, the main
 * latents from the report), scored by the same {@link ParentScorer#scoreRow}. For viewers that show where absorption
 * happened, not only how much.
 */
public final class AbsorptionRows {
    private AbsorptionRows() {
    }

    /** A latent that absorbed the row and its share proj_j / A of the parent's projection. */
    public record Absorber(int latent, double share) {
    }

    /**
     * One scored row.
     *
     * @param mainShare Σ_main proj / A: how much of the parent direction the main latents carried
     * @param absorbers the row's absorbing latents, largest share first (empty when not absorbed)
     */
    public record Row(int row, String word, String child, double a, double mainShare, double fraction, boolean full,
                      List<Absorber> absorbers) {
    }

    /** The scored rows of {@code result}, which must come from {@code AbsorptionEval.run(set, sae, codes, options, cache)}. */
    public static List<Row> of(ProbeSet set, SaeWeights sae, SaeForward.Codes codes, AbsorptionOptions options,
                               AbsorptionEval.ProbeCache cache, AbsorptionReport.ClassResult result) {
        int p = -1;
        for (int i = 0; i < set.parents().size(); i++) {
            if (set.parents().get(i).name().equals(result.name())) {
                p = i;
            }
        }
        if (p < 0) {
            throw new IllegalArgumentException("probe set '" + set.name() + "' has no class '" + result.name() + "'");
        }
        AbsorptionEval.Scored scored = AbsorptionEval.scoredRows(set, sae, set.rowsOf(ProbeSet.TEST), p, options,
                cache);
        ParentScorer scorer = new ParentScorer(codes, scored.cos(), SaeForward.decoderNorms(sae), result.mainLatents());
        List<Row> rows = new ArrayList<>(scored.rows().length);
        for (int t = 0; t < scored.rows().length; t++) {
            int row = scored.rows()[t];
            double a = scored.a()[t];
            ParentScorer.RowScore s = scorer.scoreRow(row, a);
            List<Absorber> absorbers = new ArrayList<>();
            for (int j : s.absorbers()) {
                absorbers.add(new Absorber(j, projectionOf(s.sample(), j) / a));
            }
            absorbers.sort((x, y) -> Double.compare(y.share(), x.share()));
            rows.add(new Row(row, set.word() == null ? null : set.word().get(row), scored.childOf()[t], a,
                    s.sample().mainProjection() / a, s.fraction(), s.full(), absorbers));
        }
        return rows;
    }

    private static double projectionOf(AbsorptionRules.Sample s, int latent) {
        for (int t = 0; t < s.latent().length; t++) {
            if (s.latent()[t] == latent) {
                return s.proj()[t];
            }
        }
        return 0;
    }
}
