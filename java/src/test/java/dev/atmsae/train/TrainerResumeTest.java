package dev.atmsae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.data.ArrayBatchStream;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.io.SaeExport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A run stopped after N steps and resumed must be bitwise identical to an uninterrupted run on the CPU engine: every
 * checkpointed tensor and scalar at step 2N, and the final export.
 */
class TrainerResumeTest {
    private static final int D = 12;
    private static final int BATCH = 32;
    private static final int N = 6;
    private static final long TOTAL_STEPS = 2 * N + 3;
    private static final float[] DATA = TrainTestData.sparseMixture(BATCH * 9, D, 11); // epochs wrap: 9 batches

    @TempDir
    Path tmp;

    private static TrainConfig config(ArchKind arch) {
        TrainConfig c = TrainConfig.defaults(arch).with(Map.of("width", 24, "k", 3, "batch_size", BATCH, "seed", 7,
                "lr", 3e-3));
        if (arch.coefficientControlled()) {
            c = c.with("target_l0", 4.0); // exercises the λ controller's state
        }
        return c;
    }

    private static Trainer.DataSource source(TrainConfig c) {
        return start -> new ArrayBatchStream(DATA, D, BATCH, 4, true, c.seed(), start);
    }

    private Trainer.Options options(Path dir, long stopAfter) {
        return Trainer.Options.defaults(dir, TOTAL_STEPS * BATCH).withMetricsEvery(1).withQuiet(true)
                .withStopAfterStep(stopAfter).withSampleTokens(2L * BATCH, BATCH, 3L * BATCH)
                .withProgress(new PrintStream(new ByteArrayOutputStream()));
    }

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void resumedRunIsBitwiseIdentical(ArchKind arch) throws Exception {
        checkResume(config(arch), arch.id());
    }

    /** ATM on every base through checkpoints (rescaling on; per-latent masks on two of them). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"relu,latent", "topk,token", "batchtopk,latent", "jumprelu,token"})
    void resumedAtmVariantIsBitwiseIdentical(String base, String mode) throws Exception {
        Map<String, Object> m = new java.util.HashMap<>(TrainConfig.atmDefaults(base).toMap());
        m.putAll(Map.of("width", 24, "k", 3, "batch_size", BATCH, "seed", 7, "lr", 3e-3, "atm_rescale", true,
                "atm_mask_mode", mode));
        TrainConfig c = TrainConfig.fromMap(m);
        if (c.sparsityKind().coefficientControlled()) {
            c = c.with("target_l0", 4.0);
        }
        checkResume(c, "atm/" + base + "/" + mode);
    }

    private void checkResume(TrainConfig c, String arch) throws Exception {
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        try (Engine engine = Engines.cpu(1, false)) {
            // uninterrupted to 2N (checkpoint there), then to the end
            Trainer.Result a = new Trainer(engine, c, source(c), options(straight, 2 * N)).run();
            assertFalse(a.completed());
            Checkpoint.State sa = Checkpoint.read(straight);
            new Trainer(engine, c, source(c), options(straight, 0)).run(sa);

            // stop at N, resume to 2N, then to the end
            new Trainer(engine, c, source(c), options(split, N)).run();
            Checkpoint.State mid = Checkpoint.read(split);
            assertEquals(N, mid.step());
            assertEquals(N, mid.batchesDelivered());
            new Trainer(engine, c, source(c), options(split, 2 * N)).run(mid);
            Checkpoint.State sb = Checkpoint.read(split);
            Trainer.Result end = new Trainer(engine, c, source(c), options(split, 0)).run(sb);
            assertTrue(end.completed());

            assertEquals(2 * N, sb.step());
            assertEquals(sa.batchesDelivered(), sb.batchesDelivered());
            assertEquals(Float.floatToRawIntBits(sa.inputScale()), Float.floatToRawIntBits(sb.inputScale()));
            assertEquals(sa.tensors().keySet(), sb.tensors().keySet());
            for (String name : sa.tensors().keySet()) {
                Checkpoint.HostTensor x = sa.tensors().get(name);
                Checkpoint.HostTensor y = sb.tensors().get(name);
                if (x.f32() != null) {
                    assertArrayEquals(bits(x.f32()), bits(y.f32()), arch + " tensor " + name);
                } else {
                    assertArrayEquals(x.i32(), y.i32(), arch + " tensor " + name);
                }
            }
            assertEquals(MetricsLog.JSON.writeValueAsString(Checkpoint.encodeScalars(sa.scalars())),
                    MetricsLog.JSON.writeValueAsString(Checkpoint.encodeScalars(sb.scalars())), arch + " scalars");
        }
        assertArrayEquals(Files.readAllBytes(straight.resolve(SaeExport.WEIGHTS)),
                Files.readAllBytes(split.resolve(SaeExport.WEIGHTS)), arch + " exported weights");
        assertArrayEquals(Files.readAllBytes(straight.resolve(SaeExport.SPARSITY)),
                Files.readAllBytes(split.resolve(SaeExport.SPARSITY)), arch + " sparsity");
        // the metrics streams agree on every step's numbers (timings aside)
        var la = Files.readAllLines(straight.resolve("metrics.jsonl"));
        var lb = Files.readAllLines(split.resolve("metrics.jsonl"));
        assertEquals(TOTAL_STEPS, la.size());
        assertEquals(la.size(), lb.size());
        for (int i = 0; i < la.size(); i++) {
            assertEquals(stripTimings(la.get(i)), stripTimings(lb.get(i)), "metrics line " + (i + 1));
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    private static String stripTimings(String line) {
        return line.replaceAll("\"(tokens_per_s|stall_fraction|elapsed_s)\":[^,}]*", "");
    }
}
