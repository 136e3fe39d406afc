package dev.atmsae.cli;

import dev.atmsae.study.RegimeMap;
import dev.atmsae.study.RegimeMapReport;
import dev.atmsae.study.RegimeMapSpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code atmsae regime-map}: where on synthetic ground truth does each method absorb (regimes × widths × L0). */
@Command(name = "regime-map", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Map where SAEs absorb on synthetic ground truth: data regimes (generator settings)",
                "x dictionary widths (x the true feature count) x L0 targets (x the data's mean active",
                "features) x methods x seeds, from one JSON config (docs/atm-study-config.md).",
                "Writes map.md, map.json and map.png into --out; finished runs are reused."})
public final class RegimeMapCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Regime-map config (JSON).")
    Path config;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (runs/, data/, map.md, map.json, map.png).")
    Path out;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--quiet", description = "Print nothing but errors and the report's path.")
    boolean quiet;

    @Option(names = "--report-only", description = "Train nothing: write the map from the runs finished so far.")
    boolean reportOnly;

    @Override
    public Integer call() {
        RegimeMapSpec s = RegimeMapSpec.read(config);
        RegimeMap.Outcome outcome = new RegimeMap(s, out, () -> EngineChoice.open(engine, threads, spec.commandLine()),
                System.err, quiet, reportOnly).run();
        RegimeMapReport.write(out, s, outcome);
        spec.commandLine().getOut().println("report: " + out.resolve("map.md"));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
