package dev.atmsae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atmsae.core.ArchKind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link TrainBench} measured for one architecture and shape over its paired repetitions, and what follows from
 * it: the machine's sgemm peak per repetition, which peers count, each case's ratio and share of the peak.
 *
 * <p>Per repetition r: the machine's sgemm peak is the best encoder-product rate any side reached in r (atmsae's
 * engine or a peer's own BLAS); a case's ratio is atmsae's tokens/s over the faster counted peer's, both from r; its
 * share of peak is its dense products' GFLOP/s (products × 2·B·d·n / step time) over r's peak. A peer whose
 * encoder-product rate is, at the median over the repetitions, below {@link #PEER_GEMM_FLOOR} of the repetition's peak
 * is not on an optimised BLAS: it is shown, flagged, and left out of the ratios, rather than lowering the bar.
 */
final class ArchRun {
    /**
     * A peer whose encoder product runs below this share of the machine's sgemm peak (median over the repetitions)
     * does not count: far enough below that load on a shared machine does not put an optimised BLAS there (62–100% at
     * the median under load averages of 8–16 on 2 cores, single repetitions down to 29%), while Debian's reference
     * BLAS sits at about 2%.
     */
    static final double PEER_GEMM_FLOOR = 0.25;
    /** Ratio targets against the faster peer (issue 8): dense codes, sparse codes, the TopK family. */
    static final double TARGET_DENSE = 1.0;
    static final double TARGET_SPARSE = 2.0;
    static final double TARGET_TOPK = 2.5;
    /** The dense products' share of the sgemm peak that dense-code steps should reach (issue 8). */
    static final double TARGET_SHARE = 0.75;

    /** One atmsae case of the architecture (dense or sparse codes, or k for the TopK family). */
    static final class CaseRun {
        final String name;
        final boolean sparse;
        final List<Double> tokensPerSecond = new ArrayList<>();
        final List<Double> l0 = new ArrayList<>();
        final List<Boolean> masked = new ArrayList<>();

        CaseRun(String name, boolean sparse) {
            this.name = name;
            this.sparse = sparse;
        }
    }

    final String arch;
    final ArchKind kind;
    final int d;
    final int n;
    final int batch;
    final List<CaseRun> cases = new ArrayList<>();
    /** Peer name → its ready line (versions, BLAS). */
    final Map<String, JsonNode> peerInfo = new LinkedHashMap<>();
    /** Peer name → tokens/s per repetition (NaN where it gave none). */
    final Map<String, List<Double>> peerTokensPerSecond = new LinkedHashMap<>();
    /** Peer name → its encoder product's GFLOP/s per repetition. */
    final Map<String, List<Double>> peerGemm = new LinkedHashMap<>();
    /** atmsae's engine product rates per repetition. */
    final List<Map<ProductRates.Layout, Double>> engineRates = new ArrayList<>();

    ArchRun(String arch, int d, int n, int batch) {
        this.arch = arch;
        this.kind = ArchKind.parse(arch);
        this.d = d;
        this.n = n;
        this.batch = batch;
    }

    boolean denseCodes() {
        return kind == ArchKind.RELU || kind == ArchKind.ATM || kind == ArchKind.JUMPRELU;
    }

    int repetitions() {
        return engineRates.size();
    }

    double target(CaseRun c) {
        return !denseCodes() ? TARGET_TOPK : c.sparse ? TARGET_SPARSE : TARGET_DENSE;
    }

    /** Whether the share-of-peak target applies: dense codes on the dense path, where products are most of a step. */
    boolean shareTargetApplies(CaseRun c) {
        return denseCodes() && !c.sparse;
    }

    /** The machine's measured sgemm peak in repetition r: the best encoder-product rate of any side. */
    double peak(int r) {
        double best = engineRates.get(r).get(ProductRates.Layout.NT);
        for (List<Double> g : peerGemm.values()) {
            if (!Double.isNaN(g.get(r))) {
                best = Math.max(best, g.get(r));
            }
        }
        return best;
    }

    Spread peak() {
        List<Double> v = new ArrayList<>();
        for (int r = 0; r < repetitions(); r++) {
            v.add(peak(r));
        }
        return Spread.of(v);
    }

    Spread engineRate(ProductRates.Layout layout) {
        List<Double> v = new ArrayList<>();
        for (Map<ProductRates.Layout, Double> rates : engineRates) {
            if (rates.containsKey(layout)) {
                v.add(rates.get(layout));
            }
        }
        return Spread.of(v);
    }

    Spread peerTokens(String peer) {
        return Spread.of(present(peerTokensPerSecond.get(peer)));
    }

    Spread peerGemm(String peer) {
        return Spread.of(present(peerGemm.get(peer)));
    }

    /** A peer's encoder-product rate over the machine's sgemm peak, per repetition (both from the same one). */
    Spread peerShareOfPeak(String peer) {
        List<Double> v = new ArrayList<>();
        List<Double> gemm = peerGemm.get(peer);
        for (int r = 0; r < gemm.size(); r++) {
            if (!Double.isNaN(gemm.get(r))) {
                v.add(gemm.get(r) / peak(r));
            }
        }
        return Spread.of(v);
    }

    /** Peer name → why it does not count (only peers that are flagged). */
    Map<String, String> excludedPeers() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String peer : peerInfo.keySet()) {
            Spread share = peerShareOfPeak(peer);
            if (!share.present()) {
                out.put(peer, "it gave no measurement");
            } else if (share.median() < PEER_GEMM_FLOOR) {
                out.put(peer, String.format(Locale.ROOT, "its encoder product ran at %.1f GFLOP/s, %.0f%% of the "
                                + "machine's measured sgemm peak (%.1f GFLOP/s; medians over the repetitions; the floor "
                                + "is %.0f%%): it is not on an optimised BLAS (%s)", peerGemm(peer).median(),
                        100 * share.median(), peak().median(), 100 * PEER_GEMM_FLOOR,
                        peerInfo.get(peer).path("blas").asText("BLAS unknown")));
            }
        }
        return out;
    }

    /** atmsae over the faster counted peer, per repetition (none where no peer counts). */
    Spread ratio(CaseRun c) {
        Map<String, String> excluded = excludedPeers();
        List<Double> v = new ArrayList<>();
        for (int r = 0; r < c.tokensPerSecond.size(); r++) {
            double best = 0;
            for (Map.Entry<String, List<Double>> p : peerTokensPerSecond.entrySet()) {
                if (!excluded.containsKey(p.getKey()) && !Double.isNaN(p.getValue().get(r))) {
                    best = Math.max(best, p.getValue().get(r));
                }
            }
            if (best > 0) {
                v.add(c.tokensPerSecond.get(r) / best);
            }
        }
        return Spread.of(v);
    }

    /** B×d×n products per step, by layout: see {@link ProductRates.Layout}. */
    Map<ProductRates.Layout, Integer> products(CaseRun c) {
        Map<ProductRates.Layout, Integer> mix = new LinkedHashMap<>();
        double l0 = Spread.of(c.l0).median();
        // the TopK family and batches on the active-entry path (DenseCodeSae: density ≤ 1/16) run only the encoder
        if (!denseCodes() || l0 <= n / 16.0) {
            mix.put(ProductRates.Layout.NT, 1);
            return mix;
        }
        boolean atmMasking = kind == ArchKind.ATM && c.masked.contains(true);
        mix.put(ProductRates.Layout.NT, atmMasking ? 3 : 2);
        mix.put(ProductRates.Layout.NN, atmMasking ? 2 : 1);
        mix.put(ProductRates.Layout.TN, 2);
        return mix;
    }

    int productCount(CaseRun c) {
        return products(c).values().stream().mapToInt(Integer::intValue).sum();
    }

    /** The dense products' GFLOP/s over the repetition's peak, per repetition. */
    Spread share(CaseRun c) {
        double flopPerToken = productCount(c) * 2.0 * d * n;
        List<Double> v = new ArrayList<>();
        for (int r = 0; r < c.tokensPerSecond.size(); r++) {
            v.add(flopPerToken * c.tokensPerSecond.get(r) * 1e-9 / peak(r));
        }
        return Spread.of(v);
    }

    /**
     * Where a dense-code step's time goes, medians over the repetitions: {step s, products s at the engine's rates
     * measured in the same repetition, the rest s}.
     */
    double[] stepSplit(CaseRun c) {
        Map<ProductRates.Layout, Integer> mix = products(c);
        double flop = 2.0 * batch * d * n;
        List<Double> steps = new ArrayList<>();
        List<Double> products = new ArrayList<>();
        for (int r = 0; r < c.tokensPerSecond.size(); r++) {
            double p = 0;
            for (Map.Entry<ProductRates.Layout, Integer> e : mix.entrySet()) {
                Double rate = engineRates.get(r).get(e.getKey());
                p += rate == null ? Double.NaN : e.getValue() * flop / (rate * 1e9);
            }
            steps.add(batch / c.tokensPerSecond.get(r));
            products.add(p);
        }
        double step = Spread.of(steps).median();
        double prod = Spread.of(products).median();
        return new double[] {step, prod, step - prod};
    }

    private static List<Double> present(List<Double> values) {
        List<Double> v = new ArrayList<>();
        if (values != null) {
            for (double x : values) {
                if (!Double.isNaN(x)) {
                    v.add(x);
                }
            }
        }
        return v;
    }
}
