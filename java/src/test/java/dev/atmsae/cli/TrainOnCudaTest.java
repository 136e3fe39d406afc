package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.gpucheck.EmulatedSuiteMain;
import dev.atmsae.io.Safetensors;
import dev.atmsae.train.TrainTestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code atmsae train --engine cuda} end to end for every architecture: the same short run on the CPU engine and on
 * CUDA (a GPU, or the emulated device in EmulatedCudaSuiteTest) exports the same SAE. Tolerance, stated: every
 * exported tensor within 2e-3 of its largest magnitude (32 Adam steps at lr 1e-3 from the same initialisation; float
 * sums in other orders move a weight by far less than one step), and the run's metrics.json names the engine.
 */
@Tag(EmulatedSuiteMain.TAG)
class TrainOnCudaTest {
    private static final int D = 16;
    private static final double TOLERANCE = 2e-3;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(ArchKind.class)
    void cudaExportsTheSaeTheCpuEngineExports(ArchKind arch) throws Exception {
        CudaAvailability.Result probe = CudaAvailability.probe();
        assumeTrue(probe.available(), "no CUDA device: " + probe.reason());
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 2048, D, 7);
        Path cpu = train(arch, shard, "cpu"), cuda = train(arch, shard, "cuda");
        try (Safetensors.Reader a = Safetensors.open(cpu.resolve("sae_weights.safetensors"));
             Safetensors.Reader b = Safetensors.open(cuda.resolve("sae_weights.safetensors"))) {
            assertEquals(a.header().tensors().keySet(), b.header().tensors().keySet());
            List<String> off = new ArrayList<>();
            for (String name : a.header().tensors().keySet()) {
                float[] x = a.floats(name), y = b.floats(name);
                double scale = 0, worst = 0;
                for (int i = 0; i < x.length; i++) {
                    scale = Math.max(scale, Math.abs(x[i]));
                    worst = Math.max(worst, Math.abs(x[i] - y[i]));
                }
                if (!(worst <= TOLERANCE * scale + 1e-6)) {
                    off.add(name + ": worst difference " + worst + " at scale " + scale);
                }
            }
            assertTrue(off.isEmpty(), arch.id() + ": " + off);
        }
        JsonNode metrics = new ObjectMapper().readTree(cuda.resolve("metrics.json").toFile());
        String engine = metrics.path("engine").asText();
        assertTrue(engine.startsWith("cuda: "), engine);
        assertEquals(probe.emulated(), engine.contains("emulated CUDA device"), engine);
    }

    private Path train(ArchKind arch, Path shard, String engine) {
        Path out = tmp.resolve(arch.id() + "-" + engine);
        boolean usesK = arch == ArchKind.TOPK || arch == ArchKind.BATCHTOPK || arch == ArchKind.MATRYOSHKA;
        List<String> args = new ArrayList<>(List.of("train", "--data", shard.toString(), "--arch", arch.id(), "--width",
                "64", "--tokens", "2048", "--batch", "64", "--seed", "3", "--threads", "1", "--engine", engine, "--out",
                out.toString(), "--quiet"));
        args.addAll(usesK ? List.of("--k", "4") : List.of("--target-l0", "4"));
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            code = Main.run(args.toArray(String[]::new));
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
        assertEquals(0, code, arch.id() + " --engine " + engine + ": " + err.toString(StandardCharsets.UTF_8));
        return out;
    }
}
