package dev.atmsae.eval.absorption;

import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.probe.BinaryMetrics;
import dev.atmsae.eval.probe.LogisticModel;
import dev.atmsae.eval.probe.LogisticRegression;
import dev.atmsae.eval.probe.Rows;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Feature absorption of an SAE on a probe set (absorption.md §2–§4, §9): per parent P a P-vs-rest ground-truth probe
 * on the train split, main latents by k-sparse probing, and the §4.3/§4.4/§4.5 rules on the test rows of P that the
 * probe marks positive, with A = x·p̂ from the raw activation. Classes whose probe test F1 is not above
 * {@code minProbeF1} or that have no scored rows are dropped from the means, and listed with the reason.
 */
public final class AbsorptionEval {
    private static final int PROBE_ITERATIONS = 500;

    private AbsorptionEval() {
    }

    /** Ground-truth probe of one parent: the model plus its test quality. */
    public record GroundTruthProbe(LogisticModel model, AbsorptionReport.ProbeQuality quality, double[] testLogits) {
    }

    public static AbsorptionReport run(ProbeSet set, SaeWeights sae, AbsorptionOptions options) {
        checkWidth(set, sae);
        return run(set, sae, SaeForward.encode(sae, set.acts(), set.n()), options);
    }

    /** As {@link #run(ProbeSet, SaeWeights, AbsorptionOptions)} with the SAE codes of every row precomputed. */
    public static AbsorptionReport run(ProbeSet set, SaeWeights sae, SaeForward.Codes codes, AbsorptionOptions options) {
        return run(set, sae, codes, options, new ProbeCache(set));
    }

    /**
     * The ground-truth probes depend only on the probe set and the probe L2, not on the SAE: a sweep fits them once
     * per probe set and scores every SAE against the same probes (which also makes SAEs comparable).
     */
    public static final class ProbeCache {
        private final ProbeSet set;
        /** Where the probes are kept between processes ({@link GroundTruthProbeFile}), or null for memory only. */
        private final Path dir;
        private final long fingerprint;
        private final java.util.concurrent.ConcurrentHashMap<String, GroundTruthProbe> probes =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicInteger fits = new java.util.concurrent.atomic.AtomicInteger();

        /** Probes kept in memory for this process. */
        public ProbeCache(ProbeSet set) {
            this(set, null);
        }

        private ProbeCache(ProbeSet set, Path dir) {
            this.set = set;
            this.dir = dir;
            this.fingerprint = dir == null ? 0 : GroundTruthProbeFile.fingerprint(set);
            if (dir != null) {
                probes.putAll(GroundTruthProbeFile.read(dir, fingerprint));
            }
        }

        /** Probes also kept in the probe-set directory {@code dir} that {@code set} was read from. */
        public static ProbeCache storedIn(ProbeSet set, Path dir) {
            return new ProbeCache(set, dir);
        }

        /**
         * The P-vs-rest ground-truth probe of parent {@code parent} at L2 {@code l2}: fitted on the set's train rows
         * with label = membership in the parent, measured on its test rows — the only inputs, so the cache key is
         * (parent, l2).
         */
        public GroundTruthProbe parentProbe(int parent, double l2) {
            return parentProbes(List.of(parent), l2).get(0);
        }

        /**
         * {@link #parentProbe} for several parents; the missing ones are fitted together, in lockstep groups (one
         * per parallel worker) that read the rows once per round for the whole group, and then stored. One caller
         * fits at a time: concurrent evaluations (a sweep's parallel runs) wait for the probes instead of refitting.
         */
        public synchronized List<GroundTruthProbe> parentProbes(List<Integer> parents, double l2) {
            List<Integer> missing = parents.stream().distinct().filter(p -> !probes.containsKey(key(p, l2))).toList();
            if (!missing.isEmpty()) {
                int[] train = set.rowsOf(ProbeSet.TRAIN);
                int[] test = set.rowsOf(ProbeSet.TEST);
                List<GroundTruthProbe> fitted = LockstepGroups.map(missing, group -> groundTruthProbes(set.acts(),
                        set.d(), train, test, group.stream().map(p -> parentLabel(set, p)).toList(), l2));
                for (int m = 0; m < missing.size(); m++) {
                    probes.put(key(missing.get(m), l2), fitted.get(m));
                    fits.incrementAndGet();
                }
                if (dir != null) {
                    GroundTruthProbeFile.write(dir, fingerprint, new java.util.TreeMap<>(probes));
                }
            }
            return parents.stream().map(p -> probes.get(key(p, l2))).toList();
        }

