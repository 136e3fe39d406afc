package dev.atmsae.arch;

import dev.atmsae.core.Philox;

/**
 * Synthetic data with a known dictionary: {@code atoms} random unit directions in R^d; each sample is the sum of
 * {@code active} distinct atoms with magnitudes uniform in [0.5, 1.5]. Deterministic (Philox, test stream 110+).
 */
final class PlantedDictionary {
    final int d;
    final int atoms;
    final double[] directions;
    final float[] samples;
    final int count;

    PlantedDictionary(int d, int atoms, int active, int count, long seed) {
        this.d = d;
        this.atoms = atoms;
        this.count = count;
        directions = new double[atoms * d];
        for (int a = 0; a < atoms; a++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double g = Philox.gaussian(seed, 110, (long) a * d + j);
                directions[a * d + j] = g;
                s += g * g;
            }
            for (int j = 0; j < d; j++) {
                directions[a * d + j] /= Math.sqrt(s);
            }
        }
        samples = new float[count * d];
        long r = 0;
        int[] chosen = new int[active];
        for (int b = 0; b < count; b++) {
            for (int t = 0; t < active; t++) {
                int pick;
                boolean fresh;
                do {
                    pick = (int) (Philox.uniform(seed, 111, r++) * atoms);
                    fresh = true;
                    for (int u = 0; u < t; u++) {
                        fresh &= chosen[u] != pick;
                    }
                } while (!fresh);
                chosen[t] = pick;
                double mag = 0.5 + Philox.uniform(seed, 112, r++);
                for (int j = 0; j < d; j++) {
                    samples[b * d + j] += (float) (mag * directions[pick * d + j]);
                }
            }
        }
    }

    /** Rows [from, from + rows) (wrapping) multiplied by {@code scale}. */
    float[] batch(long index, int rows, float scale) {
        float[] out = new float[rows * d];
        for (int b = 0; b < rows; b++) {
            int src = (int) ((index * rows + b) % count);
            for (int j = 0; j < d; j++) {
                out[b * d + j] = scale * samples[src * d + j];
            }
        }
        return out;
    }

    /** Mean over true atoms of the best |cosine| with any decoder row (decoder [n, d] row-major). */
    double meanMaxCosine(float[] decoder, int n) {
        double total = 0;
        for (int a = 0; a < atoms; a++) {
            double best = 0;
            for (int i = 0; i < n; i++) {
                double dot = 0, nn = 0;
                for (int j = 0; j < d; j++) {
                    dot += directions[a * d + j] * decoder[i * d + j];
                    nn += (double) decoder[i * d + j] * decoder[i * d + j];
                }
                if (nn > 0) {
                    best = Math.max(best, dot / Math.sqrt(nn));
                }
            }
            total += best;
        }
        return total / atoms;
    }
}
