package dev.atmsae.harvest.corpus;

import dev.atmsae.core.Philox;
import dev.atmsae.util.UserError;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which Brown documents a run reads, in which order: the corpus ids filtered by genre letters, put in a seeded
 * Philox shuffle (so any prefix — {@code --files N} or a token budget — mixes genres instead of being all news), then
 * cut to the first {@code maxFiles}.
 */
public final class DocumentSelection {
    private DocumentSelection() {}

    /**
     * @param genres   genre letters to keep (empty = all)
     * @param maxFiles keep at most this many documents (≤ 0 = all)
     */
    public static List<String> select(List<String> ids, Set<Character> genres, int maxFiles, long seed) {
        List<String> kept = new ArrayList<>();
        for (String id : ids) {
            if (genres.isEmpty() || genres.contains(id.charAt(1))) {
                kept.add(id);
            }
        }
        if (kept.isEmpty()) {
            throw new UserError("--genres " + genres + ": no Brown document has these genre letters (a..r)");
        }
        List<String> order = shuffled(kept, seed, Philox.STREAM_SHUFFLE);
        return maxFiles > 0 && maxFiles < order.size() ? List.copyOf(order.subList(0, maxFiles)) : order;
    }

    /** A Fisher–Yates shuffle driven by Philox (seed, stream): the same on every machine and JVM. */
    public static <T> List<T> shuffled(List<T> items, long seed, int stream) {
        List<T> out = new ArrayList<>(items);
        for (int i = out.size() - 1; i > 0; i--) {
            int j = (int) (Philox.uniform(seed, stream, i) * (i + 1));
            T tmp = out.get(i);
            out.set(i, out.get(j));
            out.set(j, tmp);
        }
        return out;
    }
}
