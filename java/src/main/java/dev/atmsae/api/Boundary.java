package dev.atmsae.api;

import dev.atmsae.util.UserError;
import java.util.function.Supplier;

/** Where internal user errors become the public {@link AtmsaeException} (same message, original kept as cause). */
final class Boundary {
    private Boundary() {
    }

    static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (UserError e) {
            throw new AtmsaeException(e.getMessage(), e);
        }
    }

    static void run(Runnable body) {
        call(() -> {
            body.run();
            return null;
        });
    }
}
