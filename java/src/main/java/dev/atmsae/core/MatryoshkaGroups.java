package dev.atmsae.core;

import dev.atmsae.util.UserError;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code matryoshka_groups} setting: contiguous latent groups g_1..g_M of a width-n dictionary, resolved to the
 * group ends (exclusive prefix widths, strictly increasing, the last = n). Accepted forms, comma-separated:
 * <ul>
 *   <li>{@code auto} (default): the SAEBench fractions 1/32, 1/16, 1/8, 1/4 and the rest; at widths where a fraction
 *       rounds to 0 latents that group is dropped [choice: a narrow test SAE still trains, with fewer groups].</li>
 *   <li>sizes, e.g. {@code 256,256,512,1024,2048}: integers ≥ 1 that sum to the width.</li>
 *   <li>fractions (a list with any entry written as a/b or a decimal), e.g. {@code 1/32,1/16,0.125,0.25,rest}:
 *       each in (0, 1]; group sizes are ⌊f·n⌋ (as
 *       dictionary_learning) and the last group takes the remainder, so fractions must sum to 1 unless the list ends
 *       with {@code rest}.</li>
 * </ul>
 * A list may end with {@code rest} (the latents the others leave). Every group must be non-empty. Errors are one-line
 * {@link UserError}s naming the setting.
 */
public final class MatryoshkaGroups {
    public static final String KEY = "matryoshka_groups";
    public static final String AUTO = "auto";
    private static final String[] SAEBENCH = {"1/32", "1/16", "1/8", "1/4", "rest"};

    private MatryoshkaGroups() {
    }

    /** Group ends for {@code spec} at width {@code n}: ends[m] = number of latents in groups 1..m+1. */
    public static int[] ends(String spec, int n) {
        if (spec == null || spec.isBlank()) {
            throw error(spec, "must not be empty");
        }
        if (AUTO.equalsIgnoreCase(spec.trim())) {
            return dropEmpty(sizes(SAEBENCH, n, spec, false));
        }
        return cumulative(sizes(spec.split(","), n, spec, true), n, spec);
    }

    private static int[] sizes(String[] entries, int n, String spec, boolean strict) {
        int count = entries.length;
        boolean rest = "rest".equalsIgnoreCase(entries[count - 1].trim());
        int explicit = rest ? count - 1 : count;
        if (explicit == 0) {
            return new int[] {n};
        }
        // a list with any fractional entry is a list of fractions ("1/2,0,1/2" has a zero fraction, not a size 0)
        boolean fractions = false;
        for (int m = 0; m < explicit; m++) {
            String e = entries[m].trim();
            if (e.isEmpty()) {
                throw error(spec, "has an empty entry");
            }
            if ("rest".equalsIgnoreCase(e)) {
                throw error(spec, "may use 'rest' only as its last entry");
            }
            fractions |= e.contains("/") || e.contains(".") || e.contains("e") || e.contains("E");
        }
        int[] out = new int[count];
        long used = 0;
        double fracSum = 0;
        for (int m = 0; m < explicit; m++) {
            String e = entries[m].trim();
            if (fractions) {
                double f = fraction(e, spec);
                if (!(f > 0) || f > 1) {
                    throw error(spec, "has fraction " + e + " outside (0, 1]");
                }
                fracSum += f;
                out[m] = (int) Math.floor(f * n + 1e-9);
            } else {
                long size;
                try {
                    size = Long.parseLong(e);
                } catch (NumberFormatException ex) {
                    throw error(spec, "has '" + e + "', which is neither a size, a fraction nor 'rest'");
                }
                if (size < 1) {
                    throw error(spec, "has group size " + size + " (every group needs ≥ 1 latent)");
                }
                out[m] = (int) Math.min(size, Integer.MAX_VALUE);
            }
            used += out[m];
        }
        if (fractions && !rest) {
            if (Math.abs(fracSum - 1) > 1e-6) {
                throw error(spec, "has fractions summing to " + fracSum + ", not 1 (or end the list with 'rest')");
            }
            used -= out[count - 1];
            out[count - 1] = (int) (n - used); // the last group takes what rounding left
            used = n;
        } else if (!fractions && !rest && used != n) {
            throw error(spec, "has sizes summing to " + used + ", not the width " + n);
        }
        if (rest) {
            out[count - 1] = (int) (n - used);
        }
        if (used > n) {
            throw error(spec, "needs " + used + " latents, more than the width " + n);
        }
        if (strict) {
            for (int m = 0; m < count; m++) {
                if (out[m] < 1) {
                    throw error(spec, "gives group " + (m + 1) + " no latents at width " + n);
                }
            }
        }
        return out;
    }

    private static double fraction(String e, String spec) {
        try {
            int slash = e.indexOf('/');
            if (slash >= 0) {
                return Double.parseDouble(e.substring(0, slash).trim()) / Double.parseDouble(e.substring(slash + 1).trim());
            }
            return Double.parseDouble(e);
        } catch (NumberFormatException ex) {
            throw error(spec, "has '" + e + "', which is not a fraction");
        }
    }

    private static int[] dropEmpty(int[] sizes) {
        List<Integer> ends = new ArrayList<>();
        int end = 0;
        for (int size : sizes) {
            if (size > 0) {
                end += size;
                ends.add(end);
            }
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] cumulative(int[] sizes, int n, String spec) {
        int[] ends = new int[sizes.length];
        int end = 0;
        for (int m = 0; m < sizes.length; m++) {
            end += sizes[m];
            ends[m] = end;
        }
        if (end != n) {
            throw error(spec, "covers " + end + " latents, not the width " + n);
        }
        return ends;
    }

    private static UserError error(String spec, String why) {
        return new UserError("config: " + KEY + " = " + spec + " " + why);
    }
}
