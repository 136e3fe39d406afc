package dev.atmsae.harvest.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.harvest.TestCorpora;
import dev.atmsae.util.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrownCorpusTest {
    @Test
    void realCorpusHasFiveHundredDocumentsAndTheKnownFirstSentence() {
        BrownCorpus corpus = TestCorpora.brown();
        assertEquals(500, corpus.documentIds().size());
        assertEquals("ca01", corpus.documentIds().get(0));
        assertEquals("cr09", corpus.documentIds().get(499));
        BrownCorpus.Document ca01 = corpus.document("ca01");
        assertEquals('a', ca01.genre());
        assertEquals("news", ca01.genreName());
        BrownCorpus.Sentence first = ca01.sentences().get(0);
        assertEquals(25, first.words().size());
        assertEquals(new BrownCorpus.Word("Fulton", "np-tl"), first.words().get(1));
        assertEquals(new BrownCorpus.Word("Atlanta's", "np$"), first.words().get(10));
        assertEquals(new BrownCorpus.Word("``", "``"), first.words().get(15));
        assertEquals("humor", corpus.document("cr09").genreName());
    }

    @Test
    void tagFollowsTheLastSlashAndBadTokensNameFileAndLine(@TempDir Path dir) throws Exception {
        BrownCorpus corpus = TestCorpora.tiny(dir);
        assertEquals(List.of("ca01", "cb01"), corpus.documentIds());
        BrownCorpus.Document ca01 = corpus.document("ca01");
        assertEquals(2, ca01.sentences().size());
        assertEquals(new BrownCorpus.Word("1-1/2", "cd"), ca01.sentences().get(1).words().get(8));

        Files.writeString(dir.resolve("cc01"), "\tgood/jj\n\tbroken token/nn\n");
        UserError e = assertThrows(UserError.class, () -> BrownCorpus.open(dir).document("cc01"));
        assertTrue(e.getMessage().contains("cc01") && e.getMessage().contains("line 2"), e.getMessage());
        assertThrows(UserError.class, () -> BrownCorpus.open(dir.resolve("missing")));
    }

    @Test
    void selectionFiltersGenresAndIsAStableSeededOrder() {
        List<String> ids = List.of("ca01", "ca02", "cb01", "cb02", "cj01", "cj02", "cr01");
        List<String> all = DocumentSelection.select(ids, Set.of(), 0, 7);
        assertEquals(Set.copyOf(ids), Set.copyOf(all));
        assertEquals(all, DocumentSelection.select(ids, Set.of(), 0, 7));
        assertTrue(!all.equals(DocumentSelection.select(ids, Set.of(), 0, 8)) || !all.equals(ids));
        assertEquals(all.subList(0, 3), DocumentSelection.select(ids, Set.of(), 3, 7));
        List<String> news = DocumentSelection.select(ids, Set.of('a', 'j'), 0, 7);
        assertEquals(Set.of("ca01", "ca02", "cj01", "cj02"), Set.copyOf(news));
        assertThrows(UserError.class, () -> DocumentSelection.select(ids, Set.of('q'), 0, 7));
    }
}
