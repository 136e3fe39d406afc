package dev.atmsae.harvest.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Makes intermediate tensors of an ONNX model fetchable by appending name-only {@code ValueInfoProto}s to the graph's
 * outputs — a byte-level protobuf rewrite, so no protoc or ONNX library is needed. ONNX Runtime infers the missing
 * types and shapes. Only two messages are touched: {@code ModelProto} field 7 ({@code graph}) and inside it
 * {@code GraphProto} field 12 ({@code output}); every other field is copied through byte for byte.
 */
public final class OnnxGraphOutputs {
    private static final int MODEL_GRAPH_FIELD = 7;
    private static final int GRAPH_OUTPUT_FIELD = 12;
    private static final int VALUE_INFO_NAME_FIELD = 1;
    private static final int WIRE_VARINT = 0;
    private static final int WIRE_FIXED64 = 1;
    private static final int WIRE_LENGTH_DELIMITED = 2;
    private static final int WIRE_FIXED32 = 5;

    private OnnxGraphOutputs() {}

    /** A copy of {@code model} whose graph also outputs the named tensors (appended after the existing outputs). */
    public static byte[] withExtraOutputs(byte[] model, List<String> tensorNames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(model.length + 64 * tensorNames.size() + 16);
        int pos = 0;
        boolean sawGraph = false;
        while (pos < model.length) {
            int fieldStart = pos;
            long key = readVarint(model, pos);
            pos += varintSize(key);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == MODEL_GRAPH_FIELD && wire == WIRE_LENGTH_DELIMITED) {
                long length = readVarint(model, pos);
                pos += varintSize(length);
                int graphStart = pos;
                pos = checkedEnd(model, graphStart, length);
                byte[] extra = outputEntries(tensorNames);
                writeVarint(out, key);
                writeVarint(out, length + extra.length);
                out.write(model, graphStart, (int) length);
                out.writeBytes(extra);
                sawGraph = true;
            } else {
                pos = skipValue(model, pos, wire);
                out.write(model, fieldStart, pos - fieldStart);
            }
        }
        if (!sawGraph) {
            throw new IllegalArgumentException("ONNX model has no graph (ModelProto field 7)");
        }
        return out.toByteArray();
    }

    /** Encoded GraphProto.output entries, each a ValueInfoProto holding only its name. */
    private static byte[] outputEntries(List<String> names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String name : names) {
            byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream valueInfo = new ByteArrayOutputStream();
            writeVarint(valueInfo, ((long) VALUE_INFO_NAME_FIELD << 3) | WIRE_LENGTH_DELIMITED);
            writeVarint(valueInfo, utf8.length);
            valueInfo.writeBytes(utf8);
            writeVarint(out, ((long) GRAPH_OUTPUT_FIELD << 3) | WIRE_LENGTH_DELIMITED);
            writeVarint(out, valueInfo.size());
            out.writeBytes(valueInfo.toByteArray());
        }
        return out.toByteArray();
    }

    /** Names of the graph's outputs in order (used by tests and for error messages). */
    public static List<String> outputNames(byte[] model) {
        java.util.ArrayList<String> names = new java.util.ArrayList<>();
        int[] graph = findField(model, 0, model.length, MODEL_GRAPH_FIELD);
        if (graph == null) {
            throw new IllegalArgumentException("ONNX model has no graph (ModelProto field 7)");
        }
        int pos = graph[0];
        while (pos < graph[1]) {
            int[] output = findField(model, pos, graph[1], GRAPH_OUTPUT_FIELD);
            if (output == null) {
                break;
            }
            int[] name = findField(model, output[0], output[1], VALUE_INFO_NAME_FIELD);
            names.add(name == null ? "" : new String(model, name[0], name[1] - name[0], StandardCharsets.UTF_8));
            pos = output[1];
        }
        return names;
    }

    /** [start, end) of the payload of the first length-delimited {@code field} in [from, to), or null. */
    private static int[] findField(byte[] buf, int from, int to, int wantedField) {
        int pos = from;
        while (pos < to) {
            long key = readVarint(buf, pos);
            pos += varintSize(key);
            int wire = (int) (key & 7);
            if ((int) (key >>> 3) == wantedField && wire == WIRE_LENGTH_DELIMITED) {
                long length = readVarint(buf, pos);
                pos += varintSize(length);
                return new int[] {pos, checkedEnd(buf, pos, length)};
            }
            pos = skipValue(buf, pos, wire);
        }
        return null;
    }

    private static int skipValue(byte[] buf, int pos, int wire) {
        return switch (wire) {
            case WIRE_VARINT -> pos + varintSize(readVarint(buf, pos));
            case WIRE_FIXED64 -> checkedEnd(buf, pos, 8);
            case WIRE_LENGTH_DELIMITED -> {
                long length = readVarint(buf, pos);
                yield checkedEnd(buf, pos + varintSize(length), length);
            }
            case WIRE_FIXED32 -> checkedEnd(buf, pos, 4);
            default -> throw new IllegalArgumentException("ONNX model: unsupported protobuf wire type " + wire
                    + " at byte " + pos);
        };
    }

    private static int checkedEnd(byte[] buf, int start, long length) {
        long end = start + length;
        if (length < 0 || end > buf.length) {
            throw new IllegalArgumentException("ONNX model: truncated protobuf field at byte " + start);
        }
        return (int) end;
    }

    static long readVarint(byte[] buf, int pos) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= buf.length) {
                throw new IllegalArgumentException("ONNX model: truncated varint");
            }
            byte b = buf[pos++];
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IllegalArgumentException("ONNX model: malformed varint");
    }

    static int varintSize(long value) {
        int size = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }
}
