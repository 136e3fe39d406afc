package dev.atmsae.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.atmsae.engine.cpu.Vec.L;
import static dev.atmsae.engine.cpu.Vec.get;
import static dev.atmsae.engine.cpu.Vec.geti;
import static dev.atmsae.engine.cpu.Vec.load;
import static dev.atmsae.engine.cpu.Vec.set;
import static dev.atmsae.engine.cpu.Vec.seti;

/**
 * The CPU side of {@link dev.atmsae.engine.ActiveEntryKernels}: gathering the active entries of dense codes into CSR
 * and the per-entry parts of the ReLU / JumpReLU / ATM steps (ATM's mask on entries is the engine's atmMaskSparse, shared
 * with ATM on TopK codes). The gather is parallel over batch rows
 * (each row's entries are its own); the per-latent sums walk the entries once, in entry order, on the calling
 * thread — O(entries), so a few milliseconds at the densities where this path is taken — which gives every latent's
 * sum the dense kernels' order (batch rows ascending) whatever the thread count.
 */
final class ActiveEntries {
    private final WorkerPool pool;
    private int[] rowCounts = new int[0];
    private float[] sum0 = new float[0];
    private float[] sum1 = new float[0];
    private float[] sum2 = new float[0];

    ActiveEntries(WorkerPool pool) {
        this.pool = pool;
    }

    /** See ActiveEntryKernels#gatherActive; {@code key} is h with a floor, f without (floor null: floor 0). */
    long gather(MemorySegment f, MemorySegment key, MemorySegment floor, int rows, int n, MemorySegment rowPtr,
                MemorySegment idx, MemorySegment val, int capacity) {
        if (rowCounts.length < rows) {
            rowCounts = new int[rows];
        }
        int[] counts = rowCounts;
        int grain = Math.max(1, 16384 / Math.max(1, n));
        pool.run(rows, grain, (w, from, to) -> {
            for (int b = from; b < to; b++) {
                counts[b] = countRow(key, floor, (long) b * n, n);
            }
        });
        long total = 0;
        for (int b = 0; b < rows; b++) {
            total += counts[b];
        }
        if (total > capacity) {
            return total;
        }
        int start = 0;
        seti(rowPtr, 0, 0);
        for (int b = 0; b < rows; b++) {
            start += counts[b];
            seti(rowPtr, b + 1, start);
        }
        pool.run(rows, grain, (w, from, to) -> {
            for (int b = from; b < to; b++) {
                writeRow(f, key, floor, (long) b * n, n, geti(rowPtr, b), idx, val);
            }
        });
        val.asSlice(total << 2, (capacity - total) << 2).fill((byte) 0);
        return total;
    }

    private static VectorMask<Float> aboveLanes(MemorySegment key, MemorySegment floor, long base, int i) {
        FloatVector k = load(key, base + i);
        return floor == null ? k.compare(VectorOperators.GT, 0f) : k.compare(VectorOperators.GT, load(floor, i));
    }

    private static boolean above(MemorySegment key, MemorySegment floor, long base, int i) {
        return get(key, base + i) > (floor == null ? 0f : get(floor, i));
    }

    private static int countRow(MemorySegment key, MemorySegment floor, long base, int n) {
        int count = 0;
        int i = 0;
        for (; i + L <= n; i += L) {
            count += aboveLanes(key, floor, base, i).trueCount();
        }
        for (; i < n; i++) {
            if (above(key, floor, base, i)) {
                count++;
            }
        }
        return count;
    }

    /** Writes the row's selected latents (ascending) and their f values from entry {@code j} on. */
    private static void writeRow(MemorySegment f, MemorySegment key, MemorySegment floor, long base, int n, int j,
                                 MemorySegment idx, MemorySegment val) {
        int i = 0;
        for (; i + L <= n; i += L) {
            VectorMask<Float> m = aboveLanes(key, floor, base, i);
            if (m.anyTrue()) {
                for (int lane = m.firstTrue(); lane < L; lane++) {
                    if (m.laneIsSet(lane)) {
                        seti(idx, j, i + lane);
                        set(val, j, get(f, base + i + lane));
                        j++;
                    }
                }
            }
        }
        for (; i < n; i++) {
            if (above(key, floor, base, i)) {
                seti(idx, j, i);
                set(val, j, get(f, base + i));
                j++;
            }
        }
    }

