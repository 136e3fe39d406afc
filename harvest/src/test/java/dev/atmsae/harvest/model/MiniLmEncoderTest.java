package dev.atmsae.harvest.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

public class MiniLmEncoderTest {
    private static byte[] model;
    private static MiniLmEncoder rewritten;
    private static final int[] HELLO_WORLD = {101, 7592, 2088, 102};

    @BeforeAll
    static void load() {
        model = MiniLm.modelBytes();
        rewritten = new MiniLmEncoder(model, List.of(Layer.EMBEDDINGS, new Layer(3), new Layer(5)), 2);
    }

    @AfterAll
    static void close() {
        rewritten.close();
    }

    @Test
    void rewriteAppendsNamedOutputsAndKeepsTheRest() {
        assertEquals(List.of("last_hidden_state"), OnnxGraphOutputs.outputNames(model));
        byte[] more = OnnxGraphOutputs.withExtraOutputs(model,
                List.of(Layer.EMBEDDINGS.tensorName(), new Layer(0).tensorName()));
        assertEquals(List.of("last_hidden_state", "/embeddings/LayerNorm/Add_1_output_0",
                "/encoder/layer.0/output/LayerNorm/Add_1_output_0"), OnnxGraphOutputs.outputNames(more));
        assertTrue(more.length > model.length);
        assertThrows(IllegalArgumentException.class,
                () -> OnnxGraphOutputs.withExtraOutputs(new byte[] {0x08, 0x07}, List.of("x")));
    }

    @Test
    void lastLayerOfRewrittenModelEqualsUnmodifiedModel() throws Exception {
        float[] direct = directLastHiddenState(HELLO_WORLD);
        MiniLmEncoder.Output out = rewritten.run(List.of(HELLO_WORLD));
        float[] viaRewrite = out.activations().get(new Layer(5));
        assertEquals(direct.length, viaRewrite.length);
        double maxDiff = 0;
        for (int i = 0; i < direct.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(direct[i] - viaRewrite[i]));
        }
        assertTrue(maxDiff <= 1e-5, "max |diff| = " + maxDiff);
        // stack.md §6: the first values of "[CLS] hello world [SEP]" at the last layer.
        assertEquals(0.1764, direct[0], 1e-4);
        assertEquals(0.0394, direct[1], 1e-4);
        assertEquals(0.0779, direct[2], 1e-4);
        assertEquals(0.2585, direct[3], 1e-4);
    }

    /** The truncated graph (what the encoder runs) computes block 3 bit for bit as the full graph does. */
    @Test
    void truncatedGraphGivesTheFullGraphsBits() throws Exception {
        String layer3 = new Layer(3).tensorName();
        byte[] full = OnnxGraphOutputs.withExtraOutputs(model, List.of(layer3));
        byte[] cut = OnnxGraphOutputs.truncatedTo(model, List.of(layer3));
        assertTrue(cut.length < full.length * 0.9, "blocks 4 and 5 (weights included) are cut: " + cut.length);
        int[] sentence = {101, 1996, 4937, 2938, 2006, 1996, 13523, 102};
        assertArrayEquals(run(full, layer3, sentence), run(cut, layer3, sentence));
        assertArrayEquals(run(full, layer3, sentence), rewritten.run(List.of(sentence)).activations().get(new Layer(3)));
    }

    private static float[] run(byte[] bytes, String tensor, int[] ids) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = {1, ids.length};
        long[] longIds = java.util.Arrays.stream(ids).asLongStream().toArray();
        long[] ones = new long[ids.length];
        java.util.Arrays.fill(ones, 1);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(bytes, options);
                 OnnxTensor idTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(longIds), shape);
                 OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
                 OnnxTensor typeTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
                 OrtSession.Result result = session.run(Map.of("input_ids", idTensor, "attention_mask", maskTensor,
                         "token_type_ids", typeTensor), java.util.Set.of(tensor))) {
                FloatBuffer buffer = ((OnnxTensor) result.get(tensor).orElseThrow()).getFloatBuffer();
                float[] values = new float[buffer.remaining()];
                buffer.get(values);
                return values;
            }
        }
    }

    @Test
    void embeddingsAreContextFreeAndLayer3IsNot() {
        int[] theCat = {101, 1996, 4937, 102};
        int[] theDog = {101, 1996, 3899, 102};
        MiniLmEncoder.Output out = rewritten.run(List.of(theCat, theDog));
        float[] emb = out.activations().get(Layer.EMBEDDINGS);
        float[] l3 = out.activations().get(new Layer(3));
        double embDiff = 0;
        double l3Diff = 0;
        double l3Norm = 0;
        for (int k = 0; k < MiniLm.D_MODEL; k++) {
            embDiff = Math.max(embDiff, Math.abs(emb[out.offset(0, 1) + k] - emb[out.offset(1, 1) + k]));
            l3Diff = Math.max(l3Diff, Math.abs(l3[out.offset(0, 1) + k] - l3[out.offset(1, 1) + k]));
            l3Norm += (double) l3[out.offset(0, 1) + k] * l3[out.offset(0, 1) + k];
        }
        assertTrue(embDiff <= 1e-6, "the embedding of 'the' at position 1 must not see the next word: " + embDiff);
        assertTrue(l3Diff > 1e-2, "layer 3 must mix context: " + l3Diff);
        assertTrue(Math.sqrt(l3Norm) > 1, "layer 3 activation norm " + Math.sqrt(l3Norm));
    }

    @Test
    void paddingInABatchDoesNotChangeRealPositions() {
        int[] longer = {101, 1996, 4937, 2938, 2006, 1996, 13523, 102};
        float[] alone = rewritten.run(List.of(HELLO_WORLD)).activations().get(new Layer(3));
        MiniLmEncoder.Output padded = rewritten.run(List.of(longer, HELLO_WORLD));
        float[] batched = padded.activations().get(new Layer(3));
        double maxDiff = 0;
        for (int t = 0; t < HELLO_WORLD.length; t++) {
            for (int k = 0; k < MiniLm.D_MODEL; k++) {
                maxDiff = Math.max(maxDiff, Math.abs(alone[t * MiniLm.D_MODEL + k] - batched[padded.offset(1, t) + k]));
            }
        }
        assertTrue(maxDiff <= 1e-4, "max |diff| = " + maxDiff);
    }

    /** ONNX Runtime on the unmodified model bytes, without any atmsae code in between. */
    public static float[] directLastHiddenState(int[] ids) throws Exception {
        return directLastHiddenStates(List.of(ids)).get(0);
    }

    /** As above for several sequences, each run alone (batch 1) in one session. */
    public static List<float[]> directLastHiddenStates(List<int[]> sequences) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<float[]> outputs = new java.util.ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(MiniLm.modelBytes(), options)) {
                for (int[] ids : sequences) {
                    long[] shape = {1, ids.length};
                    long[] idValues = new long[ids.length];
                    long[] mask = new long[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        idValues[i] = ids[i];
                        mask[i] = 1;
                    }
                    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(idValues), shape);
                         OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                         OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
                         OrtSession.Result r = session.run(
                                 Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
                        FloatBuffer buf = ((OnnxTensor) r.get("last_hidden_state").orElseThrow()).getFloatBuffer();
                        float[] out = new float[buf.remaining()];
                        buf.get(out);
                        outputs.add(out);
                    }
                }
            }
        }
        return outputs;
    }
}
