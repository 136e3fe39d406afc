package dev.atmsae.engine.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.util.EnumMap;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * The fatbin loaded into the current context and every {@link Kernel} resolved once. The driver picks the SASS for
 * the device (sm_80, sm_90, sm_90a) or JIT-compiles the compute_90 PTX for a newer one.
 */
final class CudaModule implements AutoCloseable {
    private final CUmodule module = new CUmodule();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);

    CudaModule() {
        byte[] image = FatbinResource.load();
        if (!FatbinResource.hasMagic(image)) {
            throw new IllegalStateException(FatbinResource.PATH + " is not an nvcc fatbin (bad magic)");
        }
        cuModuleLoadData(module, image);
        for (Kernel k : Kernel.values()) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module, k.symbol());
            functions.put(k, f);
        }
    }

    CUfunction function(Kernel k) {
        return functions.get(k);
    }

    @Override
    public void close() {
        cuModuleUnload(module);
    }
}
