package dev.atmsae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardSetTest {
    @TempDir
    Path dir;

    @Test
    void directoryIsReadInNameOrderAcrossShardBoundaries() throws IOException {
        float[] a = NpyFiles.randomValues(1, 5 * 4);
        float[] b = NpyFiles.randomValues(2, 3 * 4);
        // written out of order: b sorts first by name
        NpyWriter.write(dir.resolve("shard_001.npy"), a, 5, 4);
        NpyWriter.write(dir.resolve("shard_000.npy"), b, 3, 4);
        Files.writeString(dir.resolve("README.txt"), "not a shard");
        try (ShardSet set = ShardSet.open(dir)) {
            assertEquals(2, set.shards().size());
            assertEquals(8, set.rows());
            assertEquals(4, set.dim());
            assertEquals("shard_000.npy", set.shards().getFirst().path().getFileName().toString());
            float[] all = new float[8 * 4];
            set.copyRows(0, 8, MemorySegment.ofArray(all), 0);
            float[] want = new float[8 * 4];
            System.arraycopy(b, 0, want, 0, 12);
            System.arraycopy(a, 0, want, 12, 20);
            assertArrayEquals(want, all);
            float[] mid = new float[3 * 4];
            set.copyRows(2, 3, MemorySegment.ofArray(mid), 0);
            assertArrayEquals(Arrays.copyOfRange(want, 8, 20), mid);
            assertEquals(0, set.shardOf(2));
            assertEquals(1, set.shardOf(3));
        }
    }

    @Test
    void mismatchedWidthNamesTheOddFileAndBothWidths() {
        NpyWriter.write(dir.resolve("a.npy"), NpyFiles.randomValues(1, 8), 2, 4);
        NpyWriter.write(dir.resolve("b.npy"), NpyFiles.randomValues(2, 10), 2, 5);
        UserError e = assertThrows(UserError.class, () -> ShardSet.open(dir));
        assertTrue(e.getMessage().contains("b.npy: d=5 but a.npy has d=4"), e.getMessage());
    }

    @Test
    void emptyOrMissingPathIsAUserError() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertTrue(assertThrows(UserError.class, () -> ShardSet.open(empty)).getMessage().contains("no activation shards"));
        assertTrue(assertThrows(UserError.class, () -> ShardSet.open(dir.resolve("nope"))).getMessage()
                .contains("no such file"));
    }

    @Test
    void nonFiniteRowsAreListedGlobally() {
        float[] a = NpyFiles.randomValues(1, 5000 * 2);
        a[4321 * 2 + 1] = Float.POSITIVE_INFINITY;
        float[] b = NpyFiles.randomValues(2, 7 * 2);
        b[2 * 2] = Float.NaN;
        NpyWriter.write(dir.resolve("a.npy"), a, 5000, 2);
        NpyWriter.write(dir.resolve("b.npy"), b, 7, 2);
        try (ShardSet set = ShardSet.open(dir)) {
            assertArrayEquals(new long[] {4321, 5002}, set.nonFiniteRows());
            assertTrue(set.nonFiniteError(5002).getMessage().endsWith(
                    "b.npy: row 2 holds NaN/Inf (use --skip-nonfinite to drop such rows)"));
        }
    }
}
