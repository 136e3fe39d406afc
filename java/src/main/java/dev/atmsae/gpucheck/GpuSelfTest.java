package dev.atmsae.gpucheck;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atmsae.core.ArchKind;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.engine.cuda.CudaAvailability;
import dev.atmsae.engine.cuda.CudaEngine;
import dev.atmsae.engine.cuda.Kernel;
import dev.atmsae.engine.cuda.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The device bundle's test runner (the GPU host has no Maven): probes CUDA (driver, device, fatbin, cuBLAS, JCuda's
 * binding), opens the engine (the fatbin loads and every kernel resolves), runs every {@link CudaParity} check in FP32
 * (ATM masks bitwise against the CPU's Philox), the product check in TF32 and BF16, the sparse backward again with
 * the ATOMIC scatter, and {@link StepParity} (a few training steps, CUDA vs CPU) for every architecture. Prints one
 * line per check, writes selftest.json and selftest.md to {@code --out DIR} when given, and exits 0 only when every
 * check passed (1: a failure, 2: no CUDA device).
 *
 * <p>{@code --check-bundle} (no GPU needed, run when the bundle is built) checks that JCuda's driver library for
 * JCuda's own version is on the class path and loads as far as a host without libcuda.so.1 allows.
 * {@code --only TEXT} runs only the checks whose names contain TEXT (to rerun one, or to try one broken kernel).
 * Usage: {@code java -cp atmsae.jar:lib/* dev.atmsae.gpucheck.GpuSelfTest [--out DIR] [--only TEXT] | --check-bundle}
 */
public final class GpuSelfTest {
    private final List<CudaParity.Outcome> outcomes = new ArrayList<>();
    private final List<Double> seconds = new ArrayList<>();
    private final String only;

    private GpuSelfTest(String only) {
        this.only = only;
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 1 && args[0].equals("--check-bundle")) {
            System.exit(checkBundle());
        }
        Path out = null;
        String only = "";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[i + 1]);
                case "--only" -> only = args[i + 1];
                default -> usage();
            }
        }
        if (args.length % 2 != 0) {
            usage();
        }
        System.exit(new GpuSelfTest(only).run(out));
    }

    private static void usage() {
        System.err.println("usage: GpuSelfTest [--out DIR] [--only TEXT] | --check-bundle");
        System.exit(64);
    }

    private boolean selected(String check) {
        return check.contains(only);
    }

    private int run(Path out) throws IOException {
        CudaAvailability.Result probe = CudaAvailability.probe();
        String describe = "";
        check("probe: driver, device, fatbin in the jar, cuBLAS found, JCuda binds the driver",
                () -> probe.available() ? "" : probe.reason());
        if (probe.available()) {
            System.out.println("probe: available: " + probe.device());
            CudaEngine engine = null;
            try {
                engine = CudaEngine.open(0, Precision.FP32);
                describe = engine.describe();
                System.out.println(describe);
                check("engine opens: primary context, fatbin loads, all " + Kernel.values().length + " kernels resolve, "
                        + "cuBLAS handle", () -> "");
            } catch (RuntimeException | LinkageError e) {
                String why = String.valueOf(e);
                check("engine opens: primary context, fatbin loads, every kernel resolves, cuBLAS handle", () -> why);
            }
            if (engine != null) {
                try (CudaEngine e = engine) {
                    deviceChecks(e);
                }
            }
        } else {
            System.out.println("SKIPPED: no CUDA device: " + probe.reason());
        }
        int failed = 0;
        for (CudaParity.Outcome o : outcomes) {
            failed += o.passed() ? 0 : 1;
        }
        if (probe.available()) {
            System.out.println((outcomes.size() - failed) + "/" + outcomes.size() + " checks passed");
        }
        if (out != null) {
            write(out, probe, describe, failed);
        }
        return !probe.available() ? 2 : failed == 0 ? 0 : 1;
    }

    private void deviceChecks(CudaEngine engine) {
        long t0 = System.nanoTime();
        List<CudaParity.Outcome> parity = new CudaParity(engine).runAll(name -> selected("FP32 " + name));
        double each = (System.nanoTime() - t0) / 1e9 / Math.max(1, parity.size());
        for (CudaParity.Outcome o : parity) {
            record(new CudaParity.Outcome("FP32 " + o.name(), o.passed(), o.detail()), each);
        }
        for (Precision p : new Precision[] {Precision.TF32, Precision.BF16}) {
            engine.setPrecision(p);
            double tol = p == Precision.TF32 ? 5e-3 : 3e-2;
            check("gemm " + p + " (tol " + tol + ")", () -> {
                new CudaParity(engine).gemm(tol);
                return "";
            });
        }
        engine.setPrecision(Precision.FP32);
        engine.setSparseScatter(CudaEngine.SparseScatter.ATOMIC);
        check("sparse backward, ATOMIC scatter", () -> {
            new CudaParity(engine).sparseDecode();
            return "";
        });
        engine.setSparseScatter(CudaEngine.SparseScatter.SORTED);
        try (Engine cpu = Engines.cpu()) {
            for (ArchKind arch : ArchKind.values()) {
                check("train step vs CPU: " + arch.id(), () -> StepParity.compare(cpu, engine, arch));
            }
            for (String variant : StepParity.ATM_VARIANTS.keySet()) {
                check("train step vs CPU: " + variant, () -> StepParity.compareAtmVariant(cpu, engine, variant));
            }
        }
    }

    /** Runs one check: the supplier returns "" when it passed, else why not (an exception counts as a failure). */
    private void check(String name, Supplier<String> body) {
        if (!name.startsWith("probe") && !name.startsWith("engine opens") && !selected(name)) {
            return;
        }
        long t0 = System.nanoTime();
        String bad;
        try {
            bad = body.get();
        } catch (RuntimeException | AssertionError e) {
            bad = String.valueOf(e.getMessage() == null ? e : e.getMessage());
        }
        record(new CudaParity.Outcome(name, bad.isEmpty(), bad.isEmpty() ? "ok" : bad), (System.nanoTime() - t0) / 1e9);
    }

    private void record(CudaParity.Outcome o, double s) {
        outcomes.add(o);
        seconds.add(s);
        System.out.printf("%-4s %-70s %s%n", o.passed() ? "PASS" : "FAIL", o.name(), o.passed() ? "" : o.detail());
    }

    private void write(Path out, CudaAvailability.Result probe, String describe, int failed) throws IOException {
        Files.createDirectories(out);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        String date = Instant.now().toString();
        root.put("date", date);
        root.put("available", probe.available());
        root.put("probe", probe.available() ? probe.device() : probe.reason());
        root.put("engine", describe);
        root.put("passed", outcomes.size() - failed);
        root.put("failed", failed);
        ArrayNode checks = root.putArray("checks");
        StringBuilder md = new StringBuilder("## GPU self-test\n\n").append(date).append("; ")
                .append(probe.available() ? probe.device() : "no device: " + probe.reason()).append("\n\n")
                .append(describe.isEmpty() ? "" : describe + "\n\n")
                .append("| check | result | s |\n|---|---|---|\n");
        for (int i = 0; i < outcomes.size(); i++) {
            CudaParity.Outcome o = outcomes.get(i);
            checks.addObject().put("name", o.name()).put("passed", o.passed()).put("detail", o.detail())
                    .put("seconds", seconds.get(i));
            md.append("| ").append(o.name()).append(" | ").append(o.passed() ? "pass" : "FAIL: " + o.detail().replace('|', '/'))
                    .append(String.format(" | %.2f |%n", seconds.get(i)));
        }
        md.append("\n").append(outcomes.size() - failed).append("/").append(outcomes.size()).append(" checks passed\n");
        Files.writeString(out.resolve("selftest.json"), mapper.writeValueAsString(root));
        Files.writeString(out.resolve("selftest.md"), md.toString());
    }

    /** See the class comment; 0 when the bundle carries JCuda's own driver library, else 1. */
    private static int checkBundle() {
        String resource = CudaAvailability.jcudaDriverResource();
        if (GpuSelfTest.class.getResource(resource) == null) {
            System.out.println("jcuda: FAIL: " + resource + " (JCuda " + jcuda.JCudaVersion.get()
                    + ") is not on the class path: the bundle carries another jcuda-natives version");
            return 1;
        }
        String load = CudaAvailability.loadJCudaDriver();
        boolean ok = load.isEmpty() || load.contains("libcuda.so");
        System.out.println("jcuda: " + (ok ? "ok: " : "FAIL: ") + resource + " present; loading it: "
                + (load.isEmpty() ? "loaded" : load));
        return ok ? 0 : 1;
    }
}
