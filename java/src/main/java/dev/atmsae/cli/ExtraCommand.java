package dev.atmsae.cli;

/**
 * A verb contributed by an optional module found on the class path through {@link java.util.ServiceLoader}
 * (the {@code harvest} module, which carries ONNX Runtime, registers {@code atmsae harvest} this way so the core
 * library and the GPU-host bundle do not depend on it).
 */
public interface ExtraCommand {
    /** A picocli-annotated command object. */
    Object command();
}
