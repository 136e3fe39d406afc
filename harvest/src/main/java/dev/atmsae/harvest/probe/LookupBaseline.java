package dev.atmsae.harvest.probe;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The word-identity baseline of the POS task (absorption.md §9): predict each test word's parent class as the class
 * that word (lower-cased, as the uncased model sees it) carried most often in the training split; words never seen in
 * training get the overall most frequent training class. Ties go to the lower class index, so the result is
 * deterministic. Reported beside probe numbers so word identity is not mistaken for concept structure.
 */
public final class LookupBaseline {
    private LookupBaseline() {}

    /** Accuracy on the test rows overall and on words unseen in training. */
    public record Result(double accuracy, double unseenAccuracy, int testRows, int unseenRows, int classes) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", classes + "-way parent class");
            m.put("rule", "most frequent training tag of the lower-cased word; unseen words get the most frequent class");
            m.put("test_accuracy", round(accuracy));
            m.put("test_accuracy_unseen_words", round(unseenAccuracy));
            m.put("test_rows", testRows);
            m.put("test_rows_unseen_words", unseenRows);
            return m;
        }
    }

    /**
     * @param words  per row the surface word
     * @param labels per row the class in [0, classes)
     * @param split  per row 0 = train, 1 = test
     */
    public static Result evaluate(List<String> words, int[] labels, int[] split, int classes) {
        Map<String, int[]> counts = new HashMap<>();
        int[] overall = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            if (split[i] == 0) {
                counts.computeIfAbsent(key(words.get(i)), k -> new int[classes])[labels[i]]++;
                overall[labels[i]]++;
            }
        }
        int fallback = argmax(overall);
        int test = 0;
        int correct = 0;
        int unseen = 0;
        int unseenCorrect = 0;
        for (int i = 0; i < labels.length; i++) {
            if (split[i] != 1) {
                continue;
            }
            int[] c = counts.get(key(words.get(i)));
            int predicted = c == null ? fallback : argmax(c);
            test++;
            if (predicted == labels[i]) {
                correct++;
            }
            if (c == null) {
                unseen++;
                if (predicted == labels[i]) {
                    unseenCorrect++;
                }
            }
        }
        return new Result(test == 0 ? Double.NaN : (double) correct / test,
                unseen == 0 ? Double.NaN : (double) unseenCorrect / unseen, test, unseen, classes);
    }

    private static String key(String word) {
        return word.toLowerCase(Locale.ROOT);
    }

    private static int argmax(int[] c) {
        int best = 0;
        for (int i = 1; i < c.length; i++) {
            if (c[i] > c[best]) {
                best = i;
            }
        }
        return best;
    }

    private static Object round(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 1e4) / 1e4;
    }
}
