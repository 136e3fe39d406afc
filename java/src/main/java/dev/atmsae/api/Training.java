package dev.atmsae.api;

import dev.atmsae.arch.StepMetrics;
import dev.atmsae.data.ActivationLoader;
import dev.atmsae.engine.Engine;
import dev.atmsae.train.Checkpoint;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.train.Trainer;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One SAE training run, configured by a {@link Builder}: the same trainer as {@code atmsae train} (same math on the CPU
 * engine and CUDA, same checkpoints, same SAELens export), without its printing or signal handling.
 *
 * <pre>{@code
 * Training training = Training.builder()
 *         .architecture("topk").width(4096).k(32)
 *         .tokens(2_000_000).batchSize(4096).seed(1)
 *         .source(myModelActivations)              // or .shards(Path.of("shards/"))
 *         .outputDirectory(Path.of("runs/topk"))
 *         .listener(p -> log.info("step {} mse {}", p.step(), p.mse()))
 *         .build();
 * TrainingResult result = training.run();          // blocks; training.cancel() from another thread stops it
 * try (Sae sae = result.loadSae(Device.cpu())) { ... }
 * }</pre>
 *
 * <p><b>Checkpoints and resume.</b> Every {@link Builder#checkpointEvery} steps and on {@link #cancel()} the run writes
 * an atomic checkpoint into {@code outputDirectory/checkpoint}; {@link #resume(Path)} continues it with the
 * checkpoint's own settings. On the CPU engine a resumed run is bitwise identical to an uninterrupted one when the data
 * is the same (shards, or an {@link ActivationSource} that returns the same batch for the same index).
 *
 * <p><b>Threads.</b> {@link #run()} runs on the calling thread and may be called once; {@link #cancel()} may be called
 * from any thread. The engine is opened when the run starts and closed when it ends.
 */
public final class Training {
    private final Device device;
    private final TrainConfig config;
    private final Trainer.DataSource data;
    private final Trainer.Options options;
    private final Checkpoint.State resumeState;
    private final TrainingListener listener;
    private volatile Trainer trainer;
    private volatile boolean cancelled;
    private boolean started;

    private Training(Device device, TrainConfig config, Trainer.DataSource data, Trainer.Options options,
                     Checkpoint.State resumeState, TrainingListener listener) {
        this.device = device;
        this.config = config;
        this.data = data;
        this.options = options;
        this.resumeState = resumeState;
        this.listener = listener;
    }

    /**
     * Starts configuring a fresh run.
     *
     * @return a builder with atmsae's defaults (ATM, batch 4096, seed 0, CPU engine)
     * @throws AtmsaeException if the JVM lacks an option the library needs (it names the flag)
     */
    public static Builder builder() {
        return Boundary.call(() -> new Builder(null));
    }

    /**
     * Starts configuring the continuation of a stopped run from its checkpoint. Hyperparameters, tokens and batch size
     * come from the checkpoint (setting them is an error); give the data again with {@link Builder#source} or
     * {@link Builder#shards} (a run that trained on shards reuses its recorded shard path when neither is given).
     *
     * @param runDirectory the directory the stopped run wrote (it holds {@code checkpoint/})
     * @return a builder for the continuation
     * @throws AtmsaeException if the directory holds no valid checkpoint
     */
    public static Builder resume(Path runDirectory) {
        Objects.requireNonNull(runDirectory, "runDirectory");
        return Boundary.call(() -> new Builder(runDirectory));
    }

    /**
     * Runs the training to the end or until {@link #cancel()}, on the calling thread.
     *
     * @return how it ended (and where the SAE is)
     * @throws AtmsaeException on bad data (wrong width, NaN activations) or divergence; the last checkpoint is kept
     * @throws IllegalStateException if called a second time
     */
    public TrainingResult run() {
        synchronized (this) {
            if (started) {
                throw new IllegalStateException("a Training runs once; build another one");
            }
            started = true;
        }
        return Boundary.call(() -> {
            try (Engine engine = device.open()) {
                Trainer t = new Trainer(engine, config, data, options).withStepListener(this::report);
                trainer = t;
                if (cancelled) {
                    t.requestStop("cancelled");
                }
                Trainer.Result r = t.run(resumeState);
                return new TrainingResult(r.completed(), r.stopReason(), r.step(), r.totalSteps(), options.outDir(),
                        r.summary());
            } finally {
                trainer = null;
            }
        });
    }

    /**
     * Asks the run to write a checkpoint and stop at the next step boundary; {@link #run()} then returns a result
     * with {@code completed() == false} and stop reason "cancelled". Safe from any thread, also before {@link #run()}
     * (the run then stops after its first step); a no-op after the run ended.
     */
    public void cancel() {
        cancelled = true;
        Trainer t = trainer;
        if (t != null) {
            t.requestStop("cancelled");
        }
    }

    private void report(long step, long totalSteps, StepMetrics m, double tokensPerSecond) {
        if (listener != null) {
            listener.onProgress(new TrainingProgress(step, totalSteps, step * (long) config.batchSize(), m.loss(),
                    m.mse(), m.l0(), m.deadFraction(), m.sparsityCoeff(), m.lr(), tokensPerSecond));
        }
    }

    /**
     * Configures a {@link Training}. Every setter returns this builder; {@link #build()} validates everything and
     * reports the first problem as an {@link AtmsaeException} with the command line's message. Not thread-safe.
     */
    public static final class Builder {
        private final Path resumeDir;
        private final Checkpoint.State resumeState;
        private final Map<String, Object> settings = new LinkedHashMap<>();
        private final Map<String, Object> metadata = new LinkedHashMap<>();
        private final List<String> hyperparametersSet = new ArrayList<>();
        private Long tokens;
        private Device device = Device.cpu();
        private Path shards;
        private ActivationSource source;
        private Path out;
        private long checkpointEvery = 1000;
        private int metricsEvery = 100;
        private Integer shuffleBatches;
        private TrainingListener listener;

        private Builder(Path resumeDir) {
            this.resumeDir = resumeDir;
            this.resumeState = resumeDir == null ? null : Checkpoint.read(resumeDir);
            if (resumeDir != null) {
                out = resumeDir;
            }
        }

        /**
         * The architecture.
         *
         * @param arch "atm", "topk", "batchtopk", "jumprelu" or "relu"
         * @return this builder
         */
        public Builder architecture(String arch) {
            return set("arch", arch);
        }

        /**
         * The dictionary width (number of latents).
         *
         * @param width latents
         * @return this builder
         */
        public Builder width(int width) {
            return set("width", width);
        }

        /**
         * Active latents per token (topk, batchtopk).
         *
         * @param k latents per token
         * @return this builder
         */
        public Builder k(int k) {
            return set("k", k);
        }

        /**
         * Steers the sparsity coefficient to reach this mean L0 (relu, atm, jumprelu).
         *
         * @param l0 target active latents per token
         * @return this builder
         */
        public Builder targetL0(double l0) {
            return set("target_l0", l0);
        }

        /**
         * Rows per optimizer step.
         *
         * @param rows the batch size (default 4096)
         * @return this builder
         */
        public Builder batchSize(int rows) {
            return set("batch_size", rows);
        }

        /**
         * The learning rate (default: the architecture's rule).
         *
         * @param lr learning rate
         * @return this builder
         */
        public Builder learningRate(double lr) {
            return set("lr", lr);
        }

        /**
         * The seed of initialisation, shuffling and ATM masks.
         *
         * @param seed any value (default 0)
         * @return this builder
         */
        public Builder seed(long seed) {
            return set("seed", seed);
        }

        /**
         * Sets any training key by its config name, as {@code atmsae train --set key=value} does (the full list:
         * {@code atmsae train --list-keys}), e.g. {@code set("atm_thresh_c", 0.5)}.
         *
         * @param key   a training key
         * @param value a number, string or boolean (numbers may also be numeric strings)
         * @return this builder
         */
        public Builder set(String key, Object value) {
            Objects.requireNonNull(key, "key");
            settings.put(key, value);
            hyperparametersSet.add(key);
            return this;
        }

        /**
         * Training tokens; steps = tokens / batch size (at least one batch).
         *
         * @param tokens tokens to train on
         * @return this builder
         */
        public Builder tokens(long tokens) {
            this.tokens = tokens;
            hyperparametersSet.add("tokens");
            return this;
        }

        /**
         * Where to train (default {@link Device#cpu()}).
         *
         * @param device the device
         * @return this builder
         */
        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /**
         * Trains on activation shards on disk (.npy / .safetensors, a file or a directory), shuffled within a window.
         *
         * @param path a shard or a directory of shards
         * @return this builder
         */
        public Builder shards(Path path) {
            this.shards = Objects.requireNonNull(path, "path");
            this.source = null;
            return this;
        }

        /**
         * Trains on activations the program produces (see {@link ActivationSource} on determinism).
         *
         * @param source the activations
         * @return this builder
         */
        public Builder source(ActivationSource source) {
            this.source = Objects.requireNonNull(source, "source");
            this.shards = null;
            return this;
        }

        /**
         * The run directory: exported SAE, metrics.json, metrics.jsonl and checkpoint/ (required for a fresh run).
         *
         * @param dir the directory (created if absent)
         * @return this builder
         */
        public Builder outputDirectory(Path dir) {
            this.out = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * Steps between checkpoints; 0 = only on {@link Training#cancel()}.
         *
         * @param steps interval (default 1000)
         * @return this builder
         */
        public Builder checkpointEvery(long steps) {
            this.checkpointEvery = steps;
            return this;
        }

        /**
         * Steps between lines of metrics.jsonl.
         *
         * @param steps interval, at least 1 (default 100)
         * @return this builder
         */
        public Builder metricsEvery(int steps) {
            this.metricsEvery = steps;
            return this;
        }

        /**
         * Shuffle window for shards, in batches (0 = data order). Ignored for an {@link ActivationSource}, whose batches
         * are used in the order asked.
         *
         * @param batches window (default 64)
         * @return this builder
         */
        public Builder shuffleBatches(int batches) {
            this.shuffleBatches = batches;
            hyperparametersSet.add("shuffle_batches");
            return this;
        }

        /**
         * Adds a fact to the exported cfg.json's metadata, e.g. {@code ("model_name", "gpt2")} or
         * {@code ("hook_name", "blocks.8.hook_resid_post")}.
         *
         * @param key   a SAELens metadata key or any other name (kept under metadata.atmsae)
         * @param value a JSON-able value
         * @return this builder
         */
        public Builder metadata(String key, Object value) {
            metadata.put(Objects.requireNonNull(key, "key"), value);
            return this;
        }

        /**
         * Receives progress after every step.
         *
         * @param listener the listener, or null for none
         * @return this builder
         */
        public Builder listener(TrainingListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * Validates the settings and creates the run (nothing is trained or written yet).
         *
         * @return the training
         * @throws AtmsaeException naming the first bad setting
         */
        public Training build() {
            return Boundary.call(this::create);
        }

        private Training create() {
            if (checkpointEvery < 0) {
                throw new UserError("checkpointEvery must be ≥ 0, got " + checkpointEvery);
            }
            if (metricsEvery < 1) {
                throw new UserError("metricsEvery must be ≥ 1, got " + metricsEvery);
            }
            if (out == null) {
                throw new UserError("outputDirectory is required");
            }
            Checkpoint.State state = null;
            TrainConfig config;
            long runTokens;
            Map<String, Object> runArgs;
            if (resumeDir != null) {
                if (!hyperparametersSet.isEmpty()) {
                    throw new UserError("resume continues with the checkpoint's settings; drop "
                            + String.join(", ", hyperparametersSet));
                }
                state = resumeState;
                config = TrainConfig.fromMap(state.config());
                runTokens = ((Number) state.trainer().get("tokens")).longValue();
                @SuppressWarnings("unchecked")
                Map<String, Object> recorded = (Map<String, Object>) state.trainer().getOrDefault("run_args", Map.of());
                runArgs = new LinkedHashMap<>(recorded);
                if (shards == null && source == null && recorded.get("data") != null) {
                    shards = Path.of(recorded.get("data").toString());
                }
            } else {
                if (tokens == null) {
                    throw new UserError("tokens is required");
                }
                if (!settings.containsKey("arch")) {
                    settings.put("arch", "atm");
                }
                config = TrainConfig.fromSettings(settings);
                runTokens = tokens;
                runArgs = new LinkedHashMap<>();
                runArgs.put("tokens", runTokens);
                runArgs.put("shuffle_batches", shuffleBatches == null ? 64 : shuffleBatches);
                runArgs.put("skip_nonfinite", false);
            }
            if (shards == null && source == null) {
                throw new UserError("training data is required: shards(path) or source(activationSource)");
            }
            runArgs.put("checkpoint_every", checkpointEvery);
            runArgs.put("metrics_every", metricsEvery);
            Trainer.stepsFor(runTokens, config.batchSize());
            Trainer.DataSource data;
            if (shards != null) {
                Path dataPath = shards.toAbsolutePath().normalize();
                runArgs.put("data", dataPath.toString());
                int window = ((Number) runArgs.getOrDefault("shuffle_batches", 64)).intValue();
                if (window < 0) {
                    throw new UserError("shuffleBatches must be ≥ 0, got " + window);
                }
                ActivationLoader.Options loaderOptions = ActivationLoader.Options.defaults(config.batchSize())
                        .withShuffle(window > 0).withShuffleBatches(Math.max(1, window)).withSeed(config.seed());
                data = start -> ActivationLoader.open(dataPath, loaderOptions.withStartBatch(start));
                metadata.putIfAbsent("dataset_path", dataPath.toString());
            } else {
                ActivationSource s = source;
                int batch = config.batchSize();
                runArgs.remove("data");
                runArgs.put("source", "in-process ActivationSource");
                data = start -> new SourceBatchStream(s, batch, start);
            }
            Trainer.Options options = Trainer.Options.defaults(out, runTokens).withCheckpointEvery(checkpointEvery)
                    .withMetricsEvery(metricsEvery).withQuiet(true).withSignals(false).withMetadata(metadata)
                    .withRunArgs(runArgs);
            return new Training(device, config, data, options, state, listener);
        }
    }
}
