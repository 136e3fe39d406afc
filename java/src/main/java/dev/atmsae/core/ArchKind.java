package dev.atmsae.core;

import dev.atmsae.util.UserError;

/** The SAE architectures atmsae trains; {@link #id()} is the name used on the command line and in config files. */
public enum ArchKind {
    ATM("atm"), TOPK("topk"), BATCHTOPK("batchtopk"), JUMPRELU("jumprelu"), RELU("relu"),
    /** Matryoshka BatchTopK (Bussmann, Nabeshima, Karvonen &amp; Nanda 2025); also accepted as matryoshka_batchtopk. */
    MATRYOSHKA("matryoshka");

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

    /** True where L0 is set by k (TopK, BatchTopK, Matryoshka BatchTopK): {@code --target-l0} means k. */
    public boolean kControlled() {
        return this == TOPK || this == BATCHTOPK || this == MATRYOSHKA;
    }

    public static ArchKind parse(String s) {
        if ("matryoshka_batchtopk".equalsIgnoreCase(s)) {
            return MATRYOSHKA;
        }
        for (ArchKind k : values()) {
            if (k.id.equalsIgnoreCase(s)) {
                return k;
            }
        }
        throw new UserError("unknown architecture '" + s + "' (expected atm, topk, batchtopk, jumprelu, relu or matryoshka)");
    }
}
