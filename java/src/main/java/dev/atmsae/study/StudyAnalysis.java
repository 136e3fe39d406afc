package dev.atmsae.study;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The numbers of a study, computed from its runs alone (the report only formats them).
 *
 * <p>Per (configuration, L0 target) a {@link Cell} over the seeds whose run reached its L0 (flagged runs are listed,
 * never compared). Full absorption is the mean over units — tree roots (synthetic truth) or probe classes — pooled
 * over seeds; its 95% interval is a two-level percentile bootstrap (resample seeds, then units within each drawn
 * seed; {@link #RESAMPLES} draws, fixed seed), so it lies in [0, 1] like the metric and widens with seed-to-seed
 * spread. FVU's interval is the percentile bootstrap over seeds. With one seed the FVU interval is a point.
 *
 * <p>The win rule (issue 10): full absorption ≤ 0.5× TopK's and FVU ≤ 1.1× TopK's at the same L0. Its
 * {@code margin} = max(abs ratio / 0.5, FVU ratio / 1.1) is ≤ 1 exactly when the rule holds, and orders
 * configurations by how far they are from it; {@code support} = the fraction of bootstrap draws (configuration and
 * TopK resampled independently) in which the rule holds. With {@code win_against = best_baseline} (issue 21) the
 * absorption reference is instead the lowest full absorption of the baselines at that L0 that meet the FVU bound
 * themselves (FVU ≤ 1.1× TopK's; in each bootstrap draw the lowest of their draws), FVU's stays TopK's.
 */
public final class StudyAnalysis {
    static final int RESAMPLES = 2000;
    static final double ABS_RATIO = 0.5;
    static final double FVU_RATIO = 1.1;
    private static final long BOOT_SEED = 20261130L;

    /** One configuration at one L0 target, over its unflagged seeds. */
    public record Cell(Candidate candidate, String stage, double targetL0, int seeds, int flagged, double l0,
                       double fullAbs, double absLo, double absHi, double fvu, double fvuLo, double fvuHi,
                       double fraction, double dead, double probeAcc, double silentGivenChild, double maskedFraction,
                       Double absVsTopK,
                       Double fvuVsTopK, Double absVsBatchTopK, Double fvuVsBatchTopK, Double absVsMatryoshka,
                       Double fvuVsMatryoshka, Double margin, Double support, List<double[]> seedPoints,
                       double[] absBoot, double[] fvuBoot, Measures measures, VsBest vsBest) {
        public boolean wins() {
            return margin != null && margin <= 1;
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", candidate.name());
            m.put("stage", stage);
            m.put("target_l0", targetL0);
            m.put("seeds", seeds);
            m.put("flagged_runs", flagged);
            m.put("l0", l0);
            m.put("full_absorption", fullAbs);
            m.put("full_absorption_ci95", List.of(absLo, absHi));
            m.put("fvu", fvu);
            m.put("fvu_ci95", List.of(fvuLo, fvuHi));
            m.put("absorption_fraction", fraction);
            m.put("dead_fraction", dead);
            m.put("sparse_probe_acc_k1", probeAcc);
            m.put("silent_given_child", Double.isFinite(silentGivenChild) ? silentGivenChild : null);
            m.put("masked_code_fraction", Double.isFinite(maskedFraction) ? maskedFraction : null);
            m.put("full_absorption_vs_topk", absVsTopK);
            m.put("fvu_vs_topk", fvuVsTopK);
            m.put("full_absorption_vs_batchtopk", absVsBatchTopK);
            m.put("fvu_vs_batchtopk", fvuVsBatchTopK);
            m.put("full_absorption_vs_matryoshka", absVsMatryoshka);
            m.put("fvu_vs_matryoshka", fvuVsMatryoshka);
            m.put("win_margin", margin);
            m.put("win_support", support);
            m.put("wins", wins());
            if (vsBest != null) {
                m.put("best_baseline", vsBest.name());
                m.put("full_absorption_vs_best_baseline", vsBest.absRatio());
            }
            m.put("seed_points_fvu_abs", seedPoints);
            if (measures != null) {
                m.put("measures", measures.toMap());
            }
            return m;
        }
    }

    /**
     * The rule's absorption reference when it is the best baseline: which one, its full absorption and this cell's
     * ratio to it (NaN when the reference is 0: nothing can halve it, and a cell at 0 too only ties).
     */
    public record VsBest(String name, double referenceAbs, double absRatio) {
        /** Both at zero absorption: the rule's inequality holds, but as a tie at the floor, not as a halving. */
        public boolean tieAtZero(double abs) {
            return referenceAbs == 0 && abs == 0;
        }

        String describe(double abs) {
            if (referenceAbs > 0) {
                return String.format(Locale.ROOT, "%.2f× the best baseline's (%s)", absRatio, name);
            }
            return (abs == 0 ? "a tie at zero with the best baseline (" : "above the best baseline's zero (") + name + ")";
        }
    }

    /**
     * The other ground-truth readings of one cell (means over its seeds), present when every run recorded them: the
     * SAEBench rules with main = {argmax cos(d_i, f_P)} instead of the k-sparse main latents, how many main latents
     * the k-sparse rule chose, the silence rate without a child, and the decoder cosines that tell absorption (a child
     * latent writing f_P) from hedging (the parent latent writing its children's directions).
     */
    public record Measures(double fullCos, double fractionCos, double splitFeatures, double silentGivenNoChild,
                           double parentCos, double childCosWithParent, double parentCosWithChildren) {
        static final String[] KEYS = {"full_absorption_cos", "absorption_fraction_cos", "num_split_features",
            "silent_given_no_child", "parent_latent_cos", "child_latent_cos_with_parent",
            "parent_latent_cos_with_children"};

        /** The seeds' means, or null when a run lacks one of them (results written before they were recorded). */
        static Measures of(List<StudyRun> runs) {
            double[] mean = new double[KEYS.length];
            for (StudyRun r : runs) {
                for (int i = 0; i < KEYS.length; i++) {
                    double v = r.result().metric("truth." + KEYS[i]);
                    if (!Double.isFinite(v)) {
                        return null;
                    }
                    mean[i] += v / runs.size();
                }
            }
            return runs.isEmpty() ? null : new Measures(mean[0], mean[1], mean[2], mean[3], mean[4], mean[5], mean[6]);
        }

        Map<String, Object> toMap() {
            double[] v = {fullCos, fractionCos, splitFeatures, silentGivenNoChild, parentCos, childCosWithParent,
                parentCosWithChildren};
            Map<String, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < KEYS.length; i++) {
                m.put(KEYS[i], v[i]);
            }
            return m;
        }
    }

    /**
     * An ATM configuration's standing in a stage: its cells, the mean margin over the L0 targets where it and TopK
     * have matched runs ({@code complete}: at every target), and whether it wins at every target.
     */
    public record Rank(Candidate candidate, double meanMargin, boolean complete, List<Cell> cells,
                       boolean winsEverywhere) {
        /**
         * The mask removed (measurably) no code at any L0 target: the configuration is its base architecture under
         * another name, so it is ranked and reported but never selected for a later stage.
         */
        public boolean maskInactive() {
            boolean known = false;
            for (Cell c : cells) {
                if (Double.isFinite(c.maskedFraction())) {
                    known = true;
                    if (c.maskedFraction() >= dev.atmsae.sweep.MaskActivity.INACTIVE_BELOW) {
                        return false;
                    }
                }
            }
            return known;
        }
    }

    /** One one-factor change against its base's centre. */
    public record Ablation(String base, String change, String factor, double targetL0, int seeds, double absCentre,
                           double absChanged, double fvuCentre, double fvuChanged) {
        double absDelta() {
            return absChanged - absCentre;
        }

        double fvuRelative() {
            return fvuChanged / fvuCentre - 1;
        }
    }

    private final String source;
    private final String winAgainst;
    private final List<Cell> screenCells;
    private final List<Cell> confirmCells;
    private final List<Rank> ranking;
    private final List<Rank> screenRanking;
    private final List<Ablation> ablation;
    private final List<StudyRun> flaggedRuns;
    private final String verdict;

    private StudyAnalysis(String source, String winAgainst, List<Cell> screenCells, List<Cell> confirmCells,
                          List<Rank> ranking, List<Rank> screenRanking, List<Ablation> ablation,
                          List<StudyRun> flaggedRuns) {
        this.source = source;
        this.winAgainst = winAgainst;
        this.screenCells = screenCells;
        this.confirmCells = confirmCells;
        this.ranking = ranking;
        this.screenRanking = screenRanking;
        this.ablation = ablation;
        this.flaggedRuns = flaggedRuns;
        this.verdict = verdict();
    }

    static StudyAnalysis of(StudySpec spec, List<Candidate> candidates, List<StudyRun> screenRuns,
                            List<StudyRun> confirmRuns) {
        String source = spec.absorption();
        List<Cell> screen = cells(screenRuns, source, "screen", spec.winAgainst());
        List<Cell> confirm = cells(confirmRuns, source, "confirm", spec.winAgainst());
        List<StudyRun> flagged = new ArrayList<>();
        for (List<StudyRun> runs : List.of(screenRuns, confirmRuns)) {
            for (StudyRun r : runs) {
                if (r.flagged() && flagged.stream().noneMatch(f -> sameRun(f, r))) {
                    flagged.add(r);
                }
            }
        }
        List<Cell> ablationCells = screen.isEmpty() ? confirm : screen;
        return new StudyAnalysis(source, spec.winAgainst(), screen, confirm, rank(confirm), rank(screen),
                ablation(ablationCells), flagged);
    }

    private static boolean sameRun(StudyRun a, StudyRun b) {
        return a.candidate().name().equals(b.candidate().name()) && a.targetL0() == b.targetL0() && a.seed() == b.seed();
    }

    /** The best {@code top} ATM configurations of a screening stage (unflagged, mask active, by mean margin). */
    static List<Candidate> select(List<StudyRun> screenRuns, int top, String source, String winAgainst) {
        return rank(cells(screenRuns, source, "screen", winAgainst)).stream().filter(Rank::complete)
                .filter(r -> !r.maskInactive()).limit(top).map(Rank::candidate).toList();
    }

    // ------------------------------------------------------------------------------------------------ cells

    /** Cells under issue 10's rule (absorption against TopK's). */
    static List<Cell> cells(List<StudyRun> runs, String source, String stage) {
        return cells(runs, source, stage, StudySpec.WIN_TOPK);
    }

    static List<Cell> cells(List<StudyRun> runs, String source, String stage, String winAgainst) {
        Map<String, List<StudyRun>> groups = new LinkedHashMap<>();
        for (StudyRun r : runs) {
            groups.computeIfAbsent(r.candidate().name() + "@" + r.targetL0(), k -> new ArrayList<>()).add(r);
        }
        List<Cell> plain = new ArrayList<>();
        for (List<StudyRun> g : groups.values()) {
            plain.add(cell(g, source, stage));
        }
        List<Cell> out = new ArrayList<>();
        for (Cell c : plain) {
            Reference ref = winAgainst.equals(StudySpec.WIN_BEST_BASELINE) ? bestBaseline(plain, c.targetL0())
                    : Reference.of(find(plain, "topk", c.targetL0()));
            out.add(compared(c, find(plain, "topk", c.targetL0()), ref, find(plain, "batchtopk", c.targetL0()),
                    find(plain, "matryoshka", c.targetL0())));
        }
        return out;
    }

    /**
     * The absorption the win rule halves: a name, its value and one value per bootstrap draw (null name: no matched
     * baseline).
     */
    private record Reference(String name, double abs, double[] absBoot, boolean bestOfBaselines) {
        static Reference of(Cell c) {
            return c == null ? null : new Reference(c.candidate().name(), c.fullAbs(), c.absBoot(), false);
        }
    }

    /**
     * The lowest full absorption of the baselines matched at {@code l0} that reconstruct within the rule's own FVU
     * bound (≤ 1.1× TopK's: a baseline that pays more, such as a ReLU SAE whose parents never fire, is no bar the rule
     * could hold ATM to); per bootstrap draw, the lowest of their draws.
     */
    private static Reference bestBaseline(List<Cell> cells, double l0) {
        Cell topk = find(cells, "topk", l0);
        List<Cell> matched = cells.stream().filter(c -> !c.candidate().isAtm() && c.targetL0() == l0 && c.seeds() > 0)
                .filter(c -> topk == null || c.fvu() <= FVU_RATIO * topk.fvu()).toList();
        if (matched.isEmpty()) {
            return null;
        }
        Cell best = matched.stream().min(Comparator.comparingDouble(Cell::fullAbs)).orElseThrow();
        double[] boot = new double[RESAMPLES];
        for (int b = 0; b < RESAMPLES; b++) {
            double min = Double.POSITIVE_INFINITY;
            for (Cell c : matched) {
                min = Math.min(min, c.absBoot()[b]);
            }
            boot[b] = min;
        }
        return new Reference(best.candidate().name(), best.fullAbs(), boot, true);
    }

    private static Cell find(List<Cell> cells, String name, double l0) {
        return cells.stream().filter(c -> c.candidate().name().equals(name) && c.targetL0() == l0 && c.seeds() > 0)
                .findFirst().orElse(null);
    }

    private static Cell cell(List<StudyRun> group, String source, String stage) {
        StudyRun first = group.get(0);
        List<StudyRun> kept = group.stream().filter(r -> !r.flagged()).toList();
        int flagged = group.size() - kept.size();
        if (kept.isEmpty()) {
            return new Cell(first.candidate(), stage, first.targetL0(), 0, flagged, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, null, null, null, null, null, null, null, null, List.of(), new double[0],
                    new double[0], null, null);
        }
        List<double[]> units = new ArrayList<>();
        double[] fvus = new double[kept.size()];
        List<double[]> points = new ArrayList<>();
        double l0 = 0, fraction = 0, dead = 0, acc = 0, silent = 0, masked = 0;
        for (int s = 0; s < kept.size(); s++) {
            StudyRun r = kept.get(s);
            units.add(units(r, source));
            fvus[s] = r.result().metric("core.fvu");
            points.add(new double[] {fvus[s], mean(units.get(s))});
            l0 += r.l0() / kept.size();
            fraction += r.result().metric(prefix(source) + ".absorption_fraction") / kept.size();
            dead += r.result().metric("core.dead_fraction") / kept.size();
            acc += probeAccuracy(r) / kept.size();
            silent += r.result().metric("truth.silent_given_child") / kept.size(); // NaN without ground truth
            masked += r.maskedCodeFraction() / kept.size(); // NaN when unknown
        }
        SplittableRandom rng = new SplittableRandom(BOOT_SEED ^ first.candidate().name().hashCode()
                ^ Double.hashCode(first.targetL0()));
        double[] absBoot = new double[RESAMPLES];
        double[] fvuBoot = new double[RESAMPLES];
        for (int b = 0; b < RESAMPLES; b++) {
            double sum = 0;
            long count = 0;
            double fvuSum = 0;
            for (int s = 0; s < kept.size(); s++) {
                int pick = rng.nextInt(kept.size());
                double[] u = units.get(pick);
                for (int j = 0; j < u.length; j++) {
                    sum += u[rng.nextInt(u.length)];
                }
                count += u.length;
                fvuSum += fvus[pick];
            }
            absBoot[b] = count == 0 ? Double.NaN : sum / count;
            fvuBoot[b] = fvuSum / kept.size();
        }
        double absMean = pooledMean(units);
        return new Cell(first.candidate(), stage, first.targetL0(), kept.size(), flagged, l0, absMean,
                percentile(absBoot, 0.025), percentile(absBoot, 0.975), mean(fvus), percentile(fvuBoot, 0.025),
                percentile(fvuBoot, 0.975), fraction, dead, acc, silent, masked, null, null, null, null, null, null,
                null, null, points, absBoot, fvuBoot, source.equals("truth") ? Measures.of(kept) : null, null);
    }

    private static Cell compared(Cell c, Cell topk, Reference ref, Cell batchTopK, Cell matryoshka) {
        if (c.seeds() == 0 || c.candidate().name().equals("topk")) {
            return c; // nothing matched, or the reference itself
        }
        Double absT = null, fvuT = null, margin = null, support = null, absB = null, fvuB = null, absM = null,
                fvuM = null;
        VsBest vsBest = null;
        if (topk != null) {
            absT = ratio(c.fullAbs(), topk.fullAbs());
            fvuT = ratio(c.fvu(), topk.fvu());
        }
        if (topk != null && ref != null) {
            margin = margin(c.fullAbs(), c.fvu(), ref.abs(), topk.fvu());
            int hits = 0;
            for (int b = 0; b < RESAMPLES; b++) {
                hits += margin(c.absBoot()[b], c.fvuBoot()[b], ref.absBoot()[b], topk.fvuBoot()[b]) <= 1 ? 1 : 0;
            }
            support = (double) hits / RESAMPLES;
            if (ref.bestOfBaselines()) {
                vsBest = new VsBest(ref.name(), ref.abs(), ref.abs() > 0 ? c.fullAbs() / ref.abs() : Double.NaN);
            }
        }
        if (batchTopK != null) {
            absB = ratio(c.fullAbs(), batchTopK.fullAbs());
            fvuB = ratio(c.fvu(), batchTopK.fvu());
        }
        if (matryoshka != null) {
            absM = ratio(c.fullAbs(), matryoshka.fullAbs());
            fvuM = ratio(c.fvu(), matryoshka.fvu());
        }
        return new Cell(c.candidate(), c.stage(), c.targetL0(), c.seeds(), c.flagged(), c.l0(), c.fullAbs(), c.absLo(),
                c.absHi(), c.fvu(), c.fvuLo(), c.fvuHi(), c.fraction(), c.dead(), c.probeAcc(), c.silentGivenChild(),
                c.maskedFraction(), absT, fvuT, absB, fvuB, absM, fvuM, margin, support, c.seedPoints(), c.absBoot(),
                c.fvuBoot(), c.measures(), vsBest);
    }

    /**
     * max(abs/absTopK / 0.5, fvu/fvuTopK / 1.1); a TopK absorption of 0 counts as met only by 0 (margin 0 or ∞).
     */
    static double margin(double abs, double fvu, double absTopK, double fvuTopK) {
        double a = absTopK > 0 ? abs / absTopK / ABS_RATIO : abs > 0 ? Double.POSITIVE_INFINITY : 0;
        return Math.max(a, fvu / fvuTopK / FVU_RATIO);
    }

    private static Double ratio(double a, double b) {
        return b > 0 ? a / b : null;
    }

    static String prefix(String source) {
        return source.equals("truth") ? "truth" : "absorption";
    }

    /** The absorption units of one run: per-tree (truth) or per-class (probe) full absorption; the mean if absent. */
    @SuppressWarnings("unchecked")
    static double[] units(StudyRun r, String source) {
        Object part = r.result().toMap().get(prefix(source));
        Object per = part instanceof Map<?, ?> m ? m.get(source.equals("truth") ? "per_tree_full" : "per_class_full")
                : null;
        if (per instanceof Map<?, ?> values && !values.isEmpty()) {
            return ((Map<String, Object>) values).values().stream().mapToDouble(v -> ((Number) v).doubleValue())
                    .toArray();
        }
        return new double[] {r.result().metric(prefix(source) + ".full_absorption")};
    }

    private static double probeAccuracy(StudyRun r) {
        Object sp = r.result().sparseProbing();
        if (sp instanceof Map<?, ?> m && m.get("sae_accuracy") instanceof List<?> l && !l.isEmpty()
                && l.get(0) instanceof Number n) {
            return n.doubleValue();
        }
        return Double.NaN;
    }

    private static double pooledMean(List<double[]> units) {
        double sum = 0;
        long count = 0;
        for (double[] u : units) {
            for (double v : u) {
                sum += v;
            }
            count += u.length;
        }
        return sum / count;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double percentile(double[] draws, double q) {
        double[] v = java.util.Arrays.stream(draws).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(v.length - 1, lo + 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    // ------------------------------------------------------------------------------------------------ ranking

    static List<Rank> rank(List<Cell> cells) {
        long targets = cells.stream().mapToDouble(Cell::targetL0).distinct().count(); // the stage's L0 targets
        Map<String, List<Cell>> byCandidate = new LinkedHashMap<>();
        for (Cell c : cells) {
            if (c.candidate().isAtm()) {
                byCandidate.computeIfAbsent(c.candidate().name(), k -> new ArrayList<>()).add(c);
            }
        }
        List<Rank> out = new ArrayList<>();
        for (List<Cell> cs : byCandidate.values()) {
            double sum = 0;
            int counted = 0;
            boolean all = true;
            for (Cell c : cs) {
                if (c.margin() != null && Double.isFinite(c.margin())) {
                    sum += c.margin();
                    counted++;
                }
                all &= c.wins();
            }
            out.add(new Rank(cs.get(0).candidate(), counted == 0 ? Double.POSITIVE_INFINITY : sum / counted,
                    counted == targets, cs, all && counted == targets));
        }
        // configurations matched at every L0 first, then by mean margin
        out.sort(Comparator.comparing((Rank r) -> !r.complete()).thenComparingDouble(Rank::meanMargin));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ ablation

    private static List<Ablation> ablation(List<Cell> cells) {
        List<Ablation> out = new ArrayList<>();
        if (cells.isEmpty()) {
            return out;
        }
        double l0 = cells.get(0).targetL0();
        for (Cell c : cells) {
            if (!"one_factor".equals(c.candidate().role()) || c.targetL0() != l0 || c.seeds() == 0) {
                continue;
            }
            Cell centre = find(cells, "atm-" + c.candidate().base(), l0);
            if (centre == null) {
                continue;
            }
            String change = c.candidate().name().substring(c.candidate().name().indexOf('+') + 1);
            out.add(new Ablation(c.candidate().base(), change, c.candidate().factor(), l0,
                    Math.min(c.seeds(), centre.seeds()), centre.fullAbs(),
                    c.fullAbs(), centre.fvu(), c.fvu()));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ verdict

    private String verdict() {
        List<Cell> cells = confirmCells;
        if (cells.stream().noneMatch(c -> c.candidate().name().equals("topk") && c.seeds() > 0)) {
            return "No TopK baseline reached its L0 targets, so the win rule (" + ruleText() + " at matched L0) cannot "
                    + "be evaluated.";
        }
        StringBuilder v = new StringBuilder();
        List<Rank> winners = ranking.stream().filter(Rank::winsEverywhere).toList();
        String measure = source.equals("truth") ? "ground-truth full absorption" : "probe-set full absorption";
        if (!winners.isEmpty()) {
            Rank best = winners.get(0);
            v.append(String.format(Locale.ROOT, "ATM configuration **%s** meets the win rule at every L0 target: "
                    + "%s. ", best.candidate().name(), describe(best)));
            if (winners.size() > 1) {
                v.append(winners.size() - 1).append(" other configuration(s) also do: ")
                        .append(String.join(", ", winners.stream().skip(1).map(r -> r.candidate().name()).toList()))
                        .append(". ");
            }
        } else {
            v.append("No ATM configuration meets the win rule (" + measure + " " + ruleText().substring(
                    "full absorption ".length()) + ") at every matched L0 target. ");
            if (!ranking.isEmpty() && Double.isFinite(ranking.get(0).meanMargin())) {
                Rank best = ranking.get(0);
                v.append(String.format(Locale.ROOT, "The closest is **%s** (mean margin %.2f%s; ≤ 1 would win): %s. ",
                        best.candidate().name(), best.meanMargin(), best.complete() ? ""
                                : " over the L0 targets it matched", describe(best)));
            }
            List<String> partial = new ArrayList<>();
            for (Rank r : ranking) {
                for (Cell c : r.cells()) {
                    if (c.wins()) {
                        partial.add(r.candidate().name() + " at L0 " + fmtL0(c.targetL0())
                                + (c.vsBest() != null && c.vsBest().tieAtZero(c.fullAbs())
                                        ? " (a tie at zero absorption with " + c.vsBest().name() + ", not a halving)"
                                        : ""));
                    }
                }
            }
            if (!partial.isEmpty()) {
                v.append("The rule holds at some L0 targets only: ").append(String.join(", ", partial))
                        .append(". ");
            }
        }
        List<String> baselineWins = new ArrayList<>();
        for (Cell c : cells) {
            if (!c.candidate().isAtm() && c.wins()) {
                baselineWins.add(c.candidate().name() + " at L0 " + fmtL0(c.targetL0()));
            }
        }
        if (!baselineWins.isEmpty()) {
            v.append("Baselines that meet the same rule (so a win there is not ATM's own): ")
                    .append(String.join(", ", baselineWins)).append(". ");
        }
        List<String> beatsAll = ranking.stream().filter(StudyAnalysis::beatsEveryStrongBaseline)
                .map(r -> r.candidate().name()).toList();
        v.append(beatsAll.isEmpty()
                ? "Against the stronger baselines with the same rule (full absorption ≤ 0.5× and FVU ≤ 1.1× theirs at "
                        + "the same L0), no ATM configuration beats TopK, BatchTopK and Matryoshka together at every L0 "
                        + "target. "
                : "Beating TopK, BatchTopK and Matryoshka together with the same rule at every L0 target: "
                        + String.join(", ", beatsAll) + ". ");
        ranking.stream().filter(r -> r.candidate().name().equals("atm-relu")).findFirst().ifPresent(r ->
                v.append("The paper-faithful ATM (ReLU + L1 base, atm.md defaults): ").append(describe(r))
                        .append(". "));
        if (!flaggedRuns.isEmpty()) {
            v.append(flaggedRuns.size()).append(" run(s) missed their L0 target by more than 10% and are excluded "
                    + "from these comparisons (listed below).");
        }
        return v.toString().trim();
    }

    /** The win rule in words. */
    String ruleText() {
        return winAgainst.equals(StudySpec.WIN_BEST_BASELINE)
                ? "full absorption ≤ 0.5× the lowest of the baselines within the FVU bound and FVU ≤ 1.1× TopK's"
                : "full absorption ≤ 0.5× TopK's and FVU ≤ 1.1× TopK's";
    }

    /** The win rule against TopK, BatchTopK and Matryoshka (each matched at every L0 target the rank covers). */
    static boolean beatsEveryStrongBaseline(Rank r) {
        for (Cell c : r.cells()) {
            if (!c.wins() || !meets(c.absVsBatchTopK(), c.fvuVsBatchTopK())
                    || !meets(c.absVsMatryoshka(), c.fvuVsMatryoshka())) {
                return false;
            }
        }
        return !r.cells().isEmpty();
    }

    private static boolean meets(Double absRatio, Double fvuRatio) {
        return absRatio != null && fvuRatio != null && absRatio <= ABS_RATIO && fvuRatio <= FVU_RATIO;
    }

    private static String describe(Rank r) {
        List<String> parts = new ArrayList<>();
        for (Cell c : r.cells()) {
            if (c.absVsTopK() == null) {
                parts.add("L0 " + fmtL0(c.targetL0()) + ": no matched runs");
                continue;
            }
            String vsB = (c.absVsBatchTopK() == null ? "" : String.format(Locale.ROOT, "; vs BatchTopK %.2f× / %.2f×",
                    c.absVsBatchTopK(), c.fvuVsBatchTopK()))
                    + (c.absVsMatryoshka() == null ? "" : String.format(Locale.ROOT, "; vs Matryoshka %.2f× / %.2f×",
                    c.absVsMatryoshka(), c.fvuVsMatryoshka()));
            String best = c.vsBest() == null ? "" : c.vsBest().describe(c.fullAbs()) + ", ";
            String margin = c.vsBest() == null ? "" : String.format(Locale.ROOT, "margin %.2f, ", c.margin());
            parts.add(String.format(Locale.ROOT, "L0 %s: full absorption %s%.2f× TopK's, FVU %.2f× (%ssupport %.0f%%%s)",
                    fmtL0(c.targetL0()), best, c.absVsTopK(), c.fvuVsTopK(), margin, 100 * c.support(), vsB));
        }
        return String.join("; ", parts);
    }

    static String fmtL0(double l0) {
        return l0 == Math.rint(l0) ? Long.toString((long) l0) : Double.toString(l0);
    }

    // ------------------------------------------------------------------------------------------------ access

    public String source() {
        return source;
    }

    public String winAgainst() {
        return winAgainst;
    }

    public List<Cell> screenCells() {
        return screenCells;
    }

    public List<Cell> confirmCells() {
        return confirmCells;
    }

    /** ATM configurations by mean margin in the confirmation stage (best first). */
    public List<Rank> ranking() {
        return ranking;
    }

    public List<Rank> screenRanking() {
        return screenRanking;
    }

    public List<Ablation> ablation() {
        return ablation;
    }

    public List<StudyRun> flaggedRuns() {
        return flaggedRuns;
    }

    public String verdictText() {
        return verdict;
    }
}
