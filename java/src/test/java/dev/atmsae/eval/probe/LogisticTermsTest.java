package dev.atmsae.eval.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.atmsae.core.Philox;
import org.junit.jupiter.api.Test;

/** The vectorised logistic terms against a scalar float64 reference, over margins from tiny to overflowing. */
class LogisticTermsTest {
    @Test
    void lossAndSlopesMatchTheScalarDefinitionIncludingTheTailAndExtremeMargins() {
        int count = 103; // not a multiple of the lane count: the scalar tail runs too
        double[] z = new double[count], sign = new double[count], weight = new double[count];
        for (int i = 0; i < count; i++) {
            double scale = i % 7 == 0 ? 800 : i % 5 == 0 ? 40 : 3; // e^{800} overflows a naive softplus
            z[i] = scale * Philox.gaussian(21, Philox.STREAM_PROBE, i);
            sign[i] = Philox.uniform(21, Philox.STREAM_PROBE, 1000 + i) < 0.3 ? -1 : 1;
            weight[i] = 0.5 + Philox.uniform(21, Philox.STREAM_PROBE, 2000 + i);
        }
        double[] slope = new double[count];
        double loss = LogisticTerms.lossAndSlopes(z, sign, weight, count, slope);
        double refLoss = 0;
        for (int i = 0; i < count; i++) {
            double m = sign[i] * z[i];
            double softplus = m > 30 ? m + Math.exp(-m) : Math.log1p(Math.exp(m)); // log(1 + e^m)
            refLoss += weight[i] * softplus;
            double sigmoid = 1 / (1 + Math.exp(-m));
            assertEquals(sign[i] * weight[i] * sigmoid, slope[i], 1e-14, "slope " + i + " at m = " + m);
        }
        assertEquals(refLoss, loss, 1e-13 * refLoss);
        assertEquals(loss, LogisticTerms.lossAndSlopes(z, sign, weight, count, null), 0.0, "the loss without slopes");
    }
}
