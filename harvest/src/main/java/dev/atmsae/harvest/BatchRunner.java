package dev.atmsae.harvest;

import dev.atmsae.harvest.corpus.PackedSequence;
import dev.atmsae.harvest.model.MiniLmEncoder;
import java.util.ArrayList;
import java.util.List;

/** Feeds sequences to the encoder in batches and hands each batch's activations to a consumer, in order. */
public final class BatchRunner {
    /** Receives one batch: its sequences, their index in the run's list, and the encoder output. */
    public interface Consumer {
        void accept(List<PackedSequence> batch, int firstSequence, MiniLmEncoder.Output output);
    }

    private BatchRunner() {}

    public static void run(MiniLmEncoder encoder, List<PackedSequence> sequences, int batchSize, Progress progress,
                    Consumer consumer) {
        for (int start = 0; start < sequences.size(); start += batchSize) {
            List<PackedSequence> batch = sequences.subList(start, Math.min(sequences.size(), start + batchSize));
            List<int[]> ids = new ArrayList<>(batch.size());
            long tokens = 0;
            for (PackedSequence s : batch) {
                ids.add(s.ids());
                tokens += s.length();
            }
            consumer.accept(batch, start, encoder.run(ids));
            progress.advance(tokens);
        }
    }
}
