package dev.atmsae.api;

/**
 * Receives a {@link Training}'s progress. Called on the training thread after every optimizer step, so keep it short
 * (hand work to another thread if it is not); an exception thrown here ends the run (after the last checkpoint).
 */
@FunctionalInterface
public interface TrainingListener {
    /**
     * One step finished.
     *
     * @param progress the step's numbers
     */
    void onProgress(TrainingProgress progress);
}
