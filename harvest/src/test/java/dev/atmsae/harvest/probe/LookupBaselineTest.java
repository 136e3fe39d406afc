package dev.atmsae.harvest.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class LookupBaselineTest {
    @Test
    void mostFrequentTrainingClassPerWordWithGlobalFallback() {
        // train: "run" 2x class 1 and 1x class 0 -> 1; "the" -> 2; class 0 is most frequent overall (3 of 7)
        List<String> words = List.of("run", "Run", "run", "the", "dog", "cat", "fish", "RUN", "the", "bird", "the");
        int[] labels = {1, 1, 0, 2, 0, 0, 3, 1, 2, 0, 0};
        int[] split = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
        LookupBaseline.Result r = LookupBaseline.evaluate(words, labels, split, 4);
        // test: RUN -> 1 (right), the -> 2 (right), bird unseen -> 0 (right), the -> 2 (wrong, label 0)
        assertEquals(0.75, r.accuracy(), 1e-12);
        assertEquals(4, r.testRows());
        assertEquals(1, r.unseenRows());
        assertEquals(1.0, r.unseenAccuracy(), 1e-12);
        assertEquals(0.75, r.toJson().get("test_accuracy"));
    }
}
