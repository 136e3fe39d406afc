package dev.atmsae.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.report.MarkdownTable;
import dev.atmsae.report.ParetoPlot;
import dev.atmsae.util.UserError;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a study's results into its output directory: {@code study.md} (verdict, ranked table, per-L0 tables with
 * intervals, ablation, screening, flagged runs, plots), {@code study.json} (the same numbers, plus every run and
 * the ranking a later stage reads with {@code atm.from_study}) and the Pareto PNGs.
 */
public final class StudyReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StudyReport() {
    }

    public static void write(Path out, StudySpec spec, Study.Outcome o) {
        StudyAnalysis a = o.analysis();
        try {
            List<String> plots = new ArrayList<>();
            if (!a.confirmCells().isEmpty()) {
                ParetoPlot.write(out.resolve("pareto-confirm.png"), "FVU", yTitle(a), panels(a.confirmCells()));
                plots.add("pareto-confirm.png");
            }
            if (!a.screenCells().isEmpty()) {
                ParetoPlot.write(out.resolve("pareto-screen.png"), "FVU", yTitle(a), panels(a.screenCells()));
                plots.add("pareto-screen.png");
            }
            AtomicFiles.writeString(out.resolve("study.json"), JSON.writeValueAsString(json(spec, o)));
            AtomicFiles.writeString(out.resolve("study.md"), markdown(spec, o, plots));
        } catch (IOException e) {
            throw UserError.inFile(out, "cannot write the study report: " + e.getMessage());
        }
    }

    private static String yTitle(StudyAnalysis a) {
        return a.source().equals("truth") ? "full absorption (ground truth)" : "full absorption (probe classes)";
    }

    private static List<ParetoPlot.Panel> panels(List<StudyAnalysis.Cell> cells) {
        Map<Double, List<ParetoPlot.Point>> byL0 = new TreeMap<>();
        for (StudyAnalysis.Cell c : cells) {
            if (c.seeds() == 0) {
                continue;
            }
            byL0.computeIfAbsent(c.targetL0(), k -> new ArrayList<>()).add(new ParetoPlot.Point(c.candidate().name(),
                    c.seedPoints().toArray(new double[0][]), c.fvu(), c.fullAbs(), c.fvuLo(), c.fvuHi(), c.absLo(),
                    c.absHi()));
        }
        List<ParetoPlot.Panel> panels = new ArrayList<>();
        byL0.forEach((l0, points) -> panels.add(new ParetoPlot.Panel("L0 " + StudyAnalysis.fmtL0(l0), points)));
        return panels;
    }

    // ------------------------------------------------------------------------------------------------ JSON

    static Map<String, Object> json(StudySpec spec, Study.Outcome o) {
        StudyAnalysis a = o.analysis();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "atmsae-study/1");
        m.put("name", spec.name());
        m.put("absorption", a.source());
        Map<String, Object> rule = new LinkedHashMap<>(); // fixed key order (Map.of's varies between JVM runs)
        if (a.winAgainst().equals(StudySpec.WIN_BEST_BASELINE)) {
            rule.put("full_absorption_vs_best_baseline_at_most", StudyAnalysis.ABS_RATIO);
        } else {
            rule.put("full_absorption_vs_topk_at_most", StudyAnalysis.ABS_RATIO);
        }
        rule.put("fvu_vs_topk_at_most", StudyAnalysis.FVU_RATIO);
        rule.put("l0_tolerance", Study.L0_TOLERANCE);
        m.put("win_rule", rule);
        m.put("setup", setup(spec));
        m.put("verdict", a.verdictText());
        m.put("missing_runs", o.missingRuns());
        m.put("ranking", ranks(a.ranking()));
        m.put("screen_ranking", ranks(a.screenRanking()));
        m.put("selected", o.selected().stream().map(Candidate::name).toList());
        m.put("cells", a.confirmCells().stream().map(StudyAnalysis.Cell::toMap).toList());
        m.put("screen_cells", a.screenCells().stream().map(StudyAnalysis.Cell::toMap).toList());
        List<Map<String, Object>> ablation = new ArrayList<>();
        for (StudyAnalysis.Ablation ab : a.ablation()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("base", ab.base());
            r.put("change", ab.change());
            r.put("factor", ab.factor());
            r.put("target_l0", ab.targetL0());
            r.put("full_absorption_centre", ab.absCentre());
            r.put("full_absorption", ab.absChanged());
            r.put("fvu_centre", ab.fvuCentre());
            r.put("fvu", ab.fvuChanged());
            ablation.add(r);
        }
        m.put("ablation", ablation);
        List<Map<String, Object>> runs = new ArrayList<>();
        for (List<StudyRun> stage : List.of(o.screenRuns(), o.confirmRuns())) {
            for (StudyRun r : stage) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", r.candidate().name());
                e.put("stage", r.stage());
                e.put("target_l0", r.targetL0());
                e.put("seed", r.seed());
                e.put("l0", r.l0());
                e.put("flagged", r.flagged());
                e.put("full_absorption", StudyAnalysis.mean(StudyAnalysis.units(r, a.source())));
                e.put("fvu", r.result().metric("core.fvu"));
                e.put("train_seconds", r.result().metric("train.seconds"));
                e.put("dir", r.result().dir());
                runs.add(e);
            }
        }
        m.put("runs", runs);
        m.put("candidates", o.candidates().stream().map(Candidate::toMap).toList());
        return m;
    }

    /**
     * A map of (key, value) pairs in the order given. Not Map.of: its iteration order changes from JVM to JVM, and
     * study.json must have the same bytes whichever process writes it (a local study, a cluster's report job).
     */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static Map<String, Object> setup(StudySpec spec) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("data", spec.data().synth() != null ? ordered("synth", spec.data().synth())
                : ordered("shards", String.valueOf(spec.data().shards()), "probe_set",
                        String.valueOf(spec.data().probeSet())));
        s.put("width", spec.width());
        s.put("tokens", spec.tokens());
        s.put("batch", spec.batch());
        s.put("eval_tokens", spec.evalTokens());
        s.put("common", spec.common());
        s.put("screen", spec.screen() == null ? null : ordered("l0", spec.screen().l0(), "seed", spec.screen().seed()));
        s.put("confirm", ordered("l0", spec.confirm().l0s(), "seeds", spec.confirm().seeds(), "top", spec.confirm().top()));
        if (!spec.variants().isEmpty()) {
            Map<String, Object> variants = new LinkedHashMap<>();
            spec.variants().forEach((name, v) -> variants.put(name, ordered("arch", v.arch(), "keys", v.keys())));
            s.put("baseline_variants", variants);
        }
        return s;
    }

    /** A map of key, value, key, value … in that order (Map.of's iteration order varies between JVM runs). */
    private static List<Map<String, Object>> ranks(List<StudyAnalysis.Rank> ranks) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (StudyAnalysis.Rank r : ranks) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("candidate", r.candidate().toMap());
            e.put("mean_margin", Double.isFinite(r.meanMargin()) ? r.meanMargin() : null);
            e.put("matched_at_every_l0", r.complete());
            e.put("wins_everywhere", r.winsEverywhere());
            e.put("mask_inactive", r.maskInactive());
            out.add(e);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ Markdown

    static String markdown(StudySpec spec, Study.Outcome o, List<String> plots) {
        StudyAnalysis a = o.analysis();
        StringBuilder md = new StringBuilder("# ").append(spec.name()).append("\n\n");
        long atm = o.candidates().stream().filter(Candidate::isAtm).count();
        md.append(String.format(Locale.ROOT, "Written by `atmsae study`. %s; width %d, %d training tokens per SAE, "
                        + "batch %d. %d configurations (%d baselines, %d ATM). Absorption: %s. Matched L0: a run whose "
                        + "final L0 misses its target by more than %.0f%% is flagged and left out of every comparison."
                        + " Intervals are 95%% percentile bootstraps (absorption: seeds, then %s within seeds; FVU: "
                        + "seeds), so they stay inside the metric's range.\n\n",
                dataLine(spec), spec.width(), spec.tokens(), spec.batch(), o.candidates().size(),
                o.candidates().size() - atm, atm, a.source().equals("truth") ? "synthetic ground truth (tree roots)"
                        : "probe-set classes", 100 * Study.L0_TOLERANCE,
                a.source().equals("truth") ? "tree roots" : "classes"));
        if (o.missingRuns() > 0) {
            md.append(String.format(Locale.ROOT, "**Interim report**: %d planned run(s) have not finished; every number "
                    + "below comes from the finished runs only (cells list their seed counts).\n\n", o.missingRuns()));
        }
        md.append("## Verdict\n\n").append(a.verdictText()).append("\n\n");
        md.append("Win rule: " + a.ruleText() + " at the same L0. Margin = max(absorption "
                + "ratio / 0.5, FVU ratio / 1.1): ≤ 1 wins; support = share of bootstrap draws in which the rule holds."
                + "\n\n");
        if (a.source().equals("truth")) {
            md.append("A second ground-truth view, outside the win rule: *parent silent | child* = the share of held-out "
                    + "samples with a tree's parent and one of its children on in which the latent closest to the parent's "
                    + "direction does not fire (absorption's direct signature; SAEBench's full absorption instead asks "
                    + "whether the probe-selected main latents stay silent while another latent carries the parent "
                    + "direction).\n\n");
        }
        if (!a.ranking().isEmpty()) {
            md.append("## Ranked ATM configurations (confirmation stage)\n\n");
            md.append(rankTable(a.ranking()).render()).append('\n');
        }
        md.append("## Every configuration at each L0 target\n\n");
        md.append(cellTable(a.confirmCells()).render()).append('\n');
        if (a.confirmCells().stream().anyMatch(c -> c.measures() != null)) {
            md.append("## The absorption measures side by side (ground truth)\n\n");
            md.append(MEASURES_NOTE).append("\n\n");
            md.append(measuresTable(a.confirmCells()).render()).append('\n');
        }
        if (plots.contains("pareto-confirm.png")) {
            md.append("![Full absorption against FVU, one panel per L0: means with 95% intervals, seeds as diamonds]"
                    + "(pareto-confirm.png)\n\n");
        }
        if (!a.ablation().isEmpty()) {
            md.append("## Ablation: one factor at a time around each base (L0 ")
                    .append(StudyAnalysis.fmtL0(a.ablation().get(0).targetL0())).append(")\n\n");
            md.append(ablationTable(a.ablation()).render()).append('\n');
            md.append(ablationSummary(a.ablation())).append("\n\n");
        }
        if (!a.screenRanking().isEmpty()) {
            md.append("## Screening (one L0, one seed)\n\n");
            md.append("Selected for confirmation: ").append(String.join(", ",
                    o.selected().stream().map(Candidate::name).toList())).append(".\n\n");
            md.append(cellTable(a.screenCells()).render()).append('\n');
            if (plots.contains("pareto-screen.png")) {
                md.append("![Screening: full absorption against FVU](pareto-screen.png)\n\n");
            }
        }
        md.append("## Flagged runs (L0 off target by more than 10%)\n\n");
        if (a.flaggedRuns().isEmpty()) {
            md.append("None.\n");
        } else {
            MarkdownTable t = new MarkdownTable("configuration", "stage", "target L0", "seed", "final L0");
            for (StudyRun r : a.flaggedRuns()) {
                t.row(r.candidate().name(), r.stage(), StudyAnalysis.fmtL0(r.targetL0()), r.seed(), MarkdownTable.num(r.l0()));
            }
            md.append(t.render());
        }
        md.append("\n## Configurations\n\n");
        MarkdownTable c = new MarkdownTable("name", "role", "keys");
        for (Candidate cand : o.candidates()) {
            c.row(cand.name(), cand.role(), cand.keys().isEmpty() ? "defaults" : cand.keys().toString());
        }
        md.append(c.render());
        return md.toString();
    }

    static final String MEASURES_NOTE = "*full* = SAEBench's full absorption with the k-sparse main latents (the win "
            + "rule's measure); *full (cos main)* = the same rule with main = the latent whose decoder is closest to the "
            + "parent direction; *main latents* = how many latents the k-sparse rule chose (absorbers chosen as main "
            + "latents are not counted as absorbing); *silent | child* and *| no child* = how often that closest latent "
            + "stays silent when the parent fires with or without a child; *cos d_P·f_P* = its decoder's cosine with "
            + "the parent direction; *cos d_c·f_P* = the child latents' decoder cosine with the parent direction "
            + "(absorption writes f_P into child latents); *cos d_P·Σf_c* = the parent latent's decoder cosine with the "
            + "sum of its children's directions (hedging writes them into the parent latent).";

    /** One row per cell with measures: the SAEBench readings, the direct silence rates and the decoder cosines. */
    static MarkdownTable measuresTable(List<StudyAnalysis.Cell> cells) {
        MarkdownTable t = new MarkdownTable("target L0", "configuration", "full", "full (cos main)", "abs. fraction",
                "main latents", "silent | child", "silent | no child", "cos d_P·f_P", "cos d_c·f_P", "cos d_P·Σf_c");
        List<StudyAnalysis.Cell> sorted = new ArrayList<>(cells);
        sorted.sort(java.util.Comparator.comparingDouble(StudyAnalysis.Cell::targetL0));
        for (StudyAnalysis.Cell c : sorted) {
            StudyAnalysis.Measures m = c.measures();
            if (m == null) {
                continue;
            }
            t.row(StudyAnalysis.fmtL0(c.targetL0()), c.candidate().name(), MarkdownTable.num(c.fullAbs()),
                    MarkdownTable.num(m.fullCos()), MarkdownTable.num(c.fraction()), MarkdownTable.num(m.splitFeatures()),
                    MarkdownTable.num(c.silentGivenChild()), MarkdownTable.num(m.silentGivenNoChild()),
                    MarkdownTable.num(m.parentCos()), MarkdownTable.num(m.childCosWithParent()),
                    MarkdownTable.num(m.parentCosWithChildren()));
        }
        return t;
    }

    private static String dataLine(StudySpec spec) {
        if (spec.data().synth() != null) {
            return "Synthetic data " + spec.data().synth();
        }
        return "Shards " + spec.data().shards() + ", probe set " + spec.data().probeSet();
    }

    private static MarkdownTable rankTable(List<StudyAnalysis.Rank> ranks) {
        List<String> header = new ArrayList<>(List.of("rank", "configuration", "mean margin", "matched at every L0",
                "wins at every L0", "mask active"));
        List<Double> l0s = ranks.stream().flatMap(r -> r.cells().stream()).map(StudyAnalysis.Cell::targetL0).distinct()
                .sorted().toList();
        boolean best = ranks.stream().flatMap(r -> r.cells().stream()).anyMatch(c -> c.vsBest() != null);
        for (double l0 : l0s) {
            header.add("L0 " + StudyAnalysis.fmtL0(l0) + (best ? ": abs × best baseline / FVU × TopK"
                    : ": abs / FVU × TopK"));
        }
        MarkdownTable t = new MarkdownTable(header.toArray(new String[0]));
        int i = 0;
        for (StudyAnalysis.Rank r : ranks) {
            List<Object> row = new ArrayList<>(List.of(++i, r.candidate().name(),
                    Double.isFinite(r.meanMargin()) ? MarkdownTable.num(r.meanMargin()) : "–", r.complete() ? "yes" : "no",
                    r.winsEverywhere() ? "yes" : "no", r.maskInactive() ? "**no** (= its base)" : "yes"));
            for (double l0 : l0s) {
                row.add(r.cells().stream().filter(c -> c.targetL0() == l0 && c.absVsTopK() != null).findFirst()
                        .map(c -> String.format(Locale.ROOT, "%s / %.2f", c.vsBest() == null
                                ? String.format(Locale.ROOT, "%.2f", c.absVsTopK()) : c.vsBest().referenceAbs() > 0
                                ? String.format(Locale.ROOT, "%.2f", c.vsBest().absRatio())
                                : c.fullAbs() == 0 ? "tie at 0" : "∞", c.fvuVsTopK())).orElse("–"));
            }
            t.row(row.toArray());
        }
        return t;
    }

    private static MarkdownTable cellTable(List<StudyAnalysis.Cell> cells) {
        boolean truth = cells.stream().anyMatch(c -> Double.isFinite(c.silentGivenChild()));
        List<String> header = new ArrayList<>(List.of("target L0", "configuration", "seeds (flagged)", "L0",
                "full absorption [95% CI]", "FVU [95% CI]", "abs. fraction"));
        if (truth) {
            header.add("parent silent | child");
        }
        header.addAll(List.of("dead %", "probe acc k=1", "abs / FVU × TopK", "abs / FVU × BatchTopK",
                "abs / FVU × Matryoshka"));
        boolean best = cells.stream().anyMatch(c -> c.vsBest() != null);
        if (best) {
            header.add("abs × best baseline");
        }
        header.addAll(List.of("margin", "support"));
        MarkdownTable t = new MarkdownTable(header.toArray(new String[0]));
        List<StudyAnalysis.Cell> sorted = new ArrayList<>(cells);
        sorted.sort(java.util.Comparator.comparingDouble(StudyAnalysis.Cell::targetL0)
                .thenComparingDouble(c -> c.margin() == null ? Double.POSITIVE_INFINITY : c.margin()));
        for (StudyAnalysis.Cell c : sorted) {
            List<Object> row = new ArrayList<>(List.of(StudyAnalysis.fmtL0(c.targetL0()), c.candidate().name(),
                    c.seeds() + " (" + c.flagged() + ")", MarkdownTable.num(c.l0()),
                    interval(c.fullAbs(), c.absLo(), c.absHi()), interval(c.fvu(), c.fvuLo(), c.fvuHi()),
                    MarkdownTable.num(c.fraction())));
            if (truth) {
                row.add(MarkdownTable.num(c.silentGivenChild()));
            }
            row.addAll(List.of(MarkdownTable.num(100 * c.dead()), MarkdownTable.num(c.probeAcc()),
                    pair(c.absVsTopK(), c.fvuVsTopK()), pair(c.absVsBatchTopK(), c.fvuVsBatchTopK()),
                    pair(c.absVsMatryoshka(), c.fvuVsMatryoshka())));
            if (best) {
                row.add(c.vsBest() == null ? "–" : c.vsBest().referenceAbs() > 0 ? String.format(Locale.ROOT,
                        "%.2f (%s)", c.vsBest().absRatio(), c.vsBest().name())
                        : (c.fullAbs() == 0 ? "tie at 0 (" : "∞ (") + c.vsBest().name() + " at 0)");
            }
            row.addAll(List.of(opt(c.margin()),
                    c.support() == null ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * c.support())));
            t.row(row.toArray());
        }
        return t;
    }

    private static String pair(Double abs, Double fvu) {
        return abs == null || fvu == null ? "–" : String.format(Locale.ROOT, "%.2f / %.2f", abs, fvu);
    }

    private static String interval(double mean, double lo, double hi) {
        return MarkdownTable.num(mean) + " [" + MarkdownTable.num(lo) + ", " + MarkdownTable.num(hi) + "]";
    }

    private static String opt(Double v) {
        return v == null ? "–" : MarkdownTable.num(v);
    }

    private static MarkdownTable ablationTable(List<StudyAnalysis.Ablation> rows) {
        MarkdownTable t = new MarkdownTable("base", "change", "full absorption (centre → changed)", "Δ absorption",
                "FVU (centre → changed)", "Δ FVU");
        for (StudyAnalysis.Ablation r : rows) {
            t.row(r.base(), r.change(), MarkdownTable.num(r.absCentre()) + " → " + MarkdownTable.num(r.absChanged()),
                    String.format(Locale.ROOT, "%+.4f", r.absDelta()),
                    MarkdownTable.num(r.fvuCentre()) + " → " + MarkdownTable.num(r.fvuChanged()),
                    String.format(Locale.ROOT, "%+.1f%%", 100 * r.fvuRelative()));
        }
        return t;
    }

    /** Per knob (over bases and values): the change that lowers absorption most and the one that costs most FVU. */
    private static String ablationSummary(List<StudyAnalysis.Ablation> rows) {
        StudyAnalysis.Ablation lowest = rows.get(0);
        StudyAnalysis.Ablation costliest = rows.get(0);
        for (StudyAnalysis.Ablation r : rows) {
            if (r.absDelta() < lowest.absDelta()) {
                lowest = r;
            }
            if (r.fvuRelative() > costliest.fvuRelative()) {
                costliest = r;
            }
        }
        String seeds = rows.stream().allMatch(r -> r.seeds() == 1)
                ? " One seed per cell: read these as leads for the confirmation stage, not as effects." : "";
        String drop = lowest.absDelta() < 0
                ? String.format(Locale.ROOT, "Largest absorption drop: %s on the %s base (%+.4f, FVU %+.1f%%).",
                        lowest.change(), lowest.base(), lowest.absDelta(), 100 * lowest.fvuRelative())
                : "No one-factor change lowered absorption.";
        return drop + String.format(Locale.ROOT, " Largest FVU cost: %s on the %s base (FVU %+.1f%%, absorption "
                        + "%+.4f).", costliest.change(), costliest.base(), 100 * costliest.fvuRelative(),
                costliest.absDelta()) + seeds;
    }
}
