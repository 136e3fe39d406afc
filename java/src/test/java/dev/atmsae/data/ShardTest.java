package dev.atmsae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.DType;
import dev.atmsae.io.Safetensors;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardTest {
    @TempDir
    Path dir;

    private static float[] read(Shard s, long first, int count) {
        float[] out = new float[count * s.dim()];
        s.copyRows(first, count, MemorySegment.ofArray(out), 0);
        return out;
    }

    @Test
    void f32RoundTripThroughWriterAndMappedReader() {
        float[] v = NpyFiles.randomValues(1, 37 * 5);
        Path p = dir.resolve("a.npy");
        NpyWriter.write(p, v, 37, 5);
        try (Arena arena = Arena.ofConfined()) {
            Shard s = Shard.open(p, arena);
            assertEquals(37, s.rows());
            assertEquals(5, s.dim());
            assertEquals(DType.F32, s.dtype());
            assertArrayEquals(v, read(s, 0, 37));
            assertArrayEquals(Arrays.copyOfRange(v, 10 * 5, 13 * 5), read(s, 10, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> read(s, 36, 2));
        }
    }

    @Test
    void f16ShardConvertsToF32() {
        float[] v = NpyFiles.randomValues(2, 11 * 7);
        Path p = dir.resolve("h.npy");
        NpyWriter.write(p, v, 11, 7, DType.F16);
        try (Arena arena = Arena.ofConfined()) {
            Shard s = Shard.open(p, arena);
            assertEquals(DType.F16, s.dtype());
            float[] got = read(s, 0, 11);
            for (int i = 0; i < v.length; i++) {
                // float16 keeps 11 significant bits: relative error ≤ 2^-11
                assertEquals(v[i], got[i], Math.abs(v[i]) * 0x1p-11, "index " + i);
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(v[i])), got[i], 0f);
            }
        }
    }

    @Test
    void acceptsVersion2And3Headers() throws IOException {
        float[] v = NpyFiles.randomValues(3, 4 * 3);
        for (int major : new int[] {1, 2, 3}) {
            Path p = NpyFiles.raw(dir.resolve("v" + major + ".npy"), major,
                    "{\"descr\": \"<f4\", \"shape\": (4, 3), \"fortran_order\": False}", NpyFiles.f32Bytes(v));
            try (Arena arena = Arena.ofConfined()) {
                assertArrayEquals(v, read(Shard.open(p, arena), 0, 4), "version " + major);
            }
        }
    }

    private String openError(Path p) {
        try (Arena arena = Arena.ofConfined()) {
            UserError e = assertThrows(UserError.class, () -> Shard.open(p, arena));
            assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            return e.getMessage();
        }
    }

    @Test
    void rejectsMalformedNpyWithOneLineNamingTheFile() throws IOException {
        byte[] data = NpyFiles.f32Bytes(NpyFiles.randomValues(4, 1000 * 4));
        String m = openError(NpyFiles.raw(dir.resolve("trunc.npy"), 1, NpyFiles.dict("<f4", false, 1000, 4),
                Arrays.copyOf(data, data.length - 1000)));
        assertTrue(m.contains("truncated: header says 1000x4 <f4 = 16000 data bytes but only 15000 present"), m);
        assertTrue(openError(NpyFiles.raw(dir.resolve("i4.npy"), 1, NpyFiles.dict("<i4", false, 1000, 4), data))
                .contains("dtype '<i4' is not supported"));
        assertTrue(openError(NpyFiles.raw(dir.resolve("be.npy"), 1, NpyFiles.dict(">f4", false, 1000, 4), data))
                .contains("big-endian"));
        assertTrue(openError(NpyFiles.raw(dir.resolve("f.npy"), 1, NpyFiles.dict("<f4", true, 1000, 4), data))
                .contains("Fortran order"));
        assertTrue(openError(NpyFiles.raw(dir.resolve("3d.npy"), 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10, 40), }", data)).contains("not 2-D"));
        assertTrue(openError(NpyFiles.raw(dir.resolve("syntax.npy"), 1,
                "{'descr': '<f4' 'fortran_order': False, 'shape': (1000, 4), }", data)).contains("bad .npy header"));
        assertTrue(openError(NpyFiles.raw(dir.resolve("extra.npy"), 1, NpyFiles.dict("<f4", false, 999, 4), data))
                .contains("extra"));
        Path magic = dir.resolve("magic.npy");
        Files.write(magic, data);
        assertTrue(openError(magic).contains("magic"));
        Path hdr = dir.resolve("hdr.npy");
        Files.write(hdr, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) 0xFF, 0x7F, '{'});
        assertTrue(openError(hdr).contains("truncated"));
    }

    @Test
    void safetensorsShardsInEveryDtype() {
        float[] v = NpyFiles.randomValues(5, 6 * 4);
        for (DType t : DType.values()) {
            Path p = dir.resolve("s_" + t + ".safetensors");
            Safetensors.write(p, List.of(new Safetensors.Entry("acts", t, new long[] {6, 4}, v)), Map.of());
            try (Arena arena = Arena.ofConfined()) {
                Shard s = Shard.open(p, arena);
                assertEquals(t, s.dtype());
                float[] got = read(s, 0, 6);
                double tol = t == DType.F32 ? 0 : t == DType.F16 ? 0x1p-11 : 0x1p-8;
                for (int i = 0; i < v.length; i++) {
                    assertEquals(v[i], got[i], Math.abs(v[i]) * tol, t + " index " + i);
                }
            }
        }
        Path two = dir.resolve("two.safetensors");
        Safetensors.write(two, List.of(Safetensors.Entry.f32("a", v, 6, 4), Safetensors.Entry.f32("b", v, 24)),
                Map.of());
        assertTrue(openError(two).contains("exactly one tensor"));
        Path oneD = dir.resolve("oned.safetensors");
        Safetensors.write(oneD, List.of(Safetensors.Entry.f32("a", v, 24)), Map.of());
        assertTrue(openError(oneD).contains("not 2-D"));
    }

    @Test
    void finiteCheckFindsTheRowInEveryDtype() {
        float[] v = NpyFiles.randomValues(6, 50 * 8);
        v[17 * 8 + 3] = Float.NaN;
        v[40 * 8 + 7] = Float.NEGATIVE_INFINITY;
        for (DType t : DType.values()) {
            Path p = dir.resolve("nan_" + t + ".safetensors");
            Safetensors.write(p, List.of(new Safetensors.Entry("x", t, new long[] {50, 8}, v)), Map.of());
            try (Arena arena = Arena.ofConfined()) {
                Shard s = Shard.open(p, arena);
                assertEquals(17, s.firstNonFiniteRow(0, 50), t.toString());
                assertEquals(40, s.firstNonFiniteRow(18, 32), t.toString());
                assertEquals(-1, s.firstNonFiniteRow(18, 22), t.toString());
                assertFalse(s.rowFinite(17));
                assertTrue(s.rowFinite(16));
                // large finite values must not trip the check
                assertTrue(s.rowsFinite(0, 17));
            }
        }
    }

    @Test
    void streamingWriterPatchesTheRowCount() {
        float[] v = NpyFiles.randomValues(7, 25 * 6);
        Path p = dir.resolve("stream.npy");
        try (NpyWriter.Stream w = NpyWriter.stream(p, 6)) {
            w.append(v, 0, 10);
            w.append(MemorySegment.ofArray(Arrays.copyOfRange(v, 60, 150)), 15);
            assertFalse(Files.exists(p), "target appears only at close");
        }
        assertEquals(NpyWriter.HEADER_BYTES + 25 * 6 * 4, p.toFile().length());
        try (Arena arena = Arena.ofConfined()) {
            Shard s = Shard.open(p, arena);
            assertEquals(25, s.rows());
            assertArrayEquals(v, read(s, 0, 25));
            assertEquals(25 * 6 * 4, s.data().byteSize());
        }
    }

    @Test
    void writerFromOffHeapSegment() {
        float[] v = NpyFiles.randomValues(8, 9 * 3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(v.length * 4L, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            Path p = dir.resolve("seg.npy");
            NpyWriter.write(p, seg, 9, 3);
            assertArrayEquals(v, read(Shard.open(p, arena), 0, 9));
        }
    }
}
