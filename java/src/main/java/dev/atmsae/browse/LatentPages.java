package dev.atmsae.browse;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-latent data of the site: {@code data/index.js} (one compact row per latent for the overview's table) and
 * {@code data/latents/cNNNNN.js}, chunks of {@link #CHUNK} latents that a latent page loads on demand.
 */
final class LatentPages {
    static final int CHUNK = 64;
    private static final int TOP_TOKENS = 4;

    private final LatentStats stats;
    private final TokenTable tokens;
    private final DecoderNeighbours.Result neighbours;

    LatentPages(LatentStats stats, TokenTable tokens, DecoderNeighbours.Result neighbours) {
        this.stats = stats;
        this.tokens = tokens;
        this.neighbours = neighbours;
    }

    static String chunkName(int chunk) {
        return String.format("c%05d.js", chunk);
    }

    /** Writes the index and every chunk under {@code data}; returns the bytes written. */
    long write(Path data) {
        long bytes = Jsonp.write(data.resolve("index.js"), index());
        int n = stats.latents();
        for (int c = 0; c * CHUNK < n; c++) {
            List<Map<String, Object>> latents = new ArrayList<>();
            for (int j = c * CHUNK; j < Math.min(n, (c + 1) * CHUNK); j++) {
                latents.add(latent(j));
            }
            Map<String, Object> chunk = new LinkedHashMap<>();
            chunk.put("first", c * CHUNK);
            chunk.put("latents", latents);
            bytes += Jsonp.write(data.resolve("latents").resolve(chunkName(c)), chunk);
        }
        return bytes;
    }

    /** Columns: density, mean activation (when active), max activation, top tokens (space-separated). */
    private Map<String, Object> index() {
        List<Object[]> rows = new ArrayList<>(stats.latents());
        for (int j = 0; j < stats.latents(); j++) {
            rows.add(new Object[] {Jsonp.round(stats.density(j), 3), Jsonp.round(stats.meanActive(j), 3),
                    Jsonp.round(stats.max(j), 3), String.join(" ", topTokens(j))});
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("columns", List.of("density", "mean", "max", "tokens"));
        m.put("rows", rows);
        return m;
    }

    /** The most frequent token strings among the latent's strongest activations, most frequent first. */
    List<String> topTokens(int j) {
        Map<String, Integer> freq = new LinkedHashMap<>();
        for (int slot : stats.tagged().sorted(j)) {
            freq.merge(tokens.token(stats.tagged().row(slot)), 1, Integer::sum);
        }
        return freq.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(TOP_TOKENS)
                .map(Map.Entry::getKey).toList();
    }

    private Map<String, Object> latent(int j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j);
        m.put("count", stats.count(j));
        m.put("density", Jsonp.round(stats.density(j), 4));
        m.put("mean", Jsonp.round(stats.meanActive(j), 4));
        m.put("max", Jsonp.round(stats.max(j), 4));
        m.put("hist", Map.of("range", stats.histogram().range(j), "bins", DoublingHistogram.BINS,
                "counts", stats.histogram().counts(j)));
        List<Object[]> near = new ArrayList<>();
        for (int t = 0; t < neighbours.latent()[j].length; t++) {
            near.add(new Object[] {neighbours.latent()[j][t], Jsonp.round(neighbours.cos()[j][t], 3)});
        }
        m.put("neighbours", near);
        m.put("contexts", contexts(j));
        if (tokens.hasTags()) {
            m.put("tags", tags(j));
        }
        return m;
    }

    private List<Map<String, Object>> contexts(int j) {
        List<Map<String, Object>> out = new ArrayList<>();
        TopRows top = stats.contexts();
        for (int slot : top.sorted(j)) {
            LatentStats.Window w = (LatentStats.Window) top.payload(slot);
            int row = top.row(slot);
            List<String> toks = new ArrayList<>(w.acts().length);
            double[] acts = new double[w.acts().length];
            for (int q = 0; q < w.acts().length; q++) {
                toks.add(tokens.token(w.start() + q));
                acts[q] = Jsonp.round(w.acts()[q], 3);
            }
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("row", row);
            c.put("doc", tokens.doc(row));
            c.put("act", Jsonp.round(top.value(slot), 4));
            c.put("at", row - w.start());
            c.put("toks", toks);
            c.put("acts", acts);
            out.add(c);
        }
        return out;
    }

    /** Coarse POS tag → count over the latent's strongest activations ("-" for tokens without a tag). */
    private Map<String, Integer> tags(int j) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (int slot : stats.tagged().sorted(j)) {
            String tag = tokens.tag(stats.tagged().row(slot));
            counts.merge(tag == null ? "-" : tag, 1, Integer::sum);
        }
        return counts;
    }
}
