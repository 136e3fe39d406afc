package dev.atmsae.sweep;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.core.ArchKind;
import dev.atmsae.cli.Main;
import dev.atmsae.core.TrainConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small sweep end to end: synthetic truth data, two architectures × two L0 targets × two seeds. */
class SweepTest {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void smallSweepRunsEndToEndAndResumes() throws Exception {
        Path truth = dir.resolve("truth");
        assertEquals(0, cli("synth", "--out", truth.toString(), "--tokens", "12000", "--eval-tokens", "1500", "--d", "16",
                "--trees", "2", "--children", "3", "--independent", "4"));
        Path out = dir.resolve("sweep");
        String[] args = {"sweep", "--data", truth.resolve("shards").toString(), "--truth", truth.toString(),
            "--probe-set", truth.resolve("probe_set").toString(), "--archs", "topk,relu", "--target-l0", "2,3",
            "--seeds", "1,2", "--width", "24", "--tokens", "12000", "--batch", "256", "--eval-tokens", "2048",
            "--set", "relu:lr=3e-3", "--out", out.toString(), "--quiet"};
        StringWriter stdout = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(stdout), new PrintWriter(new StringWriter()), args));
        assertTrue(stdout.toString().contains("topk") && stdout.toString().contains("relu"), stdout.toString());

        Map<String, Object> sweep = new ObjectMapper().readValue(Files.readString(out.resolve("sweep.json")),
                new TypeReference<Map<String, Object>>() { });
        List<Map<String, Object>> runs = (List<Map<String, Object>>) sweep.get("runs");
        assertEquals(8, runs.size());
        for (Map<String, Object> run : runs) {
            Map<String, Object> core = (Map<String, Object>) run.get("core");
            double fvu = ((Number) core.get("fvu")).doubleValue();
            assertTrue(fvu > 0 && fvu < 1.5, "fvu " + fvu);
            assertNotNull(run.get("truth"), "ground-truth absorption missing");
            assertNotNull(run.get("absorption"), "probe-set absorption missing");
            if (run.get("arch").equals("topk")) {
                assertEquals(((Number) run.get("target_l0")).doubleValue(), ((Number) core.get("l0")).doubleValue(), 1e-9,
                        "topk's L0 is k");
            }
        }
        List<Map<String, Object>> cells = (List<Map<String, Object>>) sweep.get("aggregate");
        assertEquals(4, cells.size());
        Map<String, Object> fvu = (Map<String, Object>) ((Map<String, Object>) cells.get(0).get("metrics")).get("core.fvu");
        assertTrue(((Number) fvu.get("ci95")).doubleValue() >= 0, "a CI over two seeds");
        for (String png : List.of("fvu-vs-l0.png", "truth-absorption-vs-l0.png", "training-curves.png", "feature-density.png")) {
            assertTrue(Files.size(out.resolve(png)) > 1000, png);
        }
        assertTrue(Files.readString(out.resolve("sweep.md")).contains("| topk |"));

        // A second invocation reuses every finished run (nothing is retrained) and reproduces the same table.
        long before = Files.getLastModifiedTime(out.resolve("runs/topk-l0_2-s1/metrics.json")).toMillis();
        StringWriter again = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(again), new PrintWriter(new StringWriter()), args));
        assertEquals(before, Files.getLastModifiedTime(out.resolve("runs/topk-l0_2-s1/metrics.json")).toMillis());
        assertEquals(stdout.toString(), again.toString());

        // Runs trained two at a time, one engine thread each, give every file the same bytes.
        Path parallel = dir.resolve("parallel");
        String[] parallelArgs = java.util.Arrays.copyOf(args, args.length + 4);
        parallelArgs[parallelArgs.length - 4] = "--parallel-runs";
        parallelArgs[parallelArgs.length - 3] = "2";
        parallelArgs[parallelArgs.length - 2] = "--threads";
        parallelArgs[parallelArgs.length - 1] = "1";
        for (int i = 0; i < parallelArgs.length; i++) {
            if (parallelArgs[i].equals(out.toString())) {
                parallelArgs[i] = parallel.toString();
            }
        }
        StringWriter twoAtATime = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(twoAtATime), new PrintWriter(new StringWriter()), parallelArgs));
        for (String run : List.of("topk-l0_2-s1", "relu-l0_3-s2")) {
            for (String file : List.of("sae_weights.safetensors", "eval.json", "absorption.json", "truth.json")) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(out.resolve("runs").resolve(run)
                        .resolve(file)), Files.readAllBytes(parallel.resolve("runs").resolve(run).resolve(file)),
                        run + "/" + file);
            }
        }
    }

    @Test
    void archScopedOverridesApplyToThatArchitectureOnly() {
        SweepSpec spec = new SweepSpec(dir, null, List.of(ArchKind.RELU, ArchKind.TOPK), List.of(4.0), List.of(1L), 32,
                1000, 64, 64, null, null, dir, "cpu", 1, Map.of("lr", "1e-3", "relu:lr", "5e-3"), Map.of(), true);
        Sweep sweep = new Sweep(spec, () -> { throw new AssertionError("no engine needed"); }, System.err);
        TrainConfig relu = sweep.configFor(ArchKind.RELU, 4, 1);
        TrainConfig topk = sweep.configFor(ArchKind.TOPK, 4, 1);
        assertEquals(5e-3, relu.lr(), 1e-15);
        assertEquals(1e-3, topk.lr(), 1e-15);
        assertEquals(4.0, relu.targetL0(), 0);
        assertNull(topk.targetL0());
        assertEquals(4, topk.k());
    }

    private int cli(String... args) {
        return Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args);
    }
}