        private static String key(int parent, double l2) {
            return parent + "/" + l2;
        }

        /** How many probes this cache has fitted (not read from memory or disk). */
        int fits() {
            return fits.get();
        }
    }

    /** As above, reusing (and filling) {@code cache}, which must belong to {@code set}. */
    public static AbsorptionReport run(ProbeSet set, SaeWeights sae, SaeForward.Codes codes, AbsorptionOptions options,
                                       ProbeCache cache) {
        if (cache.set != set) {
            throw new IllegalArgumentException("the probe cache belongs to another probe set");
        }
        checkWidth(set, sae);
        if (codes.rows() != set.n() || codes.cols() != sae.dSae()) {
            throw new IllegalArgumentException("codes do not match the probe set and SAE");
        }
        List<Integer> parentIds = selectParents(set, options.parents());
        double[] norms = SaeForward.decoderNorms(sae);
        int[] train = set.rowsOf(ProbeSet.TRAIN);
        int[] test = set.rowsOf(ProbeSet.TEST);
        if (train.length == 0 || test.length == 0) {
            throw new UserError("probe set '" + set.name() + "' needs both train and test rows (train " + train.length
                    + ", test " + test.length + ")");
        }
        cache.parentProbes(parentIds, options.probeL2()); // fitted together where missing, before the per-class work
        List<int[]> ranked = KSparseProbing.rankedLatents(codes, train,
                parentIds.stream().map(p -> parentLabel(set, p)).toList(), options.maxK());
        List<AbsorptionReport.ClassResult> classes = IntStream.range(0, parentIds.size()).parallel()
                .mapToObj(q -> scoreParent(set, sae, codes, norms, train, test, parentIds.get(q), ranked.get(q), options,
                        cache)).toList();
        return aggregate(set, sae, options, parentIds.size(), classes);
    }

    /** One-line error when the SAE and the probe set disagree on the activation width. */
    public static void checkWidth(ProbeSet set, SaeWeights sae) {
        if (sae.dIn() != set.d()) {
            throw new UserError("SAE d_in = " + sae.dIn() + " but probe set '" + set.name() + "' has d = " + set.d());
        }
    }

    private static List<Integer> selectParents(ProbeSet set, List<String> names) {
        List<Integer> ids = new ArrayList<>();
        if (names == null || names.isEmpty()) {
            for (int p = 0; p < set.parents().size(); p++) {
                ids.add(p);
            }
            return ids;
        }
        for (String name : names) {
            int found = -1;
            for (int p = 0; p < set.parents().size(); p++) {
                if (set.parents().get(p).name().equalsIgnoreCase(name)) {
                    found = p;
                }
            }
            if (found < 0) {
                throw new UserError("probe set '" + set.name() + "' has no parent class '" + name + "' (has "
                        + set.parents().stream().map(ProbeSet.ParentClass::name).toList() + ")");
            }
            ids.add(found);
        }
        return ids;
    }

    /** Fits the class-balanced P-vs-rest probe on the train rows and measures it on the test rows. */
    public static GroundTruthProbe groundTruthProbe(float[] acts, int d, int[] train, int[] test, boolean[] label, double l2) {
        return groundTruthProbes(acts, d, train, test, List.of(label), l2).get(0);
    }

