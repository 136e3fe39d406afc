package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    @Test
    void magicCheckRejectsOtherBytes() {
        assertTrue(!FatbinResource.hasMagic(new byte[] {0x7f, 'E', 'L', 'F'}));
        assertTrue(!FatbinResource.hasMagic(new byte[] {0x50}));
    }
}
