package dev.atmsae.eval.absorption;

import java.util.List;
import java.util.Map;

/**
 * Activations at labelled positions plus a two-level label hierarchy (docs/probe-sets.md).
 *
 * @param name     free-form name, e.g. "first-letter" or "pos-brown"
 * @param kind     "first-letter", "pos", "truth" or "custom" (chooses defaults such as min_classes_for_eval)
 * @param d        activation width
 * @param source   free-form facts (model, layer, hook, corpus) copied into reports
 * @param acts     row-major [n, d] float32 activations
 * @param parents  parent classes with their child class names (first letters: no children)
 * @param parent   per row: index into {@code parents}, −1 = none of them
 * @param child    per row: index into that parent's children, −1 = none
 * @param split    per row: 0 = train, 1 = test
 * @param group    per row: source group (file / document / word id), or null
 * @param word     per row: the surface word, or null
 */
public record ProbeSet(String name, String kind, int d, Map<String, Object> source, float[] acts,
                       List<ParentClass> parents, int[] parent, int[] child, int[] split, int[] group,
                       List<String> word) {
    public static final int TRAIN = 0;
    public static final int TEST = 1;

    /** A parent class and the names of its child classes (possibly none). */
    public record ParentClass(String name, List<String> children) {
    }

    public ProbeSet {
        int n = parent.length;
        if ((long) n * d != acts.length) {
            throw new IllegalArgumentException("probe set: acts hold " + acts.length + " values, expected " + n + "x" + d);
        }
        if (child.length != n || split.length != n || (group != null && group.length != n) || (word != null && word.size() != n)) {
            throw new IllegalArgumentException("probe set: per-row arrays differ in length (n = " + n + ")");
        }
        for (int i = 0; i < n; i++) {
            if (parent[i] < -1 || parent[i] >= parents.size()) {
                throw new IllegalArgumentException("probe set: row " + i + " has parent " + parent[i]
                        + " outside [-1, " + parents.size() + ")");
            }
            int nChildren = parent[i] < 0 ? 0 : parents.get(parent[i]).children().size();
            if (child[i] < -1 || child[i] >= nChildren) {
                throw new IllegalArgumentException("probe set: row " + i + " has child " + child[i]
                        + " but its parent has " + nChildren + " children");
            }
            if (split[i] != TRAIN && split[i] != TEST) {
                throw new IllegalArgumentException("probe set: row " + i + " has split " + split[i] + " (expected 0 or 1)");
            }
        }
    }

    public int n() {
        return parent.length;
    }

    /** Row indices of one split. */
    public int[] rowsOf(int splitValue) {
        return java.util.stream.IntStream.range(0, n()).filter(i -> split[i] == splitValue).toArray();
    }
}
