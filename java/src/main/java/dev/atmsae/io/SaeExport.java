package dev.atmsae.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the SAELens on-disk format (saelens-format.md): {@code cfg.json}, {@code sae_weights.safetensors}
 * (exactly W_enc [d,n], b_enc [n], W_dec [n,d], b_dec [d], plus threshold [n] for jumprelu; never scaling_factor) and
 * optionally {@code sparsity.safetensors}.
 *
 * <p>This class writes the weights as given: folding the input scale and the decoder norms (unit-norm W_dec rows) is
 * the caller's job and must happen before {@link #write}.
 *
 * <p>Metadata mapping: keys of {@link SaeWeights#metadata()} that SAELens defines ({@link #SAELENS_METADATA_KEYS})
 * become {@code metadata.<key>} (overriding the defaults); a key {@code "atmsae"} holding a map is merged into
 * {@code metadata.atmsae}; every other key goes to {@code metadata.atmsae.<key>}. {@link SaeLoader} reads the
 * directory back and returns the {@code metadata} object as it is in the file (SAELens keys at top level, atmsae's
 * facts under "atmsae").
 */
public final class SaeExport {
    public static final String CFG = "cfg.json";
    public static final String WEIGHTS = "sae_weights.safetensors";
    public static final String SPARSITY = "sparsity.safetensors";
    public static final String SAE_LENS_VERSION = "6.18.0";
    /** The metadata keys SAELens itself defines; values for these in SaeWeights.metadata override the defaults. */
    public static final List<String> SAELENS_METADATA_KEYS = List.of("sae_lens_version", "sae_lens_training_version",
            "model_name", "hook_name", "hook_head_index", "context_size", "prepend_bos", "seqpos_slice",
            "dataset_path", "model_class_name", "model_from_pretrained_kwargs", "exclude_special_tokens");
    private static final Set<String> ARCHITECTURES = Set.of("standard", "topk", "jumprelu");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SaeExport() {
    }

    /** The tensor names an architecture's weights file must hold, in file order. */
    public static List<String> tensorNames(String architecture) {
        return architecture.equals("jumprelu") ? List.of("W_enc", "b_enc", "W_dec", "b_dec", "threshold")
                : List.of("W_enc", "b_enc", "W_dec", "b_dec");
    }

    /**
     * Writes the export directory. {@code firingFrequencyOrNull}: per-latent firing frequencies in [0, 1] (fraction
     * of tokens on which the latent is non-zero); this method stores {@code log10(freq + 1e-10)} as SAELens expects.
     * With null, no sparsity file is written (and a stale one is removed).
     */
    public static void write(Path dir, SaeWeights w, float[] firingFrequencyOrNull) {
        validateForWrite(w);
        List<Safetensors.Entry> tensors = new ArrayList<>();
        tensors.add(Safetensors.Entry.f32("W_enc", w.wEnc(), w.dIn(), w.dSae()));
        tensors.add(Safetensors.Entry.f32("b_enc", w.bEnc(), w.dSae()));
        tensors.add(Safetensors.Entry.f32("W_dec", w.wDec(), w.dSae(), w.dIn()));
        tensors.add(Safetensors.Entry.f32("b_dec", w.bDec(), w.dIn()));
        if (w.architecture().equals("jumprelu")) {
            tensors.add(Safetensors.Entry.f32("threshold", w.threshold(), w.dSae()));
        }
        Safetensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        Path sparsity = dir.resolve(SPARSITY);
        if (firingFrequencyOrNull != null) {
            if (firingFrequencyOrNull.length != w.dSae()) {
                throw new IllegalArgumentException("sparsity has " + firingFrequencyOrNull.length + " values, d_sae="
                        + w.dSae());
            }
            float[] log = new float[w.dSae()];
            for (int i = 0; i < log.length; i++) {
                log[i] = (float) Math.log10(firingFrequencyOrNull[i] + 1e-10);
            }
            Safetensors.write(sparsity, List.of(Safetensors.Entry.f32("sparsity", log, w.dSae())), Map.of("format", "pt"));
        } else {
            try {
                Files.deleteIfExists(sparsity);
            } catch (IOException e) {
                throw UserError.inFile(sparsity, "cannot remove stale file: " + e.getMessage());
            }
        }
        try {
            AtomicFiles.writeString(dir.resolve(CFG), JSON.writeValueAsString(config(w)) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata is not JSON-serialisable: " + e.getOriginalMessage(), e);
        }
    }

    private static void validateForWrite(SaeWeights w) {
        if (!ARCHITECTURES.contains(w.architecture())) {
            throw new IllegalArgumentException("architecture must be standard, topk or jumprelu, not " + w.architecture());
        }
        if (w.architecture().equals("jumprelu") != (w.threshold() != null)) {
            throw new IllegalArgumentException("a threshold is required for jumprelu and forbidden otherwise");
        }
        if (w.architecture().equals("topk") && (w.k() < 1 || w.k() > w.dSae())) {
            throw new IllegalArgumentException("topk needs 1 <= k <= d_sae, got k=" + w.k());
        }
    }

    /** The cfg.json object for {@code w} (see the class comment for the metadata mapping). */
    public static Map<String, Object> config(SaeWeights w) {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("architecture", w.architecture());
        cfg.put("d_in", w.dIn());
        cfg.put("d_sae", w.dSae());
        cfg.put("dtype", "float32");
        cfg.put("device", "cpu");
        cfg.put("apply_b_dec_to_input", true);
        cfg.put("normalize_activations", "none");
        cfg.put("reshape_activations", "none");
        if (w.architecture().equals("topk")) {
            cfg.put("k", w.k());
            cfg.put("rescale_acts_by_decoder_norm", false);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("sae_lens_version", SAE_LENS_VERSION);
        meta.put("sae_lens_training_version", SAE_LENS_VERSION);
        meta.put("model_name", null);
        meta.put("hook_name", null);
        meta.put("hook_head_index", null);
        meta.put("context_size", null);
        meta.put("prepend_bos", true);
        meta.put("seqpos_slice", Arrays.asList((Object) null));
        meta.put("dataset_path", null);
        meta.put("model_class_name", "HookedTransformer");
        meta.put("model_from_pretrained_kwargs", new LinkedHashMap<>());
        meta.put("exclude_special_tokens", false);
        Map<String, Object> own = new LinkedHashMap<>();
        if (w.metadata() != null) {
            for (Map.Entry<String, Object> e : w.metadata().entrySet()) {
                if (e.getKey().equals("sae_lens_version")) {
                    continue; // must stay ≥ 6.0.0 or SAELens parses the file as a legacy config
                }
                if (SAELENS_METADATA_KEYS.contains(e.getKey())) {
                    meta.put(e.getKey(), e.getValue());
                } else if (e.getKey().equals("atmsae") && e.getValue() instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> own.put(String.valueOf(k), v));
                } else {
                    own.put(e.getKey(), e.getValue());
                }
            }
        }
        meta.put("atmsae", own);
        cfg.put("metadata", meta);
        return cfg;
    }

    /** Reads cfg.json as a JSON tree (validated to be an object). */
    public static JsonNode readConfig(Path dir) {
        Path cfgPath = dir.resolve(CFG);
        if (!Files.isRegularFile(cfgPath)) {
            throw UserError.inFile(dir, "no cfg.json (not an SAE export directory)");
        }
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgPath.toFile());
        } catch (JsonProcessingException e) {
            throw UserError.inFile(cfgPath, "not valid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        } catch (IOException e) {
            throw UserError.inFile(cfgPath, "cannot read: " + e.getMessage());
        }
        if (cfg == null || !cfg.isObject()) {
            throw UserError.inFile(cfgPath, "is not a JSON object");
        }
        return cfg;
    }

    /** The stored log10 firing frequencies, or null when the directory has no sparsity file. */
    public static float[] readLogSparsity(Path dir) {
        Path p = dir.resolve(SPARSITY);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try (Safetensors.Reader r = Safetensors.open(p)) {
            return r.floats("sparsity");
        }
    }
}
