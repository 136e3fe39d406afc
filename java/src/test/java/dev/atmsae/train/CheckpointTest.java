package dev.atmsae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.util.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint files: exact round trip of tensors (F32 and I32 bits) and typed scalars; old state files removed. */
class CheckpointTest {
    @TempDir
    Path tmp;

    private static Checkpoint.State state(long step, float fill) {
        Map<String, Checkpoint.HostTensor> t = new LinkedHashMap<>();
        t.put("w", new Checkpoint.HostTensor(2, 3, new float[] {fill, -0.0f, Float.MIN_VALUE, 1e30f, -7.25f, 3f}, null));
        t.put("counts", new Checkpoint.HostTensor(1, 4, null, new int[] {0, -1, Integer.MAX_VALUE, -8388607}));
        Map<String, Object> scalars = new LinkedHashMap<>();
        scalars.put("lambda", 0.1 + 0.2);
        scalars.put("nan", Double.NaN);
        scalars.put("f", 1.1f);
        scalars.put("steps", 1L << 40);
        scalars.put("i", 7);
        scalars.put("flag", true);
        scalars.put("name", "atm");
        scalars.put("ema", new double[] {Math.PI, -0.0, Double.MIN_VALUE});
        scalars.put("since", new long[] {3, Long.MAX_VALUE});
        return new Checkpoint.State(step, step + 1, 0.123456789f, Map.of("arch", "atm", "lr", 3e-4), scalars,
                Map.of("d_in", 3), t);
    }

    @Test
    void roundTripsExactlyAndKeepsOnlyTheLiveStateFile() throws Exception {
        Checkpoint.write(tmp, state(2, 0.5f));
        Checkpoint.write(tmp, state(4, 0.75f));
        Checkpoint.State s = Checkpoint.read(tmp);
        assertEquals(4, s.step());
        assertEquals(5, s.batchesDelivered());
        assertEquals(Float.floatToRawIntBits(0.123456789f), Float.floatToRawIntBits(s.inputScale()));
        Checkpoint.State want = state(4, 0.75f);
        assertArrayEquals(want.tensors().get("w").f32(), s.tensors().get("w").f32());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(s.tensors().get("w").f32()[1]));
        assertArrayEquals(want.tensors().get("counts").i32(), s.tensors().get("counts").i32());
        assertEquals(Double.doubleToRawLongBits(0.1 + 0.2), Double.doubleToRawLongBits((double) s.scalars().get("lambda")));
        assertTrue(Double.isNaN((double) s.scalars().get("nan")));
        assertEquals(1.1f, s.scalars().get("f"));
        assertEquals(1L << 40, s.scalars().get("steps"));
        assertEquals(7, s.scalars().get("i"));
        assertEquals(true, s.scalars().get("flag"));
        assertEquals("atm", s.scalars().get("name"));
        assertArrayEquals(new double[] {Math.PI, -0.0, Double.MIN_VALUE}, (double[]) s.scalars().get("ema"));
        assertArrayEquals(new long[] {3, Long.MAX_VALUE}, (long[]) s.scalars().get("since"));
        assertEquals(3e-4, ((Number) s.config().get("lr")).doubleValue());
        assertFalse(Files.exists(Checkpoint.dirOf(tmp).resolve("state-000000000002.safetensors")));
        assertTrue(Files.exists(Checkpoint.dirOf(tmp).resolve("state-000000000004.safetensors")));
    }

    @Test
    void missingOrForeignManifestIsAOneLineUserError() throws Exception {
        UserError none = assertThrows(UserError.class, () -> Checkpoint.read(tmp));
        assertTrue(none.getMessage().contains("no checkpoint"), none.getMessage());
        Files.createDirectories(Checkpoint.dirOf(tmp));
        Files.writeString(Checkpoint.dirOf(tmp).resolve(Checkpoint.MANIFEST), "{\"format\":\"other\"}");
        UserError foreign = assertThrows(UserError.class, () -> Checkpoint.read(tmp));
        assertTrue(foreign.getMessage().contains("manifest.json"), foreign.getMessage());
    }
}
