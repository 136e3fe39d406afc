package dev.atmsae.browse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The site's data files: JSON wrapped in a call, {@code window.__atmsae({...});}, loaded with a script tag. Pages
 * opened from file:// cannot fetch() or XHR local files in Chromium, but they can load scripts.
 */
final class Jsonp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Jsonp() {
    }

    /** Writes {@code value} as a data script; returns the bytes written. */
    static long write(Path file, Object value) {
        try {
            byte[] bytes = ("window.__atmsae(" + JSON.writeValueAsString(value) + ");\n").getBytes(StandardCharsets.UTF_8);
            AtomicFiles.writeBytes(file, bytes);
            return bytes.length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + file.getFileName(), e);
        }
    }

    /** {@code v} rounded to {@code digits} significant digits (keeps the data files small). */
    static double round(double v, int digits) {
        if (v == 0 || !Double.isFinite(v)) {
            return Double.isFinite(v) ? 0 : v;
        }
        int exp = (int) Math.floor(Math.log10(Math.abs(v)));
        double scale = Math.pow(10, digits - 1 - exp);
        return Math.round(v * scale) / scale;
    }
}
