package dev.atmsae.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MaskActivityTest {
    @Test
    void meanShareOfCodesTheMaskRemovedOverLoggedSteps(@TempDir Path dir) throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        Files.writeString(metrics, """
                {"step":10,"l0":10.0,"l0Masked":10.0}
                {"step":20,"l0":10.0,"l0Masked":8.0}
                {"step":30,"l0":20.0,"l0Masked":19.0
                {"step":40,"l0":0.0,"l0Masked":0.0}
                """);
        // (0 + 0.2) / 2: the cut line (a kill mid-write) and the L0-0 step do not count
        assertEquals(0.1, MaskActivity.maskedCodeFraction(metrics), 1e-12);
        assertTrue(Double.isNaN(MaskActivity.maskedCodeFraction(dir.resolve("absent.jsonl"))));
    }
}
