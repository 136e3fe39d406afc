package dev.atmsae.harvest.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.harvest.TestCorpora;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequencePackerTest {
    private static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = WordPieceTokenizer.miniLm();
    }

    @Test
    void handCheckedSentenceAlignsWordsAndFirstSubtokens(@TempDir Path dir) {
        BrownCorpus.Document ca01 = TestCorpora.tiny(dir).document("ca01");
        List<PackedSequence> seqs = new SequencePacker(tokenizer).pack(0, ca01);
        assertEquals(1, seqs.size(), "two short sentences share one sequence");
        PackedSequence seq = seqs.get(0);
        // Ids read from the vocabulary by hand: the fulton county grand jury said friday an investigation of
        // atlanta ' s recent primary election produced ` ` no evidence ' ' that any irregularities took place .
        int[] first = {101, 1996, 17049, 2221, 2882, 6467, 2056, 5958, 2019, 4812, 1997, 5865, 1005, 1055, 3522,
                3078, 2602, 2550, 1036, 1036, 2053, 3350, 1005, 1005, 2008, 2151, 28868, 2165, 2173, 1012};
        int[] head = new int[first.length];
        System.arraycopy(seq.ids(), 0, head, 0, first.length);
        assertArrayEquals(first, head);
        assertEquals(102, seq.ids()[seq.length() - 1]);
        assertEquals(1 + 29 + 17 + 1, seq.length());
        assertNull(seq.meta()[0]);
        assertNull(seq.meta()[seq.length() - 1]);
        // "Atlanta's" (word 10, tag np$) -> atlanta ' s at positions 11..13; only the first starts the word.
        assertEquals(new PackedSequence.TokenSource(0, 10, true), seq.meta()[11]);
        assertEquals(new PackedSequence.TokenSource(0, 10, false), seq.meta()[12]);
        assertEquals(new PackedSequence.TokenSource(0, 10, false), seq.meta()[13]);
        assertEquals(new PackedSequence.TokenSource(0, 11, true), seq.meta()[14]); // recent
        // `` is one corpus word (index 15) of two subtokens.
        assertEquals(new PackedSequence.TokenSource(0, 15, true), seq.meta()[18]);
        assertEquals(new PackedSequence.TokenSource(0, 15, false), seq.meta()[19]);
        // second sentence: "n't" (word 6, tag *) -> n ' t ; "1-1/2" (word 8) -> 1 - 1 / 2
        int s2 = 30;
        assertEquals(new PackedSequence.TokenSource(1, 0, true), seq.meta()[s2]);
        assertEquals(1050, seq.ids()[s2 + 6]);
        assertEquals(new PackedSequence.TokenSource(1, 6, true), seq.meta()[s2 + 6]);
        assertEquals(new PackedSequence.TokenSource(1, 8, true), seq.meta()[s2 + 10]);
        for (int k = 11; k <= 14; k++) {
            assertEquals(new PackedSequence.TokenSource(1, 8, false), seq.meta()[s2 + k]);
        }
        BrownCorpus.Word w = ca01.sentences().get(1).words().get(6);
        assertEquals("ADV", PosTags.parentOf(PosTags.normalize(w.tag())));
    }

    @Test
    void packingRespectsTheLimitAndSplitsOnlyOverlongSentences() {
        List<BrownCorpus.Word> shortWords = new ArrayList<>();
        for (String s : "the cat sat on the mat .".split(" ")) {
            shortWords.add(new BrownCorpus.Word(s, "nn"));
        }
        List<BrownCorpus.Word> longWords = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            longWords.add(new BrownCorpus.Word(i % 2 == 0 ? "dog" : "Atlanta's", "nn")); // 1 or 3 subtokens
        }
        BrownCorpus.Sentence a = new BrownCorpus.Sentence(shortWords);
        BrownCorpus.Sentence b = new BrownCorpus.Sentence(longWords);
        BrownCorpus.Document doc = new BrownCorpus.Document("ca01", 'a', "news", List.of(a, a, b, a));
        List<PackedSequence> seqs = new SequencePacker(tokenizer, 16).pack(3, doc);
        // a (7) + a (7) = 14 content -> one sequence. b (60 tokens: dog = 1, atlanta ' s = 3, alternating) is cut
        // at word boundaries into pieces of 13, 12, 12, 12, 11 (the next word would pass 14); a piece never shares
        // a sequence with the next piece when both do not fit; the last a (7) cannot join the 11.
        assertEquals(List.of(14, 13, 12, 12, 12, 11, 7),
                seqs.stream().map(PackedSequence::contentTokens).toList());
        int total = 0;
        for (PackedSequence s : seqs) {
            assertEquals(3, s.document());
            assertTrue(s.length() <= 16);
            assertEquals(101, s.ids()[0]);
            assertEquals(102, s.ids()[s.length() - 1]);
            total += s.contentTokens();
            for (int t = 1; t < s.length() - 1; t++) {
                if (!s.meta()[t].firstSubtoken()) {
                    assertEquals(s.meta()[t - 1].word(), s.meta()[t].word(), "a word is never cut at a boundary");
                }
            }
        }
        assertEquals(7 + 7 + 60 + 7, total);
        assertEquals(new PackedSequence.TokenSource(2, 0, true), seqs.get(1).meta()[1]);
    }
}
