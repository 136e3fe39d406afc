package dev.atmsae.util;

/**
 * A problem with the user's input (a file, a value, a directory) rather than a bug in atmsae.
 * The CLI prints {@link #getMessage()} as one line and exits 1, with no stack trace unless --debug is given.
 * Messages name the file and the problem, e.g. {@code "shard_003.npy: truncated: header says 4096x384 <f4
 * (6291456 bytes of data) but the file holds 6291000"}.
 */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }

    /** A problem with a named file: the message becomes {@code "<path>: <problem>"}. */
    public static UserError inFile(Object path, String problem) {
        return new UserError(path + ": " + problem);
    }
}
