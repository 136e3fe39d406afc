package dev.atmsae.harvest.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The normalisation rules and hierarchy of absorption.md §9, case by case. */
class PosTagsTest {
    @Test
    void normalisationFollowsTheSpecRules() {
        assertEquals("nn", PosTags.normalize("NN"));                 // lower-case
        assertNull(PosTags.normalize("fw-nn"));                      // fw-* dropped
        assertNull(PosTags.normalize("fw-in+at-tl"));
        assertEquals("pps", PosTags.normalize("pps+bez"));           // first part of a + compound
        assertEquals("ppss", PosTags.normalize("ppss+ber-n"));
        assertEquals("nn", PosTags.normalize("nn-tl-hl"));           // -tl/-hl/-nc stripped repeatedly
        assertEquals("vbn", PosTags.normalize("vbn-tl-nc"));
        assertEquals("np$", PosTags.normalize("np$-tl"));
        assertEquals("bez", PosTags.normalize("bez*"));              // trailing * of a negated form
        assertEquals("md", PosTags.normalize("md*-hl"));
        assertEquals("*", PosTags.normalize("*"));                   // bare * (not) stays
        assertEquals("*", PosTags.normalize("*-hl"));
        assertNull(PosTags.normalize("."));                          // punctuation
        assertNull(PosTags.normalize("''"));
        assertNull(PosTags.normalize("--"));
        assertNull(PosTags.normalize(".-hl"));
        assertNull(PosTags.normalize("("));
        assertNull(PosTags.normalize("uh"));                         // FW, UH, NIL
        assertNull(PosTags.normalize("uh-tl"));
        assertNull(PosTags.normalize("nil"));
    }

    @Test
    void parentsAndChildrenAreTheSpecLists() {
        assertEquals(List.of("NOUN", "VERB", "AUX", "ADJ", "ADV", "PRON", "DET", "ADP", "CONJ", "NUM", "PRT"),
                List.copyOf(PosTags.PARENTS.keySet()));
        assertEquals(11 + 5 + 17 + 4 + 11 + 13 + 11 + 1 + 2 + 3 + 2,
                PosTags.PARENTS.values().stream().mapToInt(List::size).sum());
        assertEquals("NOUN", PosTags.parentOf("nr$"));
        assertEquals("AUX", PosTags.parentOf("md"));
        assertEquals("ADV", PosTags.parentOf("*"));
        assertEquals("PRON", PosTags.parentOf("ex"));
        assertEquals("DET", PosTags.parentOf("dt$"));
        assertEquals("PRT", PosTags.parentOf("to"));
        assertNull(PosTags.parentOf("jj$"));                         // a fine tag no parent lists carries no label
        assertNull(PosTags.parentOf(null));
        assertEquals(7, PosTags.parentIndex("ADP"));
        assertEquals(-1, PosTags.parentIndex("X"));
    }
}
