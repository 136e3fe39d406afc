package dev.atmsae.api;

import dev.atmsae.util.UserError;
import java.util.function.Supplier;

/**
 * Where calls enter the library and problems leave it as the public {@link AtmsaeException}: checks the JVM's options
 * first ({@link JvmRequirements}), then turns an internal user error — also one wrapped by a worker thread, as the
 * command line finds it — into an {@code AtmsaeException} with the same message (the original kept as cause), and a
 * JVM that denies native access into one naming the flag that allows it.
 */
final class Boundary {
    private Boundary() {
    }

    static <T> T call(Supplier<T> body) {
        JvmRequirements.check();
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    static void run(Runnable body) {
        call(() -> {
            body.run();
            return null;
        });
    }

    /** The exception the caller sees for {@code e}: an AtmsaeException for a user or setup problem, else {@code e}. */
    static RuntimeException translate(RuntimeException e) {
        if (e instanceof AtmsaeException) {
            return e;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UserError user) {
                return new AtmsaeException(user.getMessage(), e);
            }
            if (t instanceof IllegalCallerException && String.valueOf(t.getMessage()).contains("native access")) {
                return new AtmsaeException("this JVM denies native access, which atmsae's OpenBLAS and CUDA bindings "
                        + "need: add the JVM option " + JvmRequirements.NATIVE_ACCESS_FLAG + " (" + t.getMessage() + ")",
                        e);
            }
        }
        return e;
    }
}
