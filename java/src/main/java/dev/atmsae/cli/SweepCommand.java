package dev.atmsae.cli;

import dev.atmsae.core.ArchKind;
import dev.atmsae.report.MarkdownTable;
import dev.atmsae.sweep.Aggregate;
import dev.atmsae.sweep.RunResult;
import dev.atmsae.sweep.Sweep;
import dev.atmsae.sweep.SweepReport;
import dev.atmsae.sweep.SweepSpec;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code atmsae sweep}: architectures × L0 targets × seeds in one command, with curves over L0 and CIs over seeds. */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train and evaluate architectures × L0 targets × seeds at matched L0 (k for topk/batchtopk/matryoshka,",
                "target_l0 for relu/atm/jumprelu); writes runs/, sweep.json, sweep.md and PNG curves into --out.",
                "Runs already finished in --out are reused, so an interrupted sweep continues."})
public final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "PATH", description = "Training shards.")
    Path data;

    @Option(names = "--eval-data", paramLabel = "PATH", description = "Held-out shards for reconstruction metrics (default: --data).")
    Path evalData;

    @Option(names = "--archs", split = ",", paramLabel = "A,B", defaultValue = "atm,topk,batchtopk,jumprelu,relu,matryoshka",
            description = "Architectures (default ${DEFAULT-VALUE}).")
    List<String> archs;

    @Option(names = "--target-l0", split = ",", required = true, paramLabel = "L,M", description = "L0 targets.")
    List<Double> targetL0s;

    @Option(names = "--seeds", split = ",", defaultValue = "1", paramLabel = "S,T", description = "Seeds (default ${DEFAULT-VALUE}).")
    List<Long> seeds;

    @Option(names = "--width", required = true, paramLabel = "N", description = "Dictionary width.")
    int width;

    @Option(names = "--tokens", required = true, paramLabel = "T", description = "Training tokens per SAE.")
    long tokens;

    @Option(names = "--batch", defaultValue = "4096", paramLabel = "B", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--eval-tokens", defaultValue = "65536", paramLabel = "T", description = "Tokens for reconstruction metrics (default ${DEFAULT-VALUE}).")
    long evalTokens;

    @Option(names = "--probe-set", paramLabel = "DIR", description = "Probe set for absorption and sparse probing.")
    Path probeSet;

    @Option(names = "--truth", paramLabel = "DIR", description = "Synthetic truth directory (atmsae synth) for ground-truth absorption.")
    Path truth;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--engine", defaultValue = "cpu", paramLabel = "ENGINE", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    @Option(names = "--parallel-runs", paramLabel = "R", defaultValue = "1", description = "Runs trained and evaluated "
            + "at once, each on its own engine (use with --threads, e.g. 2 runs × 1 thread on 2 cores). Default 1: run i "
            + "is evaluated while run i+1 trains. Results do not depend on it.")
    int parallelRuns;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A TrainConfig key for every run, or ARCH:KEY=VALUE for one architecture (repeatable).")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--meta", paramLabel = "KEY=VALUE", description = "Extra cfg.json metadata for every export.")
    Map<String, String> meta = new LinkedHashMap<>();

    @Option(names = "--quiet", description = "Print nothing but errors and the final table.")
    boolean quiet;

    @Override
    public Integer call() throws IOException {
        List<ArchKind> kinds = new ArrayList<>();
        for (String a : archs) {
            try {
                kinds.add(ArchKind.parse(a.trim()));
            } catch (UserError e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        SweepSpec s = new SweepSpec(data, evalData, kinds, targetL0s, seeds, width, tokens, batch, evalTokens, probeSet,
                truth, out, engine, threads, new LinkedHashMap<>(sets), new LinkedHashMap<>(meta), quiet);
        List<RunResult> runs = new Sweep(s, () -> EngineChoice.open(engine, threads, spec.commandLine()), System.err,
                parallelRuns).run();
        List<Aggregate> cells = Aggregate.of(runs);
        MarkdownTable table = SweepReport.table(cells, probeSet != null, truth != null);
        Map<String, String> plots = SweepReport.plots(out, "", runs, cells);
        StringBuilder md = new StringBuilder("# atmsae sweep\n\n").append(table.render()).append('\n');
        plots.forEach((title, file) -> md.append("## ").append(title).append("\n\n![").append(title).append("](")
                .append(file).append(")\n\n"));
        dev.atmsae.io.AtomicFiles.writeString(out.resolve("sweep.md"), md.toString());
        spec.commandLine().getOut().print(table.renderPlain());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
