package dev.atmsae.train;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.Safetensors;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a run needs to continue exactly where it stopped, stored in {@code DIR/checkpoint/}:
 * <ul>
 *   <li>{@code state-<step>.safetensors}: every training tensor (weights, Adam moments, architecture statistics),
 *       downloaded from the engine. I32 tensors are stored bit for bit in F32 slots and listed in the file's
 *       {@code __metadata__} key {@code i32}; the file is private to atmsae, never an export.</li>
 *   <li>{@code manifest.json}, written last: format, step, loader position (batches delivered), input scale,
 *       the full config, the architecture's scalars, trainer counters, and the name of the state file.</li>
 * </ul>
 * Both files go through {@link AtomicFiles} (temp file, fsync, rename, fsync dir). Because the state file name carries
 * the step and the manifest is replaced only after the new state file is durable, a kill at any moment leaves the
 * previous manifest pointing at the previous, complete state file; older state files are deleted only afterwards.
 * Randomness needs no state: every draw is Philox keyed by (seed, step, ...).
 */
public final class Checkpoint {
    public static final String FORMAT = "atmsae-checkpoint";
    public static final int VERSION = 1;
    public static final String MANIFEST = "manifest.json";
    /** Test hook: "STEP:MARKERFILE" makes the manifest write for STEP stop half-way, create MARKERFILE and hang. */
    public static final String PAUSE_PROPERTY = "atmsae.test.checkpointPause";

    /** A tensor on the heap: exactly one of {@code f32} / {@code i32} is set. */
    public record HostTensor(int rows, int cols, float[] f32, int[] i32) {
        public static HostTensor download(Engine engine, Tensor t) {
            if (t.dtype() == Tensor.DType.I32) {
                int[] v = new int[Math.toIntExact(t.size())];
                engine.download(t, v);
                return new HostTensor(t.rows(), t.cols(), null, v);
            }
            float[] v = new float[Math.toIntExact(t.size())];
            engine.download(t, v);
            return new HostTensor(t.rows(), t.cols(), v, null);
        }

        /** Uploads into {@code t}, checking shape and dtype. */
        public void uploadTo(Engine engine, Tensor t, String name, Path file) {
            boolean isInt = i32 != null;
            if (t.rows() != rows || t.cols() != cols || (t.dtype() == Tensor.DType.I32) != isInt) {
                throw UserError.inFile(file, "tensor '" + name + "' is " + rows + "x" + cols + (isInt ? " I32" : " F32")
                        + " but this run needs " + t.rows() + "x" + t.cols() + " " + t.dtype());
            }
            if (isInt) {
                engine.upload(t, i32);
            } else {
                engine.upload(t, f32);
            }
        }
    }

    /**
     * @param step             training steps completed
     * @param batchesDelivered the training stream's position (batches consumed), where a resumed stream starts
     * @param inputScale       s, the factor the inputs are multiplied by during training
     * @param config           the run's TrainConfig as a map
     * @param scalars          the architecture's scalar state (λ, θ estimates, EMA step counts, ...)
     * @param trainer          the trainer's own counters (tokens, wall time so far, ...)
     * @param tensors          every training tensor by name
     */
    public record State(long step, long batchesDelivered, float inputScale, Map<String, Object> config,
                        Map<String, Object> scalars, Map<String, Object> trainer, Map<String, HostTensor> tensors) {
    }

    private Checkpoint() {
    }

    /** The checkpoint directory of a run output directory. */
    public static Path dirOf(Path runDir) {
        return runDir.resolve("checkpoint");
    }

    /** True when {@code runDir} holds a checkpoint manifest. */
    public static boolean exists(Path runDir) {
        return Files.isRegularFile(dirOf(runDir).resolve(MANIFEST));
    }

