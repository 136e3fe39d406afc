package dev.atmsae.eval.synth;

import dev.atmsae.util.UserError;

/**
 * Settings of the hierarchical synthetic generator (absorption.md §6, §9).
 *
 * @param tokens          training samples written as shards
 * @param evalTokens      held-out samples (indices tokens .. tokens+evalTokens) for the probe set and truth scoring
 * @param d               activation width
 * @param trees           number of parent→children trees
 * @param children        children per tree
 * @param independent     number of independent features
 * @param parentRate      P(root fires)
 * @param childProb       P(some child fires | root fires); the child is then uniform among the siblings, so siblings
 *                        are mutually exclusive and P(child c | root) = childProb / children
 * @param independentRate P(independent feature fires)
 * @param magnitudeMean   mean of a firing magnitude; magnitude = |mean + std·z| (folded normal, always &gt; 0 a.s.)
 * @param magnitudeStd    std of a firing magnitude
 * @param noiseStd        std of isotropic Gaussian noise per coordinate
 * @param orthogonal      true: Gram–Schmidt-orthogonal directions (needs features ≤ d); false: random unit vectors
 * @param seed            Philox seed (stream STREAM_SYNTH)
 * @param shardTokens     rows per shard file
 */
public record SynthConfig(long tokens, int evalTokens, int d, int trees, int children, int independent, double parentRate,
                          double childProb, double independentRate, double magnitudeMean, double magnitudeStd,
                          double noiseStd, boolean orthogonal, long seed, int shardTokens) {
    public SynthConfig {
        if (tokens < 0 || evalTokens < 0 || d <= 0 || trees < 0 || children < 0 || independent < 0 || shardTokens <= 0) {
            throw new UserError("synth: sizes must be non-negative (tokens, eval tokens, trees, children, independent) "
                    + "and positive (d, shard tokens)");
        }
        if (trees + independent == 0) {
            throw new UserError("synth: need at least one tree or one independent feature");
        }
        for (double p : new double[] {parentRate, childProb, independentRate}) {
            if (!(p >= 0 && p <= 1)) {
                throw new UserError("synth: firing probabilities must lie in [0, 1], got " + p);
            }
        }
        if (!(magnitudeMean > 0) || !(magnitudeStd >= 0) || !(noiseStd >= 0)) {
            throw new UserError("synth: need magnitude mean > 0, magnitude std >= 0, noise std >= 0");
        }
        if (orthogonal && (long) trees * (1 + children) + independent > d) {
            throw new UserError("synth: " + ((long) trees * (1 + children) + independent) + " orthogonal features do not fit in d = "
                    + d + " (use fewer features or random directions)");
        }
    }

    /** Small defaults used by tests and the demo: 4 trees × 4 children + 8 independent features in 64 dims. */
    public static SynthConfig defaults() {
        return new SynthConfig(20_000, 4_000, 64, 4, 4, 8, 0.1, 0.6, 0.05, 1.0, 0.15, 0.02, true, 1, 65_536);
    }

    public int features() {
        return trees * (1 + children) + independent;
    }

    /** Feature id of tree t's root. */
    public int root(int tree) {
        return tree * (1 + children);
    }

    /** Feature id of child c of tree t. */
    public int child(int tree, int c) {
        return tree * (1 + children) + 1 + c;
    }

    /** Feature id of independent feature m. */
    public int independentFeature(int m) {
        return trees * (1 + children) + m;
    }
}
