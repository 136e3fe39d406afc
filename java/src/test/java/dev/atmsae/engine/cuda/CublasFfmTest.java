package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CublasFfmTest {
    @Test
    void locateNeverThrowsAndReportsWhatItSearched() {
        CublasFfm.Location where = CublasFfm.locate();
        assertTrue(where.searched().containsAll(CublasFfm.SONAMES), where.searched().toString());
        where.found().ifPresent(lib -> assertTrue(lib.contains("libcublas.so.1"), lib));
        if (where.found().isEmpty()) {
            assertTrue(where.searched().stream().anyMatch(s -> s.contains("/usr/local/cuda")), where.searched().toString());
        }
    }

    @Test
    void precisionsMapToCublasComputeTypes() {
        assertEquals(68, Precision.FP32.cublasComputeType);   // CUBLAS_COMPUTE_32F
        assertEquals(77, Precision.TF32.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_TF32
        assertEquals(75, Precision.BF16.cublasComputeType);   // CUBLAS_COMPUTE_32F_FAST_16BF
        assertEquals("INVALID_VALUE", CublasFfm.statusName(7));
    }
}