    /** Writes {@code state} into {@code runDir/checkpoint/} atomically (see the class comment). */
    public static void write(Path runDir, State state) {
        Path dir = dirOf(runDir);
        String stateName = String.format(Locale.ROOT, "state-%012d.safetensors", state.step());
        List<Safetensors.Entry> entries = new ArrayList<>();
        List<String> ints = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : new TreeMap<>(state.tensors()).entrySet()) {
            HostTensor t = e.getValue();
            float[] values = t.f32();
            if (t.i32() != null) {
                values = new float[t.i32().length];
                for (int i = 0; i < values.length; i++) {
                    values[i] = Float.intBitsToFloat(t.i32()[i]); // raw bits; restored with floatToRawIntBits
                }
                ints.add(e.getKey());
            }
            entries.add(Safetensors.Entry.f32(e.getKey(), values, t.rows(), t.cols()));
        }
        Safetensors.write(dir.resolve(stateName), entries, Map.of("format", FORMAT, "i32", String.join(",", ints)));

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", FORMAT);
        manifest.put("version", VERSION);
        manifest.put("step", state.step());
        manifest.put("batches_delivered", state.batchesDelivered());
        manifest.put("input_scale", state.inputScale());
        manifest.put("input_scale_bits", Float.floatToRawIntBits(state.inputScale()));
        manifest.put("state_file", stateName);
        manifest.put("config", state.config());
        manifest.put("scalars", encodeScalars(state.scalars()));
        manifest.put("trainer", state.trainer());
        byte[] bytes;
        try {
            bytes = MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("checkpoint manifest not serialisable", e);
        }
        long pauseAt = pauseStep();
        AtomicFiles.write(dir.resolve(MANIFEST), ch -> {
            if (pauseAt == state.step()) {
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes, 0, bytes.length / 2));
                ch.force(true);
                pauseForTest();
            }
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes));
        });
        deleteOtherStateFiles(dir, stateName);
    }

    /** Reads the checkpoint of {@code runDir}; every problem is a one-line {@link UserError}. */
    public static State read(Path runDir) {
        Path dir = dirOf(runDir);
        Path manifestPath = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestPath)) {
            throw UserError.inFile(manifestPath, "no checkpoint to resume from");
        }
        Map<String, Object> m;
        try {
            m = MetricsLog.JSON.readValue(Files.readString(manifestPath, StandardCharsets.UTF_8),
                    new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            throw UserError.inFile(manifestPath, "unreadable checkpoint manifest: " + e.getMessage());
        }
        if (!FORMAT.equals(m.get("format")) || !(m.get("version") instanceof Number ver) || ver.intValue() != VERSION) {
            throw UserError.inFile(manifestPath, "not an " + FORMAT + " version " + VERSION + " manifest");
        }
        String stateName = (String) m.get("state_file");
        Path statePath = dir.resolve(stateName);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        try (Safetensors.Reader r = Safetensors.open(statePath)) {
            String ints = r.header().metadata() == null ? "" : r.header().metadata().getOrDefault("i32", "");
            List<String> intNames = ints.isEmpty() ? List.of() : List.of(ints.split(","));
            for (var info : r.header().tensors().values()) {
                long[] shape = info.shape();
                if (shape.length != 2) {
                    throw UserError.inFile(statePath, "tensor '" + info.name() + "' is not 2-D");
                }
                int rows = Math.toIntExact(shape[0]);
                int cols = Math.toIntExact(shape[1]);
                if (intNames.contains(info.name())) {
                    MemorySegment raw = r.bytes(info.name());
                    int[] v = new int[Math.toIntExact(raw.byteSize() / 4)];
                    MemorySegment.copy(raw, ValueLayout.JAVA_INT_UNALIGNED, 0, v, 0, v.length);
                    tensors.put(info.name(), new HostTensor(rows, cols, null, v));
                } else {
                    tensors.put(info.name(), new HostTensor(rows, cols, r.floats(info.name()), null));
                }
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) m.get("config");
        @SuppressWarnings("unchecked")
        Map<String, Object> scalars = decodeScalars((Map<String, Object>) m.get("scalars"), manifestPath);
        @SuppressWarnings("unchecked")
        Map<String, Object> trainer = (Map<String, Object>) m.get("trainer");
        float scale = Float.intBitsToFloat(((Number) m.get("input_scale_bits")).intValue());
        return new State(((Number) m.get("step")).longValue(), ((Number) m.get("batches_delivered")).longValue(),
                scale, config, scalars, trainer, tensors);
    }

    /**
     * Scalars keep their Java type and exact bits through JSON: each becomes {"type", "value", "bits"} where value is
     * for people and bits (raw IEEE bits for floats) is what is read back, so a resumed run restores λ bit for bit.
     */
    static Map<String, Object> encodeScalars(Map<String, Object> scalars) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : scalars.entrySet()) {
            Object v = e.getValue();
            Map<String, Object> enc = new LinkedHashMap<>();
            switch (v) {
                case Float f -> {
                    enc.put("type", "f32");
                    enc.put("bits", Float.floatToRawIntBits(f));
                }
                case Double d -> {
                    enc.put("type", "f64");
                    enc.put("bits", Double.doubleToRawLongBits(d));
                }
                case double[] a -> {
                    enc.put("type", "f64[]");
                    long[] bits = new long[a.length];
                    for (int i = 0; i < a.length; i++) {
                        bits[i] = Double.doubleToRawLongBits(a[i]);
                    }
                    enc.put("bits", bits);
                }
                case long[] a -> enc.put("type", "i64[]");
                case Integer i -> enc.put("type", "i32");
                case Long l -> enc.put("type", "i64");
                case Boolean b -> enc.put("type", "bool");
                case String s -> enc.put("type", "str");
                case null -> enc.put("type", "null");
                default -> throw new IllegalArgumentException("checkpoint scalar '" + e.getKey() + "' has unsupported type "
                        + v.getClass().getName());
            }
            if (!(v instanceof double[])) {
                enc.put("value", v); // arrays of doubles are only stored as bits, once
            }
            out.put(e.getKey(), enc);
        }
        return out;
    }

    static Map<String, Object> decodeScalars(Map<String, Object> encoded, Path file) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : encoded.entrySet()) {
            if (!(e.getValue() instanceof Map<?, ?> enc) || !(enc.get("type") instanceof String type)) {
                throw UserError.inFile(file, "malformed scalar '" + e.getKey() + "'");
            }
            Object value = enc.get("value");
            Object bits = enc.get("bits");
            out.put(e.getKey(), switch (type) {
                case "f32" -> Float.intBitsToFloat(((Number) bits).intValue());
                case "f64" -> Double.longBitsToDouble(((Number) bits).longValue());
                case "f64[]" -> {
                    List<?> list = (List<?>) bits;
                    double[] a = new double[list.size()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = Double.longBitsToDouble(((Number) list.get(i)).longValue());
                    }
                    yield a;
                }
                case "i64[]" -> {
                    List<?> list = (List<?>) value;
                    long[] a = new long[list.size()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = ((Number) list.get(i)).longValue();
                    }
                    yield a;
                }
                case "i32" -> ((Number) value).intValue();
                case "i64" -> ((Number) value).longValue();
                case "bool" -> (Boolean) value;
                case "str" -> (String) value;
                case "null" -> null;
                default -> throw UserError.inFile(file, "scalar '" + e.getKey() + "' has unknown type " + type);
            });
        }
        return out;
    }

    private static void deleteOtherStateFiles(Path dir, String keep) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "state-*.safetensors")) {
            for (Path p : files) {
                if (!p.getFileName().toString().equals(keep)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException ignored) {
            // a stale state file is only wasted space; the manifest names the live one
        }
    }

    private static long pauseStep() {
        String spec = System.getProperty(PAUSE_PROPERTY);
        if (spec == null) {
            return -1;
        }
        return Long.parseLong(spec.substring(0, spec.indexOf(':')));
    }

    private static void pauseForTest() {
        String spec = System.getProperty(PAUSE_PROPERTY);
        Path marker = Path.of(spec.substring(spec.indexOf(':') + 1));
        try {
            Files.writeString(marker, "paused\n");
            Thread.sleep(Long.MAX_VALUE);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
