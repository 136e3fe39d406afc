package dev.atmsae.sweep;

import dev.atmsae.core.ArchKind;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a sweep trains and measures: architectures × L0 targets × seeds on one data set, each SAE evaluated for
 * reconstruction and, where given, absorption on a probe set and ground-truth absorption on a synthetic truth set.
 *
 * @param data        training shards
 * @param evalData    held-out shards for reconstruction metrics (null = the training shards, in data order)
 * @param archs       architectures
 * @param targetL0s   L0 targets: k for topk/batchtopk, {@code target_l0} for relu/atm/jumprelu
 * @param seeds       seeds (confidence intervals are taken over them)
 * @param width       dictionary width
 * @param tokens      training tokens per SAE
 * @param batch       batch size
 * @param evalTokens  tokens for reconstruction metrics
 * @param probeSet    probe-set directory for absorption and sparse probing (null = none)
 * @param truth       synthetic truth directory (written by {@code atmsae synth}; null = none)
 * @param out         output directory (runs/, sweep.json, sweep.md, plots)
 * @param engine      cpu | cuda | auto
 * @param threads     CPU engine threads (null = all)
 * @param overrides   extra TrainConfig keys applied to every run
 * @param metadata    facts for each export's cfg.json metadata (model name, hook, dataset)
 * @param quiet       no progress output
 */
public record SweepSpec(Path data, Path evalData, List<ArchKind> archs, List<Double> targetL0s, List<Long> seeds,
                        int width, long tokens, int batch, long evalTokens, Path probeSet, Path truth, Path out,
                        String engine, Integer threads, Map<String, Object> overrides, Map<String, Object> metadata,
                        boolean quiet) {
    public SweepSpec {
        if (archs.isEmpty() || targetL0s.isEmpty() || seeds.isEmpty()) {
            throw new UserError("sweep: need at least one architecture, one L0 target and one seed");
        }
        for (double l0 : targetL0s) {
            if (!(l0 >= 1) || l0 > width) {
                throw new UserError("sweep: L0 target " + l0 + " must be in [1, width=" + width + "]");
            }
        }
        overrides = overrides == null ? Map.of() : overrides;
        metadata = metadata == null ? Map.of() : metadata;
    }

    /** What sweep.json records under "spec": the inputs and settings that decide every result. */
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("data", data.toString());
        d.put("eval_data", evalData == null ? null : evalData.toString());
        d.put("archs", archs.stream().map(ArchKind::id).toList());
        d.put("target_l0s", targetL0s);
        d.put("seeds", seeds);
        d.put("width", width);
        d.put("tokens", tokens);
        d.put("batch", batch);
        d.put("eval_tokens", evalTokens);
        d.put("probe_set", probeSet == null ? null : probeSet.toString());
        d.put("truth", truth == null ? null : truth.toString());
        d.put("overrides", overrides);
        return d;
    }

    /** What a {@link Plan} records so that a task can rebuild this spec: {@link #describe()}, the output and metadata. */
    public Map<String, Object> toPlanMap() {
        Map<String, Object> m = describe();
        m.put("out", out.toString());
        m.put("metadata", metadata);
        return m;
    }

    /**
     * The spec a plan recorded ({@link #toPlanMap()}), run with this process's engine, threads and verbosity (how a
     * run computes, not what it computes).
     */
    @SuppressWarnings("unchecked")
    public static SweepSpec fromPlanMap(Map<String, Object> m, String engine, Integer threads, boolean quiet) {
        return new SweepSpec(Path.of((String) m.get("data")), path(m.get("eval_data")),
                ((List<String>) m.get("archs")).stream().map(ArchKind::parse).toList(),
                ((List<Number>) m.get("target_l0s")).stream().map(Number::doubleValue).toList(),
                ((List<Number>) m.get("seeds")).stream().map(Number::longValue).toList(),
                ((Number) m.get("width")).intValue(), ((Number) m.get("tokens")).longValue(),
                ((Number) m.get("batch")).intValue(), ((Number) m.get("eval_tokens")).longValue(),
                path(m.get("probe_set")), path(m.get("truth")), Path.of((String) m.get("out")), engine, threads,
                new LinkedHashMap<>((Map<String, Object>) m.get("overrides")),
                new LinkedHashMap<>((Map<String, Object>) m.get("metadata")), quiet);
    }

    private static Path path(Object p) {
        return p == null ? null : Path.of((String) p);
    }

    /** The directory name of one run, e.g. {@code atm-l0_32-s1}. */
    public static String runName(ArchKind arch, double targetL0, long seed) {
        String l0 = targetL0 == Math.rint(targetL0) ? Long.toString((long) targetL0) : Double.toString(targetL0);
        return arch.id() + "-l0_" + l0 + "-s" + seed;
    }
}
