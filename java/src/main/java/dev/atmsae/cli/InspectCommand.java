package dev.atmsae.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atmsae.data.Shard;
import dev.atmsae.data.ShardSet;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae inspect PATH}: describes activation shards (a file or a directory) or an SAE (an SAELens directory
 * holding cfg.json, or Gemma Scope's params.npz, read by {@link SaeLoader}). Shards are validated exactly as training
 * would open them; the row statistics are sampled (up to {@code --sample-rows} rows per shard, evenly spaced) and say
 * so. A sampled NaN/Inf row is reported, then the
 * command fails with exit 1 naming the file and the row, as training would.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe activation shards (.npy/.safetensors file or directory) or an SAE (SAELens directory, Gemma Scope params.npz).")
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "A shard file, a directory of shards, an SAELens SAE directory or a Gemma Scope params.npz (or its directory).")
    Path path;

    @Option(names = "--sample-rows", defaultValue = "10000",
            description = "Rows sampled per shard (evenly spaced) for the norm and NaN statistics (default ${DEFAULT-VALUE}).")
    int sampleRows;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (sampleRows < 1) {
            throw new UserError("--sample-rows must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (isSae(path)) {
            inspectSae(out);
        } else {
            inspectShards(out);
        }
        out.flush();
        return 0;
    }

    /** An SAELens directory (cfg.json), a Gemma Scope directory or a Gemma Scope .npz file. */
    private static boolean isSae(Path p) {
        return Files.isDirectory(p) ? Files.isRegularFile(p.resolve(SaeExport.CFG))
                || Files.isRegularFile(p.resolve(SaeLoader.GEMMA_SCOPE_PARAMS)) : p.toString().endsWith(".npz");
    }

    /** Sampled statistics of one shard. */
    private record Sample(long sampled, long nonFinite, long firstBadRow, double meanNorm) {
    }

    private Sample sample(Shard s) {
        long rows = s.rows();
        long m = Math.min(rows, sampleRows);
        float[] row = new float[s.dim()];
        MemorySegment rowSeg = MemorySegment.ofArray(row);
        double normSum = 0;
        long finite = 0;
        long bad = 0;
        long firstBad = -1;
        for (long i = 0; i < m; i++) {
            long r = m == rows ? i : (long) ((double) i * rows / m);
            s.copyRows(r, 1, rowSeg, 0);
            double sq = 0;
            boolean ok = true;
            for (float v : row) {
                ok &= Float.isFinite(v);
                sq += (double) v * v;
            }
            if (ok) {
                normSum += Math.sqrt(sq);
                finite++;
            } else {
                bad++;
                if (firstBad < 0) {
                    firstBad = r;
                }
            }
        }
        return new Sample(m, bad, firstBad, finite == 0 ? Double.NaN : normSum / finite);
    }

    private void inspectShards(PrintWriter out) {
        try (ShardSet set = ShardSet.open(path)) {
            out.printf("activation shards: %s%n", path);
            out.printf("%-32s %-5s %-20s %14s %12s%n", "shard", "dtype", "shape", "mean L2 norm*", "non-finite*");
            double weightedNorm = 0;
            long weight = 0;
            long sampled = 0;
            long nonFinite = 0;
            Shard firstBadShard = null;
            long firstBadRow = -1;
            for (Shard s : set.shards()) {
                Sample smp = sample(s);
                out.printf("%-32s %-5s %-20s %14.4f %11.3f%%%n", s.path().getFileName(), s.dtype(),
                        "[" + s.rows() + ", " + s.dim() + "]", smp.meanNorm(),
                        smp.sampled() == 0 ? 0.0 : 100.0 * smp.nonFinite() / smp.sampled());
                if (!Double.isNaN(smp.meanNorm())) {
                    weightedNorm += smp.meanNorm() * s.rows();
                    weight += s.rows();
                }
                sampled += smp.sampled();
                nonFinite += smp.nonFinite();
                if (firstBadShard == null && smp.firstBadRow() >= 0) {
                    firstBadShard = s;
                    firstBadRow = smp.firstBadRow();
                }
            }
            out.printf("total: %d shard(s), %d tokens, d=%d, mean L2 norm %.4f, non-finite %.3f%%%n",
                    set.shards().size(), set.rows(), set.dim(), weight == 0 ? Double.NaN : weightedNorm / weight,
                    sampled == 0 ? 0.0 : 100.0 * nonFinite / sampled);
            out.printf("* sampled: %d of %d rows (up to %d per shard, evenly spaced)%n", sampled, set.rows(), sampleRows);
            out.flush();
            if (firstBadShard != null) {
                throw UserError.inFile(firstBadShard.path(), "row " + firstBadRow + " holds NaN/Inf (" + nonFinite
                        + " of " + sampled + " sampled rows are non-finite; use --skip-nonfinite to drop such rows)");
            }
        }
    }

    private void inspectSae(PrintWriter out) {
        SaeLoader.Loaded loaded = SaeLoader.load(path);
        SaeWeights w = loaded.weights();
        out.printf("SAE export: %s (%s)%n", path, loaded.format());
        out.printf("architecture: %s%s%n", w.architecture(), w.architecture().equals("topk") ? " (k=" + w.k() + ")" : "");
        if (loaded.normalization() != SaeLoader.Normalization.NONE) {
            out.printf("normalize_activations: %s (per token)%n", loaded.normalization().cfgName());
        }
        out.printf("d_in: %d%nd_sae: %d%n", w.dIn(), w.dSae());
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (int i = 0; i < w.dSae(); i++) {
            double sq = 0;
            for (int j = 0; j < w.dIn(); j++) {
                double v = w.wDec()[i * w.dIn() + j];
                sq += v * v;
            }
            min = Math.min(min, Math.sqrt(sq));
            max = Math.max(max, Math.sqrt(sq));
        }
        out.printf("decoder row norms: min %.6f, max %.6f%n", min, max);
        if (w.threshold() != null) {
            float[] t = w.threshold().clone();
            Arrays.sort(t);
            out.printf("threshold: min %.6g, median %.6g, max %.6g%n", t[0], t[t.length / 2], t[t.length - 1]);
        }
        if (!loaded.format().equals("saelens")) {
            return;
        }
        JsonNode cfg = SaeExport.readConfig(path);
        float[] log = SaeExport.readLogSparsity(path);
        if (log != null) {
            long dead = 0;
            for (float v : log) {
                dead += v < -9 ? 1 : 0;
            }
            float[] sorted = log.clone();
            Arrays.sort(sorted);
            out.printf("sparsity: median log10 firing frequency %.3f, %d latents never fired%n", sorted[sorted.length / 2],
                    dead);
        }
        JsonNode meta = cfg.path("metadata");
        out.printf("model_name: %s%nhook_name: %s%n", meta.path("model_name").asText("-"), meta.path("hook_name").asText("-"));
        if (meta.has("atmsae")) {
            out.printf("metadata.atmsae: %s%n", meta.get("atmsae"));
        }
    }
}
