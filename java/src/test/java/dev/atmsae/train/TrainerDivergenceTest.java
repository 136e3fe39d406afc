package dev.atmsae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.data.ArrayBatchStream;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.io.SaeExport;
import dev.atmsae.util.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A non-finite loss stops the run with one clear line and keeps the last good checkpoint. */
class TrainerDivergenceTest {
    private static final int D = 10;
    private static final int BATCH = 16;

    @TempDir
    Path tmp;

    @Test
    void nanLossStopsRunAndKeepsLastGoodCheckpoint() {
        float[] data = TrainTestData.sparseMixture(BATCH * 12, D, 4);
        data[(6 * BATCH + 3) * D + 2] = Float.NaN; // batch index 6: step 7 (the stream here does no NaN check)
        TrainConfig c = TrainConfig.defaults(ArchKind.RELU).with(Map.of("width", 20, "k", 4, "batch_size", BATCH));
        Path out = tmp.resolve("run");
        Trainer.Options options = Trainer.Options.defaults(out, 12L * BATCH).withCheckpointEvery(2).withQuiet(true)
                .withMetricsEvery(1).withSampleTokens(2L * BATCH, BATCH, 2L * BATCH);
        try (Engine engine = Engines.cpu(1, false)) {
            Trainer trainer = new Trainer(engine, c, s -> ArrayBatchStream.sequential(data, D, BATCH), options);
            UserError e = assertThrows(UserError.class, trainer::run);
            assertTrue(e.getMessage().startsWith("training diverged at step 7: loss = NaN"), e.getMessage());
            assertTrue(e.getMessage().contains("last good checkpoint (step 6)"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        Checkpoint.State state = Checkpoint.read(out);
        assertEquals(6, state.step());
        for (Checkpoint.HostTensor t : state.tensors().values()) {
            if (t.f32() != null) {
                for (float v : t.f32()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
        assertFalse(Files.exists(out.resolve(SaeExport.WEIGHTS)));
        assertEquals(6, linesOf(out.resolve("metrics.jsonl")), "no metrics line for the diverged step");
    }

    private static long linesOf(Path p) {
        try {
            return Files.readAllLines(p).size();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
