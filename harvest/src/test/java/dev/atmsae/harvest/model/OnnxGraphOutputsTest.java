package dev.atmsae.harvest.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The rewrite on hand-encoded protobuf bytes: unknown fields of every wire type are copied through unchanged. */
class OnnxGraphOutputsTest {
    private static final byte[] MODEL = {
        0x08, 0x07,                                         // ir_version = 7 (field 1, varint)
        (byte) 0x9D, 0x06, 1, 2, 3, 4,                      // field 99, fixed32 (unknown)
        0x3A, 0x09,                                         // graph (field 7), 9 bytes:
        0x0A, 0x02, 'a', 'b',                               //   node (field 1) "ab"
        0x62, 0x03, 0x0A, 0x01, 'y',                        //   output (field 12) { name: "y" }
        (byte) 0xA1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,          // field 100, fixed64 (unknown)
    };

    @Test
    void appendsNameOnlyOutputsInsideTheGraphAndCopiesEverythingElse() {
        byte[] out = OnnxGraphOutputs.withExtraOutputs(MODEL, List.of("z"));
        byte[] expected = {
            0x08, 0x07,
            (byte) 0x9D, 0x06, 1, 2, 3, 4,
            0x3A, 0x0E,                                     // graph grew by 5 bytes
            0x0A, 0x02, 'a', 'b',
            0x62, 0x03, 0x0A, 0x01, 'y',
            0x62, 0x03, 0x0A, 0x01, 'z',                    // the appended output
            (byte) 0xA1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
        };
        assertArrayEquals(expected, out);
        assertEquals(List.of("y"), OnnxGraphOutputs.outputNames(MODEL));
        assertEquals(List.of("y", "z"), OnnxGraphOutputs.outputNames(out));
    }

    @Test
    void longNamesUseMultiByteLengths() {
        String name = "n".repeat(200);                      // 200 > 127: two-byte varint lengths
        byte[] out = OnnxGraphOutputs.withExtraOutputs(MODEL, List.of(name));
        assertEquals(List.of("y", name), OnnxGraphOutputs.outputNames(out));
        assertEquals(MODEL.length + 1 + 2 + 1 + 2 + 200 + 1, out.length); // + graph length grows to 2 bytes
    }

    @Test
    void truncatedOrGraphlessInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> OnnxGraphOutputs.withExtraOutputs(new byte[] {0x08, 0x07},
                List.of("z")));
        assertThrows(IllegalArgumentException.class, () -> OnnxGraphOutputs.withExtraOutputs(new byte[] {0x3A, 0x20,
                0x0A}, List.of("z")));
    }
}
