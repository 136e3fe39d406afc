package dev.atmsae.api;

import java.util.List;
import java.util.Locale;

/**
 * Feature absorption of an SAE on a {@link ProbeSet} (SAEBench's rules, docs/probe-sets.md). Means are over the kept
 * classes (those whose ground-truth probe reaches the F1 filter); a mean is NaN when no class was kept.
 *
 * @param meanAbsorptionFraction       SAEBench's current absorption fraction (the primary number)
 * @param meanAbsorptionFractionLegacy the earlier SAEBench fraction
 * @param meanFullAbsorption           the full-absorption rate (the ATM paper's absorption score)
 * @param classesKept                  classes that passed the probe filter
 * @param valid                        false when fewer classes were kept than the probe set's kind requires
 * @param classes                      per class, in the probe set's order
 * @param json                         the full report as JSON, exactly as {@code atmsae absorption --json} writes it
 */
public record AbsorptionResult(double meanAbsorptionFraction, double meanAbsorptionFractionLegacy,
                               double meanFullAbsorption, int classesKept, boolean valid, List<ClassResult> classes,
                               String json) {
    /**
     * Compact constructor: copies the class list.
     *
     * @param meanAbsorptionFraction       primary fraction
     * @param meanAbsorptionFractionLegacy legacy fraction
     * @param meanFullAbsorption           full-absorption rate
     * @param classesKept                  classes kept
     * @param valid                        enough classes kept
     * @param classes                      per class
     * @param json                         the full report
     */
    public AbsorptionResult {
        classes = List.copyOf(classes);
    }

    /**
     * The means and the class count in one line (the JSON report is left out), e.g. {@code AbsorptionResult[absorption
     * fraction 0.1234 (legacy 0.1000), full absorption 0.0500; 3 of 4 classes kept, valid]}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "AbsorptionResult[absorption fraction %.4f (legacy %.4f), full absorption %.4f;"
                + " %d of %d classes kept, %s]", meanAbsorptionFraction, meanAbsorptionFractionLegacy, meanFullAbsorption,
                classesKept, classes.size(), valid ? "valid" : "not valid (fewer classes kept than the probe set needs)");
    }

    /**
     * One parent class.
     *
     * @param name               the class
     * @param kept               whether it passed the probe filter (else it is left out of the means)
     * @param dropReason         why it was left out, or null
     * @param absorptionFraction its absorption fraction (NaN when not kept)
     * @param fullAbsorption     its full-absorption rate (NaN when not kept)
     * @param mainLatents        the SAE latents that best represent the class (k-sparse probing)
     */
    public record ClassResult(String name, boolean kept, String dropReason, double absorptionFraction,
                              double fullAbsorption, List<Integer> mainLatents) {
        /**
         * Compact constructor: copies the latent list.
         *
         * @param name               the class
         * @param kept               passed the filter
         * @param dropReason         why not, or null
         * @param absorptionFraction absorption fraction
         * @param fullAbsorption     full-absorption rate
         * @param mainLatents        main latents
         */
        public ClassResult {
            mainLatents = List.copyOf(mainLatents);
        }

        /**
         * The class in one line, e.g. {@code ClassResult[NOUN: absorption fraction 0.1000, full absorption 0.0200,
         * main latents [3, 7]]} or {@code ClassResult[ADV: dropped (reason)]}.
         *
         * @return the description
         */
        @Override
        public String toString() {
            return kept ? String.format(Locale.ROOT, "ClassResult[%s: absorption fraction %.4f, full absorption %.4f, main"
                    + " latents %s]", name, absorptionFraction, fullAbsorption, mainLatents)
                    : "ClassResult[" + name + ": dropped (" + dropReason + ")]";
        }
    }
}
