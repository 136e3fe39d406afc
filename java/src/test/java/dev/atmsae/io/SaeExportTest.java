package dev.atmsae.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeExportTest {
    static final int D = 6;
    static final int N = 10;

    @TempDir
    Path dir;

    static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextBoolean() ? 0.1 + r.nextDouble() : -0.1 - r.nextDouble());
        }
        return v;
    }

    static SaeWeights sae(String arch, Map<String, Object> meta) {
        float[] threshold = arch.equals("jumprelu") ? random(5, N) : null;
        return new SaeWeights(arch, D, N, random(1, D * N), random(2, N), random(3, D * N), random(4, D), threshold,
                arch.equals("topk") ? 3 : 0, meta);
    }

    @Test
    void roundTripsEveryArchitecture() throws IOException {
        for (String arch : List.of("standard", "topk", "jumprelu")) {
            Path out = dir.resolve(arch);
            SaeWeights w = sae(arch, Map.of("model_name", "all-MiniLM-L6-v2", "hook_name", "blocks.3.hook_resid_post",
                    "atmsae", Map.of("steps", 100), "lr", 0.001));
            float[] freq = new float[N];
            for (int i = 0; i < N; i++) {
                freq[i] = i == 0 ? 0f : 0.01f * i;
            }
            SaeExport.write(out, w, freq);
            SaeWeights back = SaeLoader.read(out);
            assertEquals(arch, back.architecture());
            assertEquals(D, back.dIn());
            assertEquals(N, back.dSae());
            assertArrayEquals(w.wEnc(), back.wEnc());
            assertArrayEquals(w.bEnc(), back.bEnc());
            assertArrayEquals(w.wDec(), back.wDec());
            assertArrayEquals(w.bDec(), back.bDec());
            assertArrayEquals(w.threshold(), back.threshold());
            assertEquals(w.k(), back.k());
            assertEquals("all-MiniLM-L6-v2", back.metadata().get("model_name"));
            assertEquals(Map.of("steps", 100, "lr", 0.001), back.metadata().get("atmsae"));
            float[] log = SaeExport.readLogSparsity(out);
            assertEquals(-10.0, log[0], 1e-5);
            assertEquals(Math.log10(0.05 + 1e-10), log[5], 1e-6);
            try (Safetensors.Reader r = Safetensors.open(out.resolve(SaeExport.WEIGHTS))) {
                assertEquals(SaeExport.tensorNames(arch), List.copyOf(r.header().tensors().keySet()));
                assertFalse(r.header().tensors().containsKey("scaling_factor"));
            }
        }
    }

    @Test
    void configHasEverySaeLensKey() throws IOException {
        SaeExport.write(dir, sae("topk", Map.of("context_size", 128)), null);
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("cfg.json").toFile());
        assertEquals("topk", cfg.get("architecture").asText());
        assertEquals(3, cfg.get("k").asInt());
        assertFalse(cfg.get("rescale_acts_by_decoder_norm").asBoolean());
        assertEquals("float32", cfg.get("dtype").asText());
        assertEquals("cpu", cfg.get("device").asText());
        assertTrue(cfg.get("apply_b_dec_to_input").asBoolean());
        assertEquals("none", cfg.get("normalize_activations").asText());
        assertEquals("none", cfg.get("reshape_activations").asText());
        JsonNode m = cfg.get("metadata");
        for (String key : SaeExport.SAELENS_METADATA_KEYS) {
            assertTrue(m.has(key), key);
        }
        assertEquals("6.18.0", m.get("sae_lens_version").asText());
        assertTrue(m.get("hook_head_index").isNull());
        assertEquals(1, m.get("seqpos_slice").size());
        assertTrue(m.get("seqpos_slice").get(0).isNull());
        assertTrue(m.get("model_from_pretrained_kwargs").isObject());
        assertEquals(128, m.get("context_size").asInt());
        assertTrue(m.get("atmsae").isObject());
        assertFalse(Files.exists(dir.resolve(SaeExport.SPARSITY)));
        assertNull(SaeExport.readLogSparsity(dir));
    }

    private String readError(Path d) {
        UserError e = assertThrows(UserError.class, () -> SaeLoader.read(d));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void rejectsBrokenDirectories() throws IOException {
        assertTrue(readError(dir).contains("no cfg.json"));
        SaeExport.write(dir, sae("standard", Map.of()), null);
        // a jumprelu config over standard weights: the tensor set is wrong
        String cfg = Files.readString(dir.resolve("cfg.json"));
        Files.writeString(dir.resolve("cfg.json"), cfg.replace("\"standard\"", "\"jumprelu\""));
        assertTrue(readError(dir).contains("needs exactly [W_enc, b_enc, W_dec, b_dec, threshold]"));
        Files.writeString(dir.resolve("cfg.json"), cfg.replace("\"d_in\" : 6", "\"d_in\" : 7"));
        assertTrue(readError(dir).contains("tensor 'W_enc' has shape [6, 10] but cfg.json (d_in, d_sae) implies [7, 10]"));
        Files.writeString(dir.resolve("cfg.json"), "{ not json");
        assertTrue(readError(dir).contains("cfg.json: not valid JSON"));
        Files.writeString(dir.resolve("cfg.json"), cfg);
        Files.delete(dir.resolve(SaeExport.WEIGHTS));
        assertTrue(readError(dir).contains("no sae_weights.safetensors"));
        Safetensors.write(dir.resolve(SaeExport.WEIGHTS), List.of(Safetensors.Entry.f32("W_enc", random(1, D * N), D, N),
                Safetensors.Entry.f32("b_enc", random(1, N), N), Safetensors.Entry.f32("W_dec", random(1, D * N), N, D),
                Safetensors.Entry.f32("b_dec", random(1, D), D), Safetensors.Entry.f32("scaling_factor", random(1, N), N)),
                null);
        assertTrue(readError(dir).contains("scaling_factor"));
    }

    @Test
    void refusesInconsistentWeightsOnWrite() {
        assertThrows(IllegalArgumentException.class, () -> SaeExport.write(dir,
                new SaeWeights("topk", D, N, random(1, D * N), random(2, N), random(3, D * N), random(4, D), null, 0,
                        Map.of()), null));
        assertThrows(IllegalArgumentException.class, () -> SaeExport.write(dir,
                new SaeWeights("jumprelu", D, N, random(1, D * N), random(2, N), random(3, D * N), random(4, D), null, 0,
                        Map.of()), null));
    }
}
