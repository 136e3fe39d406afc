package dev.atmsae.eval.absorption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The hand-computed cases of absorption.md §4.8. */
class AbsorptionRulesTest {
    /** Builds a sample with A = 10, main = {latent 0}; proj = act·cos (unit decoder rows). */
    private static AbsorptionRules.Sample sample(double[] cos, double[] act) {
        int n = cos.length;
        int[] latent = new int[n];
        double[] proj = new double[n];
        boolean[] main = new boolean[n];
        for (int i = 0; i < n; i++) {
            latent[i] = i;
            proj[i] = act[i] * cos[i];
        }
        main[0] = true;
        return new AbsorptionRules.Sample(latent, act, cos, proj, main, 10.0);
    }

    // m, l1, l2, l3, l4, l5
    private static final double[] COS = {0.8, 0.5, 0.2, 0.15, 0.05, 0.3};

    @Test
    void workedExampleFractionsAndFull() {
        AbsorptionRules.Sample s = sample(COS, new double[] {5, 8, 10, 4, 20, 1});
        assertEquals(0.6, AbsorptionRules.fraction(s), 1e-12);
        assertEquals((11.9 - 4) / 11.9, AbsorptionRules.legacyFraction(s), 1e-12);
        assertEquals(0.6639, AbsorptionRules.legacyFraction(s), 1e-4);
        assertFalse(AbsorptionRules.full(s, new double[] {5}));
        assertArrayEquals(new int[] {1, 2, 3}, AbsorptionRules.absorbers(s));
    }

    @Test
    void silentMainWithStrongAbsorberIsFullAndFractionOne() {
        // a_m = 0 (the main latent does not fire, so it is absent from the firing list), l1 act 12 → proj 6
        double[] cos = {0.5, 0.2, 0.15, 0.05, 0.3};
        double[] act = {12, 10, 4, 20, 1};
        int n = cos.length;
        double[] proj = new double[n];
        for (int i = 0; i < n; i++) {
            proj[i] = act[i] * cos[i];
        }
        AbsorptionRules.Sample s = new AbsorptionRules.Sample(new int[] {1, 2, 3, 4, 5}, act, cos, proj, new boolean[n], 10.0);
        assertTrue(AbsorptionRules.full(s, new double[] {0.0}));
        assertEquals(1.0, AbsorptionRules.fraction(s), 1e-12);
    }

    @Test
    void weakAbsorberIsNeitherFractionNorFull() {
        // a_m = 0, only l1 with proj 3.0 → T/A = 0.3 < 0.4
        AbsorptionRules.Sample s = new AbsorptionRules.Sample(new int[] {1}, new double[] {6}, new double[] {0.5},
                new double[] {3.0}, new boolean[1], 10.0);
        assertEquals(0.0, AbsorptionRules.fraction(s), 0.0);
        assertFalse(AbsorptionRules.full(s, new double[] {0.0}));
    }

    @Test
    void fullNeedsTopLatentCosAboveGateAndMainSilent() {
        // the top-projecting latent has cos 0.02 < 0.025 (huge act) → not full, though main is silent
        AbsorptionRules.Sample s = new AbsorptionRules.Sample(new int[] {1, 2}, new double[] {500, 8},
                new double[] {0.02, 0.5}, new double[] {10, 4}, new boolean[2], 10.0);
        assertFalse(AbsorptionRules.full(s, new double[] {0.0}));
        // a main activation of 1e-9 counts as silent, 1e-8 does not
        AbsorptionRules.Sample t = new AbsorptionRules.Sample(new int[] {1}, new double[] {12}, new double[] {0.5},
                new double[] {6}, new boolean[1], 10.0);
        assertTrue(AbsorptionRules.full(t, new double[] {1e-9}));
        assertFalse(AbsorptionRules.full(t, new double[] {1e-8}));
    }

    @Test
    void zeroOrNegativeProjectionIsGuarded() {
        AbsorptionRules.Sample zero = new AbsorptionRules.Sample(new int[] {1}, new double[] {12}, new double[] {0.5},
                new double[] {6}, new boolean[1], 0.0);
        assertEquals(0.0, AbsorptionRules.fraction(zero), 0.0);
        assertFalse(AbsorptionRules.full(zero, new double[] {0.0}));
        AbsorptionRules.Sample negative = new AbsorptionRules.Sample(new int[] {1}, new double[] {12}, new double[] {0.5},
                new double[] {6}, new boolean[1], -3.0);
        assertEquals(0.0, AbsorptionRules.fraction(negative), 0.0);
        assertFalse(AbsorptionRules.full(negative, new double[] {0.0}));
    }

    @Test
    void mainCarryingEverythingScoresZero() {
        AbsorptionRules.Sample s = sample(COS, new double[] {13, 8, 10, 4, 20, 1}); // M = 10.4 ≥ A
        assertEquals(0.0, AbsorptionRules.fraction(s), 0.0);
        assertEquals(0.0, AbsorptionRules.legacyFraction(s), 0.0);
    }
}
