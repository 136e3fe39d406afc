package dev.atmsae.harvest.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.harvest.TestCorpora;
import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.DocumentSelection;
import dev.atmsae.harvest.corpus.PosTags;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.MiniLmEncoder;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeSetBuildersTest {
    @Test
    void posProbeSetHasOneRowPerLabelledWordSplitByDocument(@TempDir Path tmp) {
        BrownCorpus corpus = TestCorpora.brown();
        Path out = tmp.resolve("pos");
        PosProbeSetBuilder.Result r = PosProbeSetBuilder.build(new PosProbeSetBuilder.Options(out, new Layer(3), 3,
                Set.of('a', 'b', 'c'), 0.2, 32, 2, 5, true), corpus);
        ProbeSet set = ProbeSets.read(out);
        ProbeSet emb = ProbeSets.read(out.resolve(PosProbeSetBuilder.EMBEDDINGS_SUBDIR));

        // Count labelled words independently from the corpus files.
        List<String> ids = DocumentSelection.select(corpus.documentIds(), Set.of('a', 'b', 'c'), 3, 5);
        int labelled = 0;
        for (String id : ids) {
            for (BrownCorpus.Sentence s : corpus.document(id).sentences()) {
                for (BrownCorpus.Word w : s.words()) {
                    if (PosTags.parentOf(PosTags.normalize(w.tag())) != null) {
                        labelled++;
                    }
                }
            }
        }
        assertEquals(labelled, set.n());
        assertEquals(set.n(), emb.n());
        assertEquals(11, set.parents().size());
        assertEquals(3, r.documents());
        assertEquals(1, r.testDocuments());
        assertEquals(MiniLm.D_MODEL, set.d());
        Map<Integer, Integer> splitOfGroup = new HashMap<>();
        for (int i = 0; i < set.n(); i++) {
            Integer prev = splitOfGroup.putIfAbsent(set.group()[i], set.split()[i]);
            assertTrue(prev == null || prev == set.split()[i], "a document is wholly train or wholly test");
            assertEquals(set.parent()[i], emb.parent()[i]);
            assertEquals(set.child()[i], emb.child()[i]);
            String fine = set.parents().get(set.parent()[i]).children().get(set.child()[i]);
            assertEquals(set.parents().get(set.parent()[i]).name(), PosTags.parentOf(fine));
        }
        assertEquals(Set.of(0, 1, 2), splitOfGroup.keySet());
        // "the" is a determiner (at) wherever it occurs in these files' first rows
        int the = set.word().indexOf("the");
        assertEquals("DET", set.parents().get(set.parent()[the]).name());
        assertEquals("at", set.parents().get(set.parent()[the]).children().get(set.child()[the]));

        // Layer 3 and the embeddings differ; the lookup baseline is recorded in the JSON.
        double diff = 0;
        for (int k = 0; k < set.d(); k++) {
            diff += Math.abs(set.acts()[k] - emb.acts()[k]);
        }
        assertTrue(diff > 1, "layer 3 and embeddings rows differ");
        @SuppressWarnings("unchecked")
        Map<String, Object> baselines = (Map<String, Object>) set.source().get("baselines");
        @SuppressWarnings("unchecked")
        Map<String, Object> lookup = (Map<String, Object>) baselines.get("lookup");
        double acc = ((Number) lookup.get("test_accuracy")).doubleValue();
        assertTrue(acc > 0.6 && acc < 1.0, "lookup accuracy " + acc);
        assertEquals(r.lookup().testRows(), set.rowsOf(ProbeSet.TEST).length);
        assertNotNull(set.source().get("test_documents"));
    }

    @Test
    void posRowEqualsTheEncoderAtTheWordsFirstSubtoken(@TempDir Path tmp) {
        // A one-document-per-genre tiny corpus: cb01's first word "Assembly" is row 0 of its document.
        BrownCorpus corpus = TestCorpora.tiny(tmp.resolve("corpus"));
        Path out = tmp.resolve("pos");
        PosProbeSetBuilder.build(new PosProbeSetBuilder.Options(out, new Layer(3), 0, Set.of(), 0.5, 32, 2, 0, true),
                corpus);
        ProbeSet set = ProbeSets.read(out);
        int row = set.word().indexOf("Atlanta's");
        assertEquals("NOUN", set.parents().get(set.parent()[row]).name());
        // Reference: the encoder on ca01's packed sequence; "atlanta" is at position 11.
        WordPieceTokenizer tok = WordPieceTokenizer.miniLm();
        int[] ids = new dev.atmsae.harvest.corpus.SequencePacker(tok).pack(0, corpus.document("ca01")).get(0).ids();
        assertEquals(5865, ids[11]);
        try (MiniLmEncoder enc = new MiniLmEncoder(List.of(new Layer(3)), 2)) {
            MiniLmEncoder.Output o = enc.run(List.of(ids));
            float[] l3 = o.activations().get(new Layer(3));
            double maxDiff = 0;
            for (int k = 0; k < MiniLm.D_MODEL; k++) {
                maxDiff = Math.max(maxDiff, Math.abs(l3[o.offset(0, 11) + k] - set.acts()[row * MiniLm.D_MODEL + k]));
            }
            assertTrue(maxDiff <= 1e-4, "probe row vs encoder: " + maxDiff);
        }
        // "," "." and "``" carry no label, "n't" is ADV (*), "He's" is PRON (pps)
        assertTrue(!set.word().contains(",") && !set.word().contains("``") && !set.word().contains("."));
        int nt = set.word().indexOf("n't");
        assertEquals("*", set.parents().get(set.parent()[nt]).children().get(set.child()[nt]));
        int he = set.word().indexOf("He's");
        assertEquals("PRON", set.parents().get(set.parent()[he]).name());
    }

    @Test
    void firstLetterProbeSetFollowsSaeBenchsPromptAndSplit(@TempDir Path tmp) {
        WordPieceTokenizer tok = WordPieceTokenizer.miniLm();
        List<String> words = FirstLetterProbeSetBuilder.alphabeticWords(tok);
        assertEquals(21745, words.size());
        assertTrue(words.stream().allMatch(w -> w.matches("[a-z]+")));
        assertEquals("\ncat has the first letter: C\ndog has the first letter: D\nhouse has the first letter:",
                FirstLetterProbeSetBuilder.prompt(List.of("cat", "dog"), "house"));

        Path out = tmp.resolve("fl");
        FirstLetterProbeSetBuilder.Result r = FirstLetterProbeSetBuilder.build(
                new FirstLetterProbeSetBuilder.Options(out, new Layer(3), 60, 32, 2, 1, true));
        ProbeSet set = ProbeSets.read(out);
        assertEquals(60, set.n());
        assertEquals(48, set.rowsOf(ProbeSet.TRAIN).length);
        assertEquals(12, set.rowsOf(ProbeSet.TEST).length);
        assertEquals(26, set.parents().size());
        for (int i = 0; i < set.n(); i++) {
            assertEquals(set.word().get(i).charAt(0) - 'a', set.parent()[i]);
            assertEquals(-1, set.child()[i]);
            assertEquals(tok.id(set.word().get(i)), set.group()[i]);
        }
        assertEquals(21745, r.vocabularyWords());
        // 10 examples of 7 tokens + 6 for the target + [CLS] + [SEP] = 78 when every example word is one token
        int[] ids = tok.encode(FirstLetterProbeSetBuilder.prompt(List.of("cat", "dog", "house", "tree", "sun",
                "moon", "star", "road", "city", "lake"), "river"));
        assertEquals(76, ids.length);
        assertEquals(tok.id("river"), ids[ids.length - 6]);
    }
}
