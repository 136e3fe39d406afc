package dev.atmsae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The figures make bench derives from paired repetitions: the machine's sgemm peak per repetition, a peer on a slow
 * BLAS flagged and left out of the ratios (the faster counted peer of each repetition is the reference), the dense
 * products' share of the peak, and medians with min–max.
 */
class ArchRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** relu at d = 4, n = 64, batch 10: numpy on an optimised BLAS, torch on a reference one (3 GFLOP/s). */
    private static ArchRun relu() throws Exception {
        ArchRun run = new ArchRun("relu", 4, 64, 10);
        run.peerInfo.put("numpy", JSON.readTree("{\"numpy\": \"2.4\", \"blas\": \"OpenBLAS (core SkylakeX)\"}"));
        run.peerInfo.put("torch", JSON.readTree("{\"torch\": \"1.13\", \"blas\": \"/usr/lib/blas/libblas.so.3 (not OpenBLAS)\"}"));
        run.peerTokensPerSecond.put("numpy", new ArrayList<>(List.of(100.0, 200.0, 150.0, 120.0, 80.0)));
        run.peerTokensPerSecond.put("torch", new ArrayList<>(List.of(1000.0, 1000.0, 1000.0, 1000.0, 1000.0)));
        run.peerGemm.put("numpy", new ArrayList<>(List.of(90.0, 120.0, 100.0, 70.0, 95.0)));
        run.peerGemm.put("torch", new ArrayList<>(List.of(3.0, 3.5, 2.5, 3.0, 4.0)));
        for (double peak : new double[] {100, 110, 90, 100, 80}) {
            Map<ProductRates.Layout, Double> rates = new EnumMap<>(ProductRates.Layout.class);
            rates.put(ProductRates.Layout.NT, peak);
            rates.put(ProductRates.Layout.NN, peak / 2);
            rates.put(ProductRates.Layout.TN, peak / 4);
            run.engineRates.add(rates);
        }
        ArchRun.CaseRun dense = new ArchRun.CaseRun("dense", false);
        dense.tokensPerSecond.addAll(List.of(110.0, 180.0, 180.0, 120.0, 100.0));
        dense.l0.addAll(List.of(30.0, 30.0, 30.0, 30.0, 30.0)); // > n/16: the dense path, five products
        dense.masked.addAll(List.of(false, false, false, false, false));
        run.cases.add(dense);
        return run;
    }

    @Test
    void spreadIsMedianWithRange() {
        Spread s = Spread.of(List.of(3.0, 1.0, 2.0, 10.0));
        assertEquals(2.5, s.median());
        assertEquals(1.0, s.min());
        assertEquals(10.0, s.max());
        assertEquals("2.50× (1.00–10.00)", s.format("%.2f", "×"));
        assertEquals("–", Spread.of(List.of()).format("%.2f", "×"));
    }

    @Test
    void peakIsTheBestSideOfEachRepetition() throws Exception {
        ArchRun run = relu();
        assertEquals(100, run.peak(0));
        assertEquals(120, run.peak(1)); // numpy beat the engine in repetition 2
        assertEquals(95, run.peak(4));
        assertEquals(100, run.peak().median());
    }

    @Test
    void aPeerOnASlowBlasIsExcludedAndTheRatioUsesTheOthers() throws Exception {
        ArchRun run = relu();
        Map<String, String> excluded = run.excludedPeers();
        assertEquals(List.of("torch"), List.copyOf(excluded.keySet()));
        assertTrue(excluded.get("torch").contains("3.0 GFLOP/s, 3% of the machine's measured sgemm peak"),
                excluded.get("torch"));
        assertTrue(excluded.get("torch").contains("not OpenBLAS"), excluded.get("torch"));
        // per repetition atmsae / numpy: 1.1, 0.9, 1.2, 1.0, 1.25 (torch, 1000 tok/s, would have made them all < 0.2)
        Spread ratio = run.ratio(run.cases.get(0));
        assertEquals(1.1, ratio.median(), 1e-12);
        assertEquals(0.9, ratio.min(), 1e-12);
        assertEquals(1.25, ratio.max(), 1e-12);
    }

    @Test
    void withTheSlowPeerOnAnOptimisedBlasItCounts() throws Exception {
        ArchRun run = relu();
        run.peerGemm.put("torch", new ArrayList<>(List.of(60.0, 60.0, 60.0, 60.0, 60.0)));
        assertTrue(run.excludedPeers().isEmpty());
        assertEquals(0.12, run.ratio(run.cases.get(0)).median(), 1e-12); // atmsae over torch's 1000 tok/s
    }

    @Test
    void shareOfPeakCountsTheStepsDenseProducts() throws Exception {
        ArchRun run = relu();
        ArchRun.CaseRun dense = run.cases.get(0);
        assertEquals(5, run.productCount(dense));
        assertTrue(run.shareTargetApplies(dense));
        // the lowest, repetition 5: 5 products × 2·4·64 flop per token × 100 tok/s over its 95 GFLOP/s peak
        double lowest = 5 * 2.0 * 4 * 64 * 100 * 1e-9 / 95;
        List<Double> shares = new ArrayList<>();
        double[] tps = {110, 180, 180, 120, 100};
        double[] peaks = {100, 120, 100, 100, 95};
        for (int r = 0; r < 5; r++) {
            shares.add(5 * 2.0 * 4 * 64 * tps[r] * 1e-9 / peaks[r]);
        }
        assertEquals(Spread.of(shares).median(), run.share(dense).median(), 1e-18);
        assertEquals(lowest, run.share(dense).min(), 1e-18);
        // the step split: products at the engine's own rates of each repetition (NT 2×, NN 1×, TN 2×)
        double[] split = run.stepSplit(dense);
        assertEquals(10 / 120.0, split[0], 1e-12);
        assertEquals(split[0] - split[1], split[2], 1e-15);
        assertFalse(run.shareTargetApplies(new ArchRun.CaseRun("sparse", true)));
    }

    @Test
    void sparseCodesRunOnlyTheEncoderDensely() throws Exception {
        ArchRun run = relu();
        ArchRun.CaseRun sparse = new ArchRun.CaseRun("sparse", true);
        sparse.l0.add(3.0); // ≤ n/16 = 4: the active-entry path
        assertEquals(1, run.productCount(sparse));
        assertEquals(2.0, run.target(sparse));
        assertEquals(1.0, run.target(run.cases.get(0)));
        assertEquals(2.5, new ArchRun("topk", 4, 64, 10).target(sparse));
    }
}
