package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.data.ShardSet;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Shards#write} and {@link Evaluation#reconstruction(Sae, Path)} on shards: what is written reads back bit for
 * bit; evaluating N rows with N not a multiple of the 4096-row batch counts every row once — the ragged tail too —
 * and agrees with the metrics computed in float64 from the SAE's own per-row forward and with the in-process-source
 * evaluation of the same rows.
 */
class ShardsApiTest {
    private static final int D = 8;
    private static final int N = 24;

    @TempDir
    Path tmp;

    private static float[][] rows(int n, long seed) {
        Random r = new Random(seed);
        float[][] rows = new float[n][D];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < D; j++) {
                // the ragged tail (rows past 4096) is ten times larger, so leaving it out cannot go unnoticed
                rows[i][j] = (float) (r.nextGaussian() * (i >= 4096 ? 10 : 1));
            }
        }
        return rows;
    }

    private Path topkSae() {
        Random r = new Random(2);
        float[] wEnc = new float[D * N];
        float[] wDec = new float[N * D];
        for (int i = 0; i < wEnc.length; i++) {
            wEnc[i] = (float) r.nextGaussian();
            wDec[i] = (float) (0.3 * r.nextGaussian());
        }
        Path dir = tmp.resolve("sae");
        SaeExport.write(dir, new SaeWeights("topk", D, N, wEnc, new float[N], wDec, new float[D], null, 4, Map.of()),
                null);
        return dir;
    }

    @Test
    void writtenShardsReadBackBitForBit() {
        float[][] rows = rows(300, 1);
        Path file = tmp.resolve("nested/dir/00000.npy");
        Shards.write(file, rows);
        try (ShardSet set = ShardSet.open(file.getParent()); Arena arena = Arena.ofConfined()) {
            assertEquals(300, set.rows());
            assertEquals(D, set.dim());
            MemorySegment all = arena.allocate(4L * 300 * D);
            set.copyRows(0, 300, all, 0);
            for (int i = 0; i < 300; i++) {
                assertArrayEquals(rows[i], all.asSlice(4L * i * D, 4L * D).toArray(ValueLayout.JAVA_FLOAT), "row " + i);
            }
        }
    }

    @Test
    void badShardsAreAtmsaeExceptionsNamingTheFile() {
        Path txt = tmp.resolve("acts.txt");
        AtmsaeException e = assertThrows(AtmsaeException.class, () -> Shards.write(txt, rows(2, 1)));
        assertTrue(e.getMessage().startsWith(txt + ": ") && e.getMessage().contains(".npy"), e.getMessage());
        float[][] inf = rows(3, 1);
        inf[2][5] = Float.POSITIVE_INFINITY;
        e = assertThrows(AtmsaeException.class, () -> Shards.write(tmp.resolve("inf.npy"), inf));
        assertTrue(e.getMessage().contains("rows[2] holds Infinity"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("inf.npy")));
        assertThrows(IllegalArgumentException.class, () -> Shards.write(tmp.resolve("r.npy"),
                new float[][] {new float[D], new float[D - 1]}));
    }

    @Test
    void shardEvaluationCountsEveryRowOnceIncludingTheRaggedTail() {
        int n = 5_000; // one full 4096-row batch, then 904 rows
        float[][] rows = rows(n, 3);
        Shards.write(tmp.resolve("heldout/00000.npy"), java.util.Arrays.copyOfRange(rows, 0, 3_000));
        Shards.write(tmp.resolve("heldout/00001.npy"), java.util.Arrays.copyOfRange(rows, 3_000, n));
        try (Sae sae = Sae.load(topkSae(), Device.cpu(1))) {
            ReconstructionMetrics onShards = Evaluation.reconstruction(sae, tmp.resolve("heldout"));
            assertEquals(n, onShards.tokens());

            // float64 reference from the SAE's own forward and codes, row by row
            float[][] xhat = sae.forward(rows);
            float[][] codes = sae.encode(rows);
            double sqErr = 0;
            double sumSq = 0;
            double cos = 0;
            double l0 = 0;
            double[] mean = new double[D];
            for (int i = 0; i < n; i++) {
                double dot = 0;
                double nx = 0;
                double nh = 0;
                for (int j = 0; j < D; j++) {
                    double x = rows[i][j];
                    double h = xhat[i][j];
                    sqErr += (x - h) * (x - h);
                    sumSq += x * x;
                    mean[j] += x;
                    dot += x * h;
                    nx += x * x;
                    nh += h * h;
                }
                cos += nx == 0 || nh == 0 ? 0 : dot / Math.sqrt(nx * nh);
                for (float f : codes[i]) {
                    l0 += f > 0 ? 1 : 0;
                }
            }
            double centred = sumSq;
            for (int j = 0; j < D; j++) {
                centred -= mean[j] * mean[j] / n;
            }
            assertEquals(sqErr / n, onShards.mse(), 1e-5 * sqErr / n);
            assertEquals(sqErr / centred, onShards.fvu(), 1e-5);
            assertEquals(cos / n, onShards.cosineSimilarity(), 1e-5);
            assertEquals(l0 / n, onShards.l0(), 1e-9);

            ReconstructionMetrics inProcess = Evaluation.reconstruction(sae, ActivationSource.ofRows(rows), n);
            assertEquals(inProcess, onShards);

            Shards.write(tmp.resolve("wide/00000.npy"), new float[][] {new float[D + 1]});
            AtmsaeException e = assertThrows(AtmsaeException.class,
                    () -> Evaluation.reconstruction(sae, tmp.resolve("wide")));
            assertTrue(e.getMessage().startsWith(tmp.resolve("wide") + ": holds activations of d = " + (D + 1)),
                    e.getMessage());
        }
    }
}
