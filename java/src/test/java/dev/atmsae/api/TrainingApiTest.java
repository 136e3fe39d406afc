package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.train.TrainTestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Training} over a caller's {@link ActivationSource} and over shards: listener, cancel, checkpoint and resume
 * (bitwise equal to an uninterrupted run on the CPU engine), the exported SAE loads through {@link Sae}, nothing is
 * printed, and bad settings are {@link AtmsaeException}s with the CLI's message.
 */
class TrainingApiTest {
    private static final int D = 16;
    private static final int BATCH = 64;
    private static final long TOKENS = 40L * BATCH;

    @TempDir
    Path tmp;

    /** A deterministic in-process source (batch b is a pure function of b), like a model run on fixed text. */
    private static ActivationSource source() {
        float[] data = TrainTestData.sparseMixture(1024, D, 5);
        return new ActivationSource() {
            @Override
            public int dim() {
                return D;
            }

            @Override
            public void fill(long batchIndex, int rows, FloatBuffer out) {
                for (int r = 0; r < rows; r++) {
                    int row = (int) ((batchIndex * rows + r) % 1024);
                    out.put(data, row * D, D);
                }
            }
        };
    }

    private static Training.Builder topk(Path out) {
        return Training.builder().architecture("topk").width(32).k(4).batchSize(BATCH).tokens(TOKENS).seed(3)
                .set("lr", 3e-3).device(Device.cpu(2)).source(source()).outputDirectory(out).checkpointEvery(0);
    }

    @Test
    void trainsOnAnInProcessSourceQuietlyAndTheResultLoads() throws IOException {
        List<TrainingProgress> seen = new ArrayList<>();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        TrainingResult result;
        try {
            System.setOut(new PrintStream(printed, true));
            System.setErr(new PrintStream(printed, true));
            result = topk(tmp.resolve("run")).listener(seen::add).build().run();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        assertEquals("", printed.toString(), "library code printed");
        assertTrue(result.completed());
        assertEquals(40, result.steps());
        assertEquals(40, seen.size());
        assertEquals(1, seen.get(0).step());
        assertEquals(TOKENS, seen.get(39).tokens());
        assertTrue(seen.get(39).mse() < seen.get(0).mse(), "training lowers the loss: " + seen.get(0).mse() + " -> "
                + seen.get(39).mse());
        try (Sae sae = result.loadSae(Device.cpu(1))) {
            assertEquals("topk", sae.architecture());
            assertEquals(D, sae.inputDim());
            assertEquals(32, sae.width());
            float[] x = new float[D];
            source().fill(0, 1, FloatBuffer.wrap(x));
            assertEquals(4, sae.topLatents(x, 10).size(), "topk k=4 has at most 4 active latents");
            ReconstructionMetrics m = Evaluation.reconstruction(sae, source(), 512);
            assertTrue(m.fvu() < 1, "fvu " + m.fvu());
            assertEquals(4.0, m.l0(), 0.5);
        }
    }

    @Test
    void cancelThenResumeEqualsAnUninterruptedRun() throws IOException {
        TrainingResult whole = topk(tmp.resolve("whole")).build().run();
        assertTrue(whole.completed());

        Path split = tmp.resolve("split");
        Training[] self = new Training[1];
        self[0] = topk(split).listener(p -> {
            if (p.step() == 17) {
                self[0].cancel();
            }
        }).build();
        TrainingResult first = self[0].run();
        assertFalse(first.completed());
        assertEquals("cancelled", first.stopReason());
        assertEquals(17, first.steps());
        assertTrue(first.saeDirectory().isEmpty());
        assertThrows(IllegalStateException.class, () -> first.loadSae(Device.cpu(1)));

        AtmsaeException e = assertThrows(AtmsaeException.class,
                () -> Training.resume(split).width(64).source(source()).build());
        assertTrue(e.getMessage().contains("drop width"), e.getMessage());

        TrainingResult rest = Training.resume(split).source(source()).device(Device.cpu(2)).build().run();
        assertTrue(rest.completed());
        assertEquals(40, rest.steps());
        assertArrayEquals(Files.readAllBytes(whole.directory().resolve("sae_weights.safetensors")),
                Files.readAllBytes(split.resolve("sae_weights.safetensors")), "resumed run is bitwise identical");
    }

    @Test
    void trainsOnShards() {
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 2048, D, 9);
        TrainingResult r = Training.builder().architecture("jumprelu").width(24).targetL0(4).batchSize(BATCH)
                .tokens(20L * BATCH).device(Device.cpu(1)).shards(shard).outputDirectory(tmp.resolve("jr"))
                .metadata("model_name", "synthetic").build().run();
        assertTrue(r.completed());
        try (Sae sae = r.loadSae(Device.cpu(1))) {
            assertEquals("jumprelu", sae.architecture());
            assertEquals("synthetic", sae.metadata().get("model_name"));
            ReconstructionMetrics m = Evaluation.reconstruction(sae, shard);
            assertEquals(2048, m.tokens());
        }
    }

    @Test
    void badSettingsAreAtmsaeExceptionsWithTheCliMessage() {
        AtmsaeException unknown = assertThrows(AtmsaeException.class,
                () -> topk(tmp.resolve("x")).set("no_such_key", 1).build());
        assertTrue(unknown.getMessage().startsWith("config: unknown key 'no_such_key'"), unknown.getMessage());
        AtmsaeException shortRun = assertThrows(AtmsaeException.class,
                () -> topk(tmp.resolve("y")).tokens(BATCH - 1).build());
        assertTrue(shortRun.getMessage().contains("less than one batch"), shortRun.getMessage());
        AtmsaeException noData = assertThrows(AtmsaeException.class,
                () -> Training.builder().tokens(TOKENS).outputDirectory(tmp.resolve("z")).build());
        assertTrue(noData.getMessage().contains("training data is required"), noData.getMessage());
        AtmsaeException noCheckpoint = assertThrows(AtmsaeException.class, () -> Training.resume(tmp.resolve("none")));
        assertTrue(noCheckpoint.getMessage().contains("none"), noCheckpoint.getMessage());
    }
}
