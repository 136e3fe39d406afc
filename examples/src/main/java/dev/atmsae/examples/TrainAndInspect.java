package dev.atmsae.examples;

import dev.atmsae.api.ActivationSource;
import dev.atmsae.api.Device;
import dev.atmsae.api.Evaluation;
import dev.atmsae.api.ReconstructionMetrics;
import dev.atmsae.api.Sae;
import dev.atmsae.api.Training;
import dev.atmsae.api.TrainingResult;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * A JVM tool that embeds atmsae through its public API only: it streams synthetic "model activations" from an
 * in-process {@link ActivationSource} into a {@link Training}, loads the exported SAE and prints each probe input's
 * top latents, then how well the SAE reconstructs fresh activations.
 *
 * <p>The activations are sparse sums of 48 hidden feature directions in 32 dimensions, so a TopK SAE with k = 4 can
 * find them; the tool prints which hidden features each probe input was made of next to the latents that fired.
 */
public final class TrainAndInspect {
    private static final int DIM = 32;
    private static final int FEATURES = 48;

    private TrainAndInspect() {
    }

    /** Hidden features and a deterministic way to mix them: batch b is a pure function of b (resumable). */
    static final class SyntheticModel implements ActivationSource {
        private final float[][] directions = new float[FEATURES][DIM];

        SyntheticModel(long seed) {
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

        @Override
        public int dim() {
            return DIM;
        }

        @Override
        public void fill(long batchIndex, int rows, FloatBuffer out) {
            SplittableRandom r = new SplittableRandom(batchIndex * 0x9E3779B97F4A7C15L + 17);
            for (int i = 0; i < rows; i++) {
                out.put(token(r, null));
            }
        }

        /** One activation: 2 or 3 features with random strength; their ids go to {@code used} when given. */
        float[] token(SplittableRandom r, StringBuilder used) {
            float[] x = new float[DIM];
            int active = 2 + r.nextInt(2);
            for (int a = 0; a < active; a++) {
                int f = r.nextInt(FEATURES);
                float strength = (float) (1 + 2 * r.nextDouble());
                for (int j = 0; j < DIM; j++) {
                    x[j] += strength * directions[f][j];
                }
                if (used != null) {
                    used.append(used.isEmpty() ? "" : ",").append(f);
                }
            }
            return x;
        }
    }

    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "example-run");
        SyntheticModel model = new SyntheticModel(42);
        long[] lastReport = {0};
        Training training = Training.builder()
                .architecture("topk").width(96).k(4)
                .tokens(200_000).batchSize(1024).seed(1).learningRate(4e-3)
                .device(Device.cpu())
                .source(model)
                .outputDirectory(out)
                .listener(p -> {
                    if (p.step() - lastReport[0] >= 50 || p.step() == p.totalSteps()) {
                        lastReport[0] = p.step();
                        System.out.printf(Locale.ROOT, "step %d/%d  mse %.4f  l0 %.1f  dead %.2f%n", p.step(),
                                p.totalSteps(), p.mse(), p.l0(), p.deadFraction());
                    }
                })
                .build();
        TrainingResult result = training.run();
        System.out.println("SAE written to " + result.saeDirectory().orElseThrow());

        try (Sae sae = Sae.load(result.saeDirectory().orElseThrow(), Device.cpu())) {
            System.out.printf("loaded %s SAE: d_in %d, %d latents, k %d%n", sae.architecture(), sae.inputDim(),
                    sae.width(), sae.k());
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < 5; i++) {
                StringBuilder used = new StringBuilder();
                float[] x = model.token(r, used);
                StringBuilder top = new StringBuilder();
                for (Sae.Latent l : sae.topLatents(x, 4)) {
                    top.append(String.format(Locale.ROOT, " #%d=%.2f", l.index(), l.activation()));
                }
                System.out.printf("input %d (hidden features %s): top latents%s%n", i, used, top);
            }
            ReconstructionMetrics m = Evaluation.reconstruction(sae, new SyntheticModel(42), 8192);
            System.out.printf(Locale.ROOT, "reconstruction on 8192 tokens: fvu %.3f, cosine %.3f, L0 %.2f%n", m.fvu(),
                    m.cosineSimilarity(), m.l0());
            if (!(m.fvu() < 0.5)) {
                throw new IllegalStateException("the example SAE did not learn the synthetic features (fvu " + m.fvu()
                        + ")");
            }
        }
    }
}
