package dev.atmsae.gpucheck;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;

/** Prints what --engine auto would use here and why (EmulatedCudaSuiteTest runs it with chosen environments). */
public final class CudaStatusMain {
    private CudaStatusMain() {
    }

    public static void main(String[] args) {
        System.out.println("cuda status: " + Engines.cudaStatus());
        try (Engine auto = Engines.auto(1)) {
            System.out.println("auto: " + auto.name());
        }
    }
}
