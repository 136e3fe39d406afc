package dev.atmsae.api;

import dev.atmsae.data.BatchStream;
import dev.atmsae.data.ShardRowStream;
import dev.atmsae.data.ShardSet;
import dev.atmsae.eval.EngineCodes;
import dev.atmsae.eval.SaeEvaluator;
import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ReportWriter;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Measures an {@link Sae}: reconstruction quality on activations, and feature absorption on a {@link ProbeSet}. Runs
 * on the SAE's own device, holding its lock for the duration (so concurrent calls on one {@code Sae} queue). The same
 * code computes {@code atmsae eval} and {@code atmsae absorption}, so the numbers agree with the command line.
 *
 * <p>SAEs that normalise every token ({@code normalize_activations} {@code constant_norm_rescale} or
 * {@code layer_norm}) are not supported here yet and raise {@link AtmsaeException}.
 */
public final class Evaluation {
    private static final int BATCH = 4096;

    private Evaluation() {
    }

    /**
     * Reconstruction metrics over the first {@code tokens} rows of an activation source (batches 0, 1, ... in order).
     *
     * @param sae    the SAE
     * @param source activations of the SAE's input width
     * @param tokens rows to evaluate, at least 1
     * @return the metrics
     * @throws AtmsaeException if the widths differ or the source yields non-finite values
     */
    public static ReconstructionMetrics reconstruction(Sae sae, ActivationSource source, long tokens) {
        Objects.requireNonNull(source, "source");
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be at least 1, got " + tokens);
        }
        int batch = (int) Math.min(BATCH, tokens);
        return evaluate(sae, () -> new SourceBatchStream(source, batch, 0), tokens);
    }

    /**
     * Reconstruction metrics over every row of activation shards, in file order.
     *
     * @param sae    the SAE
     * @param shards a shard (.npy / .safetensors) or a directory of shards
     * @return the metrics
     * @throws AtmsaeException if the shards are unreadable or of another width
     */
    public static ReconstructionMetrics reconstruction(Sae sae, Path shards) {
        Objects.requireNonNull(sae, "sae");
        Objects.requireNonNull(shards, "shards");
        long rows = Boundary.call(() -> {
            try (ShardSet set = ShardSet.open(shards)) {
                if (set.dim() != sae.inputDim()) {
                    throw UserError.inFile(shards, "holds activations of d = " + set.dim() + ", but the SAE has d_in = "
                            + sae.inputDim());
                }
                return set.rows();
            }
        });
        int batch = (int) Math.min(BATCH, rows);
        return evaluate(sae, () -> ShardRowStream.open(shards, batch), rows);
    }

    private static ReconstructionMetrics evaluate(Sae sae, java.util.function.Supplier<BatchStream> stream, long tokens) {
        Objects.requireNonNull(sae, "sae");
        synchronized (sae) {
            return Boundary.call(() -> {
                SaeWeights weights = SaeLoader.rawActivationWeights(sae.loaded());
                SaeEvaluator.Outcome outcome = SaeEvaluator.evaluate(sae.engine(), weights, stream.get(), tokens);
                Map<String, Object> m = outcome.metrics().result();
                return new ReconstructionMetrics(num(m, "mse"), num(m, "fvu"), num(m, "explained_variance"),
                        num(m, "cosine_sim"), num(m, "l0"), num(m, "l1"), num(m, "dead_fraction"),
                        ((Number) m.get("tokens")).longValue());
            });
        }
    }

    private static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    /**
     * Feature absorption with SAEBench's defaults (ground-truth probe filter F1 &gt; 0.6).
     *
     * @param sae the SAE
     * @param set the probe set, of the SAE's input width
     * @return the result
     * @throws AtmsaeException if the widths differ
     */
    public static AbsorptionResult absorption(Sae sae, ProbeSet set) {
        return absorption(sae, set, AbsorptionOptions.defaults().minProbeF1());
    }

    /**
     * Feature absorption with a chosen ground-truth probe filter.
     *
     * @param sae        the SAE
     * @param set        the probe set, of the SAE's input width
     * @param minProbeF1 keep a class only if its probe's test F1 exceeds this, in [0, 1)
     * @return the result
     * @throws AtmsaeException if the widths differ or {@code minProbeF1} is out of range
     */
    public static AbsorptionResult absorption(Sae sae, ProbeSet set, double minProbeF1) {
        Objects.requireNonNull(sae, "sae");
        Objects.requireNonNull(set, "set");
        synchronized (sae) {
            return Boundary.call(() -> {
                if (!(minProbeF1 >= 0 && minProbeF1 < 1)) {
                    throw new UserError("--min-probe-f1 must lie in [0, 1), got " + minProbeF1);
                }
                SaeWeights weights = SaeLoader.rawActivationWeights(sae.loaded());
                dev.atmsae.eval.absorption.ProbeSet probes = set.internal();
                AbsorptionEval.checkWidth(probes, weights);
                SaeForward.Codes codes = EngineCodes.encode(sae.engine(), weights, probes.acts(), probes.n());
                AbsorptionReport report = AbsorptionEval.run(probes, weights, codes,
                        AbsorptionOptions.defaults().withMinProbeF1(minProbeF1));
                List<AbsorptionResult.ClassResult> classes = new ArrayList<>();
                for (AbsorptionReport.ClassResult c : report.classes()) {
                    classes.add(new AbsorptionResult.ClassResult(c.name(), c.kept(), c.dropReason(),
                            c.kept() ? c.absorptionFraction() : Double.NaN, c.kept() ? c.fullAbsorption() : Double.NaN,
                            c.mainLatents() == null ? List.of() : Arrays.stream(c.mainLatents()).boxed().toList()));
                }
                return new AbsorptionResult(orNaN(report.meanAbsorptionFraction()),
                        orNaN(report.meanAbsorptionFractionLegacy()), orNaN(report.meanFullAbsorption()),
                        report.classesKept(), report.valid(), classes, ReportWriter.json(report, null));
            });
        }
    }

    private static double orNaN(Double v) {
        return v == null ? Double.NaN : v;
    }
}
