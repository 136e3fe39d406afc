package dev.atmsae.cli;

import dev.atmsae.io.AtomicFiles;
import dev.atmsae.report.DemoReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code atmsae report}: the comparison report from a real-model sweep and a ground-truth sweep. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write the comparison report (Markdown + the sweeps' PNG plots) and print its table.")
public final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--sweep", required = true, paramLabel = "DIR", description = "Real-model sweep output (atmsae sweep --out).")
    Path sweep;

    @Option(names = "--truth-sweep", paramLabel = "DIR", description = "Ground-truth sweep output.")
    Path truthSweep;

    @Option(names = "--pos-probe-set", paramLabel = "DIR", description = "POS probe set of the layer of record.")
    Path pos;

    @Option(names = "--pos-probe-set-embeddings", paramLabel = "DIR", description = "The same POS probe set at the embedding layer.")
    Path posEmbeddings;

    @Option(names = "--first-letter", paramLabel = "FILE", description = "absorption JSON of the first-letter task.")
    Path firstLetter;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Markdown report to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        DemoReport.Rendered r = DemoReport.render(new DemoReport.Inputs(sweep, truthSweep, pos, posEmbeddings, firstLetter));
        AtomicFiles.writeString(out, r.markdown());
        spec.commandLine().getOut().println(r.plainTable());
        spec.commandLine().getOut().println("report: " + out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
