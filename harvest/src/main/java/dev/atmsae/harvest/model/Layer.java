package dev.atmsae.harvest.model;

import dev.atmsae.util.UserError;

/**
 * A MiniLM residual-stream site: {@code embeddings} (after the embedding LayerNorm, context-free) or the output of
 * transformer block 0..5 (block 5's output is the graph's own {@code last_hidden_state}).
 *
 * @param index -1 for the embeddings, else the block index
 */
public record Layer(int index) {
    public static final int BLOCKS = 6;
    public static final Layer EMBEDDINGS = new Layer(-1);
    /** The layer of record for the POS task (absorption.md §9). */
    public static final Layer DEFAULT = new Layer(3);

    public Layer {
        if (index < -1 || index >= BLOCKS) {
            throw new UserError("--layer: MiniLM has layers embeddings, 0.." + (BLOCKS - 1) + "; got " + index);
        }
    }

    /** Parses {@code embeddings} or {@code 0..5}. */
    public static Layer parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("embeddings") || t.equals("emb")) {
            return EMBEDDINGS;
        }
        try {
            return new Layer(Integer.parseInt(t));
        } catch (NumberFormatException e) {
            throw new UserError("--layer: expected 'embeddings' or 0.." + (BLOCKS - 1) + ", got '" + text + "'");
        }
    }

    /** The ONNX tensor that holds this site's activations, [batch, sequence, 384]. */
    public String tensorName() {
        if (index == -1) {
            return "/embeddings/LayerNorm/Add_1_output_0";
        }
        if (index == BLOCKS - 1) {
            return "last_hidden_state";
        }
        return "/encoder/layer." + index + "/output/LayerNorm/Add_1_output_0";
    }

    /** Whether the unmodified graph already outputs this tensor. */
    public boolean isGraphOutput() {
        return index == BLOCKS - 1;
    }

    /** A hook name in the style of SAELens metadata (BERT has no TransformerLens hooks; this names the site). */
    public String hookName() {
        return index == -1 ? "embeddings.hook_out" : "encoder.layer." + index + ".hook_resid_post";
    }

    @Override
    public String toString() {
        return index == -1 ? "embeddings" : Integer.toString(index);
    }
}
