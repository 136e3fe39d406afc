package dev.atmsae.harvest.probe;

import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.harvest.Progress;
import dev.atmsae.harvest.corpus.DocumentSelection;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.MiniLmEncoder;
import dev.atmsae.harvest.model.WordPieceTokenizer;
import dev.atmsae.core.Philox;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * SAEBench's first-letter probe set on MiniLM (absorption.md §1): the words are the vocabulary entries made only of
 * {@code [a-zA-Z]} (BERT's {@code convert_tokens_to_string} keeps {@code ##} on a lone continuation piece, so those
 * fail the test; the uncased vocabulary makes every kept word lower case); label = first letter; split 80/20 by word
 * (seeded Philox shuffle). Each word is read inside an ICL prompt of 10 examples drawn without replacement from the
 * same split (never the word itself): {@code "\n" + join("\n", ex + " has the first letter: " + EX[0]) + "\n" + word
 * + " has the first letter:"}; the activation is taken at the word's token, 7th from the end ([SEP] is last).
 */
public final class FirstLetterProbeSetBuilder {
    public static final int ICL_EXAMPLES = 10;
    public static final String TEMPLATE = "%s has the first letter:";
    private static final Pattern ALPHA = Pattern.compile("[a-zA-Z]+");
    /** Tokens after the word: "has the first letter :" and [SEP]. */
    private static final int WORD_FROM_END = 7;
    private static final double TRAIN_FRACTION = 0.8;

    /** What to build. {@code maxWords ≤ 0} = every alphabetic vocabulary word. */
    public record Options(Path out, Layer layer, int maxWords, int batchSize, int threads, long seed, boolean quiet) {}

    public record Result(ProbeSet set, int vocabularyWords, double tokensPerSecond) {}

    private FirstLetterProbeSetBuilder() {}

    /** Vocabulary entries that are whole alphabetic words, in id order. */
    public static List<String> alphabeticWords(WordPieceTokenizer tokenizer) {
        List<String> words = new ArrayList<>();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            String token = tokenizer.token(id);
            if (token != null && ALPHA.matcher(token).matches()) {
                words.add(token);
            }
        }
        return words;
    }

    /** The ICL prompt for {@code word} with the given examples. */
    public static String prompt(List<String> examples, String word) {
        StringBuilder sb = new StringBuilder("\n");
        for (String ex : examples) {
            sb.append(String.format(TEMPLATE, ex)).append(' ')
                    .append(Character.toUpperCase(ex.charAt(0))).append('\n');
        }
        return sb.append(String.format(TEMPLATE, word)).toString();
    }

    public static Result build(Options options) {
        WordPieceTokenizer tokenizer = WordPieceTokenizer.miniLm();
        List<String> vocabWords = alphabeticWords(tokenizer);
        List<String> shuffled = DocumentSelection.shuffled(vocabWords, options.seed(), Philox.STREAM_SPLIT);
        List<String> words = options.maxWords() > 0 && options.maxWords() < shuffled.size()
                ? shuffled.subList(0, options.maxWords()) : shuffled;
        int trainCount = (int) Math.round(TRAIN_FRACTION * words.size());
        List<String> train = words.subList(0, trainCount);
        List<String> test = words.subList(trainCount, words.size());
        if (train.size() <= ICL_EXAMPLES || test.size() <= ICL_EXAMPLES) {
            throw new dev.atmsae.util.UserError("--max-words " + options.maxWords()
                    + " is too small: each split needs more than " + ICL_EXAMPLES + " words for the ICL examples");
        }

        int n = words.size();
        List<int[]> sequences = new ArrayList<>(n);
        long draw = 0;
        for (int i = 0; i < n; i++) {
            List<String> pool = i < trainCount ? train : test;
            String word = words.get(i);
            Set<String> examples = new LinkedHashSet<>();
            while (examples.size() < ICL_EXAMPLES) {
                String ex = pool.get((int) (Philox.uniform(options.seed(), Philox.STREAM_PROBE, draw++) * pool.size()));
                if (!ex.equals(word)) {
                    examples.add(ex);
                }
            }
            int[] content = tokenizer.encode(prompt(new ArrayList<>(examples), word));
            int[] ids = new int[content.length + 2];
            ids[0] = MiniLm.CLS_ID;
            System.arraycopy(content, 0, ids, 1, content.length);
            ids[ids.length - 1] = MiniLm.SEP_ID;
            if (ids[ids.length - WORD_FROM_END] != tokenizer.id(word)) {
                throw new IllegalStateException("first-letter prompt for '" + word + "' does not hold the word as one"
                        + " token at position -" + WORD_FROM_END);
            }
            sequences.add(ids);
        }

        float[] acts = new float[n * MiniLm.D_MODEL];
        long totalTokens = sequences.stream().mapToLong(s -> s.length).sum();
        Progress progress = new Progress("probe-set first-letter", totalTokens, options.quiet());
        try (MiniLmEncoder encoder = new MiniLmEncoder(List.of(options.layer()), options.threads())) {
            progress.start();
            for (int start = 0; start < n; start += options.batchSize()) {
                List<int[]> batch = sequences.subList(start, Math.min(n, start + options.batchSize()));
                MiniLmEncoder.Output out = encoder.run(batch);
                float[] values = out.activations().get(options.layer());
                long tokens = 0;
                for (int b = 0; b < batch.size(); b++) {
                    int position = batch.get(b).length - WORD_FROM_END;
                    System.arraycopy(values, out.offset(b, position), acts, (start + b) * MiniLm.D_MODEL,
                            MiniLm.D_MODEL);
                    tokens += batch.get(b).length;
                }
                progress.advance(tokens);
            }
        }

        List<ProbeSet.ParentClass> parents = new ArrayList<>();
        for (char c = 'a'; c <= 'z'; c++) {
            parents.add(new ProbeSet.ParentClass(String.valueOf(c), List.of()));
        }
        int[] parent = new int[n];
        int[] child = new int[n];
        int[] split = new int[n];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = Character.toLowerCase(words.get(i).charAt(0)) - 'a';
            child[i] = -1;
            split[i] = i < trainCount ? ProbeSet.TRAIN : ProbeSet.TEST;
            group[i] = tokenizer.id(words.get(i));
        }
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("model", MiniLm.MODEL_NAME);
        source.put("layer", options.layer().toString());
        source.put("hook_name", options.layer().hookName());
        source.put("tensor", options.layer().tensorName());
        source.put("prompt_template", TEMPLATE);
        source.put("icl_examples", ICL_EXAMPLES);
        source.put("position", "the word's token, index -" + WORD_FROM_END + " ([SEP] last)");
        source.put("vocabulary_words", vocabWords.size());
        source.put("words", n);
        source.put("split", "by word: seeded Philox shuffle (stream SPLIT), first 80% train");
        source.put("seed", options.seed());
        source.put("group", "vocabulary id of the word");
        source.put("note", "absorption.md section 9: first letters are not linearly decodable in MiniLM "
                + "(probe macro-F1 about 0.25); do not read absorption numbers on this set as meaningful");
        ProbeSet set = new ProbeSet("first-letter-minilm-layer" + options.layer(), "first-letter", MiniLm.D_MODEL,
                source, acts, parents, parent, child, split, group, List.copyOf(words));
        ProbeSets.write(options.out(), set);
        return new Result(set, vocabWords.size(), progress.tokensPerSecond());
    }
}
