package dev.atmsae.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * The element types atmsae reads and writes (activation shards and SAE weights), with their spellings in the
 * safetensors header and in a .npy {@code descr}. All are little-endian on disk.
 */
public enum DType {
    F32(4, "F32", "<f4"),
    F16(2, "F16", "<f2"),
    BF16(2, "BF16", null);

    /** Every dtype name the safetensors format defines: a known name we do not read gets a clearer message. */
    public static final Set<String> SAFETENSORS_NAMES = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16",
            "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64");

    // Files are little-endian; batches are float32 in native order. atmsae runs on little-endian hosts (x86-64,
    // aarch64), where both agree and float32 data moves by bulk copy.
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int bytes;
    private final String safetensorsName;
    private final String npyDescr;

    DType(int bytes, String safetensorsName, String npyDescr) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
        this.npyDescr = npyDescr;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The name in a safetensors header ("F32", "F16", "BF16"). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The .npy descr ("&lt;f4", "&lt;f2"), or null when numpy has no such dtype (bf16). */
    public String npyDescr() {
        return npyDescr;
    }

    /** The dtype for a safetensors name, or null when atmsae does not read it. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Reads element {@code index} (counted in elements from byte offset {@code base}) as a float. */
    public float read(MemorySegment seg, long base, long index) {
        long off = base + index * bytes;
        return switch (this) {
            case F32 -> seg.get(FLOAT_LE, off);
            case F16 -> Float.float16ToFloat(seg.get(SHORT_LE, off));
            case BF16 -> Float.intBitsToFloat((seg.get(SHORT_LE, off) & 0xFFFF) << 16);
        };
    }

    /** Writes {@code v} as element {@code index} (counted in elements from byte offset {@code base}). */
    public void write(MemorySegment seg, long base, long index, float v) {
        long off = base + index * bytes;
        switch (this) {
            case F32 -> seg.set(FLOAT_LE, off, v);
            case F16 -> seg.set(SHORT_LE, off, Float.floatToFloat16(v));
            case BF16 -> seg.set(SHORT_LE, off, floatToBf16(v));
        }
    }

    /**
     * Converts {@code count} elements starting at byte offset {@code srcOff} of {@code src} to float32 at byte offset
     * {@code dstOff} of {@code dst}. float32 is one bulk copy; the 16-bit types convert element by element.
     */
    public void toF32(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long count) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, srcOff, dst, dstOff, count * 4);
            case F16 -> {
                for (long i = 0; i < count; i++) {
                    dst.set(FLOAT_LE, dstOff + 4 * i, Float.float16ToFloat(src.get(SHORT_LE, srcOff + 2 * i)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < count; i++) {
                    dst.set(INT_LE, dstOff + 4 * i, (src.get(SHORT_LE, srcOff + 2 * i) & 0xFFFF) << 16);
                }
            }
        }
    }

    /** float32 → bfloat16 bits with round-to-nearest-even (NaN stays a quiet NaN). */
    public static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