    /** {@link #groundTruthProbe} for several labels, fitted in lockstep on the same rows (each with its own bits). */
    public static List<GroundTruthProbe> groundTruthProbes(float[] acts, int d, int[] train, int[] test,
                                                           List<boolean[]> labels, double l2) {
        Rows trainRows = Rows.floats(acts, d, train);
        List<boolean[]> yTrains = labels.stream().map(label -> KSparseProbing.select(label, train)).toList();
        List<LogisticModel> models = LogisticRegression.fitBalancedAll(trainRows, yTrains, l2, PROBE_ITERATIONS);
        List<GroundTruthProbe> out = new ArrayList<>();
        for (int c = 0; c < labels.size(); c++) {
            boolean[] yTrain = yTrains.get(c);
            boolean[] yTest = KSparseProbing.select(labels.get(c), test);
            LogisticModel model = models.get(c);
            double[] trainLogits = model.logits(trainRows);
            double[] testLogits = model.logits(Rows.floats(acts, d, test));
            BinaryMetrics atZero = BinaryMetrics.of(testLogits, yTest, 0.0);
            double thr = BinaryMetrics.bestF1Threshold(trainLogits, yTrain);
            BinaryMetrics tuned = BinaryMetrics.of(testLogits, yTest, thr);
            int trainPos = count(yTrain), testPos = count(yTest);
            out.add(new GroundTruthProbe(model, new AbsorptionReport.ProbeQuality(trainPos, testPos, atZero.precision(),
                    atZero.recall(), atZero.f1(), thr, tuned.precision(), tuned.recall(), tuned.f1()), testLogits));
        }
        return out;
    }

    private static AbsorptionReport.ClassResult scoreParent(ProbeSet set, SaeWeights sae, SaeForward.Codes codes,
                                                            double[] norms, int[] train, int[] test, int p,
                                                            int[] ranked, AbsorptionOptions options, ProbeCache cache) {
        ProbeSet.ParentClass parent = set.parents().get(p);
        Scored scoredRows = scoredRows(set, sae, test, p, options, cache);
        GroundTruthProbe probe = scoredRows.probe();
        double[] cos = scoredRows.cos();
        int topCos = 0;
        for (int j = 1; j < cos.length; j++) {
            if (cos[j] > cos[topCos]) {
                topCos = j;
            }
        }
        KSparseProbing.Result ks = KSparseProbing.selectMain(codes, train, test, scoredRows.label(), ranked,
                options.f1Jump());
        int[] scored = scoredRows.rows();
        double[] a = scoredRows.a();
        String[] childOf = scoredRows.childOf();
        ParentScorer.Scores s = new ParentScorer(codes, cos, norms, ks.main()).score(scored, a, childOf);
        String reason = null;
        if (!(probe.quality().f1() > options.minProbeF1())) {
            reason = String.format("ground-truth probe test F1 %.3f is not above min_probe_f1 %.2f", probe.quality().f1(),
                    options.minProbeF1());
        } else if (scored.length == 0) {
            reason = "no test rows of this class are probe true positives";
        }
        return new AbsorptionReport.ClassResult(parent.name(), reason == null, reason, probe.quality(), ks.main(),
                ks.f1PerK(), topCos, cos[topCos], s.nScored(), s.fraction(), s.legacy(), s.full(), s.children(),
                s.absorbing());
    }

    /** Per row of {@code set}: whether it belongs to parent class {@code p}. */
    static boolean[] parentLabel(ProbeSet set, int p) {
        boolean[] label = new boolean[set.n()];
        for (int i = 0; i < label.length; i++) {
            label[i] = set.parent()[i] == p;
        }
        return label;
    }

    /**
     * The rows one parent is scored on: test rows of P that its ground-truth probe marks positive, with A = x·p̂ of
     * the raw activation, each row's child name, and cos(d_i, p̂) of every latent.
     */
    record Scored(GroundTruthProbe probe, boolean[] label, double[] cos, int[] rows, double[] a, String[] childOf) {
    }

