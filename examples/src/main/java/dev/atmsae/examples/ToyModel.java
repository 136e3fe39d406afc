package dev.atmsae.examples;

import dev.atmsae.api.ActivationSource;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * A stand-in for a language model's activations, with a feature hierarchy that absorption can be measured on: 32
 * feature directions in 32 dimensions — 4 parent features ("tree0" … "tree3"), 3 children under each (a child fires
 * only together with its parent, as "starts with S" fires with "short"), and 16 independent features. A token holds a
 * parent with probability 0.6 (then one of its children with probability 0.75) and one or two independent features,
 * each with a random strength in [1, 3).
 */
final class ToyModel implements ActivationSource {
    static final int DIM = 32;
    static final int TREES = 4;
    static final int CHILDREN = 3;
    static final int FEATURES = TREES + TREES * CHILDREN + 16;

    /** One activation and what made it: the parent tree (-1 for none) and the child under it (-1 for none). */
    record Token(float[] x, int tree, int child) {
    }

    private final float[][] directions = new float[FEATURES][DIM];

    ToyModel(long seed) {
        Random r = new Random(seed);
        for (float[] d : directions) {
            double norm = 0;
            for (int j = 0; j < DIM; j++) {
                d[j] = (float) r.nextGaussian();
                norm += d[j] * d[j];
            }
            for (int j = 0; j < DIM; j++) {
                d[j] /= (float) Math.sqrt(norm);
            }
        }
    }

    /** The unit direction of feature {@code f} (parents first, then children tree by tree, then independents). */
    float[] direction(int f) {
        return directions[f].clone();
    }

    static int childFeature(int tree, int child) {
        return TREES + tree * CHILDREN + child;
    }

    Token token(SplittableRandom r) {
        float[] x = new float[DIM];
        int tree = r.nextDouble() < 0.6 ? r.nextInt(TREES) : -1;
        int child = tree >= 0 && r.nextDouble() < 0.75 ? r.nextInt(CHILDREN) : -1;
        if (tree >= 0) {
            add(x, tree, r);
        }
        if (child >= 0) {
            add(x, childFeature(tree, child), r);
        }
        for (int i = 1 + r.nextInt(2); i > 0; i--) {
            add(x, TREES + TREES * CHILDREN + r.nextInt(16), r);
        }
        return new Token(x, tree, child);
    }

    /** {@code n} activations drawn with {@code seed}. */
    float[][] rows(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = token(r).x();
        }
        return rows;
    }

    private void add(float[] x, int feature, SplittableRandom r) {
        float strength = (float) (1 + 2 * r.nextDouble());
        for (int j = 0; j < DIM; j++) {
            x[j] += strength * directions[feature][j];
        }
    }

    @Override
    public int dim() {
        return DIM;
    }

    /** Batch b is a pure function of b, so a run that streams from this source can be resumed bit for bit. */
    @Override
    public void fill(long batchIndex, int rows, FloatBuffer out) {
        SplittableRandom r = new SplittableRandom(batchIndex * 0x9E3779B97F4A7C15L + 17);
        for (int i = 0; i < rows; i++) {
            out.put(token(r).x());
        }
    }
}
