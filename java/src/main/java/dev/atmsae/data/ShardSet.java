package dev.atmsae.data;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The activation data set: one shard file, or every {@code *.npy} / {@code *.safetensors} file of a directory in
 * name order, concatenated into one global row index space [0, rows()). All shards share one width d. The files stay
 * memory-mapped until {@link #close()}.
 */
public final class ShardSet implements AutoCloseable {
    private final Path root;
    private final Arena arena;
    private final List<Shard> shards;
    private final long[] starts; // starts[i] = global index of shard i's first row; starts[n] = total rows
    private final int dim;

    private ShardSet(Path root, Arena arena, List<Shard> shards) {
        this.root = root;
        this.arena = arena;
        this.shards = Collections.unmodifiableList(shards);
        this.starts = new long[shards.size() + 1];
        for (int i = 0; i < shards.size(); i++) {
            starts[i + 1] = starts[i] + shards.get(i).rows();
        }
        this.dim = shards.getFirst().dim();
    }

    /** Opens a shard file or a directory of shards; validates every header and that all widths agree. */
    public static ShardSet open(Path path) {
        List<Path> files;
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                files = s.filter(p -> Files.isRegularFile(p) && Shard.isShardName(p)).sorted(
                        (a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
            } catch (IOException e) {
                throw UserError.inFile(path, "cannot list directory: " + e);
            }
            if (files.isEmpty()) {
                throw UserError.inFile(path, "no activation shards (*.npy, *.safetensors) in this directory");
            }
        } else if (Files.isRegularFile(path)) {
            files = List.of(path);
        } else {
            throw UserError.inFile(path, "no such file or directory");
        }
        Arena arena = Arena.ofShared();
        try {
            List<Shard> shards = new ArrayList<>();
            for (Path f : files) {
                Shard s = Shard.open(f, arena);
                if (!shards.isEmpty() && s.dim() != shards.getFirst().dim()) {
                    Shard first = shards.getFirst();
                    throw UserError.inFile(f, "d=" + s.dim() + " but " + first.path().getFileName() + " has d="
                            + first.dim() + " (all shards must have the same width)");
                }
                shards.add(s);
            }
            return new ShardSet(path, arena, shards);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path root() {
        return root;
    }

    public List<Shard> shards() {
        return shards;
    }

    public int dim() {
        return dim;
    }

    /** Total rows (tokens) over all shards. */
    public long rows() {
        return starts[starts.length - 1];
    }

    /** Global index of shard {@code i}'s first row. */
    public long firstRowOf(int shard) {
        return starts[shard];
    }

    /** The shard holding global row {@code row}. */
    public int shardOf(long row) {
        if (row < 0 || row >= rows()) {
            throw new IndexOutOfBoundsException("row " + row + " of " + rows());
        }
        int i = Arrays.binarySearch(starts, row);
        if (i >= 0) {
            while (i + 1 < starts.length && starts[i + 1] == row) {
                i++; // skip empty shards
            }
            return i;
        }
        return -i - 2;
    }

    /** Copies global rows [row, row+count) as float32 to {@code dst} at byte offset {@code dstOffset}, across shards. */
    public void copyRows(long row, int count, MemorySegment dst, long dstOffset) {
        long rowBytesF32 = 4L * dim;
        while (count > 0) {
            int s = shardOf(row);
            long local = row - starts[s];
            int n = (int) Math.min(count, shards.get(s).rows() - local);
            shards.get(s).copyRows(local, n, dst, dstOffset);
            row += n;
            count -= n;
            dstOffset += n * rowBytesF32;
        }
    }

    /** Global row {@code row} holds only finite values. */
    public boolean rowFinite(long row) {
        int s = shardOf(row);
        return shards.get(s).rowFinite(row - starts[s]);
    }

    /** The error for a non-finite global row: names the shard file and its local row. */
    public UserError nonFiniteError(long row) {
        int s = shardOf(row);
        return shards.get(s).nonFiniteError(row - starts[s]);
    }

    /**
     * Scans every row (one full read of the data) and returns the sorted global indices of rows holding NaN/Inf.
     * Used by --skip-nonfinite, which must know the dropped rows up front so the batch order stays deterministic.
     */
    public long[] nonFiniteRows() {
        long[] out = new long[16];
        int n = 0;
        final long block = 4096;
        for (int s = 0; s < shards.size(); s++) {
            Shard sh = shards.get(s);
            for (long r = 0; r < sh.rows(); r += block) {
                long c = Math.min(block, sh.rows() - r);
                if (sh.rowsFinite(r, c)) {
                    continue;
                }
                for (long q = r; q < r + c; q++) {
                    if (!sh.rowFinite(q)) {
                        if (n == out.length) {
                            out = Arrays.copyOf(out, n * 2);
                        }
                        out[n++] = starts[s] + q;
                    }
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public void close() {
        arena.close();
    }
}
