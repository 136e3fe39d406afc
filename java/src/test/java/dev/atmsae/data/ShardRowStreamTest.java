package dev.atmsae.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.util.UserError;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardRowStream}: across shard files and with N not a multiple of B, the first ⌈N/B⌋ batches hold every row
 * exactly once in file order (the ragged tail included, which the chunked {@link ActivationLoader} never delivers),
 * then the rows wrap round; a NaN names its shard file and row.
 */
class ShardRowStreamTest {
    private static final int D = 3;

    @TempDir
    Path tmp;

    @Test
    void everyRowOnceInFileOrderThenWrapsRound() {
        // 3 shards of 7, 5 and 11 rows: N = 23, B = 5 -> batches 0..4 cover rows 0..22 (the last ends with 0, 1)
        int[] sizes = {7, 5, 11};
        float[] all = NpyFiles.randomValues(3, 23 * D);
        int row = 0;
        for (int s = 0; s < sizes.length; s++) {
            float[] part = java.util.Arrays.copyOfRange(all, row * D, (row + sizes[s]) * D);
            NpyWriter.write(tmp.resolve("shard_" + s + ".npy"), part, sizes[s], D);
            row += sizes[s];
        }
        try (ShardRowStream stream = ShardRowStream.open(tmp, 5)) {
            assertEquals(D, stream.dim());
            for (int g = 0; g < 7; g++) {
                MemorySegment batch = stream.next();
                for (int i = 0; i < 5; i++) {
                    int expectedRow = (g * 5 + i) % 23;
                    for (int j = 0; j < D; j++) {
                        assertEquals(all[expectedRow * D + j], batch.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * D + j),
                                "batch " + g + " position " + i);
                    }
                }
            }
            assertEquals(7, stream.batchesDelivered());
        }
    }

    @Test
    void aNanNamesItsShardAndRow() {
        float[] values = NpyFiles.randomValues(4, 10 * D);
        values[6 * D + 1] = Float.NaN;
        NpyWriter.write(tmp.resolve("a.npy"), NpyFiles.randomValues(5, 4 * D), 4, D);
        NpyWriter.write(tmp.resolve("b.npy"), values, 10, D);
        try (ShardRowStream stream = ShardRowStream.open(tmp, 4)) {
            stream.next();
            stream.next();
            UserError e = assertThrows(UserError.class, stream::next);
            assertTrue(e.getMessage().contains("b.npy") && e.getMessage().contains("row 6"), e.getMessage());
        }
    }

    @Test
    void fewerRowsThanOneBatchIsAUserError() {
        NpyWriter.write(tmp.resolve("a.npy"), NpyFiles.randomValues(6, 3 * D), 3, D);
        UserError e = assertThrows(UserError.class, () -> ShardRowStream.open(tmp, 4));
        assertTrue(e.getMessage().contains("holds 3 rows"), e.getMessage());
    }
}
