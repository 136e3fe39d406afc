package dev.atmsae.cli;

import dev.atmsae.study.Study;
import dev.atmsae.study.StudyReport;
import dev.atmsae.study.StudySpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code atmsae study}: the staged ATM study of one config file (screen → select → matched-L0 confirmation). */
@Command(name = "study", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a staged matched-L0 study of ATM's configurations against the baselines",
                "from one JSON config (studies/, docs/atm-study-config.md): screening at one L0",
                "and seed, then the best ATM configurations and every baseline at each L0 x seed.",
                "Writes study.md, study.json and Pareto PNGs into --out. Finished runs in --out",
                "are reused, so a killed study continues where it stopped."})
public final class StudyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Study config (JSON).")
    Path config;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (runs/, data/, study.md, study.json, PNGs).")
    Path out;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--quiet", description = "Print nothing but errors and the verdict.")
    boolean quiet;

    @Option(names = "--report-only", description = "Train nothing: write the report from the runs finished so far (an interim report; unfinished runs are left out and counted).")
    boolean reportOnly;

    @Override
    public Integer call() {
        StudySpec s = StudySpec.read(config);
        Study.Outcome outcome = new Study(s, out, () -> EngineChoice.open(engine, threads, spec.commandLine()),
                System.err, quiet, reportOnly).run();
        StudyReport.write(out, s, outcome);
        spec.commandLine().getOut().println(outcome.analysis().verdictText());
        spec.commandLine().getOut().println("report: " + out.resolve("study.md"));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
