package dev.atmsae.examples;

import dev.atmsae.api.AbsorptionResult;
import dev.atmsae.api.Device;
import dev.atmsae.api.Evaluation;
import dev.atmsae.api.ProbeSet;
import dev.atmsae.api.ReconstructionMetrics;
import dev.atmsae.api.Sae;
import dev.atmsae.api.Shards;
import dev.atmsae.api.Training;
import dev.atmsae.api.TrainingResult;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * What a user of the library does first, through the public API only: write activations as shards on disk, train a
 * TopK SAE from them, load it and an SAE written by SAELens, measure both on held-out shards, and measure feature
 * absorption on a probe set. {@code make test} runs it with exactly the JVM options the README lists, against the
 * installed artifact, so the build fails the day the README and the library disagree.
 *
 * <p>The activations come from {@link ToyModel} (a known feature hierarchy); the SAELens SAE is the "oracle" whose
 * latents are the true feature directions, written by {@link SaeLensDirectory}.
 */
public final class Walkthrough {
    private static final int HELD_OUT_ROWS = 10_000; // not a multiple of the evaluation batch: the tail counts too

    private Walkthrough() {
    }

    public static void main(String[] args) {
        Path work = Path.of(args.length > 0 ? args[0] : ""); // default: the working directory
        ToyModel model = new ToyModel(42);

        // 1. Activations as shards: four training shards and one held-out shard.
        for (int s = 0; s < 4; s++) {
            Shards.write(work.resolve("shards/train/" + String.format("%05d.npy", s)), model.rows(100 + s, 25_000));
        }
        Shards.write(work.resolve("shards/heldout/00000.npy"), model.rows(999, HELD_OUT_ROWS));

        // 2. Train from the shards on disk.
        TrainingResult run = Training.builder()
                .architecture("topk").width(64).k(4).tokens(200_000).batchSize(1024).seed(1).learningRate(4e-3)
                .device(Device.cpu())
                .shards(work.resolve("shards/train"))
                .outputDirectory(work.resolve("runs/topk"))
                .listener(p -> {
                    if (p.step() % 50 == 0) {
                        System.out.println(p);
                    }
                })
                .build()
                .run();
        System.out.println(run);

        // 3. The foreign SAE: the oracle, in SAELens's own layout.
        Path oracleDir = work.resolve("saelens-oracle");
        writeOracle(model, oracleDir);

        // 4. The probe set: labelled activations, saved and read back as a directory.
        ProbeSet probes = probeSet(model);
        probes.save(work.resolve("probes"));
        probes = ProbeSet.load(work.resolve("probes"));
        System.out.println(probes);

        // 5. Load both SAEs, evaluate on the held-out shards, measure absorption.
        try (Sae trained = Sae.load(run.saeDirectory().orElseThrow(), Device.cpu());
             Sae oracle = Sae.load(oracleDir)) {
            for (Sae sae : new Sae[] {trained, oracle}) {
                System.out.println(sae);
                ReconstructionMetrics m = Evaluation.reconstruction(sae, work.resolve("shards/heldout"));
                System.out.println("  held out: " + m);
                check(m.tokens() == HELD_OUT_ROWS, "evaluated " + m.tokens() + " of " + HELD_OUT_ROWS + " rows");
                AbsorptionResult a = Evaluation.absorption(sae, probes);
                System.out.println("  " + a);
                a.classes().forEach(c -> System.out.println("    " + c));
                check(a.classesKept() >= 1, "no parent class passed the probe filter: " + a.json());
            }
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < 3; i++) {
                ToyModel.Token t = model.token(r);
                System.out.println("token with tree " + t.tree() + ", child " + t.child() + ": top latents "
                        + trained.topLatents(t.x(), 4));
            }
            double fvu = Evaluation.reconstruction(trained, work.resolve("shards/heldout")).fvu();
            check(fvu < 0.5, "the trained SAE did not learn the toy features (held-out fvu " + fvu + ")");
        }
    }

    /** Parents tree0 … tree3 with children tree0/c0 …; tokens with no tree are negatives; every fourth is test. */
    private static ProbeSet probeSet(ToyModel model) {
        ProbeSet.Builder b = ProbeSet.builder("toy-hierarchy", ToyModel.DIM);
        SplittableRandom r = new SplittableRandom(2024);
        for (int i = 0; i < 4_000; i++) {
            ToyModel.Token t = model.token(r);
            String parent = t.tree() < 0 ? null : "tree" + t.tree();
            String child = t.child() < 0 ? null : parent + "/c" + t.child();
            b.add(t.x(), parent, child, i % 4 == 0);
        }
        return b.build();
    }

    /** A ReLU SAE with one latent per true feature: encoder and decoder are the feature directions, bias −0.5. */
    private static void writeOracle(ToyModel model, Path dir) {
        int d = ToyModel.DIM;
        int n = ToyModel.FEATURES;
        float[] wEnc = new float[d * n];
        float[] wDec = new float[n * d];
        float[] bEnc = new float[n];
        for (int f = 0; f < n; f++) {
            float[] direction = model.direction(f);
            for (int j = 0; j < d; j++) {
                wEnc[j * n + f] = direction[j];
                wDec[f * d + j] = direction[j];
            }
            bEnc[f] = -0.5f;
        }
        SaeLensDirectory.write(dir, wEnc, bEnc, wDec, new float[d], "none");
    }

    private static void check(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalStateException(problem);
        }
    }
}
