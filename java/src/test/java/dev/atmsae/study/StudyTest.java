package dev.atmsae.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reduced study end to end (tiny sizes, about a minute on two cores): the configurations expand (baselines, one
 * centre per base, one-factor changes, a seeded random draw), screening selects, confirmation runs baselines and
 * the selection at two L0 targets × two seeds, the report is written, a baseline forced off its L0 target is
 * flagged and left out of the comparisons, and a second invocation retrains nothing.
 */
class StudyTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            {
              "name": "reduced study (test)",
              "data": {"synth": {"tokens": 12000, "eval_tokens": 1500, "d": 16, "trees": 2, "children": 3,
                                 "independent": 4}},
              "width": 24, "tokens": 12000, "batch": 256, "eval_tokens": 2048,
              "common": {"lr": 0.003, "relu:l1_coeff": 200, "relu:l0_ctrl_active_frac": 0},
              "baselines": ["topk", "relu"],
              "atm": {
                "bases": ["relu", "topk"],
                "centre": {"atm_mask_rate": 1.0},
                "one_factor": [{"atm_rescale": true}],
                "random": {"count": 1, "seed": 5, "bases": ["topk"],
                           "ranges": {"atm_mask_rate": {"min": 0.1, "max": 3, "log": true},
                                      "atm_p_max": {"min": 0.3, "max": 0.9}}}
              },
              "screen": {"l0": 3, "seed": 1},
              "confirm": {"l0": [2, 3], "seeds": [1, 2], "top": 2}
            }
            """;

    @Test
    @SuppressWarnings("unchecked")
    void reducedStudyExpandsSelectsReportsFlagsAndReuses() throws Exception {
        Path config = dir.resolve("study.json");
        Files.writeString(config, CONFIG);
        Path out = dir.resolve("out");
        String[] args = {"study", "--config", config.toString(), "--out", out.toString(), "--engine", "cpu",
            "--quiet"};
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(stdout), new PrintWriter(stderr), args), stderr.toString());

        Map<String, Object> study = new ObjectMapper().readValue(Files.readString(out.resolve("study.json")),
                new TypeReference<Map<String, Object>>() { });
        List<String> names = ((List<Map<String, Object>>) study.get("candidates")).stream()
                .map(c -> (String) c.get("name")).toList();
        assertEquals(List.of("topk", "relu", "atm-relu", "atm-relu+rescale=true", "atm-topk", "atm-topk+rescale=true",
                "atm-topk+r1"), names);
        List<Map<String, Object>> runs = (List<Map<String, Object>>) study.get("runs");
        long screen = runs.stream().filter(r -> r.get("stage").equals("screen")).count();
        assertEquals(7, screen);
        List<String> selected = (List<String>) study.get("selected");
        assertTrue(!selected.isEmpty() && selected.size() <= 2, "selected " + selected);
        assertFalse(selected.contains("relu") || selected.contains("topk"), "only ATM configurations are selected");
        long confirm = runs.stream().filter(r -> r.get("stage").equals("confirm")).count();
        assertEquals((2 + selected.size()) * 2 * 2, confirm);

        // relu was pinned off its target (huge λ, controller off): flagged, never compared
        for (Map<String, Object> r : runs) {
            if (r.get("name").equals("relu")) {
                assertEquals(true, r.get("flagged"), "relu run " + r);
            }
            if (r.get("name").equals("topk")) {
                assertEquals(false, r.get("flagged"), "topk's L0 is k");
            }
        }
        for (Map<String, Object> cell : (List<Map<String, Object>>) study.get("cells")) {
            if (cell.get("name").equals("relu")) {
                assertEquals(0, ((Number) cell.get("seeds")).intValue());
                assertNull(cell.get("win_margin"));
            }
            if (cell.get("name").equals("topk")) {
                List<Number> ci = (List<Number>) cell.get("full_absorption_ci95");
                double abs = ((Number) cell.get("full_absorption")).doubleValue();
                assertTrue(ci.get(0).doubleValue() >= 0 && ci.get(0).doubleValue() <= abs + 1e-12
                        && abs <= ci.get(1).doubleValue() + 1e-12 && ci.get(1).doubleValue() <= 1, "CI in [0, 1]");
                assertNull(cell.get("win_margin"), "TopK is the reference, not compared with itself");
            }
        }
        String md = Files.readString(out.resolve("study.md"));
        assertTrue(md.contains("## Verdict") && md.contains("## Ablation") && md.contains("## Flagged runs"), md);
        assertTrue(md.contains("| relu | screen | 3 | 1 |"), "flagged relu listed:\n" + md);
        assertTrue(Files.size(out.resolve("pareto-confirm.png")) > 1000);
        assertTrue(Files.size(out.resolve("pareto-screen.png")) > 1000);
        assertTrue(stdout.toString().contains("report:"));

        // A second invocation retrains nothing and writes the same numbers.
        Path metrics = out.resolve("runs/atm-topk-l0_3-s1/metrics.json");
        long before = Files.getLastModifiedTime(metrics).toMillis();
        String firstJson = Files.readString(out.resolve("study.json"));
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args));
        assertEquals(before, Files.getLastModifiedTime(metrics).toMillis());
        assertEquals(firstJson, Files.readString(out.resolve("study.json")));

        // --report-only trains nothing: a run whose result is gone is left out and counted, not retrained
        Files.delete(out.resolve("runs/atm-topk-l0_3-s1/result.json"));
        String[] reportOnly = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of(
                "--report-only")).toArray(String[]::new);
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), reportOnly));
        assertFalse(Files.exists(out.resolve("runs/atm-topk-l0_3-s1/result.json")), "nothing was trained");
        Map<String, Object> interim = new ObjectMapper().readValue(Files.readString(out.resolve("study.json")),
                new TypeReference<Map<String, Object>>() { });
        assertEquals(1, ((Number) interim.get("missing_runs")).intValue());
        assertTrue(Files.readString(out.resolve("study.md")).contains("**Interim report**: 1 planned run"));
    }

    @Test
    void badConfigIsAOneLineErrorNamingTheKey() throws Exception {
        Path config = dir.resolve("bad.json");
        Files.writeString(config, CONFIG.replace("\"top\": 2", "\"top\": 2, \"tops\": 3"));
        StringWriter stderr = new StringWriter();
        assertEquals(1, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(stderr), "study", "--config",
                config.toString(), "--out", dir.resolve("o").toString(), "--engine", "cpu"));
        assertTrue(stderr.toString().contains("confirm.tops"), stderr.toString());
        assertEquals(1, stderr.toString().strip().lines().count(), stderr.toString());
    }

    /** The committed stage files parse and expand to what issue 10 asks. */
    @Test
    void committedStageConfigsMeetTheIssuesShape() {
        Path studies = Path.of("..", "studies");
        StudySpec stage1 = StudySpec.read(studies.resolve("stage1.json"));
        assertTrue(stage1.baselines().containsAll(List.of("topk", "batchtopk", "matryoshka", "jumprelu", "relu")));
        assertTrue(stage1.atm().bases().containsAll(List.of("relu", "topk", "batchtopk", "matryoshka", "jumprelu")));
        List<Candidate> candidates = Candidates.expand(stage1);
        assertTrue(candidates.stream().filter(Candidate::isAtm).count() >= 30);
        assertEquals(List.of(8.0, 16.0, 32.0), stage1.confirm().l0s());
        assertEquals(3, stage1.confirm().seeds().size());
        assertTrue(stage1.confirm().top() >= 6);
        Map<String, Object> synth = stage1.data().synth();
        assertTrue(((Number) synth.get("trees")).intValue() >= 12 && ((Number) synth.get("d")).intValue() >= 64);
        int features = ((Number) synth.get("trees")).intValue() * (1 + ((Number) synth.get("children")).intValue())
                + ((Number) synth.get("independent")).intValue();
        assertTrue(stage1.width() >= 4 * features && stage1.tokens() >= 1_000_000);

        StudySpec stage2 = StudySpec.read(studies.resolve("stage2.json"));
        assertEquals("probe", stage2.absorption());
        assertEquals(3, stage2.atm().fromTop());
        assertEquals(List.of(16.0, 32.0), stage2.confirm().l0s());
        assertTrue(stage2.width() >= 3072 && stage2.tokens() >= 2_000_000);
    }

    /** Issue 21's committed stage-1b files parse and expand to what it asks. */
    @Test
    void committedStage1bConfigsMeetTheIssuesShape() {
        Path studies = Path.of("..", "studies");
        RegimeMapSpec map = RegimeMapSpec.read(studies.resolve("stage1b-regimes.json"));
        assertEquals(List.of(1.0, 1.25, 2.0), map.widths());
        assertTrue(map.l0().stream().anyMatch(f -> f < 1) && map.l0().contains(1.0) && map.l0().stream()
                .anyMatch(f -> f > 1), "L0 below, at and above the data's true L0");
        assertTrue(map.methods().stream().map(StudySpec.Baseline::name).toList().containsAll(List.of("topk",
                "batchtopk")));
        List<String> regimes = map.regimes().stream().map(RegimeMapSpec.Regime::name).toList();
        assertTrue(regimes.containsAll(List.of("stage1", "chanin-toy", "nabeshima-toy")), regimes.toString());

        StudySpec stage1b = StudySpec.read(studies.resolve("stage1b.json"));
        assertEquals(StudySpec.WIN_BEST_BASELINE, stage1b.winAgainst());
        assertTrue(stage1b.confirm().l0s().size() >= 2 && stage1b.confirm().seeds().size() >= 3);
        List<String> names = Candidates.expand(stage1b).stream().map(Candidate::name).toList();
        assertTrue(names.containsAll(List.of("topk", "batchtopk", "matryoshka", "atm-relu", "atm-matryoshka",
                "atm-batchtopk+mask_rate=0.3")), names.toString());
        assertTrue(stage1b.data().synth().get("trees") instanceof Number);
    }

    /** A later stage takes the best configurations whose mask was active: one that masked nothing is its base. */
    @Test
    void fromStudySkipsConfigurationsWhoseMaskWasInactive() throws Exception {
        Path earlier = dir.resolve("earlier.json");
        Files.writeString(earlier, """
                {"ranking": [
                  {"candidate": {"name": "atm-topk+thresh_c=-0.5", "role": "one_factor", "arch": "atm", "base": "topk",
                                 "factor": "atm_thresh_c", "keys": {"atm_base": "topk", "atm_thresh_c": -0.5}},
                   "mask_inactive": true},
                  {"candidate": {"name": "atm-topk", "role": "centre", "arch": "atm", "base": "topk", "factor": null,
                                 "keys": {"atm_base": "topk"}}, "mask_inactive": false},
                  {"candidate": {"name": "atm-relu", "role": "centre", "arch": "atm", "base": "relu", "factor": null,
                                 "keys": {}}}
                ]}""");
        Path config = dir.resolve("stage2.json");
        int from = CONFIG.indexOf("\"atm\": {"), to = CONFIG.indexOf("\"screen\"");
        Files.writeString(config, CONFIG.substring(0, from)
                + "\"atm\": {\"from_study\": \"earlier.json\", \"from_top\": 2},\n" + CONFIG.substring(to));
        List<Candidate> atm = Candidates.expand(StudySpec.read(config)).stream().filter(Candidate::isAtm).toList();
        assertEquals(List.of("atm-topk", "atm-relu"), atm.stream().map(Candidate::name).toList());
    }

    /** A run with given FVU and per-root full absorption (and the ground-truth readings of a current result). */
    static StudyRun run(Candidate c, double l0, long seed, double fvu, double... perRootFull) {
        Map<String, Object> perTree = new java.util.LinkedHashMap<>();
        for (int i = 0; i < perRootFull.length; i++) {
            perTree.put("f" + i, perRootFull[i]);
        }
        Map<String, Object> truth = new java.util.LinkedHashMap<>(Map.of("full_absorption",
                java.util.Arrays.stream(perRootFull).average().orElseThrow(), "absorption_fraction", 0.5,
                "silent_given_child", 0.4, "per_tree_full", perTree));
        for (String key : StudyAnalysis.Measures.KEYS) {
            truth.put(key, 0.25);
        }
        return new StudyRun(c, "confirm", l0, seed, new dev.atmsae.sweep.RunResult(c.arch(), l0, seed, null,
                Map.of("fvu", fvu, "l0", l0, "dead_fraction", 0.0), null, null, truth, Map.of()));
    }

    /**
     * Issue 21's rule halves the lowest baseline absorption, not TopK's: an ATM configuration at a quarter of TopK's
     * but 0.6× Matryoshka's wins under issue 10's rule and loses under issue 21's, which names Matryoshka — not the
     * ReLU SAE that absorbs nothing at 10× TopK's FVU (outside the rule's own FVU bound).
     */
    @Test
    void theBestBaselineRuleComparesWithTheLowestBaseline() {
        Candidate topk = new Candidate("topk", "baseline", "topk", null, null, Map.of());
        Candidate matryoshka = new Candidate("matryoshka-roots", "baseline", "matryoshka", null, null, Map.of());
        Candidate atm = new Candidate("atm-batchtopk", "centre", "atm", "batchtopk", null, Map.of());
        Candidate relu = new Candidate("relu", "baseline", "relu", null, null, Map.of());
        List<StudyRun> runs = new java.util.ArrayList<>();
        for (long seed = 1; seed <= 3; seed++) {
            runs.add(run(topk, 8, seed, 0.050, 0.40, 0.42, 0.38, 0.40));
            runs.add(run(matryoshka, 8, seed, 0.054, 0.17, 0.16, 0.17, 0.17));
            runs.add(run(relu, 8, seed, 0.500, 0.0, 0.0, 0.01, 0.0)); // absorbs nothing, reconstructs nothing
            runs.add(run(atm, 8, seed, 0.052, 0.10, 0.11, 0.09, 0.10));
        }
        StudyAnalysis.Cell vsTopK = cell(StudyAnalysis.cells(runs, "truth", "confirm", StudySpec.WIN_TOPK), "atm-batchtopk");
        assertTrue(vsTopK.wins() && vsTopK.vsBest() == null, "wins against TopK: margin " + vsTopK.margin());
        StudyAnalysis.Cell vsBest = cell(StudyAnalysis.cells(runs, "truth", "confirm", StudySpec.WIN_BEST_BASELINE),
                "atm-batchtopk");
        assertEquals("matryoshka-roots", vsBest.vsBest().name());
        assertEquals(0.10 / (0.67 / 4), vsBest.vsBest().absRatio(), 1e-9);
        assertEquals(0.10 / (0.67 / 4) / 0.5, vsBest.margin(), 1e-9);
        assertFalse(vsBest.wins());
        assertEquals(0.0, vsBest.support(), 0.0, "no bootstrap draw halves Matryoshka's absorption");
        assertEquals(0.25, vsBest.measures().parentCos(), 1e-12);
        assertNull(cell(StudyAnalysis.cells(runs, "truth", "confirm", StudySpec.WIN_BEST_BASELINE), "topk").margin());

        // a best baseline at zero cannot be halved: a configuration at zero too meets the inequality only as a tie
        List<StudyRun> floor = new java.util.ArrayList<>(runs.stream().filter(r -> r.candidate() == topk).toList());
        for (long seed = 1; seed <= 3; seed++) {
            floor.add(run(matryoshka, 8, seed, 0.054, 0, 0, 0, 0));
            floor.add(run(atm, 8, seed, 0.052, 0, 0, 0, 0));
        }
        StudyAnalysis.Cell tie = cell(StudyAnalysis.cells(floor, "truth", "confirm", StudySpec.WIN_BEST_BASELINE),
                "atm-batchtopk");
        assertTrue(tie.wins() && tie.vsBest().tieAtZero(tie.fullAbs()), "a tie, flagged as one");
    }

    private static StudyAnalysis.Cell cell(List<StudyAnalysis.Cell> cells, String name) {
        return cells.stream().filter(c -> c.candidate().name().equals(name)).findFirst().orElseThrow();
    }

    /** Baselines may be named variants of an architecture with keys of their own; a bad entry is one line. */
    @Test
    void baselineVariantsCarryTheirArchitectureAndKeys() throws Exception {
        Path config = dir.resolve("variants.json");
        Files.writeString(config, CONFIG.replace("\"baselines\": [\"topk\", \"relu\"]", "\"baselines\": [\"topk\", "
                + "{\"name\": \"matryoshka-roots\", \"arch\": \"matryoshka\", \"keys\": {\"matryoshka_groups\": \"6,rest\"}}]")
                .replace("\"confirm\":", "\"win_against\": \"best_baseline\", \"confirm\":"));
        StudySpec spec = StudySpec.read(config);
        assertEquals(List.of("topk", "matryoshka-roots"), spec.baselines());
        assertEquals(StudySpec.WIN_BEST_BASELINE, spec.winAgainst());
        Candidate variant = Candidates.expand(spec).get(1);
        assertEquals("matryoshka", variant.arch());
        assertEquals("6,rest", new Study(StudySpec.Source.read(config), dir, null, System.err, true).configFor(variant, 3, 1)
                .matryoshkaGroups());

        Files.writeString(config, CONFIG.replace("\"baselines\": [\"topk\", \"relu\"]",
                "\"baselines\": [\"topk\", {\"name\": \"m\", \"arch\": \"matryoshka\", \"key\": {}}]"));
        StringWriter stderr = new StringWriter();
        assertEquals(1, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(stderr), "study", "--config",
                config.toString(), "--out", dir.resolve("o").toString(), "--engine", "cpu"));
        assertTrue(stderr.toString().contains("baselines.key"), stderr.toString());
        assertEquals(1, stderr.toString().strip().lines().count(), stderr.toString());
    }
}
