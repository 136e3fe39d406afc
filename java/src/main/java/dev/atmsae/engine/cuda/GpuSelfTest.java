package dev.atmsae.engine.cuda;

import java.util.List;

/**
 * The device bundle's test runner (the GPU host has no Maven): probes CUDA, runs {@link CudaParity} in FP32, a
 * TF32/BF16 product check and {@link StepParity} (a few training steps per architecture, CUDA vs CPU), prints one
 * line per check and exits 0 only when every check passed.
 * Usage: {@code java -cp atmsae.jar:lib/* dev.atmsae.engine.cuda.GpuSelfTest}
 */
public final class GpuSelfTest {
    private GpuSelfTest() {
    }

    public static void main(String[] args) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        System.out.println("probe: " + (probe.available() ? "available: " + probe.device() : probe.reason()));
        if (!probe.available()) {
            System.out.println("SKIPPED: no CUDA device: " + probe.reason());
            System.exit(2);
        }
        int failed = 0;
        try (CudaEngine engine = CudaEngine.open(0, Precision.FP32)) {
            System.out.println(engine.describe());
            List<CudaParity.Outcome> outcomes = new CudaParity(engine).runAll();
            for (Precision p : new Precision[] {Precision.TF32, Precision.BF16}) {
                engine.setPrecision(p);
                double tol = p == Precision.TF32 ? 5e-3 : 3e-2;
                try {
                    new CudaParity(engine).gemm(tol);
                    outcomes = append(outcomes, new CudaParity.Outcome("gemm " + p + " (tol " + tol + ")", true, "ok"));
                } catch (RuntimeException e) {
                    outcomes = append(outcomes, new CudaParity.Outcome("gemm " + p, false, e.getMessage()));
                }
            }
            engine.setPrecision(Precision.FP32);
            engine.setSparseScatter(CudaEngine.SparseScatter.ATOMIC);
            try {
                new CudaParity(engine).sparseDecode();
                outcomes = append(outcomes, new CudaParity.Outcome("sparse backward, ATOMIC scatter", true, "ok"));
            } catch (RuntimeException e) {
                outcomes = append(outcomes, new CudaParity.Outcome("sparse backward, ATOMIC scatter", false, e.getMessage()));
            }
            engine.setSparseScatter(CudaEngine.SparseScatter.SORTED);
            try (dev.atmsae.engine.Engine cpu = dev.atmsae.engine.Engines.cpu()) {
                for (dev.atmsae.arch.ArchKind arch : dev.atmsae.arch.ArchKind.values()) {
                    String bad;
                    try {
                        bad = StepParity.compare(cpu, engine, arch);
                    } catch (RuntimeException e) {
                        bad = String.valueOf(e);
                    }
                    outcomes = append(outcomes, new CudaParity.Outcome("train step vs CPU: " + arch.id(), bad.isEmpty(),
                            bad));
                }
                for (String variant : StepParity.ATM_VARIANTS.keySet()) {
                    String bad;
                    try {
                        bad = StepParity.compareAtmVariant(cpu, engine, variant);
                    } catch (RuntimeException e) {
                        bad = String.valueOf(e);
                    }
                    outcomes = append(outcomes, new CudaParity.Outcome("train step vs CPU: " + variant, bad.isEmpty(),
                            bad));
                }
            }
            for (CudaParity.Outcome o : outcomes) {
                System.out.printf("%-4s %-55s %s%n", o.passed() ? "PASS" : "FAIL", o.name(), o.passed() ? "" : o.detail());
                failed += o.passed() ? 0 : 1;
            }
            System.out.println((outcomes.size() - failed) + "/" + outcomes.size() + " checks passed");
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    private static List<CudaParity.Outcome> append(List<CudaParity.Outcome> list, CudaParity.Outcome o) {
        List<CudaParity.Outcome> out = new java.util.ArrayList<>(list);
        out.add(o);
        return out;
    }
}
