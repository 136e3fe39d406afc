package dev.atmsae.browse;

import dev.atmsae.arch.SaeInference;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.eval.CoreMetrics;
import dev.atmsae.io.SaeWeights;
import java.lang.foreign.MemorySegment;
import java.util.function.LongConsumer;

/**
 * One pass of an SAE over the harvest on an engine: reconstruction metrics ({@link CoreMetrics}: FVU, L0, dead
 * latents) and {@link LatentStats}. Chunks have a fixed row count (so the engine's workspace is allocated once);
 * a chunk's statistics are taken once the next chunk is encoded, because a context window may reach into it.
 */
final class HarvestPass {
    /** Dense codes per chunk stay under this many floats (64 MB). */
    private static final long CHUNK_FLOATS = 16L << 20;

    private HarvestPass() {
    }

    /** Encodes the first {@code limit} rows of {@code data}, feeding {@code stats}; {@code progress} gets rows done. */
    static CoreMetrics run(Engine engine, SaeWeights sae, HarvestData data, int limit, LatentStats stats,
                           LongConsumer progress) {
        int d = sae.dIn(), n = sae.dSae();
        int chunkRows = (int) Math.max(256, Math.min(4096, CHUNK_FLOATS / n));
        CoreMetrics metrics = new CoreMetrics(d, n);
        float[] x = new float[chunkRows * d];
        float[] previous = null, current = null;
        int previousRows = 0, currentRows = 0, currentFirst = 0;
        try (SaeInference inference = new SaeInference(engine, sae)) {
            for (int start = 0; start < limit; start += chunkRows) {
                int rows = Math.min(chunkRows, limit - start);
                data.acts().copyRows(start, rows, MemorySegment.ofArray(x), 0);
                float[] codes;
                try (Tensor t = engine.allocF32(rows, d)) {
                    engine.upload(t, MemorySegment.ofArray(x).asSlice(0, 4L * rows * d));
                    metrics.addSums(inference.run(t));
                    codes = inference.codesToHost();
                }
                if (current != null) {
                    stats.add(new LatentStats.Chunks(previous, current, codes, currentFirst, currentRows, previousRows),
                            data.tokens(), limit);
                    progress.accept(currentFirst + currentRows);
                }
                previous = current;
                previousRows = currentRows;
                current = codes;
                currentRows = rows;
                currentFirst = start;
            }
        }
        if (current != null) {
            stats.add(new LatentStats.Chunks(previous, current, null, currentFirst, currentRows, previousRows),
                    data.tokens(), limit);
            progress.accept(limit);
        }
        return metrics;
    }
}