    static Scored scoredRows(ProbeSet set, SaeWeights sae, int[] test, int p, AbsorptionOptions options,
                             ProbeCache cache) {
        ProbeSet.ParentClass parent = set.parents().get(p);
        boolean[] label = parentLabel(set, p);
        GroundTruthProbe probe = cache.parentProbe(p, options.probeL2());
        double[] unit = probe.model().unitDirection();
        double[] cos = SaeForward.decoderCosines(sae, unit);
        List<Integer> scoredList = new ArrayList<>();
        for (int t = 0; t < test.length; t++) {
            if (label[test[t]] && probe.testLogits()[t] > 0) {
                scoredList.add(test[t]);
            }
        }
        int[] scored = scoredList.stream().mapToInt(Integer::intValue).toArray();
        double[] a = new double[scored.length];
        String[] childOf = new String[scored.length];
        for (int t = 0; t < scored.length; t++) {
            int row = scored[t];
            double dot = 0;
            for (int i = 0; i < set.d(); i++) {
                dot += set.acts()[row * set.d() + i] * unit[i];
            }
            a[t] = dot;
            int c = set.child()[row];
            childOf[t] = c < 0 ? ParentScorer.NO_CHILD : parent.children().get(c);
        }
        return new Scored(probe, label, cos, scored, a, childOf);
    }

    private static AbsorptionReport aggregate(ProbeSet set, SaeWeights sae, AbsorptionOptions options, int nParents,
                                              List<AbsorptionReport.ClassResult> classes) {
        List<AbsorptionReport.ClassResult> kept = classes.stream().filter(AbsorptionReport.ClassResult::kept).toList();
        List<AbsorptionReport.DroppedClass> dropped = classes.stream().filter(c -> !c.kept())
                .map(c -> new AbsorptionReport.DroppedClass(c.name(), c.dropReason())).toList();
        int minClasses = options.minClassesForEval() != null ? options.minClassesForEval()
                : AbsorptionOptions.defaultMinClasses(set.kind(), nParents);
        Map<String, Object> saeInfo = new LinkedHashMap<>();
        saeInfo.put("architecture", sae.architecture());
        saeInfo.put("d_in", sae.dIn());
        saeInfo.put("d_sae", sae.dSae());
        if (sae.k() > 0) {
            saeInfo.put("k", sae.k());
        }
        if (sae.metadata() != null) {
            for (String key : List.of("model_name", "hook_name")) {
                if (sae.metadata().get(key) != null) {
                    saeInfo.put(key, sae.metadata().get(key));
                }
            }
        }
        double[] frac = kept.stream().mapToDouble(AbsorptionReport.ClassResult::absorptionFraction).toArray();
        double[] legacy = kept.stream().mapToDouble(AbsorptionReport.ClassResult::absorptionFractionLegacy).toArray();
        double[] full = kept.stream().mapToDouble(AbsorptionReport.ClassResult::fullAbsorption).toArray();
        double[] split = kept.stream().mapToDouble(c -> c.mainLatents().length).toArray();
        return new AbsorptionReport(AbsorptionRules.RULE_VERSION, set.name(), set.kind(), set.source(), saeInfo,
                options.minProbeF1(), minClasses, kept.size(), kept.size() >= minClasses && !kept.isEmpty(),
                mean(frac), mean(legacy), mean(full), mean(full), mean(split), std(frac), std(legacy), std(full),
                std(split), dropped, classes);
    }

    /** Mean, or null for no values. */
    public static Double mean(double[] v) {
        return v.length == 0 ? null : IntStream.range(0, v.length).mapToDouble(i -> v[i]).sum() / v.length;
    }

    /** Sample standard deviation (n − 1, Python's statistics.stdev), or null for fewer than two values. */
    public static Double std(double[] v) {
        if (v.length < 2) {
            return null;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    private static int count(boolean[] y) {
        int c = 0;
        for (boolean v : y) {
            c += v ? 1 : 0;
        }
        return c;
    }
}
