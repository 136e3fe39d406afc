package dev.atmsae.data;

import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.DType;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Writes 2-D [rows, cols] little-endian float arrays as version-1.0 .npy files (C order), atomically (temp file +
 * rename). The header is padded to a fixed 128 bytes so the streaming writer can patch the final row count in place.
 */
public final class NpyWriter {
    /** Header size incl. magic: 128 keeps the data 64-byte aligned, as numpy itself does. */
    static final int HEADER_BYTES = 128;

    private NpyWriter() {
    }

    /** Writes float32 {@code rowMajor} (rows·cols values). */
    public static void write(Path path, float[] rowMajor, long rows, int cols) {
        write(path, MemorySegment.ofArray(rowMajor), rows, cols);
    }

    /** Writes float32 values from {@code rowMajor} (rows·cols·4 bytes from its start, native order = little-endian). */
    public static void write(Path path, MemorySegment rowMajor, long rows, int cols) {
        long bytes = rows * cols * 4L;
        if (rowMajor.byteSize() < bytes) {
            throw new IllegalArgumentException("segment holds " + rowMajor.byteSize() + " bytes, need " + bytes);
        }
        AtomicFiles.write(path, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header(DType.F32, rows, cols)));
            writeSegment(ch, rowMajor.asSlice(0, bytes));
        });
    }

    /** Writes {@code rowMajor} converted to {@code dtype} (F32 or F16) — F16 is mainly for tests. */
    public static void write(Path path, float[] rowMajor, long rows, int cols, DType dtype) {
        if (dtype.npyDescr() == null) {
            throw new IllegalArgumentException(dtype + " has no .npy dtype");
        }
        if (rowMajor.length != rows * cols) {
            throw new IllegalArgumentException("need " + rows * cols + " values, got " + rowMajor.length);
        }
        MemorySegment buf = MemorySegment.ofArray(new byte[rowMajor.length * dtype.bytes()]);
        for (int i = 0; i < rowMajor.length; i++) {
            dtype.write(buf, 0, i, rowMajor[i]);
        }
        AtomicFiles.write(path, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header(dtype, rows, cols)));
            writeSegment(ch, buf);
        });
    }

    /** The 128-byte v1.0 header for a [rows, cols] array of {@code dtype}. */
    static byte[] header(DType dtype, long rows, int cols) {
        String dict = "{'descr': '" + dtype.npyDescr() + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols
                + "), }";
        byte[] out = new byte[HEADER_BYTES];
        Arrays.fill(out, (byte) ' ');
        out[0] = (byte) 0x93;
        System.arraycopy("NUMPY".getBytes(StandardCharsets.US_ASCII), 0, out, 1, 5);
        out[6] = 1;
        out[7] = 0;
        int len = HEADER_BYTES - 10;
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        byte[] d = dict.getBytes(StandardCharsets.US_ASCII);
        if (d.length + 1 > len) {
            throw new IllegalArgumentException("shape too large for a fixed header");
        }
        System.arraycopy(d, 0, out, 10, d.length);
        out[HEADER_BYTES - 1] = '\n';
        return out;
    }

    private static void writeSegment(FileChannel ch, MemorySegment seg) throws IOException {
        if (seg.isNative()) {
            final long chunk = 1L << 30; // asByteBuffer is limited to 2 GB
            for (long off = 0; off < seg.byteSize(); off += chunk) {
                AtomicFiles.writeFully(ch, seg.asSlice(off, Math.min(chunk, seg.byteSize() - off)).asByteBuffer());
            }
            return;
        }
        // heap segments over float[] cannot become ByteBuffers: stage through a direct buffer
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
        for (long off = 0; off < seg.byteSize(); ) {
            int n = (int) Math.min(buf.capacity(), seg.byteSize() - off);
            MemorySegment.copy(seg, off, bufSeg, 0, n);
            buf.position(0).limit(n);
            AtomicFiles.writeFully(ch, buf);
            buf.clear();
            off += n;
        }
    }

    /** Opens a streaming float32 writer for a shard whose row count is known only at the end. */
    public static Stream stream(Path path, int cols) {
        return new Stream(path, cols);
    }

    /**
     * Appends float32 rows to a temp file and, on {@link #close()}, writes the final shape into the header, fsyncs and
     * renames over the target. If close is never reached (an exception), {@link #abort()} deletes the temp file.
     */
    public static final class Stream implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final int cols;
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long rows;
        private boolean done;

        private Stream(Path target, int cols) {
            this.target = target.toAbsolutePath();
            this.tmp = this.target.resolveSibling("." + this.target.getFileName() + ".partial");
            this.cols = cols;
            try {
                Files.createDirectories(this.target.getParent());
                this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(header(DType.F32, 0, cols)));
            } catch (IOException e) {
                throw UserError.inFile(target, "cannot write: " + e.getMessage());
            }
        }

        /** Rows written so far. */
        public long rows() {
            return rows;
        }

        /** Appends {@code count} rows from {@code values} starting at value index {@code offset}. */
        public void append(float[] values, int offset, int count) {
            append(MemorySegment.ofArray(values).asSlice(4L * offset, 4L * count * cols), count);
        }

        /** Appends {@code count} rows (count·cols float32 values) from the start of {@code rowsF32}. */
        public void append(MemorySegment rowsF32, long count) {
            try {
                long bytes = count * cols * 4L;
                MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
                for (long off = 0; off < bytes; ) {
                    int n = (int) Math.min(buf.capacity(), bytes - off);
                    MemorySegment.copy(rowsF32, off, bufSeg, 0, n);
                    buf.position(0).limit(n);
                    AtomicFiles.writeFully(ch, buf);
                    buf.clear();
                    off += n;
                }
                rows += count;
            } catch (IOException e) {
                abort();
                throw UserError.inFile(target, "cannot write: " + e.getMessage());
            }
        }

        /** Discards the partial file. */
        public void abort() {
            done = true;
            try {
                ch.close();
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to clean
            }
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            try {
                ch.write(ByteBuffer.wrap(header(DType.F32, rows, cols)), 0);
                ch.force(true);
                ch.close();
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw UserError.inFile(target, "cannot write: " + e.getMessage());
            }
        }
    }
}
