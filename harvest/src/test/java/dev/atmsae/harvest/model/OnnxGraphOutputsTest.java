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

    private static final byte[] NODE_A = message(strings(1, "x"), strings(2, "h"));
    private static final byte[] NODE_B = message(strings(1, "h"), strings(2, "y"));
    private static final byte[] NODE_C = message(strings(1, "h", "w"), strings(2, "z"));
    private static final byte[] INIT_W = message(strings(8, "w"), new byte[] {0x20, 0x01}); // name + varint field 4
    private static final byte[] INPUT_X = strings(1, "x");

    /** Graph x → [A] → h → [B] → y and h, w → [C] → z (w an initializer), output z; a field 99 after the graph. */
    private static byte[] model(List<byte[]> nodes, boolean withW, String... outputs) {
        java.io.ByteArrayOutputStream graph = new java.io.ByteArrayOutputStream();
        nodes.forEach(n -> field(graph, 1, n));
        if (withW) {
            field(graph, 5, INIT_W);
        }
        field(graph, 11, INPUT_X);
        for (String o : outputs) {
            field(graph, 12, strings(1, o));
        }
        java.io.ByteArrayOutputStream model = new java.io.ByteArrayOutputStream();
        model.writeBytes(new byte[] {0x08, 0x07});
        field(model, 7, graph.toByteArray());
        model.writeBytes(new byte[] {(byte) 0x9D, 0x06, 1, 2, 3, 4});
        return model.toByteArray();
    }

    @Test
    void truncationKeepsOnlyWhatTheWantedTensorsNeed() {
        byte[] full = model(List.of(NODE_A, NODE_B, NODE_C), true, "z");
        assertArrayEquals(model(List.of(NODE_A, NODE_B), false, "y"), OnnxGraphOutputs.truncatedTo(full, List.of("y")),
                "node C and initializer w go, the outputs become [y], every other field is copied");
        assertArrayEquals(model(List.of(NODE_A, NODE_C), true, "h", "z"),
                OnnxGraphOutputs.truncatedTo(full, List.of("h", "z")));
        assertArrayEquals(model(List.of(), false, "x"), OnnxGraphOutputs.truncatedTo(full, List.of("x")),
                "a graph input needs no node");
        assertThrows(IllegalArgumentException.class, () -> OnnxGraphOutputs.truncatedTo(full, List.of("nowhere")));
    }

    private static byte[] strings(int number, String... values) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String v : values) {
            field(out, number, v.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static byte[] message(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static void field(java.io.ByteArrayOutputStream out, int number, byte[] payload) {
        OnnxGraphOutputs.writeVarint(out, ((long) number << 3) | 2);
        OnnxGraphOutputs.writeVarint(out, payload.length);
        out.writeBytes(payload);
    }
}
