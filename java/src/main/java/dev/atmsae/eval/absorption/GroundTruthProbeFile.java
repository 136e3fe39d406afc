package dev.atmsae.eval.absorption;

import dev.atmsae.eval.probe.LogisticModel;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.util.UserError;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ground-truth probes of a probe set, kept beside it ({@value #NAME}) so that every process that scores SAEs on
 * the same set — a sweep, the browser, the report, each {@code atmsae absorption} — fits them once: each fit is an
 * L-BFGS run over every train row at full width (≈ 28 s for the demo's 11 POS parents on 2 cores).
 *
 * <p>A cache, never a source of truth: the file is used only when its fingerprint (a hash of the set's activations,
 * labels and split) and {@link #FIT_VERSION} match, else ignored and rewritten; an unreadable or truncated file is
 * ignored too, and a directory that cannot be written (a read-only probe set) simply keeps no file. Values are stored
 * as raw float64 bits, so a loaded probe is the fitted one bit for bit.
 */
final class GroundTruthProbeFile {
    static final String NAME = "ground_truth_probes.bin";
    /** Bump whenever the ground-truth fit changes (objective, optimiser, tolerance, iterations, metrics). */
    static final int FIT_VERSION = 1;
    private static final int MAGIC = 0x41475450; // "AGTP"

    private GroundTruthProbeFile() {
    }

    /** The probes stored for {@code set} in {@code dir}, by cache key; empty when there is no usable file. */
    static Map<String, AbsorptionEval.GroundTruthProbe> read(Path dir, long fingerprint) {
        Map<String, AbsorptionEval.GroundTruthProbe> read = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(
                Files.readAllBytes(dir.resolve(NAME))))) {
            if (in.readInt() != MAGIC || in.readInt() != FIT_VERSION || in.readLong() != fingerprint) {
                return Map.of();
            }
            int entries = in.readInt();
            for (int e = 0; e < entries; e++) {
                String key = in.readUTF();
                double[] w = readDoubles(in);
                double b = in.readDouble();
                AbsorptionReport.ProbeQuality q = new AbsorptionReport.ProbeQuality(in.readInt(), in.readInt(),
                        in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(),
                        in.readDouble(), in.readDouble());
                read.put(key, new AbsorptionEval.GroundTruthProbe(new LogisticModel(w, b), q, readDoubles(in)));
            }
            return read;
        } catch (IOException | RuntimeException e) {
            return Map.of(); // absent, truncated or garbled: refit
        }
    }

    /** Replaces the file in {@code dir} with {@code probes}; a directory that cannot be written keeps no file. */
    static void write(Path dir, long fingerprint, Map<String, AbsorptionEval.GroundTruthProbe> probes) {
        if (!Files.isWritable(dir)) {
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(FIT_VERSION);
            out.writeLong(fingerprint);
            out.writeInt(probes.size());
            for (Map.Entry<String, AbsorptionEval.GroundTruthProbe> e : probes.entrySet()) {
                AbsorptionEval.GroundTruthProbe p = e.getValue();
                AbsorptionReport.ProbeQuality q = p.quality();
                out.writeUTF(e.getKey());
                writeDoubles(out, p.model().w());
                out.writeDouble(p.model().b());
                out.writeInt(q.nTrainPositive());
                out.writeInt(q.nTestPositive());
                for (double v : new double[] {q.precision(), q.recall(), q.f1(), q.tunedThreshold(), q.tunedPrecision(),
                    q.tunedRecall(), q.tunedF1()}) {
                    out.writeDouble(v);
                }
                writeDoubles(out, p.testLogits());
            }
        } catch (IOException e) {
            throw new IllegalStateException("in-memory write failed", e); // cannot happen on a byte array
        }
        try {
            AtomicFiles.writeBytes(dir.resolve(NAME), bytes.toByteArray());
        } catch (UserError e) {
            // a full or read-only disk costs the next process a refit, nothing else
        }
    }

    /** A 64-bit hash of what the probes are fitted from: d, the activations, parents, children and the split. */
    static long fingerprint(ProbeSet set) {
        long h = 0x9E3779B97F4A7C15L ^ set.d();
        for (float v : set.acts()) {
            h = mix(h, Float.floatToRawIntBits(v));
        }
        for (int[] column : new int[][] {set.parent(), set.child(), set.split()}) {
            for (int v : column) {
                h = mix(h, v);
            }
        }
        return h;
    }

    private static long mix(long h, int v) {
        h ^= v;
        h *= 0x100000001B3L;
        return h ^ (h >>> 29);
    }

    private static void writeDoubles(DataOutputStream out, double[] v) throws IOException {
        out.writeInt(v.length);
        for (double x : v) {
            out.writeLong(Double.doubleToRawLongBits(x));
        }
    }

    private static double[] readDoubles(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available() / Long.BYTES) {
            throw new IOException("bad length " + n);
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = Double.longBitsToDouble(in.readLong());
        }
        return v;
    }
}
