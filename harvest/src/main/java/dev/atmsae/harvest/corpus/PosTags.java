package dev.atmsae.harvest.corpus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Brown-tag hierarchy of the POS task (absorption.md §9, the contract): the normalisation rule from a raw Brown tag
 * to a fine tag, and the 11 coarse parents with their fine children. A fine tag outside every parent's list (e.g.
 * {@code jj$}) carries no label.
 */
public final class PosTags {
    /** Parents in the order of the spec; the index is the probe set's parent id. */
    public static final Map<String, List<String>> PARENTS = parents();

    private PosTags() {}

    private static Map<String, List<String>> parents() {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("NOUN", List.of("nn", "nns", "np", "nps", "nn$", "nns$", "np$", "nps$", "nr", "nrs", "nr$"));
        p.put("VERB", List.of("vb", "vbd", "vbg", "vbn", "vbz"));
        p.put("AUX", List.of("be", "bed", "bedz", "beg", "bem", "ben", "ber", "bez", "hv", "hvd", "hvg", "hvn", "hvz",
                "do", "dod", "doz", "md"));
        p.put("ADJ", List.of("jj", "jjr", "jjs", "jjt"));
        p.put("ADV", List.of("rb", "rbr", "rbt", "rn", "rb$", "ql", "qlp", "wrb", "wql", "abl", "*"));
        p.put("PRON", List.of("pn", "pn$", "pp$", "pp$$", "ppl", "ppls", "ppo", "pps", "ppss", "wps", "wpo", "wp$",
                "ex"));
        p.put("DET", List.of("at", "dt", "dti", "dts", "dtx", "abn", "abx", "ap", "ap$", "wdt", "dt$"));
        p.put("ADP", List.of("in"));
        p.put("CONJ", List.of("cc", "cs"));
        p.put("NUM", List.of("cd", "od", "cd$"));
        p.put("PRT", List.of("rp", "to"));
        return java.util.Collections.unmodifiableMap(p);
    }

    /**
     * The fine tag of a raw Brown tag, or null when the rules drop it: lower-case; {@code fw-*} dropped; first part of
     * a {@code +} compound; strip {@code -tl}/{@code -hl}/{@code -nc} repeatedly; drop the trailing {@code *} of a
     * negated form (a bare {@code *} stays: it is the negator {@code not}, an ADV); drop punctuation, FW, UH, NIL.
     */
    public static String normalize(String raw) {
        String tag = raw.toLowerCase(Locale.ROOT);
        if (tag.startsWith("fw-")) {
            return null;
        }
        int plus = tag.indexOf('+');
        if (plus >= 0) {
            tag = tag.substring(0, plus);
        }
        boolean stripped = true;
        while (stripped) {
            stripped = false;
            for (String suffix : new String[] {"-tl", "-hl", "-nc"}) {
                if (tag.endsWith(suffix)) {
                    tag = tag.substring(0, tag.length() - suffix.length());
                    stripped = true;
                }
            }
        }
        if (tag.length() > 1 && tag.endsWith("*")) {
            tag = tag.substring(0, tag.length() - 1);
        }
        if (tag.isEmpty() || tag.equals("fw") || tag.equals("uh") || tag.equals("nil") || isPunctuationTag(tag)) {
            return null;
        }
        return tag;
    }

    /** Brown punctuation tags are made of punctuation characters only ({@code . , : ( ) `` '' ' --}). */
    private static boolean isPunctuationTag(String tag) {
        if (tag.equals("*")) {
            return false;
        }
        for (int i = 0; i < tag.length(); i++) {
            if (Character.isLetterOrDigit(tag.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** The parent of a fine tag, or null when no parent lists it. */
    public static String parentOf(String fine) {
        if (fine == null) {
            return null;
        }
        for (Map.Entry<String, List<String>> e : PARENTS.entrySet()) {
            if (e.getValue().contains(fine)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** Index of a parent in {@link #PARENTS}' order, or -1. */
    public static int parentIndex(String parent) {
        int i = 0;
        for (String p : PARENTS.keySet()) {
            if (p.equals(parent)) {
                return i;
            }
            i++;
        }
        return -1;
    }
}
