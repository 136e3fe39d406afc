package dev.atmsae.core;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PhiloxTest {
    /** Known-answer vectors of Random123's kat_vectors for philox4x32_10. */
    @Test
    void matchesRandom123KnownAnswers() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.block(-1, -1, -1, -1, -1, -1, out);
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.block(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out);
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    @Test
    void wordAgreesWithBlock() {
        int[] out = new int[4];
        Philox.block(7, 9, 11, 13, 17, 19, out);
        for (int w = 0; w < 4; w++) {
            assertEquals(out[w], Philox.word(7, 9, 11, 13, 17, 19, w));
        }
    }

    @Test
    void maskUniformsAreUniformAndDistinctAcrossLatents() {
        double sum = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            float u = Philox.maskUniform(42, 3, i / 100, i % 100);
            assertTrue(u >= 0f && u < 1f);
            sum += u;
        }
        assertEquals(0.5, sum / n, 0.01);
        assertNotEquals(Philox.maskUniform(42, 3, 0, 0), Philox.maskUniform(42, 3, 0, 1));
        assertNotEquals(Philox.maskUniform(42, 3, 0, 0), Philox.maskUniform(42, 4, 0, 0));
    }

    @Test
    void gaussianHasUnitVariance() {
        double s = 0, s2 = 0;
        int n = 50000;
        for (int i = 0; i < n; i++) {
            double g = Philox.gaussian(1, Philox.STREAM_INIT_DECODER, i);
            s += g;
            s2 += g * g;
        }
        assertEquals(0.0, s / n, 0.02);
        assertEquals(1.0, s2 / n - (s / n) * (s / n), 0.03);
    }
}
