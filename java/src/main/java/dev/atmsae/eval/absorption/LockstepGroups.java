package dev.atmsae.eval.absorption;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Splits per-class probe fits that run in lockstep (one pass over the data per round for a whole group) into as many
 * interleaved groups as run in parallel. Each class's result does not depend on its group, so the split only decides
 * how the work shares the cores.
 */
final class LockstepGroups {
    private LockstepGroups() {
    }

    /** {@code fitGroup} applied to interleaved groups of {@code items} in parallel; the results in item order. */
    static <T, R> List<R> map(List<T> items, Function<List<T>, List<R>> fitGroup) {
        int groups = Math.max(1, Math.min(items.size(), ForkJoinPool.getCommonPoolParallelism() + 1));
        Object[] results = new Object[items.size()];
        IntStream.range(0, groups).parallel().forEach(group -> {
            int[] members = IntStream.range(0, items.size()).filter(i -> i % groups == group).toArray();
            List<T> groupItems = new ArrayList<>(members.length);
            for (int i : members) {
                groupItems.add(items.get(i));
            }
            List<R> fitted = fitGroup.apply(groupItems);
            for (int m = 0; m < members.length; m++) {
                results[members[m]] = fitted.get(m);
            }
        });
        @SuppressWarnings("unchecked")
        List<R> inOrder = (List<R>) Arrays.asList(results);
        return List.copyOf(inOrder);
    }
}
