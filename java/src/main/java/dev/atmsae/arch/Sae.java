package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.core.TrainConfig;

import java.util.Map;

/**
 * One sparse autoencoder being trained on an {@link dev.atmsae.engine.Engine}: its parameters, optimizer state and
 * every piece of step-to-step state, and the math of one training step as a sequence of engine kernels.
 * Created by {@link SaeFactory#create}. Inputs are always in training units (already multiplied by the input scale s);
 * {@link #export} folds s back so the exported SAE works on raw activations.
 *
 * <p>Checkpointing: {@link #stateTensors()} returns the live engine tensors (restore = upload into them) and
 * {@link #stateScalars()} the host-side state; after restoring both, the continued run is bitwise identical to an
 * uninterrupted one. Nothing else carries state (no java.util.Random: all randomness is Philox keyed by seed and step).
 */
public interface Sae extends AutoCloseable {

    ArchKind kind();

    TrainConfig config();

    int dIn();

    int width();

    /**
     * One optimizer step on x [batch_size, dIn] (training units); {@code step} counts from 1 and is the global step
     * (schedules and the ATM mask stream are keyed by it). Downloads only a few scalars and O(n) vectors.
     */
    StepMetrics trainStep(Tensor x, long step);

    /**
     * Inference-time forward in training units (no ATM mask, BatchTopK with its threshold θ) on a batch of exactly
     * batch_size rows (it reuses the step workspace): writes x̂ [B, dIn]
     * and returns the number of active (code &gt; 0) entries. Used by tests and for in-training validation.
     */
    long inferenceForward(Tensor x, Tensor xhat);

    /** Live engine tensors to checkpoint, by stable name (weights, Adam moments, per-architecture parameters). */
    Map<String, Tensor> stateTensors();

    /**
     * Host-side state by stable name; values are Long, Double, Boolean, String or double[]/long[] (Jackson writes
     * them exactly: doubles round-trip through their shortest decimal form).
     */
    Map<String, Object> stateScalars();

    /** Restores what {@link #stateScalars()} returned (numbers may come back as any Number, arrays as List). */
    void restoreScalars(Map<String, Object> scalars);

    /** The current sparsity coefficient before warm-up (what the target-L0 controller adjusts; 0 for topk). */
    double sparsityCoeff();

    /**
     * The SAE in SAELens layout for raw activations: input scale and decoder norms folded (architecture class
     * comments say which SAELens architecture), {@code metadata} copied with {@code atmsae} facts added.
     */
    SaeWeights export(float inputScale, Map<String, Object> metadata);

    @Override
    void close();
}
