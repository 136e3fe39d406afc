package dev.atmsae.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The kernels compiled by native-build/build.sh, embedded in the core jar as a classpath resource. */
public final class FatbinResource {
    /** Resource path inside the jar (native-build/out is a resource root of the core module). */
    public static final String PATH = "/dev/atmsae/engine/cuda/atmsae.fatbin";

    /** nvcc's fatbin files start with this magic (little-endian 0xBA55ED50). */
    static final byte[] MAGIC = {0x50, (byte) 0xed, 0x55, (byte) 0xba};

    private FatbinResource() {
    }

    public static boolean present() {
        return FatbinResource.class.getResource(PATH) != null;
    }

    /** The fatbin bytes; throws IllegalStateException when the jar was built without nvcc. */
    public static byte[] load() {
        try (InputStream in = FatbinResource.class.getResourceAsStream(PATH)) {
            if (in == null) {
                throw new IllegalStateException("no fatbin in the jar: " + PATH + " (native-build/build.sh ran without nvcc)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + PATH, e);
        }
    }

    static boolean hasMagic(byte[] image) {
        if (image.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (image[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }
}
