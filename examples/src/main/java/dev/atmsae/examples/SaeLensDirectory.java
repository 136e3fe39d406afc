package dev.atmsae.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a {@code standard} (ReLU) SAE the way SAELens 6 saves one ({@code SAE.save_model}: cfg.json +
 * sae_weights.safetensors), byte by byte and without atmsae — a stand-in for a directory downloaded from the Hugging
 * Face Hub, so that the examples load an SAE atmsae did not write.
 */
final class SaeLensDirectory {
    private SaeLensDirectory() {
    }

    /**
     * Writes the directory.
     *
     * @param dir                  the directory (created)
     * @param wEnc                 [d_in, d_sae] row-major
     * @param bEnc                 [d_sae]
     * @param wDec                 [d_sae, d_in] row-major
     * @param bDec                 [d_in]
     * @param normalizeActivations SAELens's {@code normalize_activations}, e.g. "none" or "layer_norm"
     */
    static void write(Path dir, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec, String normalizeActivations) {
        int dIn = bDec.length;
        int dSae = bEnc.length;
        String cfg = String.format(Locale.ROOT, """
                {"d_in": %d, "d_sae": %d, "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": true, \
                "normalize_activations": "%s", "reshape_activations": "none", "metadata": {"sae_lens_version": "6.5.1", \
                "model_name": "synthetic", "hook_name": "blocks.0.hook_resid_post", "prepend_bos": true}, \
                "architecture": "standard"}
                """, dIn, dSae, normalizeActivations);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("cfg.json"), cfg);
            writeSafetensors(dir.resolve("sae_weights.safetensors"), new String[] {"W_enc", "b_enc", "W_dec", "b_dec"},
                    new float[][] {wEnc, bEnc, wDec, bDec},
                    new long[][] {{dIn, dSae}, {dSae}, {dSae, dIn}, {dIn}});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** safetensors: u64 little-endian header length, the JSON header (space-padded to 8 bytes), then the data. */
    private static void writeSafetensors(Path file, String[] names, float[][] tensors, long[][] shapes)
            throws IOException {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (int t = 0; t < names.length; t++) {
            long end = offset + 4L * tensors[t].length;
            header.append(String.format(Locale.ROOT, ",\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%d,%d]}",
                    names[t], java.util.Arrays.toString(shapes[t]).replace(" ", ""), offset, end));
            offset = end;
        }
        header.append('}');
        while (header.length() % 8 != 0) {
            header.append(' ');
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (float[] tensor : tensors) {
            for (float v : tensor) {
                out.putFloat(v);
            }
        }
        Files.write(file, out.array());
    }
}
