package dev.atmsae.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * The one-line progress display of a training run: step, tokens/s, ETA, loss parts, L0, dead %, loader stall %.
 * On a terminal the line is redrawn in place with a carriage return at most a few times a second; when stderr is a
 * file or a pipe (CI logs) a full line is printed every {@code pipeIntervalSeconds} so logs stay readable.
 * A quiet reporter prints nothing.
 */
public final class ProgressReporter {
    private final PrintStream out;
    private final boolean quiet;
    private final boolean terminal;
    private final long totalSteps;
    private final long minIntervalNanos;
    private long lastPrintNanos;
    private int lastLength;
    private boolean dirty;

    public ProgressReporter(PrintStream out, boolean quiet, long totalSteps) {
        this(out, quiet, System.console() != null && System.console().isTerminal(), totalSteps);
    }

    ProgressReporter(PrintStream out, boolean quiet, boolean terminal, long totalSteps) {
        this.out = out;
        this.quiet = quiet;
        this.terminal = terminal;
        this.totalSteps = totalSteps;
        this.minIntervalNanos = terminal ? 200_000_000L : 10_000_000_000L;
    }

    /** Shows the state after {@code step} steps (1-based); throttled unless {@code force}. */
    public void update(long step, double tokensPerSecond, double stallFraction, Map<String, Object> metrics,
                       boolean force) {
        if (quiet) {
            return;
        }
        long now = System.nanoTime();
        if (!force && lastPrintNanos != 0 && now - lastPrintNanos < minIntervalNanos) {
            return;
        }
        lastPrintNanos = now;
        String line = format(step, tokensPerSecond, stallFraction, metrics);
        if (terminal) {
            int pad = Math.max(0, lastLength - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastLength = line.length();
            dirty = true;
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Prints a message on its own line (ends the in-place line first). */
    public void message(String text) {
        if (quiet) {
            return;
        }
        finish();
        out.println(text);
        out.flush();
    }

    /** Ends the in-place line so later output starts on a fresh line. */
    public void finish() {
        if (!quiet && dirty) {
            out.println();
            out.flush();
            dirty = false;
            lastLength = 0;
        }
    }

    String format(long step, double tokensPerSecond, double stallFraction, Map<String, Object> metrics) {
        StringBuilder sb = new StringBuilder();
        int width = Long.toString(totalSteps).length();
        sb.append(String.format(Locale.ROOT, "step %" + width + "d/%d %5.1f%%", step, totalSteps,
                100.0 * step / Math.max(1, totalSteps)));
        sb.append(String.format(Locale.ROOT, " | %s tok/s", human(tokensPerSecond)));
        if (tokensPerSecond > 0 && step < totalSteps) {
            double batchTokens = metrics.containsKey("batch_tokens") ? ((Number) metrics.get("batch_tokens")).doubleValue() : 0;
            if (batchTokens > 0) {
                sb.append(" | ETA ").append(duration((totalSteps - step) * batchTokens / tokensPerSecond));
            }
        }
        for (Map.Entry<String, Object> e : metrics.entrySet()) {
            String key = e.getKey();
            if (e.getValue() instanceof Number n && isShown(key)) {
                sb.append(String.format(Locale.ROOT, " | %s %s", shortName(key), compact(key, n.doubleValue())));
            }
        }
        sb.append(String.format(Locale.ROOT, " | stall %.0f%%", 100 * stallFraction));
        return sb.toString();
    }

    /** Every numeric field is shown except the batch size; the caller picks which fields to pass. */
    private static boolean isShown(String key) {
        return !key.equals("batch_tokens");
    }

    private static String shortName(String key) {
        return switch (key) {
            case "sparsityLoss" -> "sparse";
            case "auxLoss" -> "aux";
            case "deadFraction" -> "dead";
            default -> key;
        };
    }

    private static String compact(String key, double v) {
        if (key.startsWith("dead") || key.equals("deadFraction")) {
            return String.format(Locale.ROOT, "%.1f%%", 100 * v);
        }
        if (key.toLowerCase(Locale.ROOT).startsWith("l0")) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    static String human(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
