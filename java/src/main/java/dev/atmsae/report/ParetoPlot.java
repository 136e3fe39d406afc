package dev.atmsae.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Absorption-vs-reconstruction scatter plots, one panel per L0 target side by side in one PNG: per configuration
 * its mean (a filled marker, named in the legend), each seed's own point (small, same colour) and the 95% intervals
 * of both coordinates as thin lines through the mean — intervals may be asymmetric (percentile bootstrap), which
 * error bars cannot draw.
 */
public final class ParetoPlot {
    private static final int PANEL_WIDTH = 620;
    private static final int PANEL_HEIGHT = 520;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf),
        new Color(0x393b79), new Color(0xad494a), new Color(0x637939), new Color(0x843c39), new Color(0x5254a3)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private ParetoPlot() {
    }

    /** One configuration in a panel: seed points (x, y), the mean and its intervals [lo, hi] on each axis. */
    public record Point(String name, double[][] seeds, double x, double y, double xLo, double xHi, double yLo,
                        double yHi) {
    }

    public record Panel(String title, List<Point> points) {
    }

    public static Path write(Path file, String xTitle, String yTitle, List<Panel> panels) throws IOException {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("no panels");
        }
        BufferedImage out = new BufferedImage(PANEL_WIDTH * panels.size(), PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        for (int p = 0; p < panels.size(); p++) {
            g.drawImage(BitmapEncoder.getBufferedImage(chart(panels.get(p), xTitle, yTitle)), p * PANEL_WIDTH, 0, null);
        }
        g.dispose();
        Files.createDirectories(file.toAbsolutePath().getParent());
        ImageIO.write(out, "png", file.toFile());
        return file;
    }

    private static XYChart chart(Panel panel, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(panel.title())
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendFont(chart.getStyler().getLegendFont().deriveFont(9f));
        for (int i = 0; i < panel.points().size(); i++) {
            Point pt = panel.points().get(i);
            if (!Double.isFinite(pt.x()) || !Double.isFinite(pt.y())) {
                continue;
            }
            Color c = PALETTE[i % PALETTE.length];
            line(chart, pt.name() + " x-ci", new double[] {pt.xLo(), pt.xHi()}, new double[] {pt.y(), pt.y()}, c);
            line(chart, pt.name() + " y-ci", new double[] {pt.x(), pt.x()}, new double[] {pt.yLo(), pt.yHi()}, c);
            if (pt.seeds().length > 0) {
                double[] sx = new double[pt.seeds().length], sy = new double[pt.seeds().length];
                for (int s = 0; s < sx.length; s++) {
                    sx[s] = pt.seeds()[s][0];
                    sy[s] = pt.seeds()[s][1];
                }
                XYSeries seeds = chart.addSeries(pt.name() + " seeds", sx, sy);
                seeds.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                seeds.setMarker(SeriesMarkers.DIAMOND);
                seeds.setMarkerColor(c);
                seeds.setShowInLegend(false);
            }
            XYSeries mean = chart.addSeries(pt.name(), new double[] {pt.x()}, new double[] {pt.y()});
            mean.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            mean.setMarker(SeriesMarkers.CIRCLE);
            mean.setMarkerColor(c);
        }
        return chart;
    }

    private static void line(XYChart chart, String name, double[] x, double[] y, Color c) {
        if (!(Double.isFinite(x[0]) && Double.isFinite(x[1]) && Double.isFinite(y[0]) && Double.isFinite(y[1]))) {
            return;
        }
        XYSeries s = chart.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(c);
        s.setLineStyle(new BasicStroke(1.2f));
        s.setShowInLegend(false);
    }
}