    /** out[i] = Σ val_j over latent i's entries, in entry order. */
    void colSum(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int n, MemorySegment out) {
        zeroSums(n);
        float[] sum = sum0;
        int total = geti(rowPtr, rows);
        for (int j = 0; j < total; j++) {
            float v = get(val, j);
            if (v != 0f) {
                sum[geti(idx, j)] += v;
            }
        }
        MemorySegment.copy(sum, 0, out, Vec.F32, 0, n);
    }

    /** gVal[j] = val_j &gt; 0 ? gVal[j] + l1Grad[idx_j] : 0 (l1Grad may be null: no penalty), 0 beyond the total. */
    void reluBackward(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, int capacity,
                      MemorySegment l1Grad, MemorySegment gVal) {
        int total = geti(rowPtr, rows);
        for (int j = 0; j < total; j++) {
            set(gVal, j, get(val, j) > 0f ? get(gVal, j) + (l1Grad == null ? 0f : get(l1Grad, geti(idx, j))) : 0f);
        }
        gVal.asSlice((long) total << 2, (long) (capacity - total) << 2).fill((byte) 0);
    }

    /**
     * gVal[j] = h &gt; θ_i ? gVal[j] : 0 and gLogTheta_i = θ_i·Σ_j K_j·(gVal_j·(−θ_i/ε) + l0Coeff·(−1/ε)) with
     * K = 1[|(h − θ_i)/ε| &lt; ½]: the dense kernel's expressions, summed over the entries in row order.
     */
    void jumpReluBackward(MemorySegment rowPtr, MemorySegment idx, int rows, int capacity, MemorySegment h,
                          float[] theta, int n, float eps, float l0Coeff, MemorySegment gVal,
                          MemorySegment gLogTheta) {
        float l0Term = l0Coeff * (-1f / eps);
        zeroSums(n);
        float[] sum = sum0;
        for (int b = 0; b < rows; b++) {
            long base = (long) b * n;
            int end = geti(rowPtr, b + 1);
            for (int j = geti(rowPtr, b); j < end; j++) {
                int i = geti(idx, j);
                float hv = get(h, base + i);
                float th = theta[i];
                float g = get(gVal, j);
                set(gVal, j, hv > th ? g : 0f);
                if (Math.abs((hv - th) / eps) < 0.5f) {
                    sum[i] += g * (-th / eps) + l0Term;
                }
            }
        }
        int total = geti(rowPtr, rows);
        gVal.asSlice((long) total << 2, (long) (capacity - total) << 2).fill((byte) 0);
        for (int i = 0; i < n; i++) {
            set(gLogTheta, i, theta[i] * sum[i]);
        }
    }

    /** ATM's a, q, ρ from the entries (ColumnKernels#atmStats' per-element expressions and order). */
    void atmStats(MemorySegment rowPtr, MemorySegment idx, MemorySegment val, int rows, MemorySegment eDotD,
                  MemorySegment dNormSq, int n, MemorySegment a, MemorySegment q, MemorySegment rho) {
        zeroSums(n);
        float[] sumF = sum0;
        float[] fired = sum1;
        float[] sumR = sum2;
        int total = geti(rowPtr, rows);
        for (int j = 0; j < total; j++) {
            float fv = get(val, j);
            if (fv == 0f) {
                continue; // contributes 0 to every sum, as the dense kernel's zero entries do
            }
            int i = geti(idx, j);
            sumF[i] += fv;
            if (fv > 0f) {
                fired[i] += 1f;
            }
            sumR[i] += fv * fv * get(dNormSq, i) + 2f * fv * get(eDotD, j);
        }
        for (int i = 0; i < n; i++) {
            set(a, i, sumF[i] / rows);
            set(q, i, fired[i] / rows);
            set(rho, i, Math.max(0f, sumR[i] / rows));
        }
    }

    /** Zeroes the first n of the three per-latent accumulators (grown once, then reused). */
    private void zeroSums(int n) {
        if (sum0.length < n) {
            sum0 = new float[n];
            sum1 = new float[n];
            sum2 = new float[n];
        } else {
            java.util.Arrays.fill(sum0, 0, n, 0f);
            java.util.Arrays.fill(sum1, 0, n, 0f);
            java.util.Arrays.fill(sum2, 0, n, 0f);
        }
    }
}
