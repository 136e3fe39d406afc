package dev.atmsae.cli;

import dev.atmsae.eval.synth.SynthConfig;
import dev.atmsae.eval.synth.SynthFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae synth}: writes hierarchical synthetic activations with known features (absorption.md §6): training
 * shards, the truth (directions, hierarchy, true activations) and a `truth`-kind probe set of held-out samples.
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Generate synthetic activations with a known feature hierarchy (shards + truth + probe set).")
public final class SynthCommand implements Callable<Integer> {
    private static final SynthConfig D = SynthConfig.defaults();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--tokens", description = "Training samples (default 20000).")
    long tokens = D.tokens();

    @Option(names = "--eval-tokens", description = "Held-out samples for truth scoring and the probe set (default 4000).")
    int evalTokens = D.evalTokens();

    @Option(names = "--d", description = "Activation width (default 64).")
    int d = D.d();

    @Option(names = "--trees", description = "Parent→children trees (default 4).")
    int trees = D.trees();

    @Option(names = "--children", description = "Children per tree (default 4).")
    int children = D.children();

    @Option(names = "--independent", description = "Independent features (default 8).")
    int independent = D.independent();

    @Option(names = "--parent-rate", description = "P(root fires) (default 0.1).")
    double parentRate = D.parentRate();

    @Option(names = "--child-prob", description = "P(one child fires | root fires) (default 0.6).")
    double childProb = D.childProb();

    @Option(names = "--orphan-prob", description = "P(one child fires | its root does not): children without their parent (default 0).")
    double orphanProb = D.orphanProb();

    @Option(names = "--child-scale", description = "Child magnitude relative to the parent's (default 1).")
    double childScale = D.childScale();

    @Option(names = "--independent-rate", description = "P(independent feature fires) (default 0.05).")
    double independentRate = D.independentRate();

    @Option(names = "--magnitude-mean", description = "Mean firing magnitude (default 1.0).")
    double magnitudeMean = D.magnitudeMean();

    @Option(names = "--magnitude-std", description = "Std of the firing magnitude (default 0.15).")
    double magnitudeStd = D.magnitudeStd();

    @Option(names = "--noise-std", description = "Gaussian noise std per coordinate (default 0.02).")
    double noiseStd = D.noiseStd();

    @Option(names = "--random-directions", description = "Random unit directions instead of orthogonal ones.")
    boolean randomDirections;

    @Option(names = "--seed", description = "Philox seed (default 1).")
    long seed = D.seed();

    @Option(names = "--shard-tokens", description = "Rows per shard file (default 65536).")
    int shardTokens = D.shardTokens();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SynthConfig cfg = new SynthConfig(tokens, evalTokens, d, trees, children, independent, parentRate, childProb,
                independentRate, magnitudeMean, magnitudeStd, noiseStd, !randomDirections, seed, shardTokens, orphanProb,
                childScale);
        int shards = SynthFiles.write(out, cfg);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("wrote %d training samples in %d shard(s) to %s, truth (%d features, %.3f active per sample) to %s%n",
                tokens, shards, out.resolve("shards"), cfg.features(), cfg.meanActiveFeatures(), out.resolve("truth"));
        if (evalTokens > 0 && trees > 0) {
            w.printf("wrote a truth probe set of held-out samples to %s%n", out.resolve("probe_set"));
        }
        w.flush();
        return 0;
    }
}
