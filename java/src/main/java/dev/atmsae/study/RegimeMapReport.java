package dev.atmsae.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.report.MarkdownTable;
import dev.atmsae.util.UserError;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

/**
 * Writes a regime map: {@code map.md} (per regime its data and a table of every cell, and a summary of where each
 * method absorbs strongly), {@code map.json} (the same numbers) and {@code map.png} (heat maps of full absorption and
 * of parent silent | child: one row per regime, one column per width × L0 setting; one row of two panels per
 * method).
 */
public final class RegimeMapReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private RegimeMapReport() {
    }

    public static void write(Path out, RegimeMapSpec spec, RegimeMap.Outcome o) {
        try {
            Files.createDirectories(out);
            if (!o.cells().isEmpty()) {
                writePlot(out.resolve("map.png"), spec, o.cells());
            }
            AtomicFiles.writeString(out.resolve("map.json"), JSON.writeValueAsString(json(spec, o)));
            AtomicFiles.writeString(out.resolve("map.md"), markdown(spec, o));
        } catch (IOException e) {
            throw UserError.inFile(out, "cannot write the regime map: " + e.getMessage());
        }
    }

    static boolean strong(RegimeMapSpec spec, RegimeMap.MapCell c) {
        StudyAnalysis.Cell s = c.cell();
        return s.seeds() > 0 && spec.strong().holds(s.fullAbs(), s.silentGivenChild(), s.fvu());
    }

    /** What a regime's data are, in the numbers that decide absorption. */
    static Map<String, Object> describe(RegimeMapSpec.Regime r) {
        SynthConfig c = r.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("source", r.source());
        m.put("synth", r.keys());
        m.put("features", c.features());
        m.put("root_level_features", c.rootLevelFeatures());
        m.put("mean_active_features", c.meanActiveFeatures());
        m.put("mean_active_children", c.meanActiveChildren());
        // each child's share of its parent's samples: what one absorbing latent adds to a k-sparse probe's recall
        m.put("child_share_of_parent", c.children() == 0 ? 0.0 : c.childProb() / c.children());
        return m;
    }

    static Map<String, Object> json(RegimeMapSpec spec, RegimeMap.Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "atmsae-regime-map/1");
        m.put("name", spec.name());
        Map<String, Object> strong = new LinkedHashMap<>();
        strong.put("full_absorption_at_least", spec.strong().fullAbsorption());
        strong.put("silent_given_child_at_least", spec.strong().silentGivenChild());
        strong.put("fvu_at_most", spec.strong().fvu());
        m.put("strong", strong);
        Map<String, Object> setup = new LinkedHashMap<>();
        setup.put("tokens", spec.tokens());
        setup.put("batch", spec.batch());
        setup.put("eval_tokens", spec.evalTokens());
        setup.put("common", spec.common());
        setup.put("seeds", spec.seeds());
        setup.put("widths_x_features", spec.widths());
        setup.put("l0_x_mean_active_features", spec.l0());
        setup.put("methods", spec.methods().stream().map(b -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", b.name());
            e.put("arch", b.arch());
            e.put("keys", b.keys());
            return e;
        }).toList());
        m.put("setup", setup);
        m.put("regimes", spec.regimes().stream().map(RegimeMapReport::describe).toList());
        m.put("missing_runs", o.missingRuns());
        List<Map<String, Object>> cells = new ArrayList<>();
        for (RegimeMap.MapCell c : o.cells()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("regime", c.regime().name());
            e.put("width", c.width());
            e.put("width_x_features", c.widthFactor());
            e.put("k", c.k());
            e.put("l0_x_mean_active", c.l0Factor());
            e.put("method", c.method());
            e.put("strong", strong(spec, c));
            e.put("cell", c.cell().toMap());
            cells.add(e);
        }
        m.put("cells", cells);
        return m;
    }

    static String markdown(RegimeMapSpec spec, RegimeMap.Outcome o) {
        StringBuilder md = new StringBuilder("# ").append(spec.name()).append("\n\n");
        md.append(String.format(Locale.ROOT, "Written by `atmsae regime-map`. %d training tokens per SAE, batch %d, "
                        + "seeds %s. Widths %s × each regime's true feature count; L0 targets (k) %s × its mean number of "
                        + "active features, rounded to a whole k. **Absorbs strongly** = full absorption ≥ %s, parent "
                        + "silent | child ≥ %s and FVU ≤ %s. Full absorption's 95%% interval is the study's bootstrap "
                        + "(seeds, then tree roots within seeds).%n%n", spec.tokens(), spec.batch(), spec.seeds(),
                spec.widths(), spec.l0(), MarkdownTable.num(spec.strong().fullAbsorption()),
                MarkdownTable.num(spec.strong().silentGivenChild()), MarkdownTable.num(spec.strong().fvu())));
        if (o.missingRuns() > 0) {
            md.append(String.format(Locale.ROOT, "**Interim report**: %d planned run(s) have not finished.%n%n",
                    o.missingRuns()));
        }
        md.append("## Where each method absorbs strongly\n\n");
        MarkdownTable summary = new MarkdownTable("regime", "features", "true L0", "child share of parent", "method",
                "strong cells", "strongest cell (width, k): full / silent | child / FVU");
        for (RegimeMapSpec.Regime r : spec.regimes()) {
            for (StudySpec.Baseline method : spec.methods()) {
                List<RegimeMap.MapCell> mine = o.cells().stream().filter(c -> c.regime() == r
                        && c.method().equals(method.name()) && c.cell().seeds() > 0).toList();
                long strongCells = mine.stream().filter(c -> strong(spec, c)).count();
                RegimeMap.MapCell top = mine.stream().filter(c -> c.cell().fvu() <= spec.strong().fvu())
                        .max(java.util.Comparator.comparingDouble(c -> c.cell().fullAbs())).orElse(null);
                summary.row(r.name(), r.config().features(), MarkdownTable.num(r.config().meanActiveFeatures()),
                        MarkdownTable.num(r.config().children() == 0 ? 0 : r.config().childProb() / r.config().children()),
                        method.name(), strongCells + " / " + mine.size(), top == null ? "none at FVU ≤ "
                                + MarkdownTable.num(spec.strong().fvu()) : String.format(Locale.ROOT,
                                "w %d, k %d: %s / %s / %s", top.width(), top.k(), MarkdownTable.num(top.cell().fullAbs()),
                                MarkdownTable.num(top.cell().silentGivenChild()), MarkdownTable.num(top.cell().fvu())));
            }
        }
        md.append(summary.render()).append('\n');
        md.append("![Full absorption and parent silent | child per regime and setting](map.png)\n\n");
        md.append("## Regimes\n\n");
        for (RegimeMapSpec.Regime r : spec.regimes()) {
            SynthConfig c = r.config();
            md.append("### ").append(r.name()).append("\n\n");
            md.append(String.format(Locale.ROOT, "%s%s. %d features (%d trees × %d children, %d independent) in d = %d "
                            + "(%s directions); parent rate %s, P(child | parent) %s (each child %s of its parent's "
                            + "samples), P(child | no parent) %s, child scale %s, magnitude %s ± %s, noise %s. Mean active "
                            + "features %s (children %s).%n%n", r.source().isEmpty() ? "" : r.source() + ": ",
                    r.keys().isEmpty() ? "the base settings" : "settings " + r.keys(), c.features(), c.trees(),
                    c.children(), c.independent(), c.d(), c.orthogonal() ? "orthogonal" : "random",
                    MarkdownTable.num(c.parentRate()), MarkdownTable.num(c.childProb()),
                    MarkdownTable.num(c.children() == 0 ? 0 : c.childProb() / c.children()),
                    MarkdownTable.num(c.orphanProb()), MarkdownTable.num(c.childScale()),
                    MarkdownTable.num(c.magnitudeMean()), MarkdownTable.num(c.magnitudeStd()),
                    MarkdownTable.num(c.noiseStd()), MarkdownTable.num(c.meanActiveFeatures()),
                    MarkdownTable.num(c.meanActiveChildren())));
            MarkdownTable t = new MarkdownTable("width (× features)", "k (× true L0)", "method", "seeds", "L0", "FVU",
                    "full absorption [95% CI]", "full (cos main)", "abs. fraction", "silent | child",
                    "silent | no child", "main latents", "strong");
            for (RegimeMap.MapCell m : o.cells()) {
                if (m.regime() != r) {
                    continue;
                }
                StudyAnalysis.Cell s = m.cell();
                StudyAnalysis.Measures me = s.measures();
                t.row(m.width() + " (" + MarkdownTable.num(m.widthFactor()) + ")",
                        m.k() + " (" + MarkdownTable.num(m.l0Factor()) + ")", m.method(),
                        s.seeds() + (s.flagged() > 0 ? " (+" + s.flagged() + " flagged)" : ""), MarkdownTable.num(s.l0()),
                        MarkdownTable.num(s.fvu()), MarkdownTable.num(s.fullAbs()) + " [" + MarkdownTable.num(s.absLo())
                                + ", " + MarkdownTable.num(s.absHi()) + "]",
                        me == null ? "–" : MarkdownTable.num(me.fullCos()), MarkdownTable.num(s.fraction()),
                        MarkdownTable.num(s.silentGivenChild()), me == null ? "–" : MarkdownTable.num(me.silentGivenNoChild()),
                        me == null ? "–" : MarkdownTable.num(me.splitFeatures()), strong(spec, m) ? "**yes**" : "");
            }
            md.append(t.render()).append('\n');
        }
        return md.toString();
    }

    private static final int PANEL_WIDTH = 640;

    /** A column label: width factor / L0 factor, e.g. "1.25/0.75". */
    private static String column(double widthFactor, double l0Factor) {
        return trim(widthFactor) + "/" + trim(l0Factor);
    }

    private static String trim(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** Per method two heat maps (full absorption; parent silent | child), regimes as rows, settings as columns. */
    static void writePlot(Path file, RegimeMapSpec spec, List<RegimeMap.MapCell> cells) throws IOException {
        List<String> columns = new ArrayList<>();
        for (double w : spec.widths()) {
            for (double l : spec.l0()) {
                columns.add(column(w, l));
            }
        }
        List<String> rows = spec.regimes().stream().map(RegimeMapSpec.Regime::name).toList();
        int height = 200 + 34 * rows.size();
        List<HeatMapChart> charts = new ArrayList<>();
        for (StudySpec.Baseline method : spec.methods()) {
            for (boolean silence : new boolean[] {false, true}) {
                HeatMapChart chart = new HeatMapChartBuilder().width(PANEL_WIDTH).height(height)
                        .title(method.name() + (silence ? ": parent silent | child" : ": full absorption"))
                        .xAxisTitle("width / k (× features / × true L0)").build();
                chart.getStyler().setShowValue(true).setMin(0).setMax(1).setHeatMapValueDecimalPattern("0.00")
                        .setRangeColors(new Color[] {new Color(0xf7fbff), new Color(0x6baed6), new Color(0x08306b)})
                        .setValueFontColor(new Color(0xd62728));
                chart.getStyler().setXAxisLabelRotation(60);
                chart.getStyler().setLegendVisible(false).setChartBackgroundColor(Color.WHITE);
                List<Number[]> values = new ArrayList<>();
                for (RegimeMap.MapCell c : cells) {
                    if (!c.method().equals(method.name()) || c.cell().seeds() == 0) {
                        continue;
                    }
                    int x = columns.indexOf(column(c.widthFactor(), c.l0Factor()));
                    int y = rows.indexOf(c.regime().name());
                    double v = silence ? c.cell().silentGivenChild() : c.cell().fullAbs();
                    if (x >= 0 && y >= 0 && Double.isFinite(v)) {
                        values.add(new Number[] {x, y, v});
                    }
                }
                chart.addSeries(method.name(), columns, rows, values);
                charts.add(chart);
            }
        }
        // one row per method: full absorption on the left, parent silent | child on the right
        BufferedImage img = new BufferedImage(2 * PANEL_WIDTH, height * spec.methods().size(),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        for (int i = 0; i < charts.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), (i % 2) * PANEL_WIDTH, (i / 2) * height, null);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }
}
