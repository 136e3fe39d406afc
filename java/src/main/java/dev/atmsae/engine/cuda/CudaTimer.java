package dev.atmsae.engine.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import jcuda.driver.CUevent;

/** A pair of CUDA events on the engine's stream: the device-side time of the work queued between start and stop. */
public final class CudaTimer implements AutoCloseable {
    private final CudaEngine engine;
    private final CUevent start = new CUevent();
    private final CUevent stop = new CUevent();
    private final float[] ms = new float[1];

    CudaTimer(CudaEngine engine) {
        this.engine = engine;
        engine.makeCurrent();
        cuEventCreate(start, 0);
        cuEventCreate(stop, 0);
    }

    public void start() {
        engine.makeCurrent();
        cuEventRecord(start, engine.stream());
    }

    public void stop() {
        engine.makeCurrent();
        cuEventRecord(stop, engine.stream());
    }

    /** Waits for the stop event and returns the elapsed device time in milliseconds. */
    public float elapsedMs() {
        engine.makeCurrent();
        cuEventSynchronize(stop);
        cuEventElapsedTime(ms, start, stop);
        return ms[0];
    }

    @Override
    public void close() {
        engine.makeCurrent();
        cuEventDestroy(start);
        cuEventDestroy(stop);
    }
}
