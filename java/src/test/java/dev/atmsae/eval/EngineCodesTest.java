package dev.atmsae.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.io.SaeWeights;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EngineCodesTest {
    /** Engine codes equal the float64 reference for each SAELens architecture (values to float32 precision). */
    @Test
    void matchesReferenceForward() {
        Random rnd = new Random(7);
        int d = 12, n = 40, rows = 4100 + 37;  // crosses the chunk boundary
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (String arch : new String[] {"standard", "topk", "jumprelu"}) {
            float[] wEnc = randoms(rnd, d * n), wDec = randoms(rnd, d * n), bEnc = randoms(rnd, n), bDec = randoms(rnd, d);
            float[] threshold = null;
            if (arch.equals("jumprelu")) {
                threshold = new float[n];
                for (int j = 0; j < n; j++) {
                    threshold[j] = 0.2f + 0.5f * rnd.nextFloat();
                }
            }
            SaeWeights sae = new SaeWeights(arch, d, n, wEnc, bEnc, wDec, bDec, threshold, arch.equals("topk") ? 5 : 0, Map.of());
            SaeForward.Codes ref = SaeForward.encode(sae, x, rows);
            SaeForward.Codes got;
            try (Engine engine = Engines.cpu(2, false)) {
                got = EngineCodes.encode(engine, sae, x, rows);
            }
            int mismatched = 0;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    double a = ref.get(r, j), b = got.get(r, j);
                    if (Math.abs(a - b) > 1e-4 * (1 + Math.abs(a))) {
                        mismatched++;
                    }
                }
            }
            // Only an activation within float rounding of its threshold / of zero / of the k-th value may differ.
            assertTrue(mismatched <= 2, arch + ": " + mismatched + " code entries differ from the reference");
            assertTrue(got.rowPtr()[rows] > rows, arch + ": codes unexpectedly empty");
        }
    }

    private static float[] randoms(Random rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (rnd.nextGaussian() * 0.5);
        }
        return v;
    }
}
