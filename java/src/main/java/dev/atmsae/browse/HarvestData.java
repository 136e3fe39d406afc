package dev.atmsae.browse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.data.Shard;
import dev.atmsae.data.ShardSet;
import dev.atmsae.util.UserError;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A harvest directory as {@code atmsae harvest --out DIR} writes it (docs/harvest.md): activation shards
 * {@code acts_NNNNN.npy}, one {@code meta_NNNNN.tsv} of token metadata per shard, and the manifest
 * {@code harvest.json} (layer, hook; optional for hand-made harvests). Every shard must have its metadata file with
 * one line per row.
 */
final class HarvestData implements AutoCloseable {
    static final String MANIFEST = "harvest.json";
    private static final List<String> NEEDED_COLUMNS = List.of("token", "doc", "sentence", "sequence", "tag_coarse");

    private final Path dir;
    private final ShardSet acts;
    private final TokenTable tokens;
    private final String layer;
    private final String hookName;

    private HarvestData(Path dir, ShardSet acts, TokenTable tokens, String layer, String hookName) {
        this.dir = dir;
        this.acts = acts;
        this.tokens = tokens;
        this.layer = layer;
        this.hookName = hookName;
    }

    /** Opens the harvest in {@code dir}; one-line {@link UserError}s for a missing or inconsistent part. */
    static HarvestData open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw UserError.inFile(dir, "not a harvest directory (expected acts_*.npy, meta_*.tsv, harvest.json)");
        }
        String layer = null, hook = null;
        Path manifest = dir.resolve(MANIFEST);
        if (Files.isRegularFile(manifest)) {
            try {
                JsonNode m = new ObjectMapper().readTree(manifest.toFile());
                layer = m.hasNonNull("layer") ? m.get("layer").asText() : null;
                hook = m.hasNonNull("hook_name") ? m.get("hook_name").asText() : null;
            } catch (IOException e) {
                throw UserError.inFile(manifest, "cannot read: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        ShardSet acts = ShardSet.open(dir);
        try {
            TokenTable tokens = new TokenTable();
            for (Shard shard : acts.shards()) {
                readMeta(metaFileOf(shard.path()), shard, tokens);
            }
            return new HarvestData(dir, acts, tokens, layer, hook);
        } catch (RuntimeException e) {
            acts.close();
            throw e;
        }
    }

    /** {@code acts_00003.npy} → {@code meta_00003.tsv} beside it. */
    static Path metaFileOf(Path shard) {
        String name = shard.getFileName().toString();
        String stem = name.substring(0, name.lastIndexOf('.'));
        String metaName = (stem.startsWith("acts_") ? "meta_" + stem.substring(5) : stem + ".meta") + ".tsv";
        return shard.resolveSibling(metaName);
    }

    private static void readMeta(Path file, Shard shard, TokenTable tokens) {
        if (!Files.isRegularFile(file)) {
            throw UserError.inFile(file, "missing token metadata for " + shard.path().getFileName()
                    + " (browse needs the meta_*.tsv files that 'atmsae harvest' writes beside each shard)");
        }
        long rows = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String header = in.readLine();
            if (header == null) {
                throw UserError.inFile(file, "empty token metadata file (expected a header line)");
            }
            List<String> columns = Arrays.asList(header.split("\t", -1));
            int[] at = new int[NEEDED_COLUMNS.size()];
            for (int c = 0; c < at.length; c++) {
                at[c] = columns.indexOf(NEEDED_COLUMNS.get(c));
                if (at[c] < 0) {
                    throw UserError.inFile(file, "token metadata has no column '" + NEEDED_COLUMNS.get(c) + "'");
                }
            }
            String line;
            while ((line = in.readLine()) != null) {
                rows++;
                String[] f = line.split("\t", -1);
                if (f.length != columns.size()) {
                    throw UserError.inFile(file, "line " + (rows + 1) + " has " + f.length + " fields, header has "
                            + columns.size());
                }
                String tag = f[at[4]];
                try {
                    tokens.add(f[at[0]], f[at[1]], Integer.parseInt(f[at[2]]), Integer.parseInt(f[at[3]]),
                            tag.equals("-") || tag.isEmpty() ? null : tag);
                } catch (NumberFormatException e) {
                    throw UserError.inFile(file, "line " + (rows + 1) + ": sentence/sequence is not an integer");
                }
            }
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot read: " + e.getMessage());
        }
        if (rows != shard.rows()) {
            throw UserError.inFile(file, "has " + rows + " token rows but " + shard.path().getFileName() + " has "
                    + shard.rows() + " activation rows");
        }
    }

    Path dir() {
        return dir;
    }

    ShardSet acts() {
        return acts;
    }

    TokenTable tokens() {
        return tokens;
    }

    int d() {
        return acts.dim();
    }

    /** The model layer the activations come from ("3", "embeddings"), or null when the manifest does not say. */
    String layer() {
        return layer;
    }

    String hookName() {
        return hookName;
    }

    @Override
    public void close() {
        acts.close();
    }
}
