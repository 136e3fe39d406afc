package dev.atmsae.core;

import java.util.List;
import java.util.Map;

/**
 * Reads checkpoint scalars back whatever JSON made of them (Integer for Long, List for arrays, String "NaN").
 */
public final class StateValues {
    private StateValues() {
    }

    private static Object get(Map<String, Object> m, String key) {
        if (!m.containsKey(key)) {
            throw new IllegalArgumentException("checkpoint state lacks '" + key + "'");
        }
        return m.get(key);
    }

    public static double d(Map<String, Object> m, String key) {
        Object v = get(m, key);
        if (v == null) {
            return Double.NaN;
        }
        return v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString());
    }

    public static long l(Map<String, Object> m, String key) {
        Object v = get(m, key);
        return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString());
    }

    public static double[] doubles(Map<String, Object> m, String key) {
        Object v = get(m, key);
        if (v instanceof double[] a) {
            return a.clone();
        }
        List<?> list = (List<?>) v;
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = list.get(i);
            out[i] = x instanceof Number n ? n.doubleValue() : Double.parseDouble(x.toString());
        }
        return out;
    }

    public static long[] longs(Map<String, Object> m, String key) {
        Object v = get(m, key);
        if (v instanceof long[] a) {
            return a.clone();
        }
        List<?> list = (List<?>) v;
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) list.get(i)).longValue();
        }
        return out;
    }
}
