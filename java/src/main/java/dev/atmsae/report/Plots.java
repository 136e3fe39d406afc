package dev.atmsae.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG plots for reports (XChart, headless). Each method writes one file and returns its path. */
public final class Plots {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {
    }

    /** One named curve: x values, y values and optional error half-widths (null = none). */
    public record Series(String name, double[] x, double[] y, double[] err) {
        public Series(String name, double[] x, double[] y) {
            this(name, x, y, null);
        }
    }

    /** Line chart of several series (training curves, metric-vs-L0 curves with confidence intervals). */
    public static Path lines(Path file, String title, String xTitle, String yTitle, List<Series> series,
                             boolean logY) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Series s : series) {
            if (s.x().length == 0) {
                continue;
            }
            XYSeries xy = s.err() == null ? chart.addSeries(s.name(), s.x(), s.y())
                    : chart.addSeries(s.name(), s.x(), s.y(), s.err());
            xy.setMarker(s.x().length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        return save(chart, file);
    }

    /** Histogram of values (e.g. log10 feature density) per named group, as overlaid bars over shared bins. */
    public static Path histogram(Path file, String title, String xTitle, Map<String, double[]> groups, int bins,
                                 double lo, double hi) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle("latents").build();
        chart.getStyler().setOverlapped(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisDecimalPattern("0.0");
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        double w = (hi - lo) / bins;
        double[] centers = new double[bins];
        for (int b = 0; b < bins; b++) {
            centers[b] = lo + (b + 0.5) * w;
        }
        for (Map.Entry<String, double[]> g : groups.entrySet()) {
            double[] counts = new double[bins];
            for (double v : g.getValue()) {
                int b = (int) Math.floor((Math.max(lo, Math.min(hi - 1e-12, v)) - lo) / w);
                counts[b]++;
            }
            chart.addSeries(g.getKey(), centers, counts);
        }
        return save(chart, file);
    }

    /** Grouped bar chart: categories on x (e.g. parent classes), one bar per named series (e.g. architecture). */
    public static Path bars(Path file, String title, String yTitle, List<String> categories,
                            Map<String, double[]> seriesValues) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Map.Entry<String, double[]> s : seriesValues.entrySet()) {
            chart.addSeries(s.getKey(), categories, toList(s.getValue()));
        }
        return save(chart, file);
    }

    private static List<Double> toList(double[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }

    private static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
        return file;
    }
}
