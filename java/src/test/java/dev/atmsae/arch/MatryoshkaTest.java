package dev.atmsae.arch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Matryoshka BatchTopK beyond the per-architecture suites (ArchGradientTest, ExportInferenceTest,
 * ResumeDeterminismTest, TrainerResumeTest cover it there): it learns a planted dictionary, and its SAELens export,
 * written to disk and read back, reproduces the training-time inference forward and says how it was trained.
 */
class MatryoshkaTest {
    @TempDir
    Path tmp;

    @Test
    void learnsThePlantedDictionary() {
        PlantedRecoveryTest.Run r = PlantedRecoveryTest.train(PlantedRecoveryTest.cfg(ArchKind.MATRYOSHKA,
                Map.of("matryoshka_groups", "8,24,32,64")), 600);
        System.out.println("planted matryoshka: " + r);
        assertTrue(r.lastMse() < 0.2 * r.firstMse(), "loss decreases: " + r);
        assertTrue(r.cosine() > 0.9, "recovery: " + r);
        assertTrue(Math.abs(r.lastL0() - 3) < 1.0, "inference L0 (threshold θ) near k: " + r);
    }

    @Test
    void exportWrittenAndReadBackMatchesTheTrainingForward() {
        int b = ExportInferenceTest.B, d = ExportInferenceTest.D, n = ExportInferenceTest.N;
        float scale = ExportInferenceTest.SCALE;
        try (CpuEngine e = new CpuEngine(1, false); Tensor x = e.allocF32(b, d); Tensor xhat = e.allocF32(b, d);
             Sae sae = ExportInferenceTest.trained(e, ExportInferenceTest.cfg(ArchKind.MATRYOSHKA,
                     Map.of("matryoshka_groups", "1/4,1/4,rest", "matryoshka_loss", "saelens")), x)) {
            float[] raw = ExportInferenceTest.randomBatch(4321, 1f);
            float[] scaled = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                scaled[i] = scale * raw[i];
            }
            e.upload(x, scaled);
            long active = sae.inferenceForward(x, xhat);
            float[] expected = new float[b * d];
            e.download(xhat, expected);

            Path dir = tmp.resolve("sae");
            SaeExport.write(dir, sae.export(scale, Map.of("model_name", "test")), null);
            SaeWeights w = SaeLoader.read(dir);
            assertEquals("jumprelu", w.architecture());
            JsonNode meta = SaeExport.readConfig(dir).path("metadata").path("atmsae");
            assertEquals("matryoshka", meta.path("arch").asText());
            JsonNode m = meta.path("matryoshka");
            assertEquals("matryoshka_batchtopk", m.path("trained_as").asText());
            assertEquals("[4,4,8]", m.path("group_sizes").toString());
            assertEquals("saelens", m.path("loss").asText());
            double theta = meta.path("batchtopk_theta").asDouble();
            for (int i = 0; i < n; i++) {
                assertEquals(theta / scale, w.threshold()[i], 1e-6 * theta, "θ folded for unit rows");
            }
            try (SaeInference inf = new SaeInference(e, w)) {
                e.upload(x, raw);
                InferenceSums sums = inf.run(x);
                float[] got = new float[b * d];
                e.download(inf.reconstruction(), got);
                double maxAbs = 0, maxDiff = 0;
                for (int i = 0; i < got.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(expected[i] / scale));
                    maxDiff = Math.max(maxDiff, Math.abs(expected[i] / scale - got[i]));
                }
                assertTrue(maxDiff <= 1e-5 * maxAbs, "max diff " + maxDiff + " vs max " + maxAbs);
                assertEquals(active, sums.l0Count());
                assertTrue(active > 0);
            }
        }
    }
}
