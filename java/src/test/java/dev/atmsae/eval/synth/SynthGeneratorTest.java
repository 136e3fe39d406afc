package dev.atmsae.eval.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.core.Philox;
import dev.atmsae.util.UserError;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthGeneratorTest {
    private static final SynthConfig CFG = new SynthConfig(0, 0, 32, 3, 4, 5, 0.2, 0.5, 0.1, 2.0, 0.3, 0.0, true, 5, 1000);

    @TempDir
    Path dir;

    /**
     * The generator's draws are frozen: data sets written before the orphan and child-scale settings existed (issue 10's
     * study data among them) must regenerate bit for bit. The digests were taken from the generator as it was before
     * those settings: SHA-256 over the rows (f32), the CSR row pointers (i32, from 0), the true feature ids (i32) and
     * values (f32), little-endian, read from the files `atmsae synth` wrote then (samples 0–2999 of the defaults;
     * samples 1,045,000–1,047,999 of issue 10's stage-1 data).
     */
    @Test
    void dataWrittenBeforeTheLaterSettingsRegeneratesBitForBit() throws Exception {
        assertEquals("a092fae6e22238308363703ed601b4867c7df295fedc36f9dfa4133fd26e03da",
                digest(new SynthGenerator(SynthConfig.defaults()).generate(0, 3000)));
        SynthConfig stage1 = new SynthConfig(1_048_576, 16_384, 64, 16, 3, 32, 0.2, 0.8, 0.15, 1.0, 0.15, 0.02, false, 1,
                65_536);
        assertEquals("77145c55cbf3204067b33257b64dfae473061ca29fa27dbdf6298737e850a3f2",
                digest(new SynthGenerator(stage1).generate(1_045_000, 3000)));
        // the later settings at their neutral values are the same generator
        assertEquals(digest(new SynthGenerator(stage1).generate(0, 500)), digest(new SynthGenerator(
                SynthConfig.fromMap(Map.of("d", 64, "trees", 16, "children", 3, "independent", 32, "parent_rate", 0.2,
                        "child_prob", 0.8, "independent_rate", 0.15, "orthogonal", false, "orphan_prob", 0.0,
                        "child_scale", 1.0))).generate(0, 500)));
    }

    static String digest(SynthGenerator.Batch b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(4 * (b.x().length + b.rowPtr().length + 2 * b.feature().length))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (float v : b.x()) {
            buf.putFloat(v);
        }
        for (int v : b.rowPtr()) {
            buf.putInt(v);
        }
        for (int v : b.feature()) {
            buf.putInt(v);
        }
        for (float v : b.value()) {
            buf.putFloat(v);
        }
        return HexFormat.of().formatHex(md.digest(buf.array()));
    }

    @Test
    void orphansFireWithoutTheirRootAndChildScaleScalesChildrenOnly() {
        SynthConfig cfg = new SynthConfig(0, 0, 32, 3, 4, 5, 0.2, 0.5, 0.1, 2.0, 0.0, 0.0, true, 5, 1000, 0.1, 3.0);
        SynthGenerator.Batch b = new SynthGenerator(cfg).generate(0, 40_000);
        int rootOff = 0, orphan = 0, withRoot = 0, rootOn = 0;
        for (int r = 0; r < b.count(); r++) {
            for (int t = 0; t < cfg.trees(); t++) {
                boolean root = b.trueActivation(r, cfg.root(t)) > 0;
                int children = 0;
                for (int c = 0; c < cfg.children(); c++) {
                    double v = b.trueActivation(r, cfg.child(t, c));
                    if (v > 0) {
                        children++;
                        assertEquals(6.0, v, 1e-6, "child magnitude = 2.0 × child scale 3 (std 0)");
                    }
                }
                assertTrue(children <= 1, "siblings stay exclusive");
                if (root) {
                    assertEquals(2.0, b.trueActivation(r, cfg.root(t)), 1e-6, "roots are not scaled");
                    rootOn++;
                    withRoot += children;
                } else {
                    rootOff++;
                    orphan += children;
                }
            }
        }
        assertEquals(0.1, orphan / (double) rootOff, 4 * Math.sqrt(0.09 / rootOff));
        assertEquals(0.5, withRoot / (double) rootOn, 4 * Math.sqrt(0.25 / rootOn));
        double active = b.feature().length / (double) b.count();
        assertEquals(cfg.meanActiveFeatures(), active, 0.02);
        assertEquals(3 * (0.2 * 0.5 + 0.8 * 0.1), cfg.meanActiveChildren(), 1e-12);
    }

    @Test
    void truthFilesOmitLaterSettingsAtTheirNeutralValuesAndReadBothForms() throws Exception {
        SynthConfig old = new SynthConfig(200, 50, 16, 2, 3, 2, 0.3, 0.5, 0.1, 1.0, 0.1, 0.01, true, 7, 100);
        SynthFiles.write(dir.resolve("old"), old);
        String json = Files.readString(dir.resolve("old/truth/truth.json"));
        assertTrue(!json.contains("orphan_prob") && !json.contains("child_scale"), json);
        assertEquals(old, SynthFiles.readTruth(dir.resolve("old")).config());

        SynthConfig later = new SynthConfig(200, 50, 16, 2, 3, 2, 0.3, 0.5, 0.1, 1.0, 0.1, 0.01, true, 7, 100, 0.2, 0.5);
        SynthFiles.write(dir.resolve("later"), later);
        assertTrue(Files.readString(dir.resolve("later/truth/truth.json")).contains("\"orphan_prob\" : 0.2"));
        assertEquals(later, SynthFiles.readTruth(dir.resolve("later")).config());
    }

    @Test
    void settingsFromKeysNameTheBadOne() {
        assertEquals(SynthConfig.defaults(), SynthConfig.fromMap(Map.of()));
        assertEquals(0.25, SynthConfig.fromMap(Map.of("orphan_prob", "0.25")).orphanProb());
        UserError unknown = org.junit.jupiter.api.Assertions.assertThrows(UserError.class,
                () -> SynthConfig.fromMap(Map.of("orphans", 0.1)));
        assertTrue(unknown.getMessage().contains("orphans") && unknown.getMessage().contains("orphan_prob"),
                unknown.getMessage());
        UserError bad = org.junit.jupiter.api.Assertions.assertThrows(UserError.class,
                () -> SynthConfig.fromMap(Map.of("child_scale", 0)));
        assertTrue(bad.getMessage().contains("child scale"), bad.getMessage());
    }

    @Test
    void probeSetChildLabelsComeFromTheParentsOwnTree() {
        SynthConfig cfg = new SynthConfig(0, 0, 32, 3, 4, 5, 0.3, 0.5, 0.1, 1.0, 0.1, 0.0, true, 5, 1000, 0.4, 1.0);
        SynthGenerator gen = new SynthGenerator(cfg);
        SynthGenerator.Batch b = gen.generate(0, 4000);
        dev.atmsae.eval.absorption.ProbeSet set = SynthFiles.probeSet(gen, b);
        int orphanRows = 0;
        for (int i = 0; i < set.n(); i++) {
            int r = set.group()[i];
            if (set.parent()[i] < 0) {
                assertEquals(-1, set.child()[i], "no parent, no child label (orphans label nothing)");
                for (int t = 0; t < cfg.trees(); t++) {
                    for (int c = 0; c < cfg.children(); c++) {
                        orphanRows += b.trueActivation(r, cfg.child(t, c)) > 0 ? 1 : 0;
                    }
                }
            } else if (set.child()[i] >= 0) {
                assertTrue(b.trueActivation(r, cfg.child(set.parent()[i], set.child()[i])) > 0);
            }
        }
        assertTrue(orphanRows > 100, "orphans occur: " + orphanRows);
    }

    @Test
    void firingRatesHierarchyAndExclusivity() {
        SynthGenerator gen = new SynthGenerator(CFG);
        int n = 20_000;
        SynthGenerator.Batch b = gen.generate(0, n);
        int[] fires = new int[CFG.features()];
        int rootWithChild = 0;
        for (int r = 0; r < n; r++) {
            int[] childrenOn = new int[CFG.trees()];
            boolean[] rootOn = new boolean[CFG.trees()];
            for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                int f = b.feature()[p];
                fires[f]++;
                assertTrue(b.value()[p] > 0);
                if (f < CFG.independentFeature(0)) {
                    int t = f / (1 + CFG.children());
                    if (f == CFG.root(t)) {
                        rootOn[t] = true;
                    } else {
                        childrenOn[t]++;
                    }
                }
            }
            for (int t = 0; t < CFG.trees(); t++) {
                assertTrue(childrenOn[t] <= 1, "siblings must be exclusive");
                assertTrue(childrenOn[t] == 0 || rootOn[t], "a child fires only with its root");
                rootWithChild += childrenOn[t];
            }
        }
        double sigmaRoot = Math.sqrt(0.2 * 0.8 / n);
        for (int t = 0; t < CFG.trees(); t++) {
            assertEquals(0.2, fires[CFG.root(t)] / (double) n, 4 * sigmaRoot);
            for (int c = 0; c < CFG.children(); c++) {
                assertEquals(0.2 * 0.5 / 4, fires[CFG.child(t, c)] / (double) n, 4 * Math.sqrt(0.025 / n));
            }
        }
        int rootFires = 0;
        for (int t = 0; t < CFG.trees(); t++) {
            rootFires += fires[CFG.root(t)];
        }
        assertEquals(0.5, rootWithChild / (double) rootFires, 0.03);
        for (int m = 0; m < CFG.independent(); m++) {
            assertEquals(0.1, fires[CFG.independentFeature(m)] / (double) n, 4 * Math.sqrt(0.09 / n));
        }
    }

    @Test
    void activationsAreTheSumOfTrueFeaturesAndDirectionsAreOrthonormal() {
        SynthGenerator gen = new SynthGenerator(CFG);
        float[] dirs = gen.directions();
        int d = CFG.d();
        for (int a = 0; a < CFG.features(); a++) {
            for (int c = 0; c <= a; c++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += dirs[a * d + i] * dirs[c * d + i];
                }
                assertEquals(a == c ? 1.0 : 0.0, dot, 1e-5);
            }
        }
        SynthGenerator.Batch b = gen.generate(0, 50);
        for (int r = 0; r < 50; r++) {
            for (int i = 0; i < d; i++) {
                double expect = 0;
                for (int p = b.rowPtr()[r]; p < b.rowPtr()[r + 1]; p++) {
                    expect += b.value()[p] * dirs[b.feature()[p] * d + i];
                }
                assertEquals(expect, b.x()[r * d + i], 1e-5);
            }
        }
    }

    @Test
    void anySampleRangeRegeneratesExactlyAndNoiseHasItsStd() {
        SynthConfig noisy = new SynthConfig(0, 0, 32, 3, 4, 5, 0.2, 0.5, 0.1, 2.0, 0.3, 0.5, false, 9, 1000);
        SynthGenerator gen = new SynthGenerator(noisy);
        SynthGenerator.Batch whole = gen.generate(0, 300);
        SynthGenerator.Batch part = gen.generate(100, 50);
        assertArrayEquals(java.util.Arrays.copyOfRange(whole.x(), 100 * 32, 150 * 32), part.x());
        // with no feature firing (rates 0) x is pure noise of std 0.5
        SynthGenerator quiet = new SynthGenerator(new SynthConfig(0, 0, 32, 1, 1, 1, 0, 0, 0, 1, 0, 0.5, false, 3, 1000));
        SynthGenerator.Batch q = quiet.generate(0, 2000);
        double ss = 0;
        for (float v : q.x()) {
            ss += v * v;
        }
        assertEquals(0.5, Math.sqrt(ss / q.x().length), 0.01);
        assertTrue(Philox.STREAM_SYNTH == 4);
    }

    @Test
    void hungarianMatchesBruteForce() {
        int n = 4, m = 6;
        for (int trial = 0; trial < 20; trial++) {
            double[] cost = new double[n * m];
            for (int i = 0; i < cost.length; i++) {
                cost[i] = Philox.uniform(trial, Philox.STREAM_PROBE, i);
            }
            int[] match = Hungarian.assign(cost, n, m);
            double got = 0;
            for (int r = 0; r < n; r++) {
                got += cost[r * m + match[r]];
            }
            assertEquals(bruteForce(cost, n, m, 0, new boolean[m]), got, 1e-12);
        }
    }

    private static double bruteForce(double[] cost, int n, int m, int row, boolean[] used) {
        if (row == n) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (int c = 0; c < m; c++) {
            if (!used[c]) {
                used[c] = true;
                best = Math.min(best, cost[row * m + c] + bruteForce(cost, n, m, row + 1, used));
                used[c] = false;
            }
        }
        return best;
    }
}
