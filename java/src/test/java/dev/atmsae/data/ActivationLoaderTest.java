package dev.atmsae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.DType;
import dev.atmsae.io.Safetensors;
import dev.atmsae.util.UserError;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationLoaderTest {
    static final int D = 3;

    @TempDir
    Path dir;

    /** Row r holds (r+1, r+1.25, r+1.5): the row id is recoverable and no value is zero. */
    static float[] rowsFrom(int first, int count) {
        float[] v = new float[count * D];
        for (int r = 0; r < count; r++) {
            for (int c = 0; c < D; c++) {
                v[r * D + c] = first + r + 1 + 0.25f * c;
            }
        }
        return v;
    }

    /** Three shards of 37, 20 and 50 rows (107 in all): chunks of 8 straddle shard boundaries. */
    private float[] writeShards() {
        NpyWriter.write(dir.resolve("s0.npy"), rowsFrom(0, 37), 37, D);
        NpyWriter.write(dir.resolve("s1.npy"), rowsFrom(37, 20), 20, D, DType.F16);
        Safetensors.write(dir.resolve("s2.safetensors"),
                List.of(Safetensors.Entry.f32("acts", rowsFrom(57, 50), 50, D)), Map.of());
        return rowsFrom(0, 107);
    }

    private static float[] copy(MemorySegment seg) {
        return seg.toArray(ValueLayout.JAVA_FLOAT);
    }

    private static List<float[]> take(BatchStream s, int n) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(copy(s.next()));
        }
        return out;
    }

    @Test
    void sequentialOrderMatchesTheArrayStreamAndWrapsEpochs() {
        float[] all = writeShards();
        ActivationLoader.Options o = ActivationLoader.Options.defaults(8).withShuffle(false).withSlots(2);
        try (ActivationLoader l = ActivationLoader.open(dir, o);
             ArrayBatchStream a = ArrayBatchStream.sequential(all, D, 8)) {
            assertEquals(13, l.batchesPerEpoch());
            List<float[]> got = take(l, 30);
            List<float[]> want = take(a, 30);
            for (int i = 0; i < 30; i++) {
                assertArrayEquals(want.get(i), got.get(i), "batch " + i);
            }
            // batch 13 is the first of epoch 2: rows 0..7 again; the tail rows 104..106 are never used
            assertEquals(1f, got.get(13)[0]);
            assertEquals(97f, got.get(12)[0]);
            assertEquals(30, l.batchesDelivered());
            MemorySegment b = l.next();
            long off = b.address() - l.slotRegion().address();
            assertTrue(off >= 0 && off + b.byteSize() <= l.slotRegion().byteSize(), "batches lie in the slot region");
            assertEquals(8L * D * 4, b.byteSize());
            assertTrue(l.stallSeconds() >= 0);
        }
    }

    @Test
    void shuffledOrderIsAPermutationPerEpochAndMatchesTheArrayStream() {
        float[] all = writeShards();
        ActivationLoader.Options o = ActivationLoader.Options.defaults(8).withShuffleBatches(4).withSeed(42);
        try (ActivationLoader l = ActivationLoader.open(dir, o);
             ArrayBatchStream a = new ArrayBatchStream(all, D, 8, 4, true, 42, 0)) {
            List<float[]> got = take(l, 26);
            List<float[]> want = take(a, 26);
            for (int epoch = 0; epoch < 2; epoch++) {
                Set<Integer> ids = new HashSet<>();
                for (int j = 0; j < 13; j++) {
                    float[] b = got.get(epoch * 13 + j);
                    assertArrayEquals(want.get(epoch * 13 + j), b, "batch " + (epoch * 13 + j));
                    for (int r = 0; r < 8; r++) {
                        ids.add((int) b[r * D] - 1);
                        assertEquals(b[r * D] + 0.25f, b[r * D + 1], "row stays intact");
                    }
                }
                assertEquals(104, ids.size(), "each used row once per epoch");
            }
            assertFalse(java.util.Arrays.equals(got.get(0), got.get(13)), "epochs differ");
            int consecutive = 0;
            for (int r = 1; r < 8; r++) {
                consecutive += got.get(0)[r * D] == got.get(0)[(r - 1) * D] + 1 ? 1 : 0;
            }
            assertTrue(consecutive < 7, "rows inside a batch are shuffled, not a contiguous run");
        }
    }

    @Test
    void windowsHoldOnlyTheirOwnChunks() {
        BatchOrder order = new BatchOrder(1000, 10, 5, true, 7);
        long[] rows = new long[10];
        for (long w = 0; w < 20; w++) {
            Set<Long> chunks = new HashSet<>();
            for (int j = 0; j < 5; j++) {
                order.rows(w * 5 + j, rows);
                for (long r : rows) {
                    chunks.add(r / 10);
                }
            }
            assertEquals(5, chunks.size(), "window " + w + " draws from exactly S chunks");
        }
        BatchOrder other = new BatchOrder(1000, 10, 5, true, 8);
        long[] a = new long[10];
        long[] b = new long[10];
        order.rows(0, a);
        other.rows(0, b);
        assertFalse(java.util.Arrays.equals(a, b), "seed changes the order");
    }

    @Test
    void resumeAtAnyBatchGivesTheSameBatches() {
        float[] all = writeShards();
        ActivationLoader.Options o = ActivationLoader.Options.defaults(8).withShuffleBatches(4).withSeed(9);
        List<float[]> ref;
        try (ActivationLoader l = ActivationLoader.open(dir, o)) {
            ref = take(l, 40);
        }
        for (int start : new int[] {1, 6, 13, 27}) {
            try (ActivationLoader l = ActivationLoader.open(dir, o.withStartBatch(start))) {
                for (int g = start; g < 40; g++) {
                    assertEquals(g, l.batchesDelivered());
                    assertArrayEquals(ref.get(g), copy(l.next()), "start " + start + " batch " + g);
                }
            }
        }
    }

    @Test
    void severalReadersGiveTheSameBatches() {
        writeShards();
        ActivationLoader.Options o = ActivationLoader.Options.defaults(8).withShuffleBatches(4).withSeed(5);
        List<float[]> one;
        try (ActivationLoader l = ActivationLoader.open(dir, o)) {
            one = take(l, 30);
        }
        try (ActivationLoader l = ActivationLoader.open(dir, o.withReaders(3))) {
            List<float[]> three = take(l, 30);
            for (int i = 0; i < 30; i++) {
                assertArrayEquals(one.get(i), three.get(i), "batch " + i);
            }
        }
    }

    @Test
    void severalReadersReportTheFirstBadRowOfTheBatch() {
        float[] a = rowsFrom(0, 16);
        a[13 * D] = Float.NaN;  // position 13: filled by the third reader
        a[14 * D] = Float.NaN;
        a[6 * D + 1] = Float.NaN; // position 6: the first bad row in batch order, filled by the second reader
        NpyWriter.write(dir.resolve("a.npy"), a, 16, D);
        ActivationLoader.Options o = ActivationLoader.Options.defaults(16).withShuffle(false).withReaders(3);
        try (ActivationLoader l = ActivationLoader.open(dir, o)) {
            UserError e = assertThrows(UserError.class, l::next);
            assertTrue(e.getMessage().contains("a.npy: row 6 holds NaN/Inf"), e.getMessage());
        }
    }

    @Test
    void nanRowFailsWithTheFileAndRowByDefault() {
        float[] a = rowsFrom(0, 40);
        a[23 * D + 2] = Float.NaN;
        NpyWriter.write(dir.resolve("a.npy"), rowsFrom(0, 16), 16, D);
        NpyWriter.write(dir.resolve("b.npy"), a, 40, D);
        try (ActivationLoader l = ActivationLoader.open(dir, ActivationLoader.Options.defaults(8).withShuffle(false))) {
            l.next();
            l.next();
            l.next();
            l.next();
            UserError e = assertThrows(UserError.class, () -> {
                for (int i = 0; i < 10; i++) {
                    l.next();
                }
            });
            assertTrue(e.getMessage().endsWith("b.npy: row 23 holds NaN/Inf (use --skip-nonfinite to drop such rows)"),
                    e.getMessage());
            assertInstanceOf(UserError.class, e.getCause());
            assertEquals(4, l.batchesDelivered(), "batches 0..3 (rows 0..31) were delivered; row 16+23 is in batch 4");
        }
    }

    @Test
    void skipNonFiniteDropsAndCountsRows() {
        float[] a = rowsFrom(0, 40);
        a[3 * D] = Float.POSITIVE_INFINITY;
        a[17 * D + 1] = Float.NaN;
        NpyWriter.write(dir.resolve("a.npy"), a, 40, D);
        ActivationLoader.Options o = ActivationLoader.Options.defaults(8).withShuffle(false).withSkipNonFinite(true);
        try (ActivationLoader l = ActivationLoader.open(dir, o)) {
            assertEquals(2, l.skippedRows());
            assertEquals(4, l.batchesPerEpoch());
            List<Integer> ids = new ArrayList<>();
            for (float[] b : take(l, 4)) {
                for (int r = 0; r < 8; r++) {
                    assertTrue(Float.isFinite(b[r * D]) && Float.isFinite(b[r * D + 1]) && Float.isFinite(b[r * D + 2]));
                    ids.add((int) b[r * D + 2] - 1);
                }
            }
            List<Integer> want = new ArrayList<>();
            for (int r = 0; r < 40 && want.size() < 32; r++) {
                if (r != 3 && r != 17) {
                    want.add(r);
                }
            }
            assertEquals(want, ids);
        }
    }

    @Test
    void closeStopsTheReaderAndInvalidatesBatches() throws Exception {
        writeShards();
        ActivationLoader l = ActivationLoader.open(dir, ActivationLoader.Options.defaults(8).withReaders(2));
        MemorySegment b = l.next();
        Thread.sleep(20); // let the reader fill every slot and block on back-pressure
        l.close();
        assertThrows(IllegalStateException.class, () -> b.get(ValueLayout.JAVA_FLOAT, 0));
        assertThrows(IllegalStateException.class, l::next);
        l.close();
        // the reader is joined by close(); pool helpers may take a moment to exit after their last task
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> alive;
        do {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("atmsae-loader") && t.isAlive()).map(Thread::getName).toList();
            Thread.sleep(10);
        } while (!alive.isEmpty() && System.nanoTime() < deadline);
        assertTrue(alive.isEmpty(), "loader threads still alive: " + alive);
    }

    @Test
    void tooFewRowsIsAUserError() {
        NpyWriter.write(dir.resolve("a.npy"), rowsFrom(0, 5), 5, D);
        UserError e = assertThrows(UserError.class, () -> ActivationLoader.open(dir, ActivationLoader.Options.defaults(8)));
        assertTrue(e.getMessage().contains("fewer than one batch of 8"), e.getMessage());
    }
}
