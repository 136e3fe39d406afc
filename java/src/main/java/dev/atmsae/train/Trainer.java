package dev.atmsae.train;

import dev.atmsae.arch.Sae;
import dev.atmsae.arch.SaeFactory;
import dev.atmsae.arch.StepMetrics;
import dev.atmsae.core.RowSquares;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.data.BatchStream;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.eval.CoreMetrics;
import dev.atmsae.eval.SaeEvaluator;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: estimate the input scale, create the SAE (b_dec from a first sample), run
 * steps = tokens / batch optimizer steps, log metrics, checkpoint, export in SAELens format.
 *
 * <p>Order of a fresh run:
 * <ol>
 *   <li>A first pass over the opening batches (a stream of its own, so training still starts at batch 0) estimates
 *       s with E‖s·x‖ = √d ({@link InputScale}) and keeps a sample of s·x for the b_dec initialisation.</li>
 *   <li>The training stream starts at batch 0 (or at the checkpoint's position); step t (1-based) trains on batch
 *       t − 1, multiplied by s on the engine.</li>
 *   <li>Every {@code metricsEvery} steps a line goes to {@code metrics.jsonl}; every {@code checkpointEvery} steps,
 *       and when SIGINT/SIGTERM asked for a stop, the loop itself writes a {@link Checkpoint} at the step boundary.</li>
 *   <li>A non-finite loss stops the run with a {@link UserError}; the last checkpoint is kept untouched. Weights are
 *       also checked for finiteness before every checkpoint so a bad state is never saved.</li>
 *   <li>At the end: the SAE is exported ({@code cfg.json}, {@code sae_weights.safetensors},
 *       {@code sparsity.safetensors}); the sparsity (log10 firing frequency) and the final reconstruction metrics come
 *       from the exported SAE's forward over a sample of the training data; {@code metrics.json} sums up the run.</li>
 * </ol>
 * On the CPU engine, a run resumed from a checkpoint is bitwise identical to an uninterrupted one: all randomness is
 * Philox keyed by (seed, step), the loader's order is a pure function of its position, and every tensor and scalar
 * of the SAE is restored exactly.
 */
public final class Trainer {
    /** Opens the training data positioned at a batch index (the loader's resume position). */
    @FunctionalInterface
    public interface DataSource {
        BatchStream open(long startBatch);
    }

    /**
     * Run settings that are not hyperparameters.
     *
     * @param outDir          the run directory (exports, metrics, checkpoint/)
     * @param tokens          training tokens; steps = tokens / batch size
     * @param metricsEvery    steps between metrics.jsonl lines (≥ 1)
     * @param checkpointEvery steps between checkpoints (0 = only on a stop request)
     * @param scaleTokens     tokens used to estimate the input scale (rounded up to whole batches)
     * @param initTokens      rows of the first sample used for the b_dec geometric median
     * @param sparsityTokens  tokens of training data the exported SAE is run on for sparsity.safetensors and the final
     *                        metrics (0 = skip; then sparsity is not written)
     * @param quiet           no progress output
     * @param signals         route SIGINT/SIGTERM to a checkpoint-and-stop (the CLI; tests leave it off)
     * @param stopAfterStep   stop (with a checkpoint) after this step as if a signal came (0 = never; tests)
     * @param metadata        facts for the export's cfg.json metadata (model, hook, dataset path, ...)
     * @param progress        where the progress line goes
     * @param runArgs         how the run was invoked (data path, loader settings), kept in checkpoints for --resume
     */
    public record Options(Path outDir, long tokens, int metricsEvery, long checkpointEvery, long scaleTokens,
                          int initTokens, long sparsityTokens, boolean quiet, boolean signals, long stopAfterStep,
                          Map<String, Object> metadata, PrintStream progress, Map<String, Object> runArgs) {
        public Options {
            if (metricsEvery < 1) {
                throw new UserError("--metrics-every must be ≥ 1, got " + metricsEvery);
            }
            if (checkpointEvery < 0) {
                throw new UserError("--checkpoint-every must be ≥ 0, got " + checkpointEvery);
            }
            metadata = metadata == null ? Map.of() : metadata;
            runArgs = runArgs == null ? Map.of() : runArgs;
        }

        /** Defaults for a run into {@code outDir} of {@code tokens} tokens. */
        public static Options defaults(Path outDir, long tokens) {
            return new Options(outDir, tokens, 100, 0, 1L << 17, 4096, 1L << 17, false, false, 0, Map.of(), System.err, Map.of());
        }

        public Options withCheckpointEvery(long n) {
            return new Options(outDir, tokens, metricsEvery, n, scaleTokens, initTokens, sparsityTokens, quiet, signals,
                    stopAfterStep, metadata, progress, runArgs);
        }

        public Options withMetricsEvery(int n) {
            return new Options(outDir, tokens, n, checkpointEvery, scaleTokens, initTokens, sparsityTokens, quiet,
                    signals, stopAfterStep, metadata, progress, runArgs);
        }

        public Options withQuiet(boolean q) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens, q,
                    signals, stopAfterStep, metadata, progress, runArgs);
        }

        public Options withSignals(boolean s) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens,
                    quiet, s, stopAfterStep, metadata, progress, runArgs);
        }

        public Options withStopAfterStep(long s) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens,
                    quiet, signals, s, metadata, progress, runArgs);
        }

        public Options withSampleTokens(long scale, int init, long sparsity) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scale, init, sparsity, quiet, signals,
                    stopAfterStep, metadata, progress, runArgs);
        }

        public Options withRunArgs(Map<String, Object> args) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens,
                    quiet, signals, stopAfterStep, metadata, progress, args);
        }

        public Options withProgress(PrintStream p) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens,
                    quiet, signals, stopAfterStep, metadata, p, runArgs);
        }

        public Options withMetadata(Map<String, Object> m) {
            return new Options(outDir, tokens, metricsEvery, checkpointEvery, scaleTokens, initTokens, sparsityTokens,
                    quiet, signals, stopAfterStep, m, progress, runArgs);
        }
    }

    /**
     * What a run did.
     *
     * @param completed   all steps ran and the SAE was exported
     * @param stopReason  why an unfinished run stopped ("SIGINT", "SIGTERM", "stop-after-step"), else null
     * @param step        steps completed (global)
     * @param totalSteps  steps of the whole run
     * @param summary     the content of metrics.json (also written for a stopped run, without the export part)
     */
    public record Result(boolean completed, String stopReason, long step, long totalSteps, Map<String, Object> summary) {
    }

    /** Receives every completed step on the training thread (a library host's progress hook). */
    @FunctionalInterface
    public interface StepListener {
        void onStep(long step, long totalSteps, StepMetrics metrics, double tokensPerSecond);
    }

    private final Engine engine;
    private final TrainConfig config;
    private final DataSource data;
    private final Options options;
    private volatile String stopRequest;
    private StepListener stepListener;

    public Trainer(Engine engine, TrainConfig config, DataSource data, Options options) {
        this.engine = engine;
        this.config = config;
        this.data = data;
        this.options = options;
    }

    /** Calls {@code listener} after every step (before any checkpoint of that step); null = none. */
    public Trainer withStepListener(StepListener listener) {
        this.stepListener = listener;
        return this;
    }

    /**
     * Asks the loop to write a checkpoint and stop at the next step boundary, as SIGINT does; callable from any
     * thread. {@link #run} then returns an unfinished {@link Result} whose stop reason is {@code reason}.
     */
    public void requestStop(String reason) {
        stopRequest = reason;
    }

    /** Steps of a run of {@code tokens} tokens with this batch size (at least one full batch). */
    public static long stepsFor(long tokens, int batchSize) {
        long steps = tokens / batchSize;
        if (steps < 1) {
            throw new UserError("--tokens " + tokens + " is less than one batch of " + batchSize);
        }
        return steps;
    }

    /** A fresh run. */
    public Result run() {
        return run(null);
    }

    /** Continues from {@code resume} (read with {@link Checkpoint#read}); null starts fresh. */
    public Result run(Checkpoint.State resume) {
        long wallStart = System.nanoTime();
        int batch = config.batchSize();
        long totalSteps = stepsFor(options.tokens(), batch);
        Path out = options.outDir();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw UserError.inFile(out, "cannot create output directory: " + e.getMessage());
        }

        float scale;
        float[] initSample;
        int dIn;
        if (resume == null) {
            Sample sample = firstSample(totalSteps);
            scale = sample.scale;
            initSample = sample.scaledRows;
            dIn = sample.dIn;
        } else {
            scale = resume.inputScale();
            Checkpoint.HostTensor bDec = resume.tensors().get("b_dec");
            dIn = bDec != null ? bDec.cols() : ((Number) resume.trainer().get("d_in")).intValue();
            initSample = null; // b_dec comes from the checkpoint's tensors right after creation
        }

        CheckpointPolicy policy = new CheckpointPolicy(options.checkpointEvery());
        if (options.signals()) {
            policy.installSignalHandlers();
        }
        ProgressReporter progress = new ProgressReporter(options.progress(), options.quiet(), totalSteps);
        long startStep = resume == null ? 0 : resume.step();
        long priorWallNanos = resume == null ? 0 : ((Number) resume.trainer().getOrDefault("wall_nanos", 0L)).longValue();
        long lastCheckpointStep = resume == null ? -1 : resume.step();

        try (Sae sae = SaeFactory.create(engine, config, dIn, totalSteps, initSample);
             BatchStream stream = data.open(resume == null ? 0 : resume.batchesDelivered());
             Tensor x = engine.allocF32(batch, dIn);
             MetricsLog metrics = resume == null ? MetricsLog.create(out.resolve("metrics.jsonl"))
                     : MetricsLog.resume(out.resolve("metrics.jsonl"), resume.step())) {
            if (stream.dim() != dIn) {
                throw new UserError("training data has d = " + stream.dim() + " but the run needs d = " + dIn);
            }
            if (stream.batchSize() != batch) {
                throw new IllegalStateException("stream batch " + stream.batchSize() + " != config batch " + batch);
            }
            if (resume != null) {
                restore(sae, resume);
            }
            long loopStart = System.nanoTime();
            double stallAtStart = stream.stallSeconds();
            StepMetrics last = null;
            long step = startStep;
            String stopReason = null;
            Map<String, Object> shown = new LinkedHashMap<>();
            while (step < totalSteps) {
                MemorySegment batchData = stream.next();
                engine.upload(x, batchData);
                engine.scale(x, scale);
                step++;
                StepMetrics m = sae.trainStep(x, step);
                if (!Double.isFinite(m.loss()) || !Double.isFinite(m.mse())) {
                    progress.finish();
                    throw diverged(step, m, lastCheckpointStep);
                }
                last = m;
                double loopSeconds = (System.nanoTime() - loopStart) * 1e-9;
                double tokensPerSecond = (step - startStep) * (double) batch / Math.max(loopSeconds, 1e-9);
                double stall = (stream.stallSeconds() - stallAtStart) / Math.max(loopSeconds, 1e-9);
                if (step % options.metricsEvery() == 0 || step == totalSteps) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", step);
                    line.put("tokens", step * (long) batch);
                    line.putAll(MetricsLog.fieldsOf(m));
                    line.put("tokens_per_s", tokensPerSecond);
                    line.put("stall_fraction", stall);
                    line.put("elapsed_s", (priorWallNanos + System.nanoTime() - wallStart) * 1e-9);
                    metrics.write(line);
                }
                if (!options.quiet()) {
                    shown.clear();
                    shown.put("batch_tokens", batch);
                    shown.putAll(MetricsLog.fieldsOf(m));
                    progress.update(step, tokensPerSecond, stall, progressFields(shown, config), step == totalSteps);
                }
                if (stepListener != null) {
                    stepListener.onStep(step, totalSteps, m, tokensPerSecond);
                }
                if (options.stopAfterStep() > 0 && step == options.stopAfterStep()) {
                    policy.requestStop("stop-after-step");
                }
                if (stopRequest != null) {
                    policy.requestStop(stopRequest);
                }
                boolean stop = policy.stopRequested() && step < totalSteps;
                if (stop || (policy.due(step) && step < totalSteps)) {
                    writeCheckpoint(sae, stream, scale, step, totalSteps, dIn, m, lastCheckpointStep,
                            priorWallNanos + System.nanoTime() - wallStart);
                    lastCheckpointStep = step;
                }
                if (stop) {
                    stopReason = policy.stopReason();
                    break;
                }
            }
            progress.finish();
            double loopSeconds = (System.nanoTime() - loopStart) * 1e-9;
            double stallFraction = (stream.stallSeconds() - stallAtStart) / Math.max(loopSeconds, 1e-9);

            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("completed", stopReason == null);
            if (stopReason != null) {
                summary.put("stopped_by", stopReason);
            }
            summary.put("step", step);
            summary.put("total_steps", totalSteps);
            summary.put("tokens", step * (long) batch);
            summary.put("tokens_this_process", (step - startStep) * (long) batch);
            summary.put("train_seconds_this_process", loopSeconds);
            summary.put("tokens_per_s", (step - startStep) * (double) batch / Math.max(loopSeconds, 1e-9));
            summary.put("stall_fraction", stallFraction);
            summary.put("resumed_from_step", resume == null ? null : resume.step());
            summary.put("input_scale", scale);
            summary.put("final_sparsity_coeff", sae.sparsityCoeff());
            summary.put("final_step_metrics", last == null ? null : MetricsLog.fieldsOf(last));
            summary.put("engine", engine.describe());
            summary.put("config", config.toMap());

            if (stopReason != null) {
                summary.put("wall_seconds", (priorWallNanos + System.nanoTime() - wallStart) * 1e-9);
                progress.message(String.format(Locale.ROOT,
                        "stopped by %s after step %d of %d; checkpoint in %s (continue with --resume %s)", stopReason,
                        step, totalSteps, Checkpoint.dirOf(out), out));
                return new Result(false, stopReason, step, totalSteps, summary);
            }

            Map<String, Object> meta = new LinkedHashMap<>(options.metadata());
            SaeWeights weights = sae.export(scale, meta);
            float[] sparsity = null;
            if (options.sparsityTokens() > 0) {
                SaeEvaluator.Outcome eval = SaeEvaluator.evaluate(engine, weights, data.open(0),
                        Math.max(batch, Math.min(options.sparsityTokens(), options.tokens())));
                sparsity = eval.firingFrequency();
                summary.put("final_metrics", eval.metrics().result());
            }
            SaeExport.write(out, weights, sparsity);
            summary.put("wall_seconds", (priorWallNanos + System.nanoTime() - wallStart) * 1e-9);
            writeJson(out.resolve("metrics.json"), summary);
            progress.message(String.format(Locale.ROOT, "trained %d steps (%d tokens) in %.1f s; SAE written to %s",
                    step, step * (long) batch, (double) summary.get("wall_seconds"), out));
            return new Result(true, null, step, totalSteps, summary);
        }
    }

    // ------------------------------------------------------------------ pieces

    private record Sample(float scale, float[] scaledRows, int dIn) {
    }

    /** Reads the opening batches once: input scale over scaleTokens, and the first initTokens rows (scaled). */
    private Sample firstSample(long totalSteps) {
        int batch = config.batchSize();
        long scaleBatches = Math.max(1, Math.min(totalSteps, (options.scaleTokens() + batch - 1) / batch));
        try (BatchStream s = data.open(0)) {
            int d = s.dim();
            double sumNorm = 0;
            long rows = 0;
            int initRows = Math.min(options.initTokens(), (int) Math.min(Integer.MAX_VALUE / d, scaleBatches * batch));
            float[] init = new float[initRows * d];
            int kept = 0;
            float[] rowsOfBatch = new float[batch * d];
            double[] squares = new double[batch];
            for (long b = 0; b < scaleBatches; b++) {
                MemorySegment seg = s.next();
                MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, rowsOfBatch, 0, rowsOfBatch.length);
                RowSquares.of(rowsOfBatch, batch, d, squares);
                int copy = Math.min(batch, initRows - kept);
                if (copy > 0) {
                    System.arraycopy(rowsOfBatch, 0, init, kept * d, copy * d);
                    kept += copy;
                }
                for (int r = 0; r < batch; r++) {
                    sumNorm += Math.sqrt(squares[r]);
                    rows++;
                }
            }
            double mean = sumNorm / rows;
            if (!(mean > 0) || !Double.isFinite(mean)) {
                throw new UserError("training data: the mean activation norm of the first " + rows + " rows is " + mean
                        + "; cannot scale inputs");
            }
            // Same formula as InputScale.estimate, streamed over batches instead of one array.
            float scale = (float) (Math.sqrt(d) / mean);
            for (int i = 0; i < init.length; i++) {
                init[i] *= scale;
            }
            return new Sample(scale, init, d);
        }
    }

    private void restore(Sae sae, Checkpoint.State state) {
        Map<String, Tensor> live = sae.stateTensors();
        Path file = Checkpoint.dirOf(options.outDir());
        if (!live.keySet().equals(state.tensors().keySet())) {
            throw UserError.inFile(file, "checkpoint holds tensors " + state.tensors().keySet() + " but a " + config.arch().id()
                    + " SAE has " + live.keySet());
        }
        for (Map.Entry<String, Tensor> e : live.entrySet()) {
            state.tensors().get(e.getKey()).uploadTo(engine, e.getValue(), e.getKey(), file);
        }
        sae.restoreScalars(state.scalars());
    }

    private void writeCheckpoint(Sae sae, BatchStream stream, float scale, long step, long totalSteps, int dIn,
                                 StepMetrics m, long lastCheckpointStep, long wallNanos) {
        engine.synchronize();
        Map<String, Checkpoint.HostTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sae.stateTensors().entrySet()) {
            Checkpoint.HostTensor t = Checkpoint.HostTensor.download(engine, e.getValue());
            if (t.f32() != null) {
                for (float v : t.f32()) {
                    if (!Float.isFinite(v)) {
                        throw new UserError(String.format(Locale.ROOT,
                                "training diverged at step %d: tensor %s holds NaN/Inf (loss %.6g); %s", step,
                                e.getKey(), m.loss(), keptCheckpoint(lastCheckpointStep)));
                    }
                }
            }
            tensors.put(e.getKey(), t);
        }
        Map<String, Object> trainer = new LinkedHashMap<>();
        trainer.put("d_in", dIn);
        trainer.put("total_steps", totalSteps);
        trainer.put("tokens", options.tokens());
        trainer.put("wall_nanos", wallNanos);
        trainer.put("engine", engine.describe());
        trainer.put("run_args", options.runArgs());
        Checkpoint.write(options.outDir(), new Checkpoint.State(step, stream.batchesDelivered(), scale, config.toMap(),
                sae.stateScalars(), trainer, tensors));
    }

    private UserError diverged(long step, StepMetrics m, long lastCheckpointStep) {
        return new UserError(String.format(Locale.ROOT,
                "training diverged at step %d: loss = %s (mse %s, lr %.3g); %s", step, m.loss(), m.mse(), m.lr(),
                keptCheckpoint(lastCheckpointStep)));
    }

    private String keptCheckpoint(long lastCheckpointStep) {
        return lastCheckpointStep > 0
                ? "the last good checkpoint (step " + lastCheckpointStep + ") is kept in " + Checkpoint.dirOf(options.outDir())
                : "no checkpoint was written; try a lower --lr";
    }

    /** The loss parts that exist for this architecture, L0 and dead fraction. */
    private static Map<String, Object> progressFields(Map<String, Object> all, TrainConfig config) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean coefficient = config.sparsityKind().coefficientControlled();
        String[] keys = coefficient
                ? new String[] {"batch_tokens", "loss", "mse", "sparsityLoss", "l0", "deadFraction"}
                : new String[] {"batch_tokens", "loss", "mse", "auxLoss", "l0", "deadFraction"};
        for (String k : keys) {
            if (all.containsKey(k)) {
                m.put(k, all.get(k));
            }
        }
        return m;
    }

    static void writeJson(Path path, Map<String, Object> value) {
        try {
            AtomicFiles.writeBytes(path, MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
        } catch (IOException e) {
            throw UserError.inFile(path, "cannot write: " + e.getMessage());
        }
    }
}
