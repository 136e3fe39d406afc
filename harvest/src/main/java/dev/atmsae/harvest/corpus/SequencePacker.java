package dev.atmsae.harvest.corpus;

import dev.atmsae.harvest.corpus.PackedSequence.TokenSource;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a document into model inputs: each corpus word is WordPiece-tokenised on its own (BERT's pre-tokeniser splits
 * on whitespace anyway, so this equals tokenising the joined sentence and gives the word alignment for free), then
 * consecutive sentences of the same document are packed into sequences of at most {@code maxLength} ids including
 * {@code [CLS]} and {@code [SEP]}. A sentence is split only when it alone does not fit; it is then cut at word
 * boundaries (and a single over-long word is cut inside). Sequences never span documents, so context stays coherent.
 */
public final class SequencePacker {
    private final WordPieceTokenizer tokenizer;
    private final int maxContent;

    public SequencePacker(WordPieceTokenizer tokenizer, int maxLength) {
        if (maxLength < 3) {
            throw new IllegalArgumentException("maxLength must leave room for [CLS], one token and [SEP]");
        }
        this.tokenizer = tokenizer;
        this.maxContent = maxLength - 2;
    }

    public SequencePacker(WordPieceTokenizer tokenizer) {
        this(tokenizer, MiniLm.MAX_SEQUENCE);
    }

    /** A sentence's subtokens with their sources. */
    private record Piece(int[] ids, TokenSource[] sources) {}

    /** Packs one document (its index in the caller's list is {@code documentIndex}). */
    public List<PackedSequence> pack(int documentIndex, BrownCorpus.Document document) {
        List<PackedSequence> out = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        List<TokenSource> sources = new ArrayList<>();
        List<BrownCorpus.Sentence> sentences = document.sentences();
        for (int s = 0; s < sentences.size(); s++) {
            for (Piece piece : sentencePieces(s, sentences.get(s))) {
                if (ids.size() + piece.ids().length > maxContent) {
                    flush(documentIndex, ids, sources, out);
                }
                for (int t = 0; t < piece.ids().length; t++) {
                    ids.add(piece.ids()[t]);
                    sources.add(piece.sources()[t]);
                }
            }
        }
        flush(documentIndex, ids, sources, out);
        return out;
    }

    /** The sentence as one piece when it fits a sequence, else cut into pieces that each fit. */
    private List<Piece> sentencePieces(int sentenceIndex, BrownCorpus.Sentence sentence) {
        List<int[]> wordIds = new ArrayList<>();
        int total = 0;
        for (BrownCorpus.Word word : sentence.words()) {
            int[] w = tokenizer.encode(word.text());
            wordIds.add(w);
            total += w.length;
        }
        List<Piece> pieces = new ArrayList<>();
        List<Integer> ids = new ArrayList<>(Math.min(total, maxContent));
        List<TokenSource> sources = new ArrayList<>();
        for (int w = 0; w < wordIds.size(); w++) {
            int[] sub = wordIds.get(w);
            if (!ids.isEmpty() && ids.size() + sub.length > maxContent) {
                pieces.add(piece(ids, sources));
            }
            for (int t = 0; t < sub.length; t++) {
                if (ids.size() == maxContent) {
                    pieces.add(piece(ids, sources)); // one word longer than a whole sequence: cut inside it
                }
                ids.add(sub[t]);
                sources.add(new TokenSource(sentenceIndex, w, t == 0));
            }
        }
        if (!ids.isEmpty()) {
            pieces.add(piece(ids, sources));
        }
        return pieces;
    }

    private static Piece piece(List<Integer> ids, List<TokenSource> sources) {
        Piece p = new Piece(ids.stream().mapToInt(Integer::intValue).toArray(),
                sources.toArray(TokenSource[]::new));
        ids.clear();
        sources.clear();
        return p;
    }

    private static void flush(int documentIndex, List<Integer> ids, List<TokenSource> sources,
                              List<PackedSequence> out) {
        if (ids.isEmpty()) {
            return;
        }
        int n = ids.size();
        int[] framed = new int[n + 2];
        TokenSource[] meta = new TokenSource[n + 2];
        framed[0] = MiniLm.CLS_ID;
        for (int t = 0; t < n; t++) {
            framed[t + 1] = ids.get(t);
            meta[t + 1] = sources.get(t);
        }
        framed[n + 1] = MiniLm.SEP_ID;
        out.add(new PackedSequence(documentIndex, framed, meta));
        ids.clear();
        sources.clear();
    }
}
