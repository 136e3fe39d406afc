package dev.atmsae.data;

import dev.atmsae.io.DType;
import dev.atmsae.util.UserError;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated .npy header of a 2-D activation shard: magic {@code \x93NUMPY}, version 1.0 (u16 header length),
 * 2.0 or 3.0 (u32), then a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (T, d), }}.
 * Only little-endian float32/float16 in C order is accepted; the data must fill the file exactly.
 *
 * @param dataOffset byte offset of the first element
 */
public record NpyHeader(DType dtype, long rows, int dim, long dataOffset) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Parses and validates the header of {@code file} (the whole file's bytes); {@code path} names it in messages. */
    public static NpyHeader parse(Object path, MemorySegment file) {
        long size = file.byteSize();
        if (size < 10) {
            throw UserError.inFile(path, "not a .npy file: only " + size + " bytes");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (file.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) {
                throw UserError.inFile(path, "not a .npy file (missing the \\x93NUMPY magic)");
            }
        }
        int major = file.get(ValueLayout.JAVA_BYTE, 6) & 0xFF;
        int minor = file.get(ValueLayout.JAVA_BYTE, 7) & 0xFF;
        long headerLen;
        int prefix;
        if (major == 1) {
            headerLen = file.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xFFFF;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) {
                throw UserError.inFile(path, "truncated .npy header");
            }
            headerLen = file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xFFFFFFFFL;
            prefix = 12;
        } else {
            throw UserError.inFile(path, "unsupported .npy version " + major + "." + minor + " (need 1.0, 2.0 or 3.0)");
        }
        if (prefix + headerLen > size) {
            throw UserError.inFile(path, "truncated: header length " + headerLen + " runs past the end of the file ("
                    + size + " bytes)");
        }
        byte[] raw = file.asSlice(prefix, headerLen).toArray(ValueLayout.JAVA_BYTE);
        String text = new String(raw, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new DictParser(text).parseDict();
        } catch (IllegalArgumentException e) {
            throw UserError.inFile(path, "bad .npy header: " + e.getMessage());
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shape = dict.get("shape");
        if (!(descr instanceof String d) || !(fortran instanceof Boolean f) || !(shape instanceof List<?> s)) {
            throw UserError.inFile(path, "bad .npy header: need 'descr' (string), 'fortran_order' (bool) and 'shape' (tuple)");
        }
        DType dtype = switch (d) {
            case "<f4" -> DType.F32;
            case "<f2" -> DType.F16;
            case ">f4", ">f2" -> throw UserError.inFile(path, "big-endian dtype '" + d
                    + "' is not supported; save with dtype '<" + d.substring(1) + "'");
            default -> throw UserError.inFile(path, "dtype '" + d + "' is not supported (need '<f4' or '<f2')");
        };
        if (f) {
            throw UserError.inFile(path, "Fortran order is not supported; save a C-order array (np.ascontiguousarray)");
        }
        if (s.size() != 2) {
            throw UserError.inFile(path, "shape " + tupleText(s) + " is not 2-D [tokens, d]");
        }
        long rows = (Long) s.get(0);
        long dim = (Long) s.get(1);
        if (dim < 1 || dim > Integer.MAX_VALUE / 4) {
            throw UserError.inFile(path, "shape " + tupleText(s) + " has an unusable width d=" + dim);
        }
        if (rows > Long.MAX_VALUE / 8 / dim) {
            throw UserError.inFile(path, "shape " + tupleText(s) + " is impossibly large");
        }
        long dataOffset = prefix + headerLen;
        long want = rows * dim * dtype.bytes();
        long have = size - dataOffset;
        if (have < want) {
            throw UserError.inFile(path, "truncated: header says " + rows + "x" + dim + " " + d + " = " + want
                    + " data bytes but only " + have + " present");
        }
        if (have > want) {
            throw UserError.inFile(path, "header says " + rows + "x" + dim + " " + d + " = " + want
                    + " data bytes but the file holds " + have + " (" + (have - want) + " extra)");
        }
        return new NpyHeader(dtype, rows, (int) dim, dataOffset);
    }

    private static String tupleText(List<?> s) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.size(); i++) {
            b.append(i > 0 ? ", " : "").append(s.get(i));
        }
        return b.append(s.size() == 1 ? ",)" : ")").toString();
    }

    /** Parses the Python literal subset numpy writes: a dict of str keys to str, bool, int or int-tuple values. */
    private static final class DictParser {
        private final String s;
        private int i;

        DictParser(String s) {
            this.s = s;
        }

        Map<String, Object> parseDict() {
            skip();
            expect('{');
            Map<String, Object> out = new HashMap<>();
            skip();
            while (peek() != '}') {
                String key = parseString();
                skip();
                expect(':');
                skip();
                out.put(key, parseValue());
                skip();
                if (peek() == ',') {
                    i++;
                    skip();
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at offset " + i);
                }
            }
            i++;
            skip();
            if (i != s.length()) {
                throw new IllegalArgumentException("unexpected text after the dict at offset " + i);
            }
            return out;
        }

        private Object parseValue() {
            char c = peek();
            if (c == '\'' || c == '"') {
                return parseString();
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                i++;
                List<Long> items = new ArrayList<>();
                skip();
                while (peek() != close) {
                    items.add(parseInt());
                    skip();
                    if (peek() == ',') {
                        i++;
                        skip();
                    } else if (peek() != close) {
                        throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + i);
                    }
                }
                i++;
                return items;
            }
            if (s.startsWith("True", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            return parseInt();
        }

        private long parseInt() {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i < s.length() && s.charAt(i) == 'L') {
                i++; // Python 2 long suffix, written by very old numpy
            }
            String digits = s.substring(start, i).replace("L", "");
            if (digits.isEmpty() || digits.length() > 18) {
                throw new IllegalArgumentException("expected a non-negative integer at offset " + start);
            }
            return Long.parseLong(digits);
        }

        private String parseString() {
            char q = peek();
            if (q != '\'' && q != '"') {
                throw new IllegalArgumentException("expected a quoted string at offset " + i);
            }
            int end = s.indexOf(q, i + 1);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated string at offset " + i);
            }
            String v = s.substring(i + 1, end);
            i = end + 1;
            return v;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at offset " + i);
            }
            i++;
        }

        private char peek() {
            if (i >= s.length()) {
                throw new IllegalArgumentException("header ends early");
            }
            return s.charAt(i);
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
