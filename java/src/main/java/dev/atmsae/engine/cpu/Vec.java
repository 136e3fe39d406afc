package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector API row primitives over off-heap float segments (offsets in floats, not bytes).
 *
 * <p>Determinism rules every kernel relies on: lane-wise operations compute exactly what the scalar tail computes
 * (fused multiply-add on both sides), so an element's result does not depend on whether it fell into a vector or the
 * tail; reductions ({@link #dot}) combine lane accumulators in a fixed lane order instead of
 * {@code reduceLanes(ADD)}, whose order may differ between the interpreter and C2.
 */
final class Vec {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder ORDER = ByteOrder.nativeOrder();
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;

    private Vec() {
    }

    static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(F, s, index << 2, ORDER);
    }

    static void store(FloatVector v, MemorySegment s, long index) {
        v.intoMemorySegment(s, index << 2, ORDER);
    }

    static float get(MemorySegment s, long index) {
        return s.getAtIndex(F32, index);
    }

    static void set(MemorySegment s, long index, float v) {
        s.setAtIndex(F32, index, v);
    }

    static int geti(MemorySegment s, long index) {
        return s.getAtIndex(I32, index);
    }

    static void seti(MemorySegment s, long index, int v) {
        s.setAtIndex(I32, index, v);
    }

    /** Σ a[ao+i]·b[bo+i], i &lt; len; the summation order depends only on len. */
    static float dot(MemorySegment a, long ao, MemorySegment b, long bo, int len) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        int bound4 = len - len % (4 * L);
        for (; i < bound4; i += 4 * L) {
            s0 = load(a, ao + i).fma(load(b, bo + i), s0);
            s1 = load(a, ao + i + L).fma(load(b, bo + i + L), s1);
            s2 = load(a, ao + i + 2 * L).fma(load(b, bo + i + 2 * L), s2);
            s3 = load(a, ao + i + 3 * L).fma(load(b, bo + i + 3 * L), s3);
        }
        int bound = len - len % L;
        for (; i < bound; i += L) {
            s0 = load(a, ao + i).fma(load(b, bo + i), s0);
        }
        float r = sumLanes(s0.add(s1).add(s2.add(s3)));
        for (; i < len; i++) {
            r = Math.fma(get(a, ao + i), get(b, bo + i), r);
        }
        return r;
    }

    /**
     * The sum of the lanes by a fixed halving tree (v + v shifted by L/2, then by L/4, …, lane 0). Every step is a
     * lane-wise add, so the result is the same in the interpreter, C1 and C2 (unlike reduceLanes(ADD), whose order
     * is unspecified), and no lane is extracted by a variable index (which C2 does not intrinsify).
     */
    static float sumLanes(FloatVector v) {
        // The same tree on lanes extracted by constant index for the two machine kinds' widths: slice() ran through
        // the Vector API's Java fallback on AVX2 (it showed under every sampled dot in a training profile).
        if (L == 8) {
            float a0 = v.lane(0) + v.lane(4), a1 = v.lane(1) + v.lane(5);
            float a2 = v.lane(2) + v.lane(6), a3 = v.lane(3) + v.lane(7);
            return (a0 + a2) + (a1 + a3);
        }
        if (L == 16) {
            float c0 = v.lane(0) + v.lane(8), c1 = v.lane(1) + v.lane(9), c2 = v.lane(2) + v.lane(10);
            float c3 = v.lane(3) + v.lane(11), c4 = v.lane(4) + v.lane(12), c5 = v.lane(5) + v.lane(13);
            float c6 = v.lane(6) + v.lane(14), c7 = v.lane(7) + v.lane(15);
            float d0 = c0 + c4, d1 = c1 + c5, d2 = c2 + c6, d3 = c3 + c7;
            return (d0 + d2) + (d1 + d3);
        }
        for (int half = L / 2; half >= 1; half /= 2) {
            v = v.add(v.slice(half));
        }
        return v.lane(0);
    }

    /** y[yo+i] = fma(alpha, x[xo+i], y[yo+i]). */
    static void axpy(float alpha, MemorySegment x, long xo, MemorySegment y, long yo, int len) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        int bound = len - len % L;
        for (; i < bound; i += L) {
            store(load(x, xo + i).fma(a, load(y, yo + i)), y, yo + i);
        }
        for (; i < len; i++) {
            set(y, yo + i, Math.fma(alpha, get(x, xo + i), get(y, yo + i)));
        }
    }

    /** y[yo+i] = x[xo+i] (a plain copy; kept here so kernels read uniformly). */
    static void copy(MemorySegment x, long xo, MemorySegment y, long yo, int len) {
        MemorySegment.copy(x, xo << 2, y, yo << 2, (long) len << 2);
    }
}
