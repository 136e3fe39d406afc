package dev.atmsae.core;

import dev.atmsae.util.UserError;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** matryoshka_groups: every accepted form resolves to the right group ends; every bad spec is a one-line UserError. */
class MatryoshkaGroupsTest {
    @Test
    void autoIsTheSaeBenchFractions() {
        // 1/32, 1/16, 1/8, 1/4 of 4096 and the rest (1/2 + 1/32)
        assertArrayEquals(new int[] {128, 384, 896, 1920, 4096}, MatryoshkaGroups.ends("auto", 4096));
        // at width 16, 1/32 rounds to no latents: that group is dropped (1, 2, 4 and the rest 9 remain)
        assertArrayEquals(new int[] {1, 3, 7, 16}, MatryoshkaGroups.ends("auto", 16));
        assertArrayEquals(new int[] {3}, MatryoshkaGroups.ends("auto", 3));   // one group: plain BatchTopK
        assertArrayEquals(new int[] {128, 384, 896, 1920, 4096},
                TrainConfig.defaults(ArchKind.MATRYOSHKA).with("width", 4096).matryoshkaGroupEnds());
    }

    @Test
    void sizesFractionsAndRest() {
        assertArrayEquals(new int[] {2304, 4608, 9216, 18432, 36864},
                MatryoshkaGroups.ends("2304,2304,4608,9216,18432", 36864));
        assertArrayEquals(new int[] {10, 30, 100}, MatryoshkaGroups.ends("10, 20, rest", 100));
        assertArrayEquals(new int[] {25, 50, 100}, MatryoshkaGroups.ends("1/4,0.25,0.5", 100));
        assertArrayEquals(new int[] {3, 9, 100}, MatryoshkaGroups.ends("1/32,1/16,rest", 100));
        // floors leave latents over: the last group takes them
        assertArrayEquals(new int[] {33, 66, 100}, MatryoshkaGroups.ends("1/3,1/3,1/3", 100));
        assertArrayEquals(new int[] {100}, MatryoshkaGroups.ends("rest", 100));
    }

    @Test
    void badSpecsNameTheSetting() {
        String[][] bad = {
            {"10,20,30", "sizes summing to 60, not the width 100"},
            {"0,50,50", "group size 0"},
            {"50,50,rest", "no latents"},
            {"1/2,0,1/2", "outside (0, 1]"},
            {"-0.25,rest", "outside (0, 1]"},
            {"1/2,1/4", "summing to 0.75"},
            {"1/200,rest", "no latents"},
            {"10,,rest", "empty entry"},
            {"rest,10", "only as its last entry"},
            {"10,0.5,rest", "fraction 10 outside (0, 1]"},
            {"abc", "neither a size"},
            {"60,60", "sizes summing to 120"},
        };
        for (String[] c : bad) {
            UserError e = assertThrows(UserError.class, () -> MatryoshkaGroups.ends(c[0], 100), c[0]);
            assertTrue(e.getMessage().startsWith("config: matryoshka_groups = " + c[0] + " "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void validatedOnlyForMatryoshkaAndLossFormChecked() {
        TrainConfig m = TrainConfig.defaults(ArchKind.MATRYOSHKA).with("width", 100);
        assertThrows(UserError.class, () -> m.with("matryoshka_groups", "10,20"));
        // other architectures ignore the key (it stays in the config file form)
        assertEquals("10,20", TrainConfig.defaults(ArchKind.TOPK).with("width", 100)
                .with("matryoshka_groups", "10,20").matryoshkaGroups());
        assertThrows(UserError.class, () -> m.with("matryoshka_loss", "mean"));
        assertEquals("saelens", m.with("matryoshka_loss", "saelens").matryoshkaLoss());
        assertEquals("equal", m.matryoshkaLoss());
        // a JSON list in a config file
        assertArrayEquals(new int[] {50, 100}, m.with("matryoshka_groups", java.util.List.of(50, 50))
                .matryoshkaGroupEnds());
    }
}
