package dev.atmsae.harvest.corpus;

/**
 * One model input: {@code [CLS] … [SEP]} ids and, per position, where the token came from. {@code meta[t]} is null
 * for the two special tokens.
 *
 * @param document index of the document in the packer's document list
 */
public record PackedSequence(int document, int[] ids, TokenSource[] meta) {
    /** Where a WordPiece subtoken came from: sentence and word of the document, and whether it starts its word. */
    public record TokenSource(int sentence, int word, boolean firstSubtoken) {}

    public int length() {
        return ids.length;
    }

    /** Non-special positions. */
    public int contentTokens() {
        return ids.length - 2;
    }
}
