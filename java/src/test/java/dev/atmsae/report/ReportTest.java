package dev.atmsae.report;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @Test
    void markdownTableRendersCellsAndEscapesPipes() {
        String md = new MarkdownTable("arch", "L0", "FVU").row("atm", 31.7, 0.1234567).row("a|b", Double.NaN, 2e-5).render();
        assertEquals("| arch | L0 | FVU |\n|---|---|---|\n| atm | 31.70 | 0.1235 |\n| a\\|b | – | 2.000e-05 |\n", md);
        assertThrows(IllegalArgumentException.class, () -> new MarkdownTable("a").row(1, 2));
    }

    @Test
    void plotsWritePngFiles(@TempDir Path dir) throws Exception {
        Path lines = Plots.lines(dir.resolve("l.png"), "t", "x", "y",
                List.of(new Plots.Series("a", new double[] {1, 2, 3}, new double[] {3, 1, 2}, new double[] {0.1, 0.2, 0.1})), false);
        Map<String, double[]> g = new LinkedHashMap<>();
        g.put("atm", new double[] {-3, -2.5, -1, -1.2});
        Path hist = Plots.histogram(dir.resolve("h.png"), "t", "log10 density", g, 10, -5, 0);
        Path bars = Plots.bars(dir.resolve("b.png"), "t", "y", List.of("NOUN", "VERB"), Map.of("atm", new double[] {0.1, 0.2}));
        for (Path p : List.of(lines, hist, bars)) {
            byte[] head = Files.readAllBytes(p);
            assertTrue(head.length > 1000, p + " too small");
            assertEquals((byte) 0x89, head[0]);
            assertEquals('P', head[1]);
        }
    }

    @Test
    void matryoshkaNoteSetsItBesideTopKAndBatchTopKWithSeeds() {
        Map<String, Object> spec = Map.of("seeds", List.of(1, 2),
                "target_l0s", List.of(16, 32, 64));
        Map<String, Map<String, Object>> real = new LinkedHashMap<>();
        Map<String, Map<String, Object>> truth = new LinkedHashMap<>();
        String[] archs = {"atm", "topk", "batchtopk", "matryoshka"};
        for (int a = 0; a < archs.length; a++) {
            real.put(archs[a], Map.of("core.l0", Map.of("mean", 32.0, "ci95", 0.5),
                    "core.fvu", Map.of("mean", 0.1 + a / 100.0, "ci95", 0.01),
                    "absorption.absorption_fraction", Map.of("mean", 0.3 - a / 10.0, "ci95", 0.02)));
            truth.put(archs[a], Map.of("truth.absorption_fraction", Map.of("mean", 0.5, "ci95", 0.1)));
        }
        String note = DemoReport.matryoshkaNote(Map.of("spec", spec), Map.of("spec", spec),
                real, truth);
        String[] rows = note.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| architecture")).toArray(String[]::new);
        assertEquals(3, rows.length, note);
        assertTrue(rows[0].startsWith("| matryoshka ") && rows[1].startsWith("| batchtopk ")
                && rows[2].startsWith("| topk "), note);
        assertTrue(rows[0].contains("0.13"), "Matryoshka's FVU: " + rows[0]);
        assertTrue(note.contains("seeds [1, 2]") && note.contains("k = 32"), note);
        assertFalse(note.contains("| atm "), "ATM is not part of this note");
    }

    /** The report's ATM statement names a preset that exists and says plainly that ATM did not win. */
    @Test
    void studyNoteNamesAnExistingPresetAndTheNegativeResult() {
        assertTrue(dev.atmsae.core.AtmPresets.NAMES.contains(dev.atmsae.core.AtmPresets.BATCHTOPK_R03));
        assertTrue(DemoReport.STUDY_NOTE.contains("--preset " + dev.atmsae.core.AtmPresets.BATCHTOPK_R03));
        assertTrue(DemoReport.STUDY_NOTE.contains("found no ATM configuration that beats"));
    }
}
