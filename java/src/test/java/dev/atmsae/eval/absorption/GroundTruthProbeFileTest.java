package dev.atmsae.eval.absorption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ground-truth probes kept beside a probe set: read back bit for bit, refitted when stale, garbled or absent. */
class GroundTruthProbeFileTest {
    private static final double L2 = AbsorptionOptions.defaults().probeL2();

    @Test
    void aSecondProcessReadsTheProbesBitForBitInsteadOfFittingThem(@TempDir Path dir) {
        ProbeSet set = AbsorptionFilterTest.twoParents();
        AbsorptionEval.ProbeCache first = AbsorptionEval.ProbeCache.storedIn(set, dir);
        AbsorptionEval.GroundTruthProbe fitted = first.parentProbe(0, L2);
        first.parentProbe(1, L2);
        assertEquals(2, first.fits());
        assertTrue(Files.isRegularFile(dir.resolve(GroundTruthProbeFile.NAME)));

        AbsorptionEval.ProbeCache second = AbsorptionEval.ProbeCache.storedIn(set, dir);
        AbsorptionEval.GroundTruthProbe read = second.parentProbe(0, L2);
        second.parentProbe(1, L2);
        assertEquals(0, second.fits(), "both probes come from the file");
        assertArrayEquals(fitted.model().w(), read.model().w(), 0.0);
        assertEquals(fitted.model().b(), read.model().b(), 0.0);
        assertArrayEquals(fitted.testLogits(), read.testLogits(), 0.0);
        assertEquals(fitted.quality(), read.quality());
        // and a fresh fit in memory gives the same probe: the file holds what the fit makes, nothing else
        AbsorptionEval.GroundTruthProbe memory = new AbsorptionEval.ProbeCache(set).parentProbe(0, L2);
        assertArrayEquals(memory.model().w(), read.model().w(), 0.0);
        // another L2 is another probe
        second.parentProbe(0, 2 * L2);
        assertEquals(1, second.fits());
    }

    @Test
    void changedActivationsOrAGarbledFileMeanARefitNeverAnError(@TempDir Path dir) throws Exception {
        ProbeSet set = AbsorptionFilterTest.twoParents();
        AbsorptionEval.ProbeCache.storedIn(set, dir).parentProbe(0, L2);

        float[] acts = set.acts().clone();
        acts[17] += 0.25f;
        ProbeSet changed = new ProbeSet(set.name(), set.kind(), set.d(), set.source(), acts, set.parents(),
                set.parent(), set.child(), set.split(), set.group(), set.word());
        assertFalse(GroundTruthProbeFile.fingerprint(set) == GroundTruthProbeFile.fingerprint(changed));
        AbsorptionEval.ProbeCache stale = AbsorptionEval.ProbeCache.storedIn(changed, dir);
        stale.parentProbe(0, L2);
        assertEquals(1, stale.fits(), "a file for other activations is not used");

        Path file = dir.resolve(GroundTruthProbeFile.NAME);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2)); // truncated
        AbsorptionEval.ProbeCache garbled = AbsorptionEval.ProbeCache.storedIn(changed, dir);
        garbled.parentProbe(0, L2);
        assertEquals(1, garbled.fits(), "a truncated file is ignored and rewritten");
        AbsorptionEval.ProbeCache rewritten = AbsorptionEval.ProbeCache.storedIn(changed, dir);
        rewritten.parentProbe(0, L2);
        assertEquals(0, rewritten.fits(), "the rewritten file serves the next process");
    }
}
