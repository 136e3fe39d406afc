package dev.atmsae.harvest.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's uncased WordPiece tokeniser as configured in MiniLM's tokenizer json: BertNormalizer (clean text, CJK spacing,
 * lower case, NFD + drop combining marks), BertPreTokenizer (split on whitespace, isolate punctuation), then greedy
 * longest-match WordPiece with the {@code ##} continuation prefix; a word longer than 100 characters, or one with an
 * unmatchable rest, becomes {@code [UNK]}. Written by hand (about 100 lines) so the harvest needs no native tokenizer;
 * checked against ids read from the vocabulary in {@code WordPieceTokenizerTest}.
 */
public final class WordPieceTokenizer {
    private static final String CONTINUATION = "##";
    private static final int MAX_WORD_CHARS = 100;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;

    private WordPieceTokenizer(Map<String, Integer> vocab) {
        this.vocab = vocab;
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.idToToken = new String[max + 1];
        vocab.forEach((token, id) -> idToToken[id] = token);
    }

    /** The tokeniser of the embedded MiniLM (parsed once; the object is immutable). */
    public static WordPieceTokenizer miniLm() {
        return MiniLmHolder.INSTANCE;
    }

    private static final class MiniLmHolder {
        static final WordPieceTokenizer INSTANCE = fromJson(MiniLm.tokenizerJson());
    }

    /** Reads {@code model.vocab} (token → id) of a Hugging Face tokenizer json. */
    public static WordPieceTokenizer fromJson(byte[] json) {
        try {
            JsonNode vocabNode = new ObjectMapper().readTree(json).path("model").path("vocab");
            if (!vocabNode.isObject() || vocabNode.isEmpty()) {
                throw new IllegalArgumentException("tokenizer json has no model.vocab object");
            }
            Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
            for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
                vocab.put(e.getKey(), e.getValue().intValue());
            }
            return new WordPieceTokenizer(vocab);
        } catch (IOException e) {
            throw new UncheckedIOException("parsing tokenizer json", e);
        }
    }

    public int vocabSize() {
        return idToToken.length;
    }

    /** The vocabulary entry for an id (e.g. {@code "##ing"}). */
    public String token(int id) {
        return idToToken[id];
    }

    /** The id of a vocabulary entry, or -1. */
    public int id(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    /** Ids of a text without the [CLS]/[SEP] the model expects around a sequence. */
    public int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        for (String word : preTokenize(normalize(text))) {
            appendWordPieces(word, ids);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** BertNormalizer with clean_text, handle_chinese_chars, lowercase and (implied by lowercase) strip_accents. */
    static String normalize(String text) {
        StringBuilder cleaned = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                cleaned.append(' ');
            } else if (isChineseChar(c)) {
                cleaned.append(' ').appendCodePoint(c).append(' ');
            } else {
                cleaned.appendCodePoint(c);
            }
        });
        String decomposed = Normalizer.normalize(cleaned, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints()
                .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
                .forEach(out::appendCodePoint);
        return out.toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** BertPreTokenizer: whitespace separates words and is dropped; each punctuation character is its own word. */
    static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (isWhitespace(c) || isPunctuation(c)) {
                if (!current.isEmpty()) {
                    words.add(current.toString());
                    current.setLength(0);
                }
                if (isPunctuation(c)) {
                    words.add(new String(Character.toChars(c)));
                }
            } else {
                current.appendCodePoint(c);
            }
        }
        if (!current.isEmpty()) {
            words.add(current.toString());
        }
        return words;
    }

    /** Greedy longest-match-first WordPiece of one pre-tokenised word. */
    private void appendWordPieces(String word, List<Integer> ids) {
        if (word.codePointCount(0, word.length()) > MAX_WORD_CHARS) {
            ids.add(MiniLm.UNK_ID);
            return;
        }
        int mark = ids.size();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer match = null;
            while (end > start) {
                String piece = start == 0 ? word.substring(start, end) : CONTINUATION + word.substring(start, end);
                match = vocab.get(piece);
                if (match != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (match == null) {
                // One unmatchable rest makes the whole word unknown, as in BERT.
                ids.subList(mark, ids.size()).clear();
                ids.add(MiniLm.UNK_ID);
                return;
            }
            ids.add(match);
            start = end;
        }
    }

    private static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || Character.getType(c) == Character.SPACE_SEPARATOR
                || Character.isWhitespace(c);
    }

    private static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE || type == Character.UNASSIGNED;
    }

    private static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static boolean isChineseChar(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
