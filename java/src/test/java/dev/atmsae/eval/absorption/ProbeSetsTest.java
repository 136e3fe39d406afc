package dev.atmsae.eval.absorption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.util.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeSetsTest {
    @TempDir
    Path dir;

    static ProbeSet small() {
        float[] acts = {0.5f, -1.25f, 2f, 3.5f, -0.75f, 1e-3f};
        return new ProbeSet("tiny", "pos", 2, Map.of("model", "m", "layer", 3), acts,
                List.of(new ProbeSet.ParentClass("NOUN", List.of("nn", "nns")), new ProbeSet.ParentClass("ADP", List.of())),
                new int[] {0, 1, -1}, new int[] {1, -1, -1}, new int[] {0, 1, 1}, new int[] {7, 7, 8}, List.of("cats", "in", "."));
    }

    @Test
    void roundTrips() {
        ProbeSet s = small();
        ProbeSets.write(dir.resolve("p"), s);
        ProbeSet r = ProbeSets.read(dir.resolve("p"));
        assertEquals(s.name(), r.name());
        assertEquals(s.kind(), r.kind());
        assertEquals(s.d(), r.d());
        assertArrayEquals(s.acts(), r.acts());
        assertEquals(s.parents(), r.parents());
        assertArrayEquals(s.parent(), r.parent());
        assertArrayEquals(s.child(), r.child());
        assertArrayEquals(s.split(), r.split());
        assertArrayEquals(s.group(), r.group());
        assertEquals(s.word(), r.word());
        assertEquals(3, ((Number) r.source().get("layer")).intValue());
    }

    @Test
    void groupSplitKeepsGroupsWholeAndHitsTheFraction() {
        int n = 20_000;
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i / 10; // 2,000 groups of 10 rows
        }
        int[] split = ProbeSets.splitByGroup(group, 0.2, 7);
        int test = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(split[i - i % 10], split[i]);
            test += split[i];
        }
        assertEquals(0.2, test / (double) n, 0.03);
        assertEquals(26, ProbeSets.firstLetterParents().size());
        assertEquals("z", ProbeSets.firstLetterParents().get(25).name());
    }

    @Test
    void rejectsBadFilesWithTheFileName() throws Exception {
        ProbeSets.write(dir.resolve("p"), small());
        Path json = dir.resolve("p/probe_set.json");
        String text = Files.readString(json);
        Files.writeString(json, text.replaceFirst("\"child\" : \\[ 1,", "\"child\" : [ 5,"));
        UserError e = assertThrows(UserError.class, () -> ProbeSets.read(dir.resolve("p")));
        assertTrue(e.getMessage().contains("probe_set.json") && e.getMessage().contains("child 5"), e.getMessage());
        Files.writeString(json, text.replace("\"d\" : 2", "\"d\" : 3"));
        e = assertThrows(UserError.class, () -> ProbeSets.read(dir.resolve("p")));
        assertTrue(e.getMessage().contains("acts.npy") && e.getMessage().contains("d = 3"), e.getMessage());
        Files.writeString(json, "{ not json");
        e = assertThrows(UserError.class, () -> ProbeSets.read(dir.resolve("p")));
        assertTrue(e.getMessage().contains("probe_set.json"), e.getMessage());
        e = assertThrows(UserError.class, () -> ProbeSets.read(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }
}
