package dev.atmsae.harvest;

import java.io.PrintStream;
import java.util.Locale;

/** Prints "what / total tokens, tokens/s, ETA" to stderr at most every two seconds; silent when quiet. */
public final class Progress {
    private static final long INTERVAL_NANOS = 2_000_000_000L;
    private final String label;
    private final long total;
    private final boolean quiet;
    private final PrintStream out;
    private long startNanos = System.nanoTime();
    private long lastPrint = startNanos;
    private long done;

    public Progress(String label, long total, boolean quiet) {
        this.label = label;
        this.total = total;
        this.quiet = quiet;
        this.out = System.err;
    }

    /** Restarts the clock (call once the model is loaded, so rates measure the model, not its start-up). */
    public void start() {
        startNanos = System.nanoTime();
        lastPrint = startNanos;
    }

    public void advance(long tokens) {
        done += tokens;
        long now = System.nanoTime();
        if (!quiet && now - lastPrint >= INTERVAL_NANOS) {
            lastPrint = now;
            double rate = tokensPerSecond();
            long etaSeconds = rate > 0 ? Math.round((total - done) / rate) : -1;
            out.printf(Locale.ROOT, "%s: %,d / %,d tokens (%.0f%%), %,.0f tokens/s, ETA %s%n", label, done, total,
                    100.0 * done / Math.max(1, total), rate, etaSeconds < 0 ? "?" : duration(etaSeconds));
        }
    }

    public long done() {
        return done;
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    public double tokensPerSecond() {
        double s = seconds();
        return s > 0 ? done / s : 0;
    }

    static String duration(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60)
                : seconds >= 60 ? String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60)
                : seconds + "s";
    }
}
