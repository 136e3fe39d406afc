package dev.atmsae.eval.synth;

import dev.atmsae.core.Philox;
import java.util.stream.IntStream;

/**
 * x = Σ_j a_j·f_j + noise with known unit directions f_j and known firing (absorption.md §6): tree roots fire
 * independently, a child fires only when its root fires and at most one sibling fires; independent features fire
 * independently. Every draw is a pure function of (seed, sample index, slot) through Philox stream STREAM_SYNTH, so
 * any sample range can be regenerated exactly (the truth file does not need to hold the held-out samples).
 *
 * <p>The later settings draw from their own index range and only when they are switched on, and a child scale of 1
 * multiplies by exactly 1: a configuration that leaves them at {@link SynthConfig#LATER_DEFAULTS} generates the same
 * bits as before they existed. A child without its root ({@code orphanProb}) uses two slots per tree and sample above
 * {@link #ORPHAN_BASE}.
 */
public final class SynthGenerator {
    /** Sample draws start here; direction draws use indices below it. */
    private static final long SAMPLE_BASE = 1L << 40;
    /** Draws of children without their root start here (far above every sample slot of SAMPLE_BASE). */
    private static final long ORPHAN_BASE = 1L << 56;
    private final SynthConfig cfg;
    private final float[] directions;
    private final int slotsPerSample;

    /** A generated batch: rows [count, d] and true activations in CSR (feature ids ascending within a row). */
    public record Batch(long start, int count, float[] x, int[] rowPtr, int[] feature, float[] value) {
        public double trueActivation(int row, int f) {
            for (int p = rowPtr[row]; p < rowPtr[row + 1]; p++) {
                if (feature[p] == f) {
                    return value[p];
                }
            }
            return 0;
        }
    }

    public SynthGenerator(SynthConfig cfg) {
        this.cfg = cfg;
        this.directions = makeDirections(cfg);
        this.slotsPerSample = 4 * cfg.trees() + 2 * cfg.independent() + cfg.d();
    }

    public SynthConfig config() {
        return cfg;
    }

    /** Unit feature directions, row-major [features, d] (a copy). */
    public float[] directions() {
        return directions.clone();
    }

    private static float[] makeDirections(SynthConfig cfg) {
        int f = cfg.features(), d = cfg.d();
        double[][] v = new double[f][d];
        for (int j = 0; j < f; j++) {
            for (int i = 0; i < d; i++) {
                v[j][i] = Philox.gaussian(cfg.seed(), Philox.STREAM_SYNTH, (long) j * d + i);
            }
            if (cfg.orthogonal()) { // modified Gram–Schmidt, twice for numerical orthogonality
                for (int pass = 0; pass < 2; pass++) {
                    for (int q = 0; q < j; q++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += v[j][i] * v[q][i];
                        }
                        for (int i = 0; i < d; i++) {
                            v[j][i] -= dot * v[q][i];
                        }
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < d; i++) {
                norm += v[j][i] * v[j][i];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < d; i++) {
                v[j][i] /= norm;
            }
        }
        float[] out = new float[f * d];
        for (int j = 0; j < f; j++) {
            for (int i = 0; i < d; i++) {
                out[j * d + i] = (float) v[j][i];
            }
        }
        return out;
    }

    /** Generates samples start .. start+count−1 (in parallel; results do not depend on the thread count). */
    public Batch generate(long start, int count) {
        int d = cfg.d();
        float[] x = new float[count * d];
        int[][] feats = new int[count][];
        float[][] vals = new float[count][];
        IntStream.range(0, count).parallel().forEach(r -> sample(start + r, x, r * d, feats, vals, r));
        int[] rowPtr = new int[count + 1];
        for (int r = 0; r < count; r++) {
            rowPtr[r + 1] = rowPtr[r] + feats[r].length;
        }
        int[] feature = new int[rowPtr[count]];
        float[] value = new float[rowPtr[count]];
        for (int r = 0; r < count; r++) {
            System.arraycopy(feats[r], 0, feature, rowPtr[r], feats[r].length);
            System.arraycopy(vals[r], 0, value, rowPtr[r], vals[r].length);
        }
        return new Batch(start, count, x, rowPtr, feature, value);
    }

    private void sample(long s, float[] x, int off, int[][] featsOut, float[][] valsOut, int r) {
        long base = SAMPLE_BASE + s * slotsPerSample;
        int d = cfg.d();
        int[] feats = new int[cfg.features()];
        float[] vals = new float[cfg.features()];
        int n = 0;
        for (int t = 0; t < cfg.trees(); t++) {
            long slot = base + 4L * t;
            if (uniform(slot) >= cfg.parentRate()) {
                if (cfg.orphanProb() > 0 && cfg.children() > 0) {
                    long orphan = ORPHAN_BASE + (s * cfg.trees() + t) * 2;
                    double u = uniform(orphan);
                    if (u < cfg.orphanProb()) {
                        feats[n] = cfg.child(t, childIndex(u, cfg.orphanProb()));
                        vals[n++] = childMagnitude(orphan + 1);
                    }
                }
                continue;
            }
            feats[n] = cfg.root(t);
            vals[n++] = magnitude(slot + 1);
            double u = uniform(slot + 2);
            if (cfg.children() > 0 && u < cfg.childProb()) {
                feats[n] = cfg.child(t, childIndex(u, cfg.childProb()));
                vals[n++] = childMagnitude(slot + 3);
            }
        }
        long indBase = base + 4L * cfg.trees();
        for (int m = 0; m < cfg.independent(); m++) {
            if (uniform(indBase + 2L * m) < cfg.independentRate()) {
                feats[n] = cfg.independentFeature(m);
                vals[n++] = magnitude(indBase + 2L * m + 1);
            }
        }
        long noiseBase = indBase + 2L * cfg.independent();
        for (int i = 0; i < d; i++) {
            double acc = cfg.noiseStd() == 0 ? 0 : cfg.noiseStd() * Philox.gaussian(cfg.seed(), Philox.STREAM_SYNTH, noiseBase + i);
            for (int q = 0; q < n; q++) {
                acc += vals[q] * directions[feats[q] * d + i];
            }
            x[off + i] = (float) acc;
        }
        featsOut[r] = java.util.Arrays.copyOf(feats, n);
        valsOut[r] = java.util.Arrays.copyOf(vals, n);
    }

    /** The sibling a uniform u &lt; p picks: u/p is uniform in [0, 1), cut into equal parts. */
    private int childIndex(double u, double p) {
        return Math.min(cfg.children() - 1, (int) (u / p * cfg.children()));
    }

    private float childMagnitude(long index) {
        return cfg.childScale() == 1.0 ? magnitude(index) : (float) (magnitude(index) * cfg.childScale());
    }

    private double uniform(long index) {
        return Philox.uniform(cfg.seed(), Philox.STREAM_SYNTH, index);
    }

    private float magnitude(long index) {
        double m = Math.abs(cfg.magnitudeMean() + cfg.magnitudeStd() * Philox.gaussian(cfg.seed(), Philox.STREAM_SYNTH, index));
        return (float) Math.max(m, 1e-6); // a firing feature always has a positive magnitude
    }
}
