package dev.atmsae.sweep;

import dev.atmsae.core.ArchKind;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
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

    /** The directory name of one run, e.g. {@code atm-l0_32-s1}. */
    public static String runName(ArchKind arch, double targetL0, long seed) {
        String l0 = targetL0 == Math.rint(targetL0) ? Long.toString((long) targetL0) : Double.toString(targetL0);
        return arch.id() + "-l0_" + l0 + "-s" + seed;
    }
}
