package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Evaluation#absorption} on a {@link ProbeSet} built in code gives the numbers the internal evaluation gives on
 * the same set read from disk (what {@code atmsae absorption} runs); the probe set round-trips through its directory.
 */
class EvaluationApiTest {
    private static final int D = 8;
    private static final int N = 16;

    @TempDir
    Path tmp;

    /** Parent "a" along e0 with children "a1" (+e1) and "a2" (+e2), parent "b" along e3; negatives elsewhere. */
    private static ProbeSet probeSet() {
        Random r = new Random(4);
        ProbeSet.Builder b = ProbeSet.builder("toy", D);
        for (int i = 0; i < 240; i++) {
            float[] x = new float[D];
            for (int j = 0; j < D; j++) {
                x[j] = (float) (0.1 * r.nextGaussian());
            }
            int kind = i % 4;
            boolean test = i % 3 == 0;
            switch (kind) {
                case 0 -> {
                    x[0] += 2;
                    x[1] += 1;
                    b.add(x, "a", "a1", test);
                }
                case 1 -> {
                    x[0] += 2;
                    x[2] += 1;
                    b.add(x, "a", "a2", test);
                }
                case 2 -> {
                    x[3] += 2;
                    b.add(x, "b", null, test);
                }
                default -> {
                    x[4] += 1;
                    b.add(x, null, null, test);
                }
            }
        }
        return b.build();
    }

    @Test
    void absorptionOnACodeBuiltProbeSetMatchesTheCommandLinePath() {
        Random r = new Random(8);
        float[] wEnc = new float[D * N];
        float[] wDec = new float[N * D];
        for (int i = 0; i < N; i++) {
            int axis = i % D;
            wEnc[axis * N + i] = 1f + 0.1f * (float) r.nextGaussian();
            wDec[i * D + axis] = 1f;
        }
        Path dir = tmp.resolve("sae");
        SaeExport.write(dir, new SaeWeights("standard", D, N, wEnc, new float[N], wDec, new float[D], null, 0, Map.of()),
                null);
        ProbeSet set = probeSet();
        assertEquals(240, set.size());
        assertEquals(java.util.List.of("a", "b"), set.parents());
        set.save(tmp.resolve("probes"));
        ProbeSet back = ProbeSet.load(tmp.resolve("probes"));
        assertEquals(set.size(), back.size());

        try (Sae sae = Sae.load(dir, Device.cpu(1))) {
            AbsorptionResult result = Evaluation.absorption(sae, set, 0.5);
            AbsorptionReport expected = AbsorptionEval.run(ProbeSets.read(tmp.resolve("probes")),
                    SaeLoader.read(dir), AbsorptionOptions.defaults().withMinProbeF1(0.5));
            assertEquals(expected.classesKept(), result.classesKept());
            assertEquals(2, result.classes().size());
            assertTrue(result.classesKept() >= 1, result.json());
            assertEquals(expected.meanAbsorptionFraction(), result.meanAbsorptionFraction(), 1e-9);
            assertEquals(expected.meanFullAbsorption(), result.meanFullAbsorption(), 1e-9);
            assertTrue(result.json().contains("\"absorption\""));

            ProbeSet narrow = ProbeSet.builder("narrow", D + 1).add(new float[D + 1], "a", null, true).build();
            AtmsaeException e = assertThrows(AtmsaeException.class, () -> Evaluation.absorption(sae, narrow));
            assertTrue(e.getMessage().contains("has d = " + (D + 1)), e.getMessage());
        }
    }
}
