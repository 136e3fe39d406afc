package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FatbinResourceTest {
    @Test
    void fatbinIsOnTheClasspathWithNvccMagic() {
        // Built by native-build/build.sh when nvcc exists (CI and this repository's dev machines have it).
        assumeTrue(FatbinResource.present() || NvccTool.find().isPresent(),
                "no CUDA fatbin: nvcc was absent at build time, so native-build/build.sh skipped the kernels");
        assertTrue(FatbinResource.present(), "nvcc is installed but " + FatbinResource.PATH
                + " is missing: run native-build/build.sh (make native) before the tests");
        byte[] image = FatbinResource.load();
        assertTrue(image.length > 4096, "fatbin suspiciously small: " + image.length + " bytes");
        assertTrue(FatbinResource.hasMagic(image), "fatbin does not start with 50 ed 55 ba");
    }

    /**
     * The compiled module, not only the sources, defines every kernel Java resolves: each SASS image (sm_80, sm_90,
     * sm_90a) carries the kernel's name NUL-terminated in its ELF string table, so each name occurs at least 3 times.
     */
    @Test
    void everyKernelIsInEachCompiledImage() {
        assumeTrue(FatbinResource.present(), "no CUDA fatbin: nvcc was absent at build time");
        byte[] image = FatbinResource.load();
        for (Kernel k : Kernel.values()) {
            assertTrue(occurrences(image, ("\0" + k.symbol() + "\0").getBytes(StandardCharsets.US_ASCII)) >= 3,
                    k.symbol() + " is missing from a compiled image");
        }
        assertTrue(occurrences(image, "\0no_such_kernel\0".getBytes(StandardCharsets.US_ASCII)) == 0);
    }

    private static int occurrences(byte[] hay, byte[] needle) {
        int count = 0;
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            count++;
        }
        return count;
    }

    @Test
    void magicCheckRejectsOtherBytes() {
        assertTrue(!FatbinResource.hasMagic(new byte[] {0x7f, 'E', 'L', 'F'}));
        assertTrue(!FatbinResource.hasMagic(new byte[] {0x50}));
    }
}
