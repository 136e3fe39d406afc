package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API's value objects describe themselves in one line a person can read in a log. */
class ValueDescriptionTest {
    @TempDir
    Path tmp;

    @Test
    void saeNamesArchitectureShapeSourceAndDevice() {
        Path dir = tmp.resolve("runs/topk");
        SaeExport.write(dir, new SaeWeights("topk", 6, 10, new float[60], new float[10], new float[60], new float[6],
                null, 3, Map.of()), null);
        Sae sae = Sae.load(dir, Device.cpu(2));
        assertEquals("Sae[topk k=3, d_in 6 × d_sae 10, saelens from " + dir + ", on cpu (2 threads)]", sae.toString());
        assertEquals(dir, sae.source());
        sae.close();
        assertEquals("Sae[topk k=3, d_in 6 × d_sae 10, saelens from " + dir + ", closed]", sae.toString());
        assertEquals("cpu (1 thread)", Device.cpu(1).toString());
        assertEquals("cuda", Device.cuda().toString());
    }

    @Test
    void trainingResultSaysHowTheRunEnded() {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("tokens", 199_680L);
        summary.put("tokens_per_s", 64_012.4);
        summary.put("config", Map.of("arch", "topk", "width", 256));
        summary.put("final_metrics", Map.of("fvu", 0.21301, "l0", 8.0));
        summary.put("wall_seconds", 3.14);
        Path dir = Path.of("runs/topk");
        assertEquals("TrainingResult[completed: topk width 256, 195 steps (199680 tokens) in 3.1 s, 64012 tokens/s; on "
                + "the training data fvu 0.2130, L0 8.00; SAE in runs/topk]",
                new TrainingResult(true, null, 195, 195, dir, summary).toString());
        assertEquals("TrainingResult[stopped (cancelled) after step 12 of 195: topk width 256; checkpoint in runs/topk, "
                + "continue with Training.resume]", new TrainingResult(false, "cancelled", 12, 195, dir,
                Map.of("config", Map.of("arch", "topk", "width", 256))).toString());
        assertEquals("TrainingResult[completed: an SAE, 5 steps; SAE in runs/topk]",
                new TrainingResult(true, null, 5, 5, dir, Map.of()).toString());
    }

    @Test
    void metricsAndProgressAreOneLine() {
        assertEquals("ReconstructionMetrics[1000 tokens: fvu 0.2500 (explained variance 0.7500), mse 0.5000, cosine "
                + "0.900, L0 8.00, L1 3.000, dead 12.5%]",
                new ReconstructionMetrics(0.5, 0.25, 0.75, 0.9, 8, 3, 0.125, 1000).toString());
        assertEquals("TrainingProgress[step 5/10 (5120 tokens): loss 1.000, mse 0.5000, L0 8.00, dead 0.0%, sparsity "
                + "coefficient 0.000, lr 0.001000, 1000 tokens/s]",
                new TrainingProgress(5, 10, 5120, 1, 0.5, 8, 0, 0, 1e-3, 1000).toString());
    }

    @Test
    void absorptionLeavesTheJsonOutAndNamesEachClass() {
        AbsorptionResult.ClassResult kept = new AbsorptionResult.ClassResult("NOUN", true, null, 0.1, 0.02, List.of(3, 7));
        AbsorptionResult.ClassResult dropped = new AbsorptionResult.ClassResult("ADV", false, "probe F1 0.41 <= 0.6",
                Double.NaN, Double.NaN, List.of());
        AbsorptionResult result = new AbsorptionResult(0.1, 0.08, 0.02, 1, false, List.of(kept, dropped), "{\"x\": 1}");
        assertEquals("AbsorptionResult[absorption fraction 0.1000 (legacy 0.0800), full absorption 0.0200; 1 of 2 "
                + "classes kept, not valid (fewer classes kept than the probe set needs)]", result.toString());
        assertEquals("ClassResult[NOUN: absorption fraction 0.1000, full absorption 0.0200, main latents [3, 7]]",
                kept.toString());
        assertEquals("ClassResult[ADV: dropped (probe F1 0.41 <= 0.6)]", dropped.toString());
    }

    @Test
    void probeSetCountsRowsSplitsAndClasses() {
        ProbeSet.Builder b = ProbeSet.builder("toy", 2);
        for (int i = 0; i < 12; i++) {
            String parent = i % 3 == 0 ? null : "p" + (i % 10); // p1 p2 p4 p5 p7 p8 p0 p1, and 4 negatives
            b.add(new float[] {i, 1}, parent, parent != null && i % 2 == 0 ? "c" : null, i % 4 == 0);
        }
        ProbeSet set = b.build();
        assertEquals("ProbeSet[toy (custom), 12 rows of d 2 (9 train, 3 test), 7 parent classes: p1, p2, p4, p5, p7, "
                + "p8, p0; 4 child classes]", set.toString());
        set.save(tmp.resolve("probes"));
        assertTrue(ProbeSet.load(tmp.resolve("probes")).toString().endsWith("; from " + tmp.resolve("probes") + "]"));

        ProbeSet.Builder letters = ProbeSet.builder("letters", 1);
        for (char c = 'a'; c <= 'z'; c++) {
            letters.add(new float[] {c}, String.valueOf(c), null, c % 2 == 0);
        }
        assertEquals("ProbeSet[letters (custom), 26 rows of d 1 (13 train, 13 test), 26 parent classes: a, b, c, d, e, "
                + "f, g, h, … (18 more); 0 child classes]", letters.build().toString());
    }
}
