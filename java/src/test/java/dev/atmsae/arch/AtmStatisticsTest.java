package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** ATM steps 3–6 on a hand-computed example (numbers worked out by hand, written below). */
class AtmStatisticsTest {
    static TrainConfig cfg(double beta) {
        return TrainConfig.defaults(ArchKind.ATM).with(Map.of("width", 3, "k", 1, "atm_ema_beta", beta));
    }

    @Test
    void firstUpdateImportanceThresholdAndProbabilities() {
        // β = 0.5, one update: S = 0.5·s, bias correction 1/(1 − 0.5) = 2, so Â = a, Q̂ = q, R̂ = ρ.
        // a = [1, 0, 2] (mean 1), q = [0.5, 0, 1] (mean 0.5), ρ = [2, 0, 4] (mean 2): each normalised to [1, 0, 2],
        // so I = [1, 0, 2] (less 1e-8 relative), μ = 1, σ = √(2/3) = 0.8164966, θ = 1.8164966.
        // r = 1: p_0 = 1 − exp(−0.8164966/1.8164966) = 0.3620464, p_1 = 1 − e⁻¹ = 0.6321206, p_2 = 0 (I ≥ θ).
        AtmStatistics s = new AtmStatistics(cfg(0.5), 3);
        s.update(new float[]{1, 0, 2}, new float[]{0.5f, 0, 1}, new float[]{2, 0, 4}, 1.0);
        assertArrayEquals(new double[]{1, 0, 2}, s.importance(), 1e-7);
        assertEquals(1.8164966, s.theta(), 1e-6);
        assertArrayEquals(new double[]{0.3620464, 0.6321206, 0}, s.p(), 1e-6);
        assertEquals(2, s.maskableCount());
        // half the rate (mid-ramp): p_0 = 1 − exp(−0.5·0.4494897) = 0.2012800, p_1 = 1 − e^−0.5 = 0.3934693
        s.recompute(0.5);
        assertArrayEquals(new double[]{0.2012800, 0.3934693, 0}, s.p(), 1e-6);
        // rate 0 (before mask_start): nothing masked
        s.recompute(0.0);
        assertArrayEquals(new double[]{0, 0, 0}, s.p(), 0);
    }

    @Test
    void emaBiasCorrectionOverTwoUpdates() {
        // β = 0.5: S₂ = 0.25·s₁ + 0.5·s₂, correction 1/(1 − 0.25) = 4/3, so Â = (s₁ + 2·s₂)/3.
        // a₁ = [1, 0, 2], a₂ = [0, 1, 1] → Â = [1/3, 2/3, 4/3]
        AtmStatistics s = new AtmStatistics(cfg(0.5), 3);
        s.update(new float[]{1, 0, 2}, new float[]{1, 0, 1}, new float[]{1, 1, 1}, 1.0);
        s.update(new float[]{0, 1, 1}, new float[]{0, 1, 1}, new float[]{3, 0, 0}, 1.0);
        assertEquals(1.0 / 3, s.corrected(0, 0), 1e-12);
        assertEquals(2.0 / 3, s.corrected(0, 1), 1e-12);
        assertEquals(4.0 / 3, s.corrected(0, 2), 1e-12);
        // R: s₁ = [1, 1, 1], s₂ = [3, 0, 0] → R̂ = [7/3, 1/3, 1/3]
        assertEquals(7.0 / 3, s.corrected(2, 0), 1e-12);
        assertEquals(1.0 / 3, s.corrected(2, 2), 1e-12);
    }

    @Test
    void pMaxClipsAndAllZeroStatisticsMaskNothing() {
        TrainConfig c = TrainConfig.defaults(ArchKind.ATM).with(Map.of("width", 3, "k", 1, "atm_ema_beta", 0.5,
                "atm_p_max", 0.5, "atm_mask_rate", 10.0));
        AtmStatistics s = new AtmStatistics(c, 3);
        s.update(new float[]{1, 0, 2}, new float[]{0.5f, 0, 1}, new float[]{2, 0, 4}, 10.0);
        assertArrayEquals(new double[]{0.5, 0.5, 0}, s.p(), 0);
        AtmStatistics z = new AtmStatistics(c, 3);
        z.update(new float[3], new float[3], new float[3], 1.0);
        assertArrayEquals(new double[]{0, 0, 0}, z.p(), 0);
    }
}
