package dev.atmsae.data;

import dev.atmsae.io.DType;
import dev.atmsae.io.Safetensors;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One activation shard: a memory-mapped 2-D [rows, dim] array of float32/float16/bfloat16 from a {@code .npy} or a
 * single-tensor {@code .safetensors} file. Nothing is copied at open; the header is validated (dtype, order, shape vs
 * file length) and rows are read straight from the page cache by {@link #copyRows}.
 */
public final class Shard {
    private final Path path;
    private final MemorySegment data;
    private final DType dtype;
    private final long rows;
    private final int dim;
    private final long rowBytes;

    private Shard(Path path, MemorySegment data, DType dtype, long rows, int dim) {
        this.path = path;
        this.data = data;
        this.dtype = dtype;
        this.rows = rows;
        this.dim = dim;
        this.rowBytes = (long) dim * dtype.bytes();
    }

    /** True for the file names atmsae treats as shards. */
    public static boolean isShardName(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".npy") || n.endsWith(".safetensors");
    }

    /** Maps and validates {@code path}; the mapping lives as long as {@code arena}. */
    public static Shard open(Path path, Arena arena) {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            file = ch.size() == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw UserError.inFile(path, "cannot read: " + e);
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".npy")) {
            NpyHeader h = NpyHeader.parse(path, file);
            return new Shard(path, file.asSlice(h.dataOffset()), h.dtype(), h.rows(), h.dim());
        }
        if (name.endsWith(".safetensors")) {
            Safetensors.Header h = Safetensors.parseHeader(path, file);
            if (h.tensors().size() != 1) {
                throw UserError.inFile(path, "an activation shard must hold exactly one tensor, found "
                        + h.tensors().size() + " " + h.tensors().keySet());
            }
            Safetensors.TensorInfo t = h.tensors().values().iterator().next();
            if (t.shape().length != 2) {
                throw UserError.inFile(path, "tensor '" + t.name() + "' has shape " + t.shapeText()
                        + ", not 2-D [tokens, d]");
            }
            if (t.shape()[1] < 1 || t.shape()[1] > Integer.MAX_VALUE / 4) {
                throw UserError.inFile(path, "tensor '" + t.name() + "' has an unusable width d=" + t.shape()[1]);
            }
            MemorySegment data = file.asSlice(h.dataStart() + t.begin(), t.end() - t.begin());
            return new Shard(path, data, t.dtype(), t.shape()[0], (int) t.shape()[1]);
        }
        throw UserError.inFile(path, "not a shard (expected a .npy or .safetensors file)");
    }

    public Path path() {
        return path;
    }

    public long rows() {
        return rows;
    }

    public int dim() {
        return dim;
    }

    public DType dtype() {
        return dtype;
    }

    /** Bytes of one row on disk. */
    public long rowBytes() {
        return rowBytes;
    }

    /** The raw mapped data section (rows·rowBytes bytes, little-endian {@link #dtype()}). */
    public MemorySegment data() {
        return data;
    }

    /**
     * Copies rows [firstRow, firstRow+count) as float32 into {@code dstF32} at byte offset {@code dstOffset}
     * (count·dim·4 bytes). float32 shards are one bulk copy; float16/bfloat16 are converted.
     */
    public void copyRows(long firstRow, int count, MemorySegment dstF32, long dstOffset) {
        if (firstRow < 0 || count < 0 || firstRow + count > rows) {
            throw new IndexOutOfBoundsException("rows " + firstRow + "+" + count + " of " + rows + " in " + path);
        }
        dtype.toF32(data, firstRow * rowBytes, dstF32, dstOffset, (long) count * dim);
    }

    /** True iff every value of row {@code row} is finite (checked on the raw bytes, no conversion). */
    public boolean rowFinite(long row) {
        return Finite.allFinite(dtype, data, row * rowBytes, dim);
    }

    /** True iff every value of rows [firstRow, firstRow+count) is finite; a fast pre-check before per-row search. */
    public boolean rowsFinite(long firstRow, long count) {
        return Finite.allFinite(dtype, data, firstRow * rowBytes, count * dim);
    }

    /** The first non-finite row in [firstRow, firstRow+count), or -1. */
    public long firstNonFiniteRow(long firstRow, long count) {
        if (rowsFinite(firstRow, count)) {
            return -1;
        }
        for (long r = firstRow; r < firstRow + count; r++) {
            if (!rowFinite(r)) {
                return r;
            }
        }
        return -1;
    }

    /** "shard_002.npy: row 517 holds NaN/Inf (...)" — the default error for a non-finite row. */
    public UserError nonFiniteError(long row) {
        return UserError.inFile(path, "row " + row + " holds NaN/Inf (use --skip-nonfinite to drop such rows)");
    }

    @Override
    public String toString() {
        return path.getFileName() + " [" + rows + ", " + dim + "] " + dtype;
    }
}
