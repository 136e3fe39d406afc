package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.data.ShardSet;
import dev.atmsae.io.NpyArrays;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.eval.synth.SynthGenerator;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AbsorptionSynthCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** An SAE whose decoder rows are the true features and whose encoder is their transpose. */
    static SaeWeights cleanSae(Path truthDir) {
        NpyArrays.Array f = NpyArrays.read(truthDir.resolve("truth/features.npy"));
        int n = (int) f.rows(), d = (int) f.cols();
        float[] wEnc = new float[d * n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < d; i++) {
                wEnc[i * n + j] = f.f32()[j * d + i];
            }
        }
        float[] bEnc = new float[n];
        java.util.Arrays.fill(bEnc, -0.1f);
        return new SaeWeights("standard", d, n, wEnc, bEnc, f.f32().clone(), new float[d], null, 0, Map.of());
    }

    @Test
    void synthThenAbsorptionOnTruthAndProbeSet() throws Exception {
        Path data = dir.resolve("synth");
        Result s = cli("synth", "--out", data.toString(), "--tokens", "3000", "--eval-tokens", "2000", "--d", "32",
                "--trees", "2", "--children", "3", "--independent", "4", "--parent-rate", "0.2", "--shard-tokens", "1000",
                "--seed", "3");
        assertEquals(0, s.code(), s.err());
        try (ShardSet shards = ShardSet.open(data.resolve("shards"))) {
            assertEquals(3000, shards.rows());
            assertEquals(32, shards.dim());
        }
        assertTrue(Files.isRegularFile(data.resolve("probe_set/probe_set.json")));
        // the CSR truth of the training samples equals what the generator regenerates from truth.json
        SynthGenerator gen = SynthFiles.readTruth(data);
        SynthGenerator.Batch b = gen.generate(0, 3000);
        long[] rowPtr = NpyArrays.read(data.resolve("truth/true_rowptr.npy")).i64();
        int[] feature = NpyArrays.read(data.resolve("truth/true_feature.npy")).i32();
        float[] value = NpyArrays.read(data.resolve("truth/true_value.npy")).f32();
        assertEquals(3001, rowPtr.length);
        for (int r = 0; r <= 3000; r++) {
            assertEquals(b.rowPtr()[r], rowPtr[r]);
        }
        assertTrue(java.util.Arrays.equals(b.feature(), feature) && java.util.Arrays.equals(b.value(), value));
        try (ShardSet shards = ShardSet.open(data.resolve("shards"))) {
            float[] row = new float[32];
            shards.copyRows(2500, 1, java.lang.foreign.MemorySegment.ofArray(row), 0);
            assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(b.x(), 2500 * 32, 2501 * 32), row));
        }
        Path saeDir = dir.resolve("sae");
        SaeExport.write(saeDir, cleanSae(data), null);

        Path json = dir.resolve("truth.json"), md = dir.resolve("truth.md");
        Result t = cli("absorption", "--sae", saeDir.toString(), "--truth", data.toString(), "--json", json.toString(),
                "--md", md.toString());
        assertEquals(0, t.code(), t.err());
        JsonNode truth = new ObjectMapper().readTree(json.toFile()).get("synthetic_truth");
        assertEquals(1.0, truth.get("mmcs").asDouble(), 1e-5);
        assertEquals(0.0, truth.get("mean_full_absorption").asDouble(), 0.0);
        assertTrue(Files.readString(md).contains("MMCS"));

        Path json2 = dir.resolve("probe.json"), md2 = dir.resolve("probe.md");
        Result p = cli("absorption", "--sae", saeDir.toString(), "--probe-set", data.resolve("probe_set").toString(),
                "--json", json2.toString(), "--md", md2.toString(), "--sparse-k", "1,2");
        assertEquals(0, p.code(), p.err());
        JsonNode root = new ObjectMapper().readTree(json2.toFile());
        JsonNode abs = root.get("absorption");
        assertTrue(abs.get("rule_version").asText().startsWith("atmsae-absorption/1"));
        assertEquals(2, abs.get("classes").size());
        assertTrue(abs.get("mean_absorption_fraction").asDouble() < 0.05);
        assertEquals(abs.get("mean_full_absorption").asDouble(), abs.get("mean_absorption_score").asDouble(), 0.0);
        JsonNode sparse = root.get("sparse_probing");
        assertEquals(2, sparse.get("ks").size());
        // each child class is one true feature, so one latent probes it (far) above chance
        assertTrue(sparse.get("mean_sae_accuracy").get(0).asDouble() > 0.9, sparse.toString());
        assertTrue(Files.readString(md2).contains("Sparse probing"));
    }

    @Test
    void badInputsGiveOneLineErrors() throws Exception {
        Path data = dir.resolve("synth");
        assertEquals(0, cli("synth", "--out", data.toString(), "--tokens", "100", "--eval-tokens", "200", "--d", "16",
                "--trees", "1", "--children", "2", "--independent", "1").code());
        // an SAE of the wrong width
        SaeWeights wide = cleanSae(data);
        int d = 24, n = wide.dSae();
        float[] wDec = new float[n * d];
        for (int j = 0; j < n; j++) {
            wDec[j * d + j] = 1;
        }
        Path saeDir = dir.resolve("sae24");
        SaeExport.write(saeDir, new SaeWeights("standard", d, n, new float[d * n], new float[n], wDec, new float[d], null, 0,
                Map.of()), null);
        Result r = cli("absorption", "--sae", saeDir.toString(), "--probe-set", data.resolve("probe_set").toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("d_in = 24") && r.err().contains("d = 16"), r.err());
        Result missing = cli("absorption", "--sae", saeDir.toString(), "--probe-set", "pos");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("harvest"), missing.err());
        Result badSynth = cli("synth", "--out", dir.resolve("x").toString(), "--d", "4", "--trees", "2", "--children", "3");
        assertEquals(1, badSynth.code());
        assertTrue(badSynth.err().contains("orthogonal"), badSynth.err());
    }
}
