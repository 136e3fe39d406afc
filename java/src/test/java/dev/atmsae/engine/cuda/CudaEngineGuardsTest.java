package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA engine's host-side arithmetic that decides launches and copies (no device needed). */
class CudaEngineGuardsTest {
    /** topk_rows's static shared memory in the sm_90 build (ptxas -v: histogram, scan slots, prefix, remaining). */
    private static final int TOPK_STATIC = 1168;
    private static final int H200_OPT_IN = 232448;   // 227 KiB per block

    @Test
    void topKCountsTheKernelsStaticSharedMemory() {
        // k = 6000: 48000 B dynamic fits 48 KiB alone, not with the kernel's static 1168 B: the opt-in is needed.
        int dyn = CudaEngine.topKDynamicSmem(6000, TOPK_STATIC, H200_OPT_IN);
        assertEquals(48000, dyn);
        assertTrue(CudaEngine.needsSmemOptIn(dyn, TOPK_STATIC));
        assertFalse(CudaEngine.needsSmemOptIn(CudaEngine.topKDynamicSmem(64, TOPK_STATIC, H200_OPT_IN), TOPK_STATIC));
        // The largest k the device holds with the static part counted, and one more.
        int kMax = (H200_OPT_IN - TOPK_STATIC) / 8;
        assertEquals(kMax * 8, CudaEngine.topKDynamicSmem(kMax, TOPK_STATIC, H200_OPT_IN));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaEngine.topKDynamicSmem(kMax + 1, TOPK_STATIC, H200_OPT_IN));
        assertTrue(e.getMessage().contains("1168 B"), e.getMessage());
    }

    @Test
    void uploadsGoInSlicesThatCoverTheTensorOnce() {
        long twoGiB = 1L << 31;   // a 131072 x 4096 float32 W_enc
        List<long[]> slices = new ArrayList<>();
        CudaEngine.forEachSlice(twoGiB + 12, CudaEngine.UPLOAD_SLICE_BYTES, (off, len) -> slices.add(new long[] {off, len}));
        assertEquals(3, slices.size());
        long next = 0;
        for (long[] s : slices) {
            assertEquals(next, s[0]);
            assertTrue(s[1] > 0 && s[1] <= Integer.MAX_VALUE && s[1] % 4 == 0, "slice " + s[1]);
            next += s[1];
        }
        assertEquals(twoGiB + 12, next);
        List<long[]> none = new ArrayList<>();
        CudaEngine.forEachSlice(0, 28, (off, len) -> none.add(new long[] {off, len}));
        assertTrue(none.isEmpty());
    }
}
