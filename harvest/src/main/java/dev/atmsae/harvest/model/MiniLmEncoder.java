package dev.atmsae.harvest.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs MiniLM with ONNX Runtime (CPU) and returns the activations of chosen layers. Owns one ORT session; not
 * thread-safe. The session is built from a copy of the model whose graph outputs exactly the requested layers' tensors
 * and holds only the blocks they depend on ({@link OnnxGraphOutputs#truncatedTo}): ONNX Runtime runs a whole graph
 * whatever is fetched, so a layer-3 harvest through the full model paid for blocks 4 and 5 as well.
 */
public final class MiniLmEncoder implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final List<Layer> layers;

    /** A batch's activations: for each requested layer, a row-major [batch, maxLength, 384] float array. */
    public record Output(int batch, int maxLength, Map<Layer, float[]> activations) {
        /** Offset of the first of the 384 values of (sequence, position) in a layer's array. */
        public int offset(int sequence, int position) {
            return (sequence * maxLength + position) * MiniLm.D_MODEL;
        }
    }

    public MiniLmEncoder(List<Layer> layers, int intraOpThreads) {
        this(MiniLm.modelBytes(), layers, intraOpThreads);
    }

    MiniLmEncoder(byte[] modelBytes, List<Layer> layers, int intraOpThreads) {
        this.layers = List.copyOf(new LinkedHashSet<>(layers));
        List<String> wanted = new ArrayList<>();
        for (Layer layer : this.layers) {
            wanted.add(layer.tensorName());
        }
        byte[] bytes = OnnxGraphOutputs.truncatedTo(modelBytes, wanted);
        this.env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            this.session = env.createSession(bytes, options);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not load MiniLM: " + e.getMessage(), e);
        }
    }

    public List<Layer> layers() {
        return layers;
    }

    /**
     * Runs a batch of id sequences (each already framed by [CLS] … [SEP]); shorter ones are padded with [PAD] and
     * masked out, token types are all 0.
     */
    public Output run(List<int[]> sequences) {
        int batch = sequences.size();
        int maxLength = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
        if (batch == 0 || maxLength == 0) {
            throw new IllegalArgumentException("empty batch");
        }
        long[] ids = new long[batch * maxLength];
        long[] mask = new long[batch * maxLength];
        for (int b = 0; b < batch; b++) {
            int[] seq = sequences.get(b);
            for (int t = 0; t < seq.length; t++) {
                ids[b * maxLength + t] = seq[t];
                mask[b * maxLength + t] = 1;
            }
        }
        long[] shape = {batch, maxLength};
        Set<String> wanted = new LinkedHashSet<>();
        for (Layer layer : layers) {
            wanted.add(layer.tensorName());
        }
        try (OnnxTensor idTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typeTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
             OrtSession.Result result = session.run(
                     Map.of("input_ids", idTensor, "attention_mask", maskTensor, "token_type_ids", typeTensor),
                     wanted)) {
            Map<Layer, float[]> activations = new LinkedHashMap<>();
            for (Layer layer : layers) {
                OnnxValue value = result.get(layer.tensorName())
                        .orElseThrow(() -> new IllegalStateException("ONNX Runtime returned no " + layer.tensorName()));
                FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
                float[] values = new float[batch * maxLength * MiniLm.D_MODEL];
                if (buffer.remaining() != values.length) {
                    throw new IllegalStateException(layer.tensorName() + ": expected " + values.length
                            + " values, got " + buffer.remaining());
                }
                buffer.get(values);
                activations.put(layer, values);
            }
            return new Output(batch, maxLength, activations);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime run failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
