package dev.atmsae.browse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The harvest's per-row token metadata, held column-wise so that a million rows cost a few tens of megabytes:
 * each row's token string (interned), document, sentence, model input sequence and coarse POS tag. Rows are the
 * global row indices of the harvest's activation shards.
 */
final class TokenTable {
    static final int NONE = -1;

    private final List<String> strings = new ArrayList<>();
    private final Map<String, Integer> stringIds = new HashMap<>();
    private int[] token = new int[1024];
    private int[] doc = new int[1024];
    private int[] sentence = new int[1024];
    private int[] sequence = new int[1024];
    private byte[] tag = new byte[1024];
    private final List<String> tagNames = new ArrayList<>();
    private int rows;

    /** Appends one row; {@code sentenceInDoc} −1 and {@code coarseTag} null mark a special token / untagged word. */
    void add(String tokenText, String docId, int sentenceInDoc, int sequenceIndex, String coarseTag) {
        if (rows == token.length) {
            int cap = rows * 2;
            token = java.util.Arrays.copyOf(token, cap);
            doc = java.util.Arrays.copyOf(doc, cap);
            sentence = java.util.Arrays.copyOf(sentence, cap);
            sequence = java.util.Arrays.copyOf(sequence, cap);
            tag = java.util.Arrays.copyOf(tag, cap);
        }
        token[rows] = intern(tokenText);
        doc[rows] = intern(docId);
        sentence[rows] = sentenceInDoc;
        sequence[rows] = sequenceIndex;
        int t = NONE;
        if (coarseTag != null) {
            t = tagNames.indexOf(coarseTag);
            if (t < 0) {
                tagNames.add(coarseTag);
                t = tagNames.size() - 1;
            }
        }
        tag[rows] = (byte) t;
        rows++;
    }

    private int intern(String s) {
        return stringIds.computeIfAbsent(s, k -> {
            strings.add(k);
            return strings.size() - 1;
        });
    }

    int rows() {
        return rows;
    }

    String token(int row) {
        return strings.get(token[row]);
    }

    String doc(int row) {
        return strings.get(doc[row]);
    }

    int sequence(int row) {
        return sequence[row];
    }

    /** The coarse tag of the row's word, or null. */
    String tag(int row) {
        return tag[row] < 0 ? null : tagNames.get(tag[row]);
    }

    boolean hasTags() {
        return !tagNames.isEmpty();
    }

    /** The first row after {@code row}'s model input sequence. */
    int sequenceEnd(int row) {
        int s = sequence[row];
        int r = row + 1;
        while (r < rows && sequence[r] == s) {
            r++;
        }
        return r;
    }

    /**
     * The context shown around {@code row}: the rows of its sentence (of its sequence for special tokens) within its
     * model input sequence, at most {@code half} rows on either side. Returns {start, end).
     */
    int[] window(int row, int half) {
        int start = row, end = row + 1;
        while (start > 0 && row - start < half && sameContext(start - 1, row)) {
            start--;
        }
        while (end < rows && end - row <= half && sameContext(end, row)) {
            end++;
        }
        return new int[] {start, end};
    }

    private boolean sameContext(int other, int row) {
        if (sequence[other] != sequence[row]) {
            return false;
        }
        return sentence[row] < 0 || sentence[other] < 0 || (sentence[other] == sentence[row] && doc[other] == doc[row]);
    }
}
