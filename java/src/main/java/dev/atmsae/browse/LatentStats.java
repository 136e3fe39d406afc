package dev.atmsae.browse;

import java.util.stream.IntStream;

/**
 * Per-latent statistics over the harvest, accumulated chunk by chunk from dense codes: firing count, sum and maximum
 * of the activations, a histogram of the non-zero activations, the strongest rows with the latent's activations over
 * each row's context window (for the latent page), and a longer list of strongest rows (for the POS-tag tally).
 */
final class LatentStats {
    /** Context window of a top row: the latent's activation on rows [start, start + acts.length). */
    record Window(int start, float[] acts) {
    }

    private final int latents;
    private final int contextHalf;
    private final long[] count;
    private final double[] sum;
    private final float[] max;
    private final DoublingHistogram histogram;
    private final TopRows contexts;
    private final TopRows tagged;
    private long tokens;

    /**
     * @param topContexts rows kept with their context window per latent
     * @param topTagged   rows kept (without windows) per latent for the tag distribution; at least topContexts
     * @param contextHalf at most this many rows either side of a top row in its window
     */
    LatentStats(int latents, int topContexts, int topTagged, int contextHalf) {
        this.latents = latents;
        this.contextHalf = contextHalf;
        this.count = new long[latents];
        this.sum = new double[latents];
        this.max = new float[latents];
        this.histogram = new DoublingHistogram(latents);
        this.contexts = new TopRows(latents, topContexts);
        this.tagged = new TopRows(latents, Math.max(topContexts, topTagged));
    }

    /**
     * Dense codes [rows, latents] of consecutive chunks: the one being added ({@code current}) and its neighbours,
     * which context windows that cross a chunk boundary read from (null at the ends of the data).
     */
    record Chunks(float[] previous, float[] current, float[] next, int firstRow, int rows, int previousRows) {
        float at(int row, int j, int latents) {
            int local = row - firstRow;
            if (local < 0) {
                return previous[(local + previousRows) * latents + j];
            }
            if (local >= rows) {
                return next[(local - rows) * latents + j];
            }
            return current[local * latents + j];
        }
    }

    /**
     * Adds the current chunk's rows [firstRow, firstRow + rows) of {@code chunks}; their context windows, clipped to
     * [0, limit), must lie within the neighbouring chunks. Parallel over latent blocks.
     */
    void add(Chunks chunks, TokenTable table, int limit) {
        int blocks = Math.max(1, Math.min(latents / 64, 4 * Runtime.getRuntime().availableProcessors()));
        float[] codes = chunks.current();
        IntStream.range(0, blocks).parallel().forEach(b -> {
            int j0 = (int) ((long) latents * b / blocks), j1 = (int) ((long) latents * (b + 1) / blocks);
            for (int r = 0; r < chunks.rows(); r++) {
                int base = r * latents;
                for (int j = j0; j < j1; j++) {
                    float v = codes[base + j];
                    if (v > 0) {
                        record(chunks, table, limit, chunks.firstRow() + r, j, v);
                    }
                }
            }
        });
        tokens += chunks.rows();
    }

    private void record(Chunks chunks, TokenTable table, int limit, int row, int j, float v) {
        count[j]++;
        sum[j] += v;
        if (v > max[j]) {
            max[j] = v;
        }
        histogram.add(j, v);
        tagged.offer(j, v, row, r -> null);
        contexts.offer(j, v, row, r -> {
            int[] w = table.window(r, contextHalf);
            int end = Math.min(w[1], limit);
            float[] acts = new float[end - w[0]];
            for (int q = w[0]; q < end; q++) {
                acts[q - w[0]] = chunks.at(q, j, latents);
            }
            return new Window(w[0], acts);
        });
    }

    int latents() {
        return latents;
    }

    long tokens() {
        return tokens;
    }

    long count(int j) {
        return count[j];
    }

    double density(int j) {
        return tokens == 0 ? 0 : (double) count[j] / tokens;
    }

    /** Mean activation over the tokens where the latent fired (0 if it never fired). */
    double meanActive(int j) {
        return count[j] == 0 ? 0 : sum[j] / count[j];
    }

    float max(int j) {
        return max[j];
    }

    DoublingHistogram histogram() {
        return histogram;
    }

    TopRows contexts() {
        return contexts;
    }

    TopRows tagged() {
        return tagged;
    }
}
