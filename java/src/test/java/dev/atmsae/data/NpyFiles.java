package dev.atmsae.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Test helpers: hand-made .npy bytes (any header text, any version) and random non-zero data. */
public final class NpyFiles {
    private NpyFiles() {
    }

    /** Random values in ±[0.1, 2.1) — never zero, so a missed copy shows. */
    public static float[] randomValues(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float m = (float) (0.1 + 2 * r.nextDouble());
            v[i] = r.nextBoolean() ? m : -m;
        }
        return v;
    }

    /** A .npy file of version {@code major}.0 with header dict {@code dict} followed by {@code data}. */
    public static Path raw(Path file, int major, String dict, byte[] data) throws IOException {
        byte[] d = dict.getBytes(StandardCharsets.UTF_8);
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + d.length + 1 + 63) / 64 * 64;
        int len = total - prefix;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        ByteBuffer l = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            l.putShort((short) len);
        } else {
            l.putInt(len);
        }
        out.write(l.array());
        out.write(d);
        for (int i = d.length; i < len - 1; i++) {
            out.write(' ');
        }
        out.write('\n');
        out.write(data);
        Files.write(file, out.toByteArray());
        return file;
    }

    /** Little-endian float32 bytes of {@code v}. */
    public static byte[] f32Bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    public static String dict(String descr, boolean fortran, long rows, int cols) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + rows
                + ", " + cols + "), }";
    }
}
