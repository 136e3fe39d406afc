package dev.atmsae.eval;

import dev.atmsae.arch.SaeInference;
import dev.atmsae.data.BatchStream;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.SaeWeights;

/**
 * Runs an exported SAE over the first {@code tokens} rows of a batch stream on an engine ({@link SaeInference}) and
 * accumulates {@link CoreMetrics}. A last partial batch uses only the rows needed, so exactly {@code tokens} rows count.
 */
public final class SaeEvaluator {
    /** The metrics and the per-latent firing frequency over the evaluated tokens. */
    public record Outcome(CoreMetrics metrics, float[] firingFrequency) {
    }

    private SaeEvaluator() {
    }

    /** Evaluates {@code weights} on {@code tokens} rows of {@code stream}; closes the stream. */
    public static Outcome evaluate(Engine engine, SaeWeights weights, BatchStream stream, long tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("evaluation needs at least one token, got " + tokens);
        }
        if (stream.dim() != weights.dIn()) {
            stream.close();
            throw new dev.atmsae.util.UserError("evaluation data has d = " + stream.dim() + " but the SAE has d_in = "
                    + weights.dIn());
        }
        CoreMetrics metrics = new CoreMetrics(weights.dIn(), weights.dSae());
        int batch = stream.batchSize();
        int d = weights.dIn();
        try (stream; SaeInference inference = new SaeInference(engine, weights);
             Tensor x = engine.allocF32(batch, d)) {
            long done = 0;
            Tensor partial = null;
            try {
                while (done < tokens) {
                    var seg = stream.next();
                    int rows = (int) Math.min(batch, tokens - done);
                    Tensor target = x;
                    if (rows < batch) {
                        partial = engine.allocF32(rows, d);
                        target = partial;
                        engine.upload(target, seg.asSlice(0, 4L * rows * d));
                    } else {
                        engine.upload(target, seg);
                    }
                    metrics.addSums(inference.run(target));
                    done += rows;
                }
            } finally {
                if (partial != null) {
                    partial.close();
                }
            }
        }
        return new Outcome(metrics, metrics.firingFrequency());
    }
}
