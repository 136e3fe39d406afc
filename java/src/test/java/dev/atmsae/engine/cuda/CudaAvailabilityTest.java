package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.atmsae.util.UserError;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import org.junit.jupiter.api.Test;

class CudaAvailabilityTest {
    private static boolean driverLoadable() {
        try (Arena a = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", a);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void probeNeverThrowsAndIsCached() {
        CudaAvailability.Result first = CudaAvailability.probe();
        assertSame(first, CudaAvailability.probe());
        if (!first.available()) {
            assertFalse(first.reason().isBlank());
            assertFalse(first.reason().contains("\n"), "reason must be one line: " + first.reason());
        }
    }

    @Test
    void withoutADriverTheReasonSaysSo() {
        assumeFalse(driverLoadable(), "a CUDA driver is installed here; the no-driver path cannot be observed");
        CudaAvailability.Result r = CudaAvailability.probe();
        assertFalse(r.available());
        assertTrue(r.reason().equals("no driver: libcuda.so.1 not found")
                || r.reason().equals("disabled by " + CudaAvailability.ENV_DISABLE), r.reason());
    }

    @Test
    void openingTheEngineWithoutCudaIsAUserErrorNotALinkageError() {
        CudaAvailability.Result r = CudaAvailability.probe();
        assumeFalse(r.available(), "CUDA is available here");
        UserError e = assertThrows(UserError.class, () -> CudaEngine.open(0, Precision.FP32));
        assertEquals("--engine cuda: " + r.reason(), e.getMessage());
    }

    /** The build carries JCuda's driver library for JCuda's own version (the bundle's smoke test checks the same). */
    @Test
    void jcudaDriverLibraryMatchesTheJCudaVersion() {
        String resource = CudaAvailability.jcudaDriverResource();
        assertEquals("/lib/libJCudaDriver-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so", resource);
        assertTrue(CudaAvailabilityTest.class.getResource(resource) != null, resource + " not on the class path");
        if (!driverLoadable()) {
            String why = CudaAvailability.loadJCudaDriver();
            assertTrue(why.contains("libcuda.so"), "without a driver the load fails for want of it, not of the library: "
                    + why);
        }
    }
}
