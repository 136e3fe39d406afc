package dev.atmsae.eval.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.atmsae.util.UserError;
import java.util.LinkedHashMap;
import java.util.Map;

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
 *                        are mutually exclusive and P(child c | root) = childProb / children. 1 − childProb is how often
 *                        a parent fires without a child
 * @param independentRate P(independent feature fires)
 * @param magnitudeMean   mean of a firing magnitude; magnitude = |mean + std·z| (folded normal, always &gt; 0 a.s.)
 * @param magnitudeStd    std of a firing magnitude
 * @param noiseStd        std of isotropic Gaussian noise per coordinate
 * @param orthogonal      true: Gram–Schmidt-orthogonal directions (needs features ≤ d); false: random unit vectors
 * @param seed            Philox seed (stream STREAM_SYNTH)
 * @param shardTokens     rows per shard file
 * @param orphanProb      P(some child fires | its root does not), the child uniform among the siblings: a child without
 *                        its parent (imperfect co-occurrence). 0 = children fire only with their root
 * @param childScale      a child's magnitude relative to its parent's (the relative norm of child and parent
 *                        directions in x): child magnitudes are drawn as every other and multiplied by this
 */
public record SynthConfig(long tokens, int evalTokens, int d, int trees, int children, int independent, double parentRate,
                          double childProb, double independentRate, double magnitudeMean, double magnitudeStd,
                          double noiseStd, boolean orthogonal, long seed, int shardTokens, double orphanProb,
                          double childScale) {
    /**
     * The settings added after the first format, with the values that reproduce data written before them: a file or
     * study config without them means these (and {@link SynthFiles} writes them only when they differ, so earlier
     * truth.json files stay byte-identical).
     */
    public static final Map<String, Object> LATER_DEFAULTS = Map.of("orphan_prob", 0.0, "child_scale", 1.0);

    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    /** The settings of the first format: children only with their root, at the parent's magnitude scale. */
    public SynthConfig(long tokens, int evalTokens, int d, int trees, int children, int independent, double parentRate,
                       double childProb, double independentRate, double magnitudeMean, double magnitudeStd,
                       double noiseStd, boolean orthogonal, long seed, int shardTokens) {
        this(tokens, evalTokens, d, trees, children, independent, parentRate, childProb, independentRate, magnitudeMean,
                magnitudeStd, noiseStd, orthogonal, seed, shardTokens, 0.0, 1.0);
    }

    public SynthConfig {
        if (tokens < 0 || evalTokens < 0 || d <= 0 || trees < 0 || children < 0 || independent < 0 || shardTokens <= 0) {
            throw new UserError("synth: sizes must be non-negative (tokens, eval tokens, trees, children, independent) "
                    + "and positive (d, shard tokens)");
        }
        if (trees + independent == 0) {
            throw new UserError("synth: need at least one tree or one independent feature");
        }
        for (double p : new double[] {parentRate, childProb, independentRate, orphanProb}) {
            if (!(p >= 0 && p <= 1)) {
                throw new UserError("synth: firing probabilities must lie in [0, 1], got " + p);
            }
        }
        if (!(magnitudeMean > 0) || !(magnitudeStd >= 0) || !(noiseStd >= 0)) {
            throw new UserError("synth: need magnitude mean > 0, magnitude std >= 0, noise std >= 0");
        }
        if (!(childScale > 0) || Double.isInfinite(childScale)) {
            throw new UserError("synth: child scale must be a positive number, got " + childScale);
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

    /**
     * The settings from snake_case keys (the names truth.json and study configs use) over {@link #defaults()}; keys
     * may be numbers or numeric strings. An unknown key or a bad value is a one-line {@link UserError} naming it.
     */
    public static SynthConfig fromMap(Map<String, ?> keys) {
        Map<String, Object> m = toMap(defaults());
        for (Map.Entry<String, ?> e : keys.entrySet()) {
            if (!m.containsKey(e.getKey())) {
                throw new UserError("synth: " + e.getKey() + " is not a generator setting (known: "
                        + String.join(", ", m.keySet()) + ")");
            }
            m.put(e.getKey(), e.getValue());
        }
        try {
            return SNAKE.convertValue(m, SynthConfig.class);
        } catch (IllegalArgumentException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof UserError u) {
                    throw u;
                }
            }
            throw new UserError("synth: bad generator setting: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /** Every setting under its snake_case key, in declaration order. */
    public static Map<String, Object> toMap(SynthConfig cfg) {
        return SNAKE.convertValue(cfg, new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() { });
    }

    public int features() {
        return trees * (1 + children) + independent;
    }

    /** The true features the roots and the independent features have: those no other feature implies. */
    public int rootLevelFeatures() {
        return trees + independent;
    }

    /** E[number of children firing] per sample: with their root, and (orphanProb) without it. */
    public double meanActiveChildren() {
        return children == 0 ? 0 : trees * (parentRate * childProb + (1 - parentRate) * orphanProb);
    }

    /** E[number of true features firing] per sample: the data's true L0. */
    public double meanActiveFeatures() {
        return trees * parentRate + meanActiveChildren() + independent * independentRate;
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
