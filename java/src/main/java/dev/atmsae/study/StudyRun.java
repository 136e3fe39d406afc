package dev.atmsae.study;

import dev.atmsae.sweep.RunResult;

/**
 * One trained SAE of a study: its configuration, the L0 target and seed, and what it measured. {@code flagged}: the
 * final L0 missed the target by more than {@link Study#L0_TOLERANCE} (relative); such a run is shown but left out
 * of every matched-L0 comparison.
 */
public record StudyRun(Candidate candidate, String stage, double targetL0, long seed, RunResult result) {
    public double l0() {
        return result.metric("core.l0");
    }

    /**
     * The share of codes ATM's mask removed over the run (see {@link dev.atmsae.sweep.MaskActivity}): from the
     * result, else from the run directory's metrics.jsonl (results written before the field existed); NaN if unknown.
     */
    public double maskedCodeFraction() {
        double f = result.metric("train.masked_code_fraction");
        if (Double.isFinite(f) || result.dir() == null) {
            return f;
        }
        return dev.atmsae.sweep.MaskActivity.maskedCodeFraction(java.nio.file.Path.of(result.dir(), "metrics.jsonl"));
    }

    public boolean flagged() {
        double l0 = l0();
        return !(Math.abs(l0 - targetL0) <= Study.L0_TOLERANCE * targetL0);
    }
}
