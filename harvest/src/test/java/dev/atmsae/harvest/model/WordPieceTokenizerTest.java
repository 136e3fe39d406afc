package dev.atmsae.harvest.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Expected ids were read from {@code model.vocab} of the embedded tokenizer json by hand, piece by piece (e.g.
 * "cafe" = 7668, "##raße" = 27807), following BERT's rules: accents stripped, punctuation isolated, greedy longest
 * match, over-long words unknown.
 */
class WordPieceTokenizerTest {
    private static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = WordPieceTokenizer.miniLm();
    }

    @Test
    void vocabularyHasBertsSizeAndSpecialTokens() {
        assertEquals(30522, tokenizer.vocabSize());
        assertEquals(MiniLm.PAD_ID, tokenizer.id("[PAD]"));
        assertEquals(MiniLm.UNK_ID, tokenizer.id("[UNK]"));
        assertEquals(MiniLm.CLS_ID, tokenizer.id("[CLS]"));
        assertEquals(MiniLm.SEP_ID, tokenizer.id("[SEP]"));
        assertEquals("##ing", tokenizer.token(tokenizer.id("##ing")));
    }

    @Test
    void helloWorldMatchesTheReferenceIds() {
        // stack.md §6: "[CLS] hello world [SEP]" -> 101 7592 2088 102 (checked against DJL's HF tokenizer).
        int[] content = tokenizer.encode("Hello world");
        int[] framed = new int[content.length + 2];
        framed[0] = MiniLm.CLS_ID;
        System.arraycopy(content, 0, framed, 1, content.length);
        framed[framed.length - 1] = MiniLm.SEP_ID;
        assertArrayEquals(new int[] {101, 7592, 2088, 102}, framed);
    }

    @Test
    void accentsAreStrippedAndCaseFolded() {
        assertArrayEquals(new int[] {7668, 15743, 13746}, tokenizer.encode("Café naïve RÉSUMÉ"));
    }

    @Test
    void punctuationAndNumbersSplit() {
        assertArrayEquals(new int[] {2123, 1005, 1056, 2644, 999}, tokenizer.encode("Don't stop!"));
        assertArrayEquals(new int[] {2009, 3465, 1002, 2403, 1012, 2753, 1999, 3546, 1012},
                tokenizer.encode("It cost $14.50 in 1964."));
        assertArrayEquals(new int[] {5865, 1005, 1055, 2744, 1011, 2203}, tokenizer.encode("Atlanta's term-end"));
        assertArrayEquals(new int[] {1523, 9339, 1524}, tokenizer.encode("\u201Cquoted\u201D"));
    }

    @Test
    void greedyLongestMatchUsesContinuationPieces() {
        // una ##ffa ##ble / x ##yl ##ophone
        assertArrayEquals(new int[] {14477, 20961, 3468, 1060, 8516, 25232}, tokenizer.encode("unaffable xylophone"));
        // ß survives NFD; "st" + "##raße"; Ω lower-cases to ω
        assertArrayEquals(new int[] {2358, 27807, 1179}, tokenizer.encode("straße Ω"));
    }

    @Test
    void wordsOverOneHundredCharactersAreUnknown() {
        assertArrayEquals(new int[] {MiniLm.UNK_ID}, tokenizer.encode("a".repeat(101)));
        int[] hundred = tokenizer.encode("ab".repeat(50)); // exactly 100 chars: aba ##ba x48 ##b
        assertEquals(50, hundred.length);
        assertEquals(19557, hundred[0]);
        assertEquals(3676, hundred[1]);
        assertEquals(2497, hundred[49]);
    }

    @Test
    void whitespaceControlAndCjk() {
        assertArrayEquals(new int[] {21628, 2047, 2240}, tokenizer.encode("tab\tnew\nline\u0000"));
        assertArrayEquals(new int[] {1746, 1861}, tokenizer.encode("中文"));
        assertEquals(List.of("a", ",", "b"), WordPieceTokenizer.preTokenize("a, b"));
    }
}
