package dev.atmsae.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: {@code [u64 LE N][N bytes JSON header][data]}. The header maps each tensor name to
 * {@code {"dtype","shape","data_offsets":[begin,end]}} (offsets relative to the data section) plus an optional
 * {@code __metadata__} string→string map. The reader is strict (saelens-format.md): every malformed file is rejected
 * with one line naming the file; the writer produces contiguous tensors and pads the header with spaces so that
 * 8+N is a multiple of 8.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header larger than this is certainly garbage (the reference implementation caps at 100 MB too). */
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {
    }

    /** One tensor's header entry; {@code begin}/{@code end} are byte offsets into the data section. */
    public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }

        public String shapeText() {
            return Arrays.toString(shape);
        }
    }

    /** A parsed, validated header: {@code dataStart} is the file offset of the data section (8 + N). */
    public record Header(long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    /** A tensor to write: {@code values} (row-major) are converted to {@code dtype} on the way out. */
    public record Entry(String name, DType dtype, long[] shape, float[] values) {
        public Entry {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            if (n != values.length) {
                throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds " + n
                        + " values, got " + values.length);
            }
        }

        public static Entry f32(String name, float[] values, long... shape) {
            return new Entry(name, DType.F32, shape, values);
        }
    }

    /**
     * Parses and validates the header of a safetensors file whose bytes are {@code file} (typically memory-mapped).
     * {@code path} only names the file in messages.
     */
    public static Header parseHeader(Object path, MemorySegment file) {
        long size = file.byteSize();
        if (size < 8) {
            throw UserError.inFile(path, "not a safetensors file: " + size + " bytes, shorter than the 8-byte header length");
        }
        long n = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > size - 8) {
            throw UserError.inFile(path, "header length N=" + Long.toUnsignedString(n) + " is larger than the file ("
                    + size + " bytes)");
        }
        if (n > MAX_HEADER) {
            throw UserError.inFile(path, "header length N=" + n + " exceeds the 100 MB limit");
        }
        byte[] headerBytes = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw UserError.inFile(path, "header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw UserError.inFile(path, "header is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw UserError.inFile(path, "header is not a JSON object");
        }
        long dataSize = size - 8 - n;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw UserError.inFile(path, "__metadata__ is not a JSON object");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw UserError.inFile(path, "__metadata__ value for '" + kv.getKey() + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            infos.add(parseTensor(path, name, v, dataSize));
        }
        // Contiguity: sorted by begin, the tensors must tile [0, dataSize) exactly.
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() < expected) {
                throw UserError.inFile(path, "tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap the previous tensor (which ends at " + expected + ")");
            }
            if (t.begin() > expected) {
                throw UserError.inFile(path, "gap in the data section: bytes " + expected + ".." + t.begin()
                        + " belong to no tensor (before '" + t.name() + "')");
            }
            expected = t.end();
        }
        if (expected != dataSize) {
            throw UserError.inFile(path, "tensors cover " + expected + " bytes but the data section holds " + dataSize);
        }
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : sorted) {
            byName.put(t.name(), t);
        }
        return new Header(8 + n, Collections.unmodifiableMap(byName), Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo parseTensor(Object path, String name, JsonNode v, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!v.isObject()) {
            throw UserError.inFile(path, where + " is not a JSON object");
        }
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || !dt.isTextual() || sh == null || !sh.isArray() || off == null || !off.isArray()) {
            throw UserError.inFile(path, where + " lacks a string dtype, an array shape or an array data_offsets");
        }
        DType dtype = DType.fromSafetensors(dt.asText());
        if (dtype == null) {
            if (DType.SAFETENSORS_NAMES.contains(dt.asText())) {
                throw UserError.inFile(path, where + " has dtype " + dt.asText()
                        + "; atmsae reads only F32, F16 and BF16");
            }
            throw UserError.inFile(path, where + " has unknown dtype '" + dt.asText() + "'");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode s = sh.get(i);
            if (!s.canConvertToExactIntegral() || s.asLong() < 0) {
                throw UserError.inFile(path, where + " has an invalid shape " + sh);
            }
            shape[i] = s.asLong();
        }
        if (off.size() != 2 || !off.get(0).canConvertToExactIntegral() || !off.get(1).canConvertToExactIntegral()) {
            throw UserError.inFile(path, where + " has invalid data_offsets " + off);
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw UserError.inFile(path, where + " data_offsets [" + begin + ", " + end
                    + "] are out of range (data section holds " + dataSize + " bytes)");
        }
        TensorInfo t = new TensorInfo(name, dtype, shape, begin, end);
        long want;
        try {
            want = Math.multiplyExact(t.elements(), dtype.bytes());
        } catch (ArithmeticException e) {
            throw UserError.inFile(path, where + " shape " + sh + " is too large");
        }
        if (want != end - begin) {
            throw UserError.inFile(path, where + " shape " + t.shapeText() + " " + dtype.safetensorsName() + " needs "
                    + want + " bytes but data_offsets span " + (end - begin));
        }
        return t;
    }

    /** Writes {@code tensors} (in the given order, contiguous) and optional string metadata, atomically. */
    public static void write(Path path, List<Entry> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Entry t : tensors) {
            if (t.name().equals("__metadata__") || header.containsKey(t.name())) {
                throw new IllegalArgumentException("duplicate or reserved tensor name " + t.name());
            }
            long bytes = (long) t.values().length * t.dtype().bytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().safetensorsName());
            info.put("shape", t.shape());
            info.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(t.name(), info);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (int) ((8 + json.length + 7) / 8 * 8 - 8);
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        AtomicFiles.write(path, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(headerBytes));
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
            for (Entry t : tensors) {
                int per = buf.capacity() / t.dtype().bytes();
                float[] v = t.values();
                for (int start = 0; start < v.length; start += per) {
                    int count = Math.min(per, v.length - start);
                    if (t.dtype() == DType.F32) {
                        MemorySegment.copy(v, start, bufSeg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(
                                ByteOrder.LITTLE_ENDIAN), 0, count);
                    } else {
                        for (int i = 0; i < count; i++) {
                            t.dtype().write(bufSeg, 0, i, v[start + i]);
                        }
                    }
                    buf.position(0).limit(count * t.dtype().bytes());
                    AtomicFiles.writeFully(ch, buf);
                    buf.clear();
                }
            }
        });
    }

    /** Opens and validates a safetensors file; the file stays memory-mapped until {@link Reader#close()}. */
    public static Reader open(Path path) {
        return new Reader(path);
    }

    /** A memory-mapped, validated safetensors file. */
    public static final class Reader implements AutoCloseable {
        private final Path path;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment file;
        private final Header header;

        private Reader(Path path) {
            this.path = path;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                this.file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException e) {
                arena.close();
                throw UserError.inFile(path, "cannot read: " + e.getMessage());
            }
            try {
                this.header = parseHeader(path, file);
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        public Path path() {
            return path;
        }

        public Header header() {
            return header;
        }

        public TensorInfo info(String name) {
            TensorInfo t = header.tensors().get(name);
            if (t == null) {
                throw UserError.inFile(path, "has no tensor '" + name + "' (holds " + header.tensors().keySet() + ")");
            }
            return t;
        }

        /** The raw bytes of tensor {@code name} (valid until close). */
        public MemorySegment bytes(String name) {
            TensorInfo t = info(name);
            return file.asSlice(header.dataStart() + t.begin(), t.end() - t.begin());
        }

        /** Tensor {@code name} converted to float32 on the heap. */
        public float[] floats(String name) {
            TensorInfo t = info(name);
            if (t.elements() > Integer.MAX_VALUE - 8) {
                throw UserError.inFile(path, "tensor '" + name + "' is too large for a Java array");
            }
            float[] out = new float[(int) t.elements()];
            t.dtype().toF32(file, header.dataStart() + t.begin(), MemorySegment.ofArray(out), 0, out.length);
            return out;
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
