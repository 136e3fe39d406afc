package dev.atmsae.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A GitHub-flavoured Markdown table built row by row; numbers are formatted by the caller or by {@link #num}. */
public final class MarkdownTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public MarkdownTable(String... header) {
        this.header = List.of(header);
    }

    public MarkdownTable row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, header has " + header.size());
        }
        List<String> r = new ArrayList<>(cells.length);
        for (Object c : cells) {
            r.add(c == null ? "–" : c instanceof Double || c instanceof Float ? num(((Number) c).doubleValue()) : c.toString());
        }
        rows.add(r);
        return this;
    }

    /** Four significant digits, or "–" for NaN (a metric that could not be computed). */
    public static String num(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        if (v != 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** Mean ± half-width, e.g. "0.123 ± 0.004". */
    public static String withCi(double mean, double halfWidth) {
        return Double.isNaN(halfWidth) || halfWidth == 0 ? num(mean) : num(mean) + " ± " + num(halfWidth);
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        line(sb, header);
        sb.append('|');
        header.forEach(h -> sb.append("---|"));
        sb.append('\n');
        rows.forEach(r -> line(sb, r));
        return sb.toString();
    }

    /** The same table as fixed-width plain text, for printing to a terminal. */
    public String renderPlain() {
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = header.get(c).length();
            for (List<String> r : rows) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        plainLine(sb, header, width);
        for (int c = 0; c < width.length; c++) {
            sb.append("-".repeat(width[c])).append(c + 1 < width.length ? "  " : "\n");
        }
        rows.forEach(r -> plainLine(sb, r, width));
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells) {
        sb.append('|');
        cells.forEach(c -> sb.append(' ').append(c.replace("|", "\\|")).append(" |"));
        sb.append('\n');
    }

    private static void plainLine(StringBuilder sb, List<String> cells, int[] width) {
        for (int c = 0; c < cells.size(); c++) {
            String s = cells.get(c);
            sb.append(s).append(" ".repeat(width[c] - s.length())).append(c + 1 < cells.size() ? "  " : "\n");
        }
    }
}
