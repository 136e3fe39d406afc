package dev.atmsae.eval.absorption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.Philox;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The min-probe-F1 class filter is applied visibly, and the k-sparse F1-jump rule. */
class AbsorptionFilterTest {
    /** Parent "A" lives along axis 0; parent "B" is a random label with no signal; d = 6, identity SAE. */
    static ProbeSet twoParents() {
        int n = 1200, d = 6;
        float[] acts = new float[n * d];
        int[] parent = new int[n], child = new int[n], split = new int[n];
        for (int i = 0; i < n; i++) {
            double u = Philox.uniform(21, Philox.STREAM_PROBE, i);
            parent[i] = u < 0.3 ? 0 : u < 0.6 ? 1 : -1;
            child[i] = -1;
            split[i] = i < 0.8 * n ? 0 : 1;
            for (int j = 0; j < d; j++) {
                acts[i * d + j] = (float) (0.3 * Math.abs(Philox.gaussian(21, Philox.STREAM_PROBE, 10_000 + (long) i * d + j)));
            }
            if (parent[i] == 0) {
                acts[i * d] += 2.0f;
            }
        }
        return new ProbeSet("filter", "custom", d, Map.of(), acts,
                List.of(new ProbeSet.ParentClass("A", List.of()), new ProbeSet.ParentClass("B", List.of())),
                parent, child, split, null, null);
    }

    static SaeWeights identity(int d) {
        float[] eye = new float[d * d];
        for (int j = 0; j < d; j++) {
            eye[j * d + j] = 1;
        }
        return new SaeWeights("standard", d, d, eye.clone(), new float[d], eye, new float[d], null, 0, Map.of());
    }

    @Test
    void dropsClassesWithWeakProbesAndSaysWhy() {
        AbsorptionReport r = AbsorptionEval.run(twoParents(), identity(6), AbsorptionOptions.defaults());
        assertEquals(1, r.classesKept());
        assertEquals(1, r.dropped().size());
        assertEquals("B", r.dropped().get(0).name());
        assertTrue(r.dropped().get(0).reason().contains("not above min_probe_f1 0.60"), r.dropped().get(0).reason());
        AbsorptionReport.ClassResult a = r.classes().get(0), b = r.classes().get(1);
        assertTrue(a.kept() && a.probe().f1() > 0.95, a.probe().toString());
        assertFalse(b.kept());
        assertTrue(b.probe().f1() < 0.6, b.probe().toString());
        // means are over the kept class only; std needs two classes
        assertEquals(a.absorptionFraction(), r.meanAbsorptionFraction(), 0.0);
        assertEquals(null, r.stdAbsorptionFraction());
        assertTrue(r.valid());
        assertArrayEquals(new int[] {0}, a.mainLatents());
        // the identity SAE carries A's direction in latent 0 itself: no absorption
        assertEquals(0.0, r.meanFullAbsorption(), 0.0);
        // lowering the bar keeps B; requiring 2 classes at the default bar makes the run invalid
        assertEquals(2, AbsorptionEval.run(twoParents(), identity(6), AbsorptionOptions.defaults().withMinProbeF1(0.0)).classesKept());
        assertFalse(AbsorptionEval.run(twoParents(), identity(6), AbsorptionOptions.defaults().withMinClasses(2)).valid());
        assertTrue(ReportWriter.markdown(r, null).contains("- B: ground-truth probe test F1"));
    }

    @Test
    void kSparseProbingFindsBothHalvesOfASplitParent() {
        // parent rows carry either axis 0 or axis 1 (half each); the identity SAE therefore splits the parent over
        // latents 0 and 1: k = 1 reaches F1 ≈ 0.67, k = 2 ≈ 1.0 (a jump > 0.03), k = 3 adds nothing
        int n = 1500, d = 5;
        float[] acts = new float[n * d];
        int[] parent = new int[n], child = new int[n], split = new int[n];
        for (int i = 0; i < n; i++) {
            double u = Philox.uniform(33, Philox.STREAM_PROBE, i);
            parent[i] = u < 0.4 ? 0 : -1;
            child[i] = -1;
            split[i] = i % 5 == 0 ? 1 : 0;
            for (int j = 0; j < d; j++) {
                acts[i * d + j] = (float) (0.2 * Math.abs(Philox.gaussian(33, Philox.STREAM_PROBE, 50_000 + (long) i * d + j)));
            }
            if (parent[i] == 0) {
                acts[i * d + (u < 0.2 ? 0 : 1)] += 2.0f;
            }
        }
        ProbeSet set = new ProbeSet("split", "custom", d, Map.of(), acts, List.of(new ProbeSet.ParentClass("P", List.of())),
                parent, child, split, null, null);
        AbsorptionReport r = AbsorptionEval.run(set, identity(d), AbsorptionOptions.defaults());
        AbsorptionReport.ClassResult c = r.classes().get(0);
        int[] main = c.mainLatents().clone();
        java.util.Arrays.sort(main);
        assertArrayEquals(new int[] {0, 1}, main, java.util.Arrays.toString(c.f1PerK()));
        assertTrue(c.f1PerK()[0] < 0.8 && c.f1PerK()[1] > 0.95, java.util.Arrays.toString(c.f1PerK()));
        assertEquals(3, c.f1PerK().length);
        assertEquals(2.0, r.meanNumSplitFeatures(), 0.0);
        // both halves are main latents, so nothing is absorbed
        assertEquals(0.0, r.meanFullAbsorption(), 0.0);
        assertTrue(r.meanAbsorptionFraction() < 0.02, "fraction " + r.meanAbsorptionFraction());
    }

    @Test
    void f1JumpRuleStopsAtTheFirstSmallJump() {
        double[] f1 = {0.70, 0.75, 0.77, 0.95};
        KSparseProbing.Result r = KSparseProbing.accept(new int[] {9, 4, 2, 7}, k -> f1[k - 1], 0.03);
        assertArrayEquals(new int[] {9, 4}, r.main());
        assertArrayEquals(new double[] {0.70, 0.75, 0.77}, r.f1PerK(), 0.0);
        // k = 1 is always accepted even with F1 = 0
        assertArrayEquals(new int[] {9}, KSparseProbing.accept(new int[] {9, 4}, k -> 0.0, 0.03).main());
    }

    @Test
    void topKIsBySignedWeight() {
        assertArrayEquals(new int[] {2, 0}, KSparseProbing.topSigned(new double[] {0.5, -3.0, 1.0, 0.1}, 2));
    }
}
