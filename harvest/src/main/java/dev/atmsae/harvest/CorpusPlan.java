package dev.atmsae.harvest;

import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.PackedSequence;
import dev.atmsae.harvest.corpus.SequencePacker;
import java.util.ArrayList;
import java.util.List;

/**
 * The model inputs of a run, fixed before the model runs: the chosen documents (in order) and their packed sequences,
 * cut after the sequence that reaches the token budget. Because the plan is a pure function of the corpus and the
 * options, a re-run can skip finished shards without running the model.
 */
public final class CorpusPlan {
    public final List<BrownCorpus.Document> documents;
    public final List<PackedSequence> sequences;
    /** Rows the plan yields: content tokens, plus the two special tokens per sequence when they are kept. */
    public final long rows;

    private CorpusPlan(List<BrownCorpus.Document> documents, List<PackedSequence> sequences, long rows) {
        this.documents = documents;
        this.sequences = sequences;
        this.rows = rows;
    }

    /**
     * @param tokenBudget stop after the sequence that brings the rows to at least this (≤ 0 = whole documents list)
     */
    public static CorpusPlan build(BrownCorpus corpus, List<String> documentIds, SequencePacker packer, long tokenBudget,
                            boolean keepSpecialTokens) {
        List<BrownCorpus.Document> docs = new ArrayList<>();
        List<PackedSequence> seqs = new ArrayList<>();
        long rows = 0;
        outer:
        for (String id : documentIds) {
            BrownCorpus.Document doc = corpus.document(id);
            int docIndex = docs.size();
            docs.add(doc);
            for (PackedSequence seq : packer.pack(docIndex, doc)) {
                seqs.add(seq);
                rows += keepSpecialTokens ? seq.length() : seq.contentTokens();
                if (tokenBudget > 0 && rows >= tokenBudget) {
                    break outer;
                }
            }
        }
        return new CorpusPlan(List.copyOf(docs), List.copyOf(seqs), rows);
    }

    public long totalTokens() {
        return sequences.stream().mapToLong(PackedSequence::length).sum();
    }
}
