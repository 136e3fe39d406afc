package dev.atmsae.harvest.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Makes intermediate tensors of an ONNX model fetchable by appending name-only {@code ValueInfoProto}s to the graph's
 * outputs — a byte-level protobuf rewrite, so no protoc or ONNX library is needed. ONNX Runtime infers the missing
 * types and shapes. Only two messages are touched: {@code ModelProto} field 7 ({@code graph}) and inside it
 * {@code GraphProto} field 12 ({@code output}); every other field is copied through byte for byte.
 *
 * <p>{@link #truncatedTo} also cuts the graph down to what the wanted tensors depend on: ONNX Runtime runs every node
 * of a session's graph whatever {@code run} fetches (measured: fetching MiniLM's block-0 output cost as much as block
 * 5's), so harvesting block 3 through the whole graph paid for blocks 4 and 5 as well.
 */
public final class OnnxGraphOutputs {
    private static final int MODEL_GRAPH_FIELD = 7;
    private static final int GRAPH_NODE_FIELD = 1;
    private static final int GRAPH_INITIALIZER_FIELD = 5;
    private static final int GRAPH_INPUT_FIELD = 11;
    private static final int GRAPH_OUTPUT_FIELD = 12;
    private static final int NODE_INPUT_FIELD = 1;
    private static final int NODE_OUTPUT_FIELD = 2;
    private static final int TENSOR_NAME_FIELD = 8;
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

    /**
     * A copy of {@code model} whose graph outputs exactly {@code tensorNames} and keeps only the nodes and initializers
     * they depend on. Nodes are stored in topological order (an ONNX requirement), so one backward pass finds them:
     * a node is kept when one of its outputs is needed, and then its inputs are needed too. Graph inputs, value infos
     * and every other field are copied through, so feeding the same inputs stays valid.
     */
    public static byte[] truncatedTo(byte[] model, List<String> tensorNames) {
        int[] graph = findField(model, 0, model.length, MODEL_GRAPH_FIELD);
        if (graph == null) {
            throw new IllegalArgumentException("ONNX model has no graph (ModelProto field 7)");
        }
        List<int[]> fields = new java.util.ArrayList<>(); // [start, end, field number, payload start] in the graph
        for (int pos = graph[0]; pos < graph[1]; ) {
            int start = pos;
            long key = readVarint(model, pos);
            pos += varintSize(key);
            int wire = (int) (key & 7);
            int payload = pos;
            if (wire == WIRE_LENGTH_DELIMITED) {
                long length = readVarint(model, pos);
                payload = pos + varintSize(length);
            }
            pos = skipValue(model, pos, wire);
            fields.add(new int[] {start, pos, wire == WIRE_LENGTH_DELIMITED ? (int) (key >>> 3) : -1, payload});
        }
        java.util.Set<String> needed = new java.util.HashSet<>(tensorNames);
        boolean[] keep = new boolean[fields.size()];
        for (int f = fields.size() - 1; f >= 0; f--) {
            int[] field = fields.get(f);
            if (field[2] != GRAPH_NODE_FIELD) {
                continue;
            }
            if (strings(model, field[3], field[1], NODE_OUTPUT_FIELD).stream().anyMatch(needed::contains)) {
                keep[f] = true;
                needed.addAll(strings(model, field[3], field[1], NODE_INPUT_FIELD));
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(graph[1] - graph[0]);
        for (int f = 0; f < fields.size(); f++) {
            int[] field = fields.get(f);
            boolean copy = switch (field[2]) {
                case GRAPH_NODE_FIELD -> keep[f];
                case GRAPH_OUTPUT_FIELD -> false;
                case GRAPH_INITIALIZER_FIELD -> strings(model, field[3], field[1], TENSOR_NAME_FIELD).stream()
                        .anyMatch(needed::contains);
                default -> true;
            };
            if (copy) {
                body.write(model, field[0], field[1] - field[0]);
            }
        }
        for (String name : tensorNames) {
            if (isProducedNowhere(model, fields, keep, name)) {
                throw new IllegalArgumentException("ONNX model: no node produces tensor '" + name + "'");
            }
        }
        body.writeBytes(outputEntries(tensorNames));
        ByteArrayOutputStream out = new ByteArrayOutputStream(model.length);
        int graphKeyStart = graphKeyStart(model, graph[0]);
        out.write(model, 0, graphKeyStart);
        writeVarint(out, ((long) MODEL_GRAPH_FIELD << 3) | WIRE_LENGTH_DELIMITED);
        writeVarint(out, body.size());
        out.writeBytes(body.toByteArray());
        out.write(model, graph[1], model.length - graph[1]);
        return out.toByteArray();
    }

    /** Whether no kept node outputs {@code name} and it is no graph input or initializer either. */
    private static boolean isProducedNowhere(byte[] model, List<int[]> fields, boolean[] keep, String name) {
        for (int f = 0; f < fields.size(); f++) {
            int[] field = fields.get(f);
            List<String> produced = switch (field[2]) {
                case GRAPH_NODE_FIELD -> keep[f] ? strings(model, field[3], field[1], NODE_OUTPUT_FIELD) : List.of();
                case GRAPH_INPUT_FIELD -> strings(model, field[3], field[1], VALUE_INFO_NAME_FIELD);
                case GRAPH_INITIALIZER_FIELD -> strings(model, field[3], field[1], TENSOR_NAME_FIELD);
                default -> List.of();
            };
            if (produced.contains(name)) {
                return false;
            }
        }
        return true;
    }

    /** Where the key of the graph field whose payload starts at {@code payload} begins (the first graph field). */
    private static int graphKeyStart(byte[] model, int payload) {
        for (int pos = 0; pos < model.length; ) {
            int start = pos;
            long key = readVarint(model, pos);
            pos += varintSize(key);
            int wire = (int) (key & 7);
            if ((int) (key >>> 3) == MODEL_GRAPH_FIELD && wire == WIRE_LENGTH_DELIMITED) {
                long length = readVarint(model, pos);
                if (pos + varintSize(length) == payload) {
                    return start;
                }
            }
            pos = skipValue(model, pos, wire);
        }
        throw new IllegalStateException("graph field not found");
    }

    /** Every length-delimited {@code field} in [from, to) read as a UTF-8 string. */
    private static List<String> strings(byte[] buf, int from, int to, int field) {
        List<String> out = new java.util.ArrayList<>();
        for (int pos = from; pos < to; ) {
            int[] found = findField(buf, pos, to, field);
            if (found == null) {
                break;
            }
            out.add(new String(buf, found[0], found[1] - found[0], StandardCharsets.UTF_8));
            pos = found[1];
        }
        return out;
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
