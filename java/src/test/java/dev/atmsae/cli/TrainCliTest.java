package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.data.NpyWriter;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.train.TrainTestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** atmsae train / eval through the command line: output files, exit codes, messages. */
class TrainCliTest {
    private static final int D = 16;

    @TempDir
    Path tmp;

    /** Runs the CLI capturing stderr; returns {exit code, stderr}. */
    private static Object[] run(String... args) {
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Object[] {code, err.toString(StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    /** Every command's help renders without picocli warnings (a bare % in a description is a format error). */
    @Test
    void everyHelpTextRendersCleanly() {
        for (String command : new String[] {"train", "sweep", "study", "absorption", "report", "browse", "eval", "inspect", "synth"}) {
            Object[] r = run(command, "--help");
            assertEquals(0, r[0], command + ": " + r[1]);
            assertTrue(!((String) r[1]).contains("WARN") && !((String) r[2]).contains("WARN"),
                    command + " --help warned: " + r[1] + r[2]);
            assertTrue(((String) r[2]).contains("Usage: atmsae " + command), command + ": " + r[2]);
        }
    }

    @Test
    void trainWritesSaeLensDirectoryAndEvalReadsIt() throws Exception {
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 1024, D, 3);
        Path out = tmp.resolve("run");
        Object[] r = run("train", "--data", shard.toString(), "--arch", "topk", "--width", "32", "--k", "4",
                "--tokens", "1024", "--batch", "64", "--seed", "5", "--threads", "1", "--out", out.toString(),
                "--metrics-every", "4", "--checkpoint-every", "8", "--set", "aux_k_coeff=0.05", "--quiet");
        assertEquals(0, r[0], () -> "stderr: " + r[1]);
        assertEquals("", r[1], "--quiet prints nothing");
        for (String f : new String[] {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors", "metrics.json",
                "metrics.jsonl"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        SaeWeights w = SaeLoader.read(out);
        assertEquals("topk", w.architecture());
        assertEquals(D, w.dIn());
        assertEquals(32, w.dSae());
        assertEquals(4, w.k());
        JsonNode metrics = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(16, metrics.get("step").asInt());
        assertTrue(metrics.get("completed").asBoolean());
        assertEquals(0.05, metrics.get("config").get("aux_k_coeff").asDouble(), 0);
        assertTrue(metrics.get("final_metrics").get("explained_variance").asDouble() > 0.0);
        assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size());

        Path json = tmp.resolve("eval.json");
        Object[] e = run("eval", "--sae", out.toString(), "--data", shard.toString(), "--tokens", "1000",
                "--batch", "128", "--threads", "1", "--json", json.toString());
        assertEquals(0, e[0], () -> "stderr: " + e[1]);
        JsonNode ev = new ObjectMapper().readTree(json.toFile());
        for (String key : new String[] {"mse", "fvu", "explained_variance", "cosine_sim", "l0", "l1", "dead_fraction",
                "tokens"}) {
            assertTrue(ev.has(key), key);
        }
        assertEquals(1000, ev.get("tokens").asLong());
        assertTrue(ev.get("l0").asDouble() <= 4.0 + 1e-9);
        assertEquals(ev.toString(), new ObjectMapper().readTree((String) e[2]).toString());
    }

    @Test
    void configFileThenOptionsThenSet() throws Exception {
        Path shard = TrainTestData.writeShard(tmp.resolve("a.npy"), 256, D, 2);
        Path cfg = tmp.resolve("cfg.json");
        Files.writeString(cfg, "{\"arch\": \"atm\", \"width\": 12, \"k\": 4, \"l1_coeff\": 2.0, \"atm_thresh_c\": 0.5,"
                + " \"atm_p_max\": 0.9}");
        Path out = tmp.resolve("run");
        Object[] r = run("train", "--data", shard.toString(), "--config", cfg.toString(), "--l1", "3",
                "--set", "atm_p_max=0.8", "--tokens", "256", "--batch", "64", "--threads", "1", "--out",
                out.toString(), "--quiet");
        assertEquals(0, r[0], (String) r[1]);
        JsonNode c = new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).get("config");
        assertEquals("atm", c.get("arch").asText());
        assertEquals(12, c.get("width").asInt());
        assertEquals(3.0, c.get("l1_coeff").asDouble(), 0);
        assertEquals(0.5, c.get("atm_thresh_c").asDouble(), 0);
        assertEquals(0.8, c.get("atm_p_max").asDouble(), 0);
        assertEquals(0, run("train", "--list-keys", "--arch", "jumprelu")[0]);
    }

    @Test
    void usageErrorsExitTwo() {
        Path shard = TrainTestData.writeShard(tmp.resolve("a.npy"), 256, D, 1);
        String out = tmp.resolve("o").toString();
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "relu", "--widht", "8", "--tokens", "256",
                "--out", out)[0]);
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "relu", "--width", "abc", "--tokens", "256",
                "--out", out)[0]);
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "nope", "--tokens", "256", "--out", out)[0]);
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "relu", "--width", "8", "--k", "2",
                "--tokens", "256", "--out", out)[0]);
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "relu", "--set", "no_such_key=1",
                "--tokens", "256", "--out", out)[0]);
        assertEquals(2, run("train", "--data", shard.toString(), "--arch", "relu", "--lr", "-1",
                "--tokens", "256", "--out", out)[0]);
    }

    @Test
    void dataProblemsExitOneWithOneLine() {
        String out = tmp.resolve("o").toString();
        Object[] missing = run("train", "--data", tmp.resolve("absent.npy").toString(), "--arch", "relu", "--width", "8",
                "--tokens", "256", "--batch", "64", "--out", out, "--quiet");
        assertEquals(1, missing[0]);
        assertTrue(((String) missing[1]).contains("absent.npy"), (String) missing[1]);
        assertEquals(1, ((String) missing[1]).strip().lines().count(), (String) missing[1]);

        float[] x = TrainTestData.sparseMixture(512, D, 9);
        x[300 * D + 5] = Float.NaN;
        Path bad = tmp.resolve("nan.npy");
        NpyWriter.write(bad, x, 512, D);
        Object[] nan = run("train", "--data", bad.toString(), "--arch", "relu", "--width", "8", "--tokens", "512",
                "--batch", "64", "--shuffle-batches", "0", "--threads", "1", "--out", out, "--quiet");
        assertEquals(1, nan[0], (String) nan[1]);
        assertTrue(((String) nan[1]).contains("nan.npy"), (String) nan[1]);

        Object[] skipped = run("train", "--data", bad.toString(), "--arch", "relu", "--width", "8", "--tokens", "448",
                "--batch", "64", "--skip-nonfinite", "--threads", "1", "--out", out, "--quiet");
        assertEquals(0, skipped[0], (String) skipped[1]);
    }

    @Test
    void cudaWithoutDeviceExitsOneSayingWhy() {
        Path shard = TrainTestData.writeShard(tmp.resolve("a.npy"), 256, D, 1);
        Object[] r = run("train", "--data", shard.toString(), "--arch", "relu", "--width", "8", "--tokens", "256",
                "--batch", "64", "--engine", "cuda", "--out", tmp.resolve("o").toString(), "--quiet");
        if ((int) r[0] == 0) {
            return; // a machine with a usable GPU: nothing to check here
        }
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("--engine cuda"), (String) r[1]);
        assertEquals(1, ((String) r[1]).strip().lines().count(), (String) r[1]);
    }
}
