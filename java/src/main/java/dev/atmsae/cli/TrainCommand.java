package dev.atmsae.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.core.ArchKind;
import dev.atmsae.data.ActivationLoader;
import dev.atmsae.engine.Engine;
import dev.atmsae.train.Checkpoint;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.train.Trainer;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae train}: one SAE from activation shards to a SAELens directory.
 * Hyperparameters come from, in increasing priority: the architecture's defaults, {@code --config FILE} (a JSON object
 * with TrainConfig keys), the named options, and {@code --set key=value}. {@code --resume DIR} continues the run whose
 * checkpoint is in DIR with the checkpoint's own config (hyperparameter options are then refused).
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a sparse autoencoder on activation shards; writes cfg.json, sae_weights.safetensors,",
                "sparsity.safetensors (SAELens format), metrics.json and metrics.jsonl into --out.",
                "Every TrainConfig key can be set with --set key=value (see --list-keys).",
                "ATM: at matched L0 the study of docs/atm-study.md found no ATM configuration that beats TopK,",
                "BatchTopK and Matryoshka on absorption without costing reconstruction; atm.md's ATM (--preset paper,",
                "the default) reconstructs far worse than TopK. --preset batchtopk-r0.3 is the best found: it keeps",
                "parent latents firing with their children on ground truth, at a few %% to ~25%% more FVU than BatchTopK."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "PATH", description = "Activation shard (.npy/.safetensors) or directory of shards.")
    Path data;

    @Option(names = "--arch", paramLabel = "ARCH", description = "atm | topk | batchtopk | jumprelu | relu | matryoshka (alias matryoshka_batchtopk)")
    String arch;

    @Option(names = "--preset", paramLabel = "NAME", description = "ATM preset (atm_preset): paper (atm.md; default) or batchtopk-r0.3 (the ATM study's best, docs/atm-study.md). Options and --set override its keys.")
    String preset;

    @Option(names = "--width", paramLabel = "N", description = "Dictionary width (latents).")
    Integer width;

    @Option(names = "--k", paramLabel = "K", description = "Active latents per token (topk, batchtopk, matryoshka).")
    Integer k;

    @Option(names = "--l1", paramLabel = "C", description = "Sparsity coefficient: L1 λ for relu/atm, L0 coefficient for jumprelu.")
    Double l1;

    @Option(names = "--target-l0", paramLabel = "L", description = "Adjust the sparsity coefficient to reach this L0 (relu, atm, jumprelu); for matryoshka it is k.")
    Double targetL0;

    @Option(names = "--tokens", paramLabel = "T", description = "Training tokens (steps = T / batch).")
    Long tokens;

    @Option(names = "--batch", paramLabel = "B", description = "Batch size in tokens (default 4096).")
    Integer batch;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: the architecture's rule).")
    Double lr;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for initialisation, shuffling and ATM masks.")
    Long seed;

    @Option(names = "--config", paramLabel = "FILE", description = "JSON object of TrainConfig keys (options override it).")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Set any TrainConfig key (repeatable), e.g. --set atm_thresh_c=0.5.")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "cpu", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default with --resume: the resumed directory).")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run whose checkpoint is in DIR/checkpoint.")
    Path resume;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Steps between checkpoints (0 = only on SIGINT/SIGTERM; default 1000).")
    Long checkpointEvery;

    @Option(names = "--metrics-every", paramLabel = "N", description = "Steps between metrics.jsonl lines (default 100).")
    Integer metricsEvery;

    @Option(names = "--skip-nonfinite", description = "Drop activation rows holding NaN/Inf instead of failing.")
    Boolean skipNonFinite;

    @Option(names = "--shuffle-batches", paramLabel = "S", description = "Shuffle window in batches (default 64; 0 = data order).")
    Integer shuffleBatches;

    @Option(names = "--meta", paramLabel = "KEY=VALUE", description = "Extra cfg.json metadata, e.g. --meta model_name=all-MiniLM-L6-v2 --meta hook_name=blocks.3.hook_resid_post.")
    Map<String, String> meta = new LinkedHashMap<>();

    @Option(names = "--quiet", description = "Print nothing but errors.")
    boolean quiet;

    @Option(names = "--list-keys", description = "Print every TrainConfig key with its default for --arch (default atm) and exit.")
    boolean listKeys;

    @Override
    public Integer call() {
        if (listKeys) {
            TrainConfig d = TrainConfig.defaults(ArchKind.parse(arch == null ? "atm" : arch));
            d.toMap().forEach((key, v) -> spec.commandLine().getOut().println(key + " = " + v));
            return 0;
        }
        Checkpoint.State state = null;
        Map<String, Object> runArgs;
        TrainConfig config;
        if (resume != null) {
            rejectWithResume();
            state = Checkpoint.read(resume);
            config = TrainConfig.fromMap(state.config());
            @SuppressWarnings("unchecked")
            Map<String, Object> recorded = (Map<String, Object>) state.trainer().getOrDefault("run_args", Map.of());
            runArgs = new LinkedHashMap<>(recorded);
            if (data != null) {
                runArgs.put("data", data.toAbsolutePath().normalize().toString());
            }
            if (out == null) {
                out = resume;
            }
            if (!out.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
                copyMetricsStream(resume, out);
            }
        } else {
            if (data == null) {
                throw usage("--data is required (or --resume DIR)");
            }
            if (out == null) {
                throw usage("--out is required");
            }
            if (tokens == null) {
                throw usage("--tokens is required");
            }
            config = buildConfig();
            runArgs = new LinkedHashMap<>();
            runArgs.put("data", data.toAbsolutePath().normalize().toString());
            runArgs.put("tokens", tokens);
            runArgs.put("shuffle_batches", shuffleBatches == null ? 64 : shuffleBatches);
            runArgs.put("skip_nonfinite", skipNonFinite != null && skipNonFinite);
            runArgs.put("checkpoint_every", checkpointEvery == null ? 1000L : checkpointEvery);
            runArgs.put("metrics_every", metricsEvery == null ? 100 : metricsEvery);
        }
        if (threads != null && threads < 1) {
            throw usage("--threads must be ≥ 1, got " + threads);
        }
        Path dataPath = Path.of(runArgs.get("data").toString());
        long runTokens = ((Number) (state == null ? runArgs.get("tokens") : state.trainer().get("tokens"))).longValue();
        int window = ((Number) runArgs.get("shuffle_batches")).intValue();
        boolean skip = Boolean.TRUE.equals(runArgs.get("skip_nonfinite"));
        long ckptEvery = checkpointEvery != null ? checkpointEvery : ((Number) runArgs.get("checkpoint_every")).longValue();
        int mEvery = metricsEvery != null ? metricsEvery : ((Number) runArgs.get("metrics_every")).intValue();
        if (ckptEvery < 0 || mEvery < 1 || window < 0) {
            throw usage("--checkpoint-every must be ≥ 0, --metrics-every ≥ 1, --shuffle-batches ≥ 0");
        }
        Trainer.stepsFor(runTokens, config.batchSize());

        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("dataset_path", dataPath.toString());
        metadata.putAll(meta);

        ActivationLoader.Options loaderOptions = ActivationLoader.Options.defaults(config.batchSize())
                .withShuffle(window > 0).withShuffleBatches(Math.max(1, window)).withSeed(config.seed())
                .withSkipNonFinite(skip);
        Trainer.DataSource source = start -> ActivationLoader.open(dataPath, loaderOptions.withStartBatch(start));
        Trainer.Options options = Trainer.Options.defaults(out, runTokens).withCheckpointEvery(ckptEvery)
                .withMetricsEvery(mEvery).withQuiet(quiet).withSignals(true).withMetadata(metadata)
                .withRunArgs(runArgs);
        try (Engine eng = EngineChoice.open(engine, threads, spec.commandLine())) {
            if (!quiet) {
                System.err.println("atmsae train: " + config.arch().id() + " width " + config.width() + ", "
                        + runTokens + " tokens, engine " + eng.describe()
                        + (state != null ? ", resuming at step " + state.step() : ""));
            }
            Trainer.Result result = new Trainer(eng, config, source, options).run(state);
            return result.completed() ? 0 : 130;
        }
    }

    private TrainConfig buildConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (configFile != null) {
            try {
                m.putAll(new ObjectMapper().readValue(Files.readString(configFile),
                        new TypeReference<LinkedHashMap<String, Object>>() { }));
            } catch (IOException e) {
                throw UserError.inFile(configFile, "cannot read config JSON: " + e.getMessage());
            }
        }
        if (arch != null) {
            m.put("arch", arch);
        }
        if (!m.containsKey("arch")) {
            throw usage("--arch is required (atm, topk, batchtopk, jumprelu, relu or matryoshka)");
        }
        ArchKind kind;
        try {
            kind = ArchKind.parse(m.get("arch").toString());
        } catch (UserError e) {
            throw usage(e.getMessage());
        }
        putIf(m, "width", width);
        putIf(m, "atm_preset", preset);
        if (k != null) {
            if (!kind.kControlled() && kind != ArchKind.ATM) {
                throw usage("--k applies to topk, batchtopk, matryoshka (and atm with atm_base topk/batchtopk/matryoshka) (for " + kind.id() + " use --l1 or --target-l0)");
            }
            m.put("k", k);
        }
        if (l1 != null) {
            switch (kind) {
                case RELU, ATM -> m.put("l1_coeff", l1);
                case JUMPRELU -> m.put("l0_coeff", l1);
                default -> throw usage("--l1 applies to relu, atm and jumprelu (for " + kind.id() + " use --k)");
            }
        }
        Double coefficientTarget = targetL0;
        if (kind == ArchKind.MATRYOSHKA && targetL0 != null && k == null) {
            // Matryoshka sets L0 with k (issue 9): --target-l0 L trains with k = L, an integer
            if (targetL0 != Math.rint(targetL0) || targetL0 < 1) {
                throw usage("--target-l0 " + targetL0 + ": matryoshka sets L0 with k, which must be an integer ≥ 1");
            }
            m.put("k", (int) Math.rint(targetL0));
            coefficientTarget = null;
        }
        putIf(m, "target_l0", coefficientTarget);
        putIf(m, "batch_size", batch);
        putIf(m, "lr", lr);
        putIf(m, "seed", seed);
        m.putAll(sets);
        try {
            return TrainConfig.fromSettings(m);
        } catch (UserError e) {
            throw usage(e.getMessage());
        }
    }

    /** With --resume the checkpoint's config rules; a hyperparameter option would silently change nothing. */
    private void rejectWithResume() {
        List<String> given = new java.util.ArrayList<>();
        String[][] named = {{"--arch", arch == null ? null : ""}, {"--width", width == null ? null : ""},
                {"--k", k == null ? null : ""}, {"--l1", l1 == null ? null : ""},
                {"--target-l0", targetL0 == null ? null : ""}, {"--tokens", tokens == null ? null : ""},
                {"--batch", batch == null ? null : ""}, {"--lr", lr == null ? null : ""},
                {"--seed", seed == null ? null : ""}, {"--config", configFile == null ? null : ""},
                {"--set", sets.isEmpty() ? null : ""}, {"--skip-nonfinite", skipNonFinite == null ? null : ""},
                {"--shuffle-batches", shuffleBatches == null ? null : ""}, {"--preset", preset == null ? null : ""}};
        for (String[] n : named) {
            if (n[1] != null) {
                given.add(n[0]);
            }
        }
        if (!given.isEmpty()) {
            throw usage("--resume continues with the checkpoint's settings; drop " + String.join(", ", given));
        }
    }

    private static void copyMetricsStream(Path from, Path to) {
        Path src = from.resolve("metrics.jsonl");
        if (Files.isRegularFile(src)) {
            try {
                Files.createDirectories(to);
                Files.copy(src, to.resolve("metrics.jsonl"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw UserError.inFile(to, "cannot copy metrics stream: " + e.getMessage());
            }
        }
    }

    private static void putIf(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
