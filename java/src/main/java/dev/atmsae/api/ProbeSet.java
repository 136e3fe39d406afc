package dev.atmsae.api;

import dev.atmsae.eval.absorption.ProbeSets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Labelled activations for measuring feature absorption: each row is one activation vector with a parent class (e.g.
 * a part of speech, or a first letter), optionally a child class below it (e.g. singular / plural noun), and a
 * train/test flag. The on-disk form is a directory with {@code acts.npy} and {@code probe_set.json}
 * (docs/probe-sets.md), as {@code atmsae harvest --probe-set} and {@code tools/export_first_letter_probe_set.py} write.
 * Immutable and thread-safe.
 */
public final class ProbeSet {
    private final dev.atmsae.eval.absorption.ProbeSet set;
    private final Path loadedFrom; // null when built in code

    private ProbeSet(dev.atmsae.eval.absorption.ProbeSet set, Path loadedFrom) {
        this.set = set;
        this.loadedFrom = loadedFrom;
    }

    /**
     * Reads a probe-set directory.
     *
     * @param dir a directory holding acts.npy and probe_set.json
     * @return the probe set
     * @throws AtmsaeException if the directory is not a valid probe set
     */
    public static ProbeSet load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        return Boundary.call(() -> new ProbeSet(ProbeSets.read(dir), dir));
    }

    /**
     * Starts a probe set built in code.
     *
     * @param name free-form name shown in reports
     * @param dim  activation width
     * @return an empty builder
     */
    public static Builder builder(String name, int dim) {
        JvmRequirements.check();
        return new Builder(name, dim);
    }

    /**
     * Writes this probe set as a directory that {@link #load} and {@code atmsae absorption --probe-set} read.
     *
     * @param dir the directory (created if absent; files replaced atomically)
     * @throws AtmsaeException if it cannot be written
     */
    public void save(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Boundary.run(() -> ProbeSets.write(dir, set));
    }

    /**
     * The name.
     *
     * @return the name given when it was built or saved
     */
    public String name() {
        return set.name();
    }

    /**
     * The activation width.
     *
     * @return d
     */
    public int dim() {
        return set.d();
    }

    /**
     * The number of rows.
     *
     * @return rows
     */
    public int size() {
        return set.n();
    }

    /**
     * The parent class names, in order.
     *
     * @return the parents
     */
    public List<String> parents() {
        return set.parents().stream().map(dev.atmsae.eval.absorption.ProbeSet.ParentClass::name).toList();
    }

    /**
     * What this probe set holds, for logs: e.g. {@code ProbeSet[pos-brown (pos), 12000 rows of d 384 (9000 train,
     * 3000 test), 3 parent classes: NOUN, VERB, ADJ; 5 child classes; from probes/pos]}. Long class lists are cut
     * after 8 names.
     *
     * @return the description
     */
    @Override
    public String toString() {
        long test = Arrays.stream(set.split()).filter(v -> v == dev.atmsae.eval.absorption.ProbeSet.TEST).count();
        List<String> parents = parents();
        int children = set.parents().stream().mapToInt(p -> p.children().size()).sum();
        StringBuilder s = new StringBuilder("ProbeSet[").append(name()).append(" (").append(set.kind()).append("), ")
                .append(size()).append(" rows of d ").append(dim()).append(" (").append(size() - test)
                .append(" train, ").append(test).append(" test), ").append(parents.size())
                .append(parents.size() == 1 ? " parent class: " : " parent classes: ")
                .append(String.join(", ", parents.subList(0, Math.min(8, parents.size()))));
        if (parents.size() > 8) {
            s.append(", … (").append(parents.size() - 8).append(" more)");
        }
        s.append("; ").append(children).append(children == 1 ? " child class" : " child classes");
        return s.append(loadedFrom == null ? "" : "; from " + loadedFrom).append(']').toString();
    }

    /** The internal representation (for {@link Evaluation}). */
    dev.atmsae.eval.absorption.ProbeSet internal() {
        return set;
    }

    /**
     * Collects rows of a probe set built in code. Parent and child classes are declared by first use. Not thread-safe.
     */
    public static final class Builder {
        private final String name;
        private final int dim;
        private final Map<String, List<String>> parents = new LinkedHashMap<>();
        private final List<float[]> rows = new ArrayList<>();
        private final List<String> rowParent = new ArrayList<>();
        private final List<String> rowChild = new ArrayList<>();
        private final List<Boolean> rowTest = new ArrayList<>();

        private Builder(String name, int dim) {
            if (dim < 1) {
                throw new IllegalArgumentException("dim must be at least 1, got " + dim);
            }
            this.name = Objects.requireNonNull(name, "name");
            this.dim = dim;
        }

        /**
         * Adds one labelled activation.
         *
         * @param activation {@code dim} values (copied)
         * @param parent     the parent class, or null for a row of none of the classes (a negative for all)
         * @param child      the child class under {@code parent}, or null
         * @param test       true for the test split (scored), false for the train split (used to fit probes)
         * @return this builder
         * @throws IllegalArgumentException if the activation has the wrong length or a child has no parent
         */
        public Builder add(float[] activation, String parent, String child, boolean test) {
            Objects.requireNonNull(activation, "activation");
            if (activation.length != dim) {
                throw new IllegalArgumentException("activation has " + activation.length + " values, dim is " + dim);
            }
            if (parent == null && child != null) {
                throw new IllegalArgumentException("child '" + child + "' needs a parent");
            }
            if (parent != null) {
                List<String> children = parents.computeIfAbsent(parent, p -> new ArrayList<>());
                if (child != null && !children.contains(child)) {
                    children.add(child);
                }
            }
            rows.add(activation.clone());
            rowParent.add(parent);
            rowChild.add(child);
            rowTest.add(test);
            return this;
        }

        /**
         * Creates the probe set.
         *
         * @return the probe set
         * @throws IllegalArgumentException if no row has a parent class
         */
        public ProbeSet build() {
            if (parents.isEmpty()) {
                throw new IllegalArgumentException("a probe set needs at least one row with a parent class");
            }
            List<String> parentNames = new ArrayList<>(parents.keySet());
            List<dev.atmsae.eval.absorption.ProbeSet.ParentClass> classes = new ArrayList<>();
            parents.forEach((p, c) -> classes.add(new dev.atmsae.eval.absorption.ProbeSet.ParentClass(p, List.copyOf(c))));
            int n = rows.size();
            float[] acts = new float[n * dim];
            int[] parent = new int[n];
            int[] child = new int[n];
            int[] split = new int[n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(rows.get(i), 0, acts, i * dim, dim);
                String p = rowParent.get(i);
                parent[i] = p == null ? -1 : parentNames.indexOf(p);
                child[i] = p == null || rowChild.get(i) == null ? -1 : parents.get(p).indexOf(rowChild.get(i));
                split[i] = rowTest.get(i) ? dev.atmsae.eval.absorption.ProbeSet.TEST
                        : dev.atmsae.eval.absorption.ProbeSet.TRAIN;
            }
            return new ProbeSet(new dev.atmsae.eval.absorption.ProbeSet(name, "custom", dim, Map.of(), acts, classes,
                    parent, child, split, null, null), null);
        }
    }
}
