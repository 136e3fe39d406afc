package dev.atmsae.io;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Small whole-file .npy reader/writer for evaluation side files (probe-set activations, synthetic truth: feature
 * directions and CSR true activations), which need int arrays as well as float32 and are read whole. Bulk activation
 * shards for training go through the {@code data} package's streaming readers instead.
 * Writes version 1.0 headers, C order, little-endian {@code <f4}, {@code <i4} or {@code <i8}, atomically.
 */
public final class NpyArrays {
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** A loaded array: shape and its values widened into a double-free holder of the stored kind. */
    public record Array(String descr, long[] shape, float[] f32, int[] i32, long[] i64) {
        public long rows() {
            return shape.length == 0 ? 1 : shape[0];
        }

        public long cols() {
            return shape.length < 2 ? 1 : shape[1];
        }
    }

    private NpyArrays() {
    }

    public static void writeF32(Path path, float[] data, long... shape) {
        ByteBuffer buf = header("<f4", shape, data.length, 4);
        buf.asFloatBuffer().put(data);
        write(path, buf);
    }

    public static void writeI32(Path path, int[] data, long... shape) {
        ByteBuffer buf = header("<i4", shape, data.length, 4);
        buf.asIntBuffer().put(data);
        write(path, buf);
    }

    public static void writeI64(Path path, long[] data, long... shape) {
        ByteBuffer buf = header("<i8", shape, data.length, 8);
        buf.asLongBuffer().put(data);
        write(path, buf);
    }

    private static ByteBuffer header(String descr, long[] shape, int count, int width) {
        long product = 1;
        for (long s : shape) {
            product *= s;
        }
        if (product != count) {
            throw new IllegalArgumentException("npy: shape does not match " + count + " values");
        }
        StringBuilder shapeText = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            shapeText.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        }
        shapeText.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String text = dict + " ".repeat(pad) + "\n";
        byte[] textBytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buf = ByteBuffer.allocate(10 + textBytes.length + count * width).order(ByteOrder.LITTLE_ENDIAN);
        buf.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        buf.putShort((short) textBytes.length).put(textBytes);
        return buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void write(Path path, ByteBuffer dataView) {
        // header() returned a view starting after the header; its backing array holds header and data
        dev.atmsae.io.AtomicFiles.writeBytes(path, dataView.array());
    }

    /** Reads a whole .npy file ({@code <f4}, {@code <f2}→f32, {@code <i4}, {@code <i8}; C order). */
    public static Array read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw UserError.inFile(path, "cannot read: " + e.getMessage());
        }
        return parse(path, bytes);
    }

    /** Parses the bytes of a whole .npy file; {@code path} names it in messages (e.g. an entry of a .npz archive). */
    public static Array parse(Object path, byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || (bytes[0] & 0xFF) != 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw UserError.inFile(path, "not a .npy file (bad magic)");
        }
        int major = bytes[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xFFFF;
            start = 10;
        } else if (major == 2 || major == 3) {
            headerLen = buf.getInt(8);
            start = 12;
        } else {
            throw UserError.inFile(path, "unsupported .npy version " + major);
        }
        if (start + (long) headerLen > bytes.length) {
            throw UserError.inFile(path, "truncated .npy header");
        }
        String header = new String(bytes, start, headerLen, StandardCharsets.ISO_8859_1);
        Matcher descrM = DESCR.matcher(header), fortranM = FORTRAN.matcher(header), shapeM = SHAPE.matcher(header);
        if (!descrM.find() || !fortranM.find() || !shapeM.find()) {
            throw UserError.inFile(path, "malformed .npy header: " + header.trim());
        }
        if (fortranM.group(1).equals("True")) {
            throw UserError.inFile(path, "Fortran-order arrays are not supported; save with C order");
        }
        String descr = descrM.group(1);
        String[] parts = shapeM.group(1).split(",");
        long[] shape = java.util.Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        long count = 1;
        for (long s : shape) {
            count *= s;
        }
        int width = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f2" -> 2;
            case "<i8" -> 8;
            default -> throw UserError.inFile(path, "unsupported dtype " + descr + " (expected <f4, <f2, <i4 or <i8)");
        };
        int dataStart = start + headerLen;
        if (bytes.length - (long) dataStart != count * width) {
            throw UserError.inFile(path, "truncated: header says shape " + java.util.Arrays.toString(shape) + " " + descr
                    + " (" + count * width + " bytes of data) but the file holds " + (bytes.length - dataStart));
        }
        if (count > Integer.MAX_VALUE) {
            throw UserError.inFile(path, "array too large to load whole");
        }
        buf.position(dataStart);
        ByteBuffer data = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) count;
        return switch (descr) {
            case "<f4" -> {
                float[] f = new float[n];
                data.asFloatBuffer().get(f);
                checkFinite(path, f, shape);
                yield new Array(descr, shape, f, null, null);
            }
            case "<f2" -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = Float.float16ToFloat(data.getShort(2 * i));
                }
                checkFinite(path, f, shape);
                yield new Array("<f4", shape, f, null, null);
            }
            case "<i4" -> {
                int[] v = new int[n];
                data.asIntBuffer().get(v);
                yield new Array(descr, shape, null, v, null);
            }
            default -> {
                long[] v = new long[n];
                data.asLongBuffer().get(v);
                yield new Array(descr, shape, null, null, v);
            }
        };
    }

    private static void checkFinite(Object path, float[] f, long[] shape) {
        NonFiniteCount bad = NonFiniteCount.of(f);
        if (bad.any()) {
            long cols = shape.length < 2 ? 1 : shape[1];
            throw UserError.inFile(path, "holds " + bad.describe() + ", the first at row " + bad.first() / cols);
        }
    }
}
