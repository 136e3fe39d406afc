package dev.atmsae.harvest;

import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.PackedSequence;
import dev.atmsae.harvest.corpus.PosTags;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import java.util.List;

/**
 * The per-row metadata file of a shard, {@code meta_NNNNN.tsv}: a header line, then one tab-separated line per row
 * of {@code acts_NNNNN.npy}, in the same order. No quoting (corpus words hold no tabs or newlines); "-" marks an
 * absent value, -1 an absent index. Columns in {@link #COLUMNS}, described in docs/harvest.md.
 */
final class ShardMeta {
    static final List<String> COLUMNS = List.of("token_id", "token", "doc", "genre", "sentence", "word_index",
            "first_subtoken", "word", "tag_raw", "tag_fine", "tag_coarse", "sequence", "position");
    private static final String ABSENT = "-";

    private final StringBuilder text = new StringBuilder(1 << 20);
    private final WordPieceTokenizer tokenizer;
    private final List<BrownCorpus.Document> documents;
    private long rows;

    ShardMeta(WordPieceTokenizer tokenizer, List<BrownCorpus.Document> documents) {
        this.tokenizer = tokenizer;
        this.documents = documents;
        text.append(String.join("\t", COLUMNS)).append('\n');
    }

    /** Appends the row of position {@code position} of {@code seq} (global sequence index {@code sequenceIndex}). */
    void add(PackedSequence seq, int sequenceIndex, int position) {
        BrownCorpus.Document doc = documents.get(seq.document());
        int id = seq.ids()[position];
        PackedSequence.TokenSource src = seq.meta()[position];
        text.append(id).append('\t').append(tokenizer.token(id)).append('\t').append(doc.id()).append('\t')
                .append(doc.genre()).append('\t');
        if (src == null) {
            text.append("-1\t-1\t0\t-\t-\t-\t-\t");
        } else {
            BrownCorpus.Word word = doc.sentences().get(src.sentence()).words().get(src.word());
            String fine = PosTags.normalize(word.tag());
            String coarse = PosTags.parentOf(fine);
            text.append(src.sentence()).append('\t').append(src.word()).append('\t')
                    .append(src.firstSubtoken() ? 1 : 0).append('\t').append(word.text()).append('\t')
                    .append(word.tag()).append('\t').append(fine == null ? ABSENT : fine).append('\t')
                    .append(coarse == null ? ABSENT : coarse).append('\t');
        }
        text.append(sequenceIndex).append('\t').append(position).append('\n');
        rows++;
    }

    long rows() {
        return rows;
    }

    String text() {
        return text.toString();
    }
}
