package dev.atmsae.arch;

import dev.atmsae.util.UserError;

/** The SAE architectures atmsae trains; {@link #id()} is the name used on the command line and in config files. */
public enum ArchKind {
    ATM("atm"), TOPK("topk"), BATCHTOPK("batchtopk"), JUMPRELU("jumprelu"), RELU("relu");

    private final String id;

    ArchKind(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** True where decoder rows are kept at unit norm (gradient projection before the step, renormalisation after). */
    public boolean unitNormDecoder() {
        return this != RELU;
    }

    /** True where L0 is set by a sparsity coefficient (and so by the target-L0 controller) rather than by k. */
    public boolean coefficientControlled() {
        return this == ATM || this == RELU || this == JUMPRELU;
    }

    public static ArchKind parse(String s) {
        for (ArchKind k : values()) {
            if (k.id.equalsIgnoreCase(s)) {
                return k;
            }
        }
        throw new UserError("unknown architecture '" + s + "' (expected atm, topk, batchtopk, jumprelu or relu)");
    }
}
