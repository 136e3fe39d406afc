package dev.atmsae.eval.synth;

import dev.atmsae.io.SaeWeights;
import java.util.Map;

/** Hand-built SAEs over a single-tree synthetic config, one latent per true feature (latent j ↔ feature j). */
final class HandBuiltSaes {
    static final float BIAS = -0.1f; // keeps noise-only projections from firing latents

    private HandBuiltSaes() {
    }

    /** 1 tree × 30 children + 2 independent features in 40 dims; children fire in half of the parent's samples. */
    static SynthConfig config() {
        return new SynthConfig(0, 3000, 40, 1, 30, 2, 0.3, 0.5, 0.1, 1.0, 0.1, 0.005, true, 11, 1024);
    }

    /** Decoder = true features, encoder = their transpose (the pseudo-inverse for orthonormal features). */
    static SaeWeights clean(SynthGenerator gen) {
        SynthConfig cfg = gen.config();
        int f = cfg.features(), d = cfg.d();
        float[] dirs = gen.directions();
        float[] wEnc = new float[d * f], wDec = new float[f * d];
        for (int j = 0; j < f; j++) {
            for (int i = 0; i < d; i++) {
                wEnc[i * f + j] = dirs[j * d + i];
                wDec[j * d + i] = dirs[j * d + i];
            }
        }
        return sae(wEnc, wDec, f, d);
    }

    /**
     * The toy-model absorption pattern: the parent latent's encoder has a negative component along every child (so it
     * is silent whenever a child fires), and each child latent's decoder is (f_parent + f_child)/√2.
     */
    static SaeWeights absorbing(SynthGenerator gen) {
        SynthConfig cfg = gen.config();
        int f = cfg.features(), d = cfg.d(), root = cfg.root(0);
        float[] dirs = gen.directions();
        float[] wEnc = new float[d * f], wDec = new float[f * d];
        for (int j = 0; j < f; j++) {
            boolean isChild = j > root && j <= root + cfg.children();
            for (int i = 0; i < d; i++) {
                double enc = dirs[j * d + i];
                double dec = dirs[j * d + i];
                if (j == root) {
                    for (int c = 0; c < cfg.children(); c++) {
                        enc -= 1.5 * dirs[cfg.child(0, c) * d + i];
                    }
                }
                if (isChild) {
                    dec = (dirs[root * d + i] + dirs[j * d + i]) / Math.sqrt(2);
                }
                wEnc[i * f + j] = (float) enc;
                wDec[j * d + i] = (float) dec;
            }
        }
        return sae(wEnc, wDec, f, d);
    }

    private static SaeWeights sae(float[] wEnc, float[] wDec, int f, int d) {
        float[] bEnc = new float[f];
        java.util.Arrays.fill(bEnc, BIAS);
        return new SaeWeights("standard", d, f, wEnc, bEnc, wDec, new float[d], null, 0, Map.of());
    }
}
