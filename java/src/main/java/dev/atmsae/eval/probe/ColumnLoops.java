package dev.atmsae.eval.probe;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two vector loops of a logistic objective on a column copy of its rows. Four lanes (256 bits) on every machine,
 * so a dot product sums in the same order, and gives the same bits, on AVX2 and AVX-512 alike.
 */
final class ColumnLoops {
    private static final VectorSpecies<Double> LANES = DoubleVector.SPECIES_256;

    private ColumnLoops() {
    }

    /** y[t] += a·x[offset + t] for t &lt; m. */
    static void axpy(double a, double[] x, int offset, double[] y, int m) {
        int t = 0;
        for (int upper = LANES.loopBound(m); t < upper; t += LANES.length()) {
            DoubleVector.fromArray(LANES, x, offset + t).fma(DoubleVector.broadcast(LANES, a),
                    DoubleVector.fromArray(LANES, y, t)).intoArray(y, t);
        }
        for (; t < m; t++) {
            y[t] = Math.fma(x[offset + t], a, y[t]);
        }
    }

    /** Σ_t r[t]·x[offset + t] for t &lt; m: four lane sums, then the lanes, then the tail. */
    static double dot(double[] r, double[] x, int offset, int m) {
        DoubleVector sum = DoubleVector.zero(LANES);
        int t = 0;
        for (int upper = LANES.loopBound(m); t < upper; t += LANES.length()) {
            sum = DoubleVector.fromArray(LANES, r, t).fma(DoubleVector.fromArray(LANES, x, offset + t), sum);
        }
        double s = sum.reduceLanes(VectorOperators.ADD);
        for (; t < m; t++) {
            s = Math.fma(r[t], x[offset + t], s);
        }
        return s;
    }
}
