package dev.atmsae.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.util.UserError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextBoolean() ? 0.5 + r.nextDouble() : -0.5 - r.nextDouble());
        }
        return v;
    }

    @Test
    void writesThePaddedLayoutAndReadsItBack() throws IOException {
        float[] w = random(1, 3 * 5);
        float[] b = random(2, 5);
        Path p = dir.resolve("t.safetensors");
        Safetensors.write(p, List.of(Safetensors.Entry.f32("W", w, 3, 5), Safetensors.Entry.f32("b", b, 5)),
                Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "header padded so data starts 8-aligned");
        assertEquals(8 + n + 4 * (15 + 5), bytes.length);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"W\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]}"), header);
        assertTrue(header.contains("\"__metadata__\":{\"format\":\"pt\"}"), header);
        // first float of W at the data start, little-endian
        assertEquals(w[0], ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n)));
        try (Safetensors.Reader r = Safetensors.open(p)) {
            assertArrayEquals(w, r.floats("W"));
            assertArrayEquals(b, r.floats("b"));
            assertArrayEquals(new long[] {3, 5}, r.info("W").shape());
            assertEquals("pt", r.header().metadata().get("format"));
            assertTrue(assertThrows(UserError.class, () -> r.floats("missing")).getMessage().contains("no tensor 'missing'"));
        }
    }

    /** A file with header {@code json} (unpadded) and {@code dataBytes} zero-filled data bytes. */
    private Path handMade(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        byte[] data = new byte[dataBytes];
        for (int i = 0; i < dataBytes; i++) {
            data[i] = (byte) (i * 7 + 1);
        }
        out.write(data);
        Path p = dir.resolve(name);
        Files.write(p, out.toByteArray());
        return p;
    }

    private String rejection(Path p) {
        UserError e = assertThrows(UserError.class, () -> Safetensors.open(p).close());
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void acceptsAValidHandMadeFile() throws IOException {
        Path p = handMade("ok.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[8,12]}}", 12);
        try (Safetensors.Reader r = Safetensors.open(p)) {
            assertEquals(2, r.header().tensors().size());
        }
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        Path p = dir.resolve("n.safetensors");
        Files.write(p, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000).array());
        assertTrue(rejection(p).contains("header length N=1000 is larger than the file (20 bytes)"));
    }

    @Test
    void invalidJson() throws IOException {
        assertTrue(rejection(handMade("j.safetensors", "{\"a\": {\"dtype\": \"F32\",", 0)).contains("not valid JSON"));
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertTrue(rejection(handMade("r.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)).contains("out of range"));
    }

    @Test
    void overlappingTensors() throws IOException {
        assertTrue(rejection(handMade("o.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)).contains("overlap"));
    }

    @Test
    void gapBetweenTensors() throws IOException {
        assertTrue(rejection(handMade("g.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12)).contains("gap"));
    }

    @Test
    void trailingBytesNotCovered() throws IOException {
        assertTrue(rejection(handMade("t.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)).contains("cover 4 bytes"));
    }

    @Test
    void shapeTimesDtypeDiffersFromSpan() throws IOException {
        assertTrue(rejection(handMade("s.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8))
                .contains("shape [3] F32 needs 12 bytes but data_offsets span 8"));
    }

    @Test
    void unknownAndUnsupportedDtypes() throws IOException {
        assertTrue(rejection(handMade("u.safetensors",
                "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)).contains("unknown dtype 'F33'"));
        assertTrue(rejection(handMade("i.safetensors",
                "{\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)).contains("reads only F32"));
    }

    @Test
    void nonStringMetadata() throws IOException {
        assertTrue(rejection(handMade("m.safetensors", "{\"__metadata__\":{\"x\":1}}", 0)).contains("not a string"));
    }

    @Test
    void halfPrecisionRoundTrip() {
        float[] v = random(3, 64);
        for (DType t : new DType[] {DType.F16, DType.BF16}) {
            Path p = dir.resolve("h_" + t + ".safetensors");
            Safetensors.write(p, List.of(new Safetensors.Entry("x", t, new long[] {8, 8}, v)), null);
            try (Safetensors.Reader r = Safetensors.open(p)) {
                float[] got = r.floats("x");
                double rel = t == DType.F16 ? 0x1p-11 : 0x1p-8;
                for (int i = 0; i < v.length; i++) {
                    assertEquals(v[i], got[i], Math.abs(v[i]) * rel, t + " " + i);
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1+2^-7): ties go to the even mantissa (1.0)
        assertEquals(1.0f, Float.intBitsToFloat(DType.floatToBf16(1f + 0x1p-8f) << 16));
        assertEquals(1f + 0x1p-6f, Float.intBitsToFloat(DType.floatToBf16(1f + 0x1p-7f + 0x1p-8f) << 16));
        assertTrue(Float.isNaN(Float.intBitsToFloat(DType.floatToBf16(Float.NaN) << 16)));
    }
}
