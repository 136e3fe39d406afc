package dev.atmsae.io;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Loads an SAE from disk into atmsae's canonical {@link SaeWeights} — the one loader behind {@code atmsae eval},
 * {@code inspect}, {@code absorption --sae}, the sweep and the public {@code dev.atmsae.api.Sae}.
 *
 * <p>Layouts:
 * <ul>
 *   <li><b>SAELens</b> directory: {@code cfg.json} + {@code sae_weights.safetensors} (F32/F16/BF16), architectures
 *       {@code standard}, {@code topk}, {@code jumprelu} (which also covers BatchTopK and Matryoshka exports) — atmsae's
 *       own exports and SAEs trained by SAELens itself, including pre-6.0 configs without {@code architecture} (a
 *       {@code topk} {@code activation_fn_str} then means topk with {@code activation_fn_kwargs.k}).</li>
 *   <li><b>Gemma Scope</b>: a {@code params.npz} file (or a directory holding one) with W_enc, W_dec, b_enc, b_dec and
 *       threshold; JumpReLU without b_dec subtracted from the input.</li>
 * </ul>
 *
 * <p>The canonical forward is h = (x − b_dec)·W_enc + b_enc, then the architecture's activation, x̂ = f·W_dec + b_dec
 * (saelens-format.md). cfg.json keys that change the forward are folded into the weights so that forward stays exact
 * in real arithmetic (folding is done in float64, rounded once to float32):
 * <ul>
 *   <li>{@code apply_b_dec_to_input: false} (SAELens h = x·W_enc + b_enc; also Gemma Scope):
 *       b_enc ← b_enc + b_dec·W_enc.</li>
 *   <li>{@code rescale_acts_by_decoder_norm: true} (topk; SAELens h ← h·‖d_i‖, decode with f_i/‖d_i‖):
 *       W_enc[:, i] and b_enc_i times ‖d_i‖, d_i ← d_i/‖d_i‖.</li>
 *   <li>{@code normalize_activations}: {@code none} and {@code expected_average_only_in} (its scale is already folded
 *       by SAELens on export) need nothing; {@code constant_norm_rescale} and {@code layer_norm} act on each token and
 *       cannot be folded — they come back as {@link Loaded#normalization()} for the caller to apply around the forward
 *       ({@link Normalization}).</li>
 *   <li>{@code reshape_activations: hook_z} only flattens [heads, d_head] to d_in; inputs here are already flat.</li>
 * </ul>
 * Anything else — another architecture (e.g. gated), extra tensors (e.g. {@code scaling_factor}), shapes that
 * disagree with cfg.json, a weight tensor holding NaN or Inf (named, with the count) — is refused with one line naming
 * the file and the problem ({@link UserError}).
 */
public final class SaeLoader {
    /** Gemma Scope's weights file name. */
    public static final String GEMMA_SCOPE_PARAMS = "params.npz";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ARCHITECTURES = Set.of("standard", "topk", "jumprelu");

    private SaeLoader() {
    }

    /**
     * Per-token input normalisation that SAELens applies around the forward ({@code normalize_activations}).
     * {@link #CONSTANT_NORM_RESCALE}: x ← x·c with c = √d_in / ‖x‖, output x̂/c. {@link #LAYER_NORM}: μ = mean(x),
     * σ = std(x − μ) with Bessel's correction, x ← (x − μ)/(σ + 1e-5), output x̂·σ + μ.
     */
    public enum Normalization {
        NONE, CONSTANT_NORM_RESCALE, LAYER_NORM;

        /** The cfg.json spelling. */
        public String cfgName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A loaded SAE.
     *
     * @param weights       canonical weights (see the class comment)
     * @param normalization per-token input normalisation to apply around the forward
     * @param format        "saelens" or "gemma-scope"
     * @param source        the directory or file it came from
     */
    public record Loaded(SaeWeights weights, Normalization normalization, String format, Path source) {
    }

    /** Loads an SAELens directory, a Gemma Scope directory, or a Gemma Scope {@code params.npz} file. */
    public static Loaded load(Path path) {
        if (Files.isRegularFile(path)) {
            if (path.getFileName().toString().endsWith(".npz")) {
                return gemmaScope(path);
            }
            throw UserError.inFile(path, "not an SAE: expected an SAELens directory (cfg.json + "
                    + SaeExport.WEIGHTS + ") or a Gemma Scope " + GEMMA_SCOPE_PARAMS);
        }
        if (!Files.isDirectory(path)) {
            throw UserError.inFile(path, "no such file or directory");
        }
        if (Files.isRegularFile(path.resolve(SaeExport.CFG))) {
            return saeLens(path);
        }
        if (Files.isRegularFile(path.resolve(GEMMA_SCOPE_PARAMS))) {
            return gemmaScope(path.resolve(GEMMA_SCOPE_PARAMS));
        }
        throw UserError.inFile(path, "no cfg.json (not an SAE export directory: expected SAELens cfg.json + "
                + SaeExport.WEIGHTS + " or Gemma Scope " + GEMMA_SCOPE_PARAMS + ")");
    }

    /**
     * Loads an SAE for code that runs the canonical forward on raw activations (evaluation, absorption, sweeps):
     * refuses an SAE whose cfg.json asks for per-token normalisation, which that code does not apply.
     */
    public static SaeWeights read(Path path) {
        return rawActivationWeights(load(path));
    }

    /** The weights of {@code loaded} for a forward on raw activations; refuses per-token normalisation. */
    public static SaeWeights rawActivationWeights(Loaded loaded) {
        if (loaded.normalization() != Normalization.NONE) {
            throw UserError.inFile(loaded.source().resolve(SaeExport.CFG), "normalize_activations '"
                    + loaded.normalization().cfgName() + "' normalises every token; evaluation runs the SAE on raw "
                    + "activations and does not support it yet (dev.atmsae.api.Sae's forward applies it)");
        }
        return loaded.weights();
    }

    // ------------------------------------------------------------------ SAELens

    private static Loaded saeLens(Path dir) {
        JsonNode cfg = SaeExport.readConfig(dir);
        Path cfgPath = dir.resolve(SaeExport.CFG);
        String arch = architecture(cfgPath, cfg);
        int dIn = positiveInt(cfgPath, cfg, "d_in");
        int dSae = positiveInt(cfgPath, cfg, "d_sae");
        int k = 0;
        if (arch.equals("topk")) {
            JsonNode kNode = cfg.has("k") ? cfg.get("k") : cfg.path("activation_fn_kwargs").get("k");
            k = positiveInt(cfgPath, "k", kNode);
            if (k > dSae) {
                throw UserError.inFile(cfgPath, "k=" + k + " exceeds d_sae=" + dSae);
            }
        }
        boolean bDecToInput = bool(cfgPath, cfg, "apply_b_dec_to_input", true);
        boolean rescaleByDecoderNorm = arch.equals("topk") && bool(cfgPath, cfg, "rescale_acts_by_decoder_norm", false);
        Normalization norm = normalization(cfgPath, cfg);
        String reshape = cfg.path("reshape_activations").asText("none");
        if (!reshape.equals("none") && !reshape.equals("hook_z") && !cfg.path("reshape_activations").isNull()) {
            throw UserError.inFile(cfgPath, "reshape_activations '" + reshape + "' is not none or hook_z");
        }

        Path weightsPath = dir.resolve(SaeExport.WEIGHTS);
        if (!Files.isRegularFile(weightsPath)) {
            throw UserError.inFile(dir, "no " + SaeExport.WEIGHTS);
        }
        List<String> want = SaeExport.tensorNames(arch);
        Map<String, float[]> t = new HashMap<>();
        try (Safetensors.Reader r = Safetensors.open(weightsPath)) {
            Set<String> have = r.header().tensors().keySet();
            if (!have.equals(Set.copyOf(want))) {
                throw UserError.inFile(weightsPath, "holds tensors " + new TreeSet<>(have) + " but architecture '"
                        + arch + "' needs exactly " + want);
            }
            String implied = " but cfg.json (d_in, d_sae) implies ";
            checkShape(weightsPath, "W_enc", r.info("W_enc").shape(), implied, dIn, dSae);
            checkShape(weightsPath, "b_enc", r.info("b_enc").shape(), implied, dSae);
            checkShape(weightsPath, "W_dec", r.info("W_dec").shape(), implied, dSae, dIn);
            checkShape(weightsPath, "b_dec", r.info("b_dec").shape(), implied, dIn);
            if (arch.equals("jumprelu")) {
                checkShape(weightsPath, "threshold", r.info("threshold").shape(), implied, dSae);
            }
            for (String name : want) {
                t.put(name, requireFinite(weightsPath, name, r.floats(name)));
            }
        }
        Map<String, Object> meta = cfg.path("metadata").isObject()
                ? JSON.convertValue(cfg.get("metadata"), new TypeReference<LinkedHashMap<String, Object>>() { })
                : legacyMetadata(cfg);
        SaeWeights raw = new SaeWeights(arch, dIn, dSae, t.get("W_enc"), t.get("b_enc"), t.get("W_dec"), t.get("b_dec"),
                t.get("threshold"), k, meta);
        return new Loaded(fold(raw, bDecToInput, rescaleByDecoderNorm), norm, "saelens", dir);
    }

    private static String architecture(Path cfgPath, JsonNode cfg) {
        if (cfg.hasNonNull("architecture")) {
            String arch = cfg.get("architecture").asText("");
            if (!ARCHITECTURES.contains(arch)) {
                throw UserError.inFile(cfgPath, "architecture '" + arch + "' is not standard, topk or jumprelu");
            }
            return arch;
        }
        // SAELens < 6: no architecture key means standard; a topk activation function means topk
        String fn = cfg.path("activation_fn_str").asText(cfg.path("activation_fn").asText("relu"));
        return switch (fn) {
            case "relu" -> "standard";
            case "topk" -> "topk";
            default -> throw UserError.inFile(cfgPath, "activation_fn_str '" + fn + "' is not relu or topk");
        };
    }

    private static Normalization normalization(Path cfgPath, JsonNode cfg) {
        JsonNode n = cfg.get("normalize_activations");
        String v = n == null || n.isNull() ? "none" : n.asText();
        return switch (v) {
            case "none", "expected_average_only_in" -> Normalization.NONE;
            case "constant_norm_rescale" -> Normalization.CONSTANT_NORM_RESCALE;
            case "layer_norm" -> Normalization.LAYER_NORM;
            default -> throw UserError.inFile(cfgPath, "normalize_activations '" + v
                    + "' is not none, expected_average_only_in, constant_norm_rescale or layer_norm");
        };
    }

    private static Map<String, Object> legacyMetadata(JsonNode cfg) {
        Map<String, Object> meta = new LinkedHashMap<>();
        for (String key : SaeExport.SAELENS_METADATA_KEYS) {
            if (cfg.has(key)) {
                meta.put(key, JSON.convertValue(cfg.get(key), Object.class));
            }
        }
        return meta;
    }

    // ------------------------------------------------------------------ Gemma Scope

    private static Loaded gemmaScope(Path npz) {
        Map<String, NpyArrays.Array> arrays = new HashMap<>();
        try (ZipFile zip = new ZipFile(npz.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4)
                        : e.getName();
                try (InputStream in = zip.getInputStream(e)) {
                    // refuses NaN/Inf with the count, naming the archive and the entry (e.g. params.npz:W_enc.npy)
                    arrays.put(name, NpyArrays.parse(npz + ":" + e.getName(), in.readAllBytes()));
                }
            }
        } catch (ZipException e) {
            throw UserError.inFile(npz, "not a .npz archive: " + e.getMessage());
        } catch (IOException e) {
            throw UserError.inFile(npz, "cannot read: " + e.getMessage());
        }
        List<String> want = List.of("W_enc", "W_dec", "b_enc", "b_dec", "threshold");
        if (!arrays.keySet().equals(Set.copyOf(want))) {
            throw UserError.inFile(npz, "holds arrays " + new TreeSet<>(arrays.keySet())
                    + " but a Gemma Scope SAE has exactly " + want);
        }
        for (String name : want) {
            if (arrays.get(name).f32() == null) {
                throw UserError.inFile(npz, "array '" + name + "' is " + arrays.get(name).descr() + ", not float");
            }
        }
        long[] encShape = arrays.get("W_enc").shape();
        if (encShape.length != 2) {
            throw UserError.inFile(npz, "W_enc has shape " + Arrays.toString(encShape) + ", expected [d_in, d_sae]");
        }
        int dIn = (int) encShape[0];
        int dSae = (int) encShape[1];
        String implied = " but W_enc " + Arrays.toString(encShape) + " implies ";
        checkShape(npz, "W_dec", arrays.get("W_dec").shape(), implied, dSae, dIn);
        checkShape(npz, "b_enc", arrays.get("b_enc").shape(), implied, dSae);
        checkShape(npz, "b_dec", arrays.get("b_dec").shape(), implied, dIn);
        checkShape(npz, "threshold", arrays.get("threshold").shape(), implied, dSae);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("format", "gemma-scope");
        SaeWeights raw = new SaeWeights("jumprelu", dIn, dSae, arrays.get("W_enc").f32(), arrays.get("b_enc").f32(),
                arrays.get("W_dec").f32(), arrays.get("b_dec").f32(), arrays.get("threshold").f32(), 0, meta);
        return new Loaded(fold(raw, false, false), Normalization.NONE, "gemma-scope", npz);
    }

    // ------------------------------------------------------------------ folding

    /** Folds a non-canonical forward into canonical weights (see the class comment); returns {@code w} when canonical. */
    static SaeWeights fold(SaeWeights w, boolean bDecToInput, boolean rescaleByDecoderNorm) {
        if (bDecToInput && !rescaleByDecoderNorm) {
            return w;
        }
        int d = w.dIn();
        int n = w.dSae();
        double[] colScale = new double[n];
        Arrays.fill(colScale, 1.0);
        float[] wDec = w.wDec();
        if (rescaleByDecoderNorm) {
            wDec = wDec.clone();
            for (int i = 0; i < n; i++) {
                double sq = 0;
                for (int j = 0; j < d; j++) {
                    sq += (double) wDec[i * d + j] * wDec[i * d + j];
                }
                double norm = Math.sqrt(sq);
                if (norm > 0) {
                    colScale[i] = norm;
                    for (int j = 0; j < d; j++) {
                        wDec[i * d + j] = (float) (wDec[i * d + j] / norm);
                    }
                }
            }
        }
        float[] wEnc = new float[d * n];
        double[] bEnc = new double[n];
        for (int i = 0; i < n; i++) {
            bEnc[i] = w.bEnc()[i] * colScale[i];
        }
        for (int j = 0; j < d; j++) {
            for (int i = 0; i < n; i++) {
                double v = w.wEnc()[j * n + i] * colScale[i];
                wEnc[j * n + i] = (float) v;
                if (!bDecToInput) {
                    bEnc[i] += w.bDec()[j] * v; // b_dec·W_enc, so (x − b_dec)·W_enc + b_enc' = x·W_enc + b_enc
                }
            }
        }
        float[] bEncF = new float[n];
        for (int i = 0; i < n; i++) {
            bEncF[i] = (float) bEnc[i];
        }
        return new SaeWeights(w.architecture(), d, n, wEnc, bEncF, wDec, w.bDec(), w.threshold(), w.k(), w.metadata());
    }

    // ------------------------------------------------------------------ checks

    /**
     * Refuses a tensor holding NaN or ±Inf, as read (before folding, which would spread one bad value over a whole
     * b_enc): a corrupted export or a bad conversion otherwise evaluates to plausible-looking metrics.
     */
    private static float[] requireFinite(Path file, String tensor, float[] values) {
        NonFiniteCount bad = NonFiniteCount.of(values);
        if (bad.any()) {
            throw UserError.inFile(file, "tensor '" + tensor + "' holds " + bad.describe()
                    + "; refusing to load an SAE with corrupted weights");
        }
        return values;
    }

    private static boolean bool(Path cfgPath, JsonNode cfg, String key, boolean fallback) {
        JsonNode v = cfg.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw UserError.inFile(cfgPath, "'" + key + "' must be true or false, found " + v);
        }
        return v.asBoolean();
    }

    private static int positiveInt(Path cfgPath, JsonNode cfg, String key) {
        return positiveInt(cfgPath, key, cfg.get(key));
    }

    private static int positiveInt(Path cfgPath, String key, JsonNode v) {
        if (v == null || !v.canConvertToExactIntegral() || v.asLong() < 1 || v.asLong() > Integer.MAX_VALUE) {
            throw UserError.inFile(cfgPath, "'" + key + "' must be a positive integer, found " + v);
        }
        return v.asInt();
    }

    private static void checkShape(Path file, String name, long[] have, String implied, long... want) {
        if (!Arrays.equals(have, want)) {
            throw UserError.inFile(file, "tensor '" + name + "' has shape " + Arrays.toString(have) + implied
                    + Arrays.toString(want));
        }
    }
}
