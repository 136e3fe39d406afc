package dev.atmsae.api;

/**
 * A problem with the caller's input rather than a bug in atmsae: a path that is not an SAE or shard, a tensor of the
 * wrong shape, a setting out of range, a training run that diverged. Unchecked, so that code which only ever passes
 * good input is not burdened with it; catch it where user-provided files or settings enter the program.
 *
 * <p>{@link #getMessage()} is a single line naming the file or setting and the problem — the same line the
 * {@code atmsae} command line prints for the same mistake, e.g.
 * {@code "runs/x/cfg.json: architecture 'gated' is not standard, topk or jumprelu"}.
 */
public final class AtmsaeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the one-line description of the problem
     * @param cause   the underlying error (kept for debugging), or null
     */
    public AtmsaeException(String message, Throwable cause) {
        super(message, cause);
    }
}
