package dev.atmsae.data;

import dev.atmsae.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NaN/Inf detection on raw shard bytes. A value is non-finite iff all its exponent bits are set, so a run of values
 * is all finite iff the maximum of (bits &amp; exponent-mask) stays below the mask — a branch-free max reduction the
 * JIT can vectorise, instead of a compare-and-exit per value.
 */
final class Finite {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Finite() {
    }

    /** True iff all {@code count} elements of type {@code dtype} starting at byte {@code offset} are finite. */
    static boolean allFinite(DType dtype, MemorySegment seg, long offset, long count) {
        return switch (dtype) {
            case F32 -> allFiniteF32(seg, offset, count);
            case F16 -> allFinite16(seg, offset, count, 0x7C00);
            case BF16 -> allFinite16(seg, offset, count, 0x7F80);
        };
    }

    static boolean allFiniteF32(MemorySegment seg, long offset, long count) {
        int max = 0;
        for (long i = 0; i < count; i++) {
            max = Math.max(max, seg.get(INT, offset + 4 * i) & 0x7F800000);
        }
        return max != 0x7F800000;
    }

    private static boolean allFinite16(MemorySegment seg, long offset, long count, int mask) {
        int max = 0;
        for (long i = 0; i < count; i++) {
            max = Math.max(max, seg.get(SHORT, offset + 2 * i) & mask);
        }
        return max != mask;
    }
}
