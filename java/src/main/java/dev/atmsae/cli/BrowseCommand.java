package dev.atmsae.cli;

import dev.atmsae.browse.SiteBuilder;
import dev.atmsae.engine.Engine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code atmsae browse}: a static HTML browser of an SAE's latents and absorption (opens from file://, offline). */
@Command(name = "browse", mixinStandardHelpOptions = true,
        description = "Build a static site (HTML + JS, opens from disk) to browse an SAE's latents on a harvest, "
                + "its absorption on a probe set, and a second SAE beside it.")
public final class BrowseCommand implements Callable<Integer> {
    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAE export directory (SAELens layout).")
    Path sae;

    @Option(names = "--data", required = true, paramLabel = "HARVEST_DIR",
            description = "Output directory of 'atmsae harvest' (acts_*.npy with meta_*.tsv token metadata).")
    Path data;

    @Option(names = "--probe-set", paramLabel = "P", description = "Probe-set directory for the absorption view.")
    Path probeSet;

    @Option(names = "--compare", paramLabel = "DIR2", description = "A second SAE (same data) to show side by side.")
    Path compare;

    @Option(names = "--out", required = true, paramLabel = "SITE", description = "Directory to write the site into.")
    Path out;

    @Option(names = "--tokens", defaultValue = "0", paramLabel = "N",
            description = "Use the first N harvest tokens (default ${DEFAULT-VALUE} = all).")
    long tokens;

    @Option(names = "--engine", defaultValue = "cpu", paramLabel = "ENGINE",
            description = "Engine that encodes the harvest: cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engineName;

    @Option(names = "--threads", paramLabel = "T", description = "CPU engine threads (default: all cores).")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (tokens < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--tokens must be >= 0, got " + tokens);
        }
        PrintWriter log = spec.commandLine().getErr();
        SiteBuilder.Summary s;
        try (Engine engine = EngineChoice.open(engineName, threads, spec.commandLine())) {
            s = SiteBuilder.build(engine, new SiteBuilder.Inputs(sae, data, probeSet, compare, out),
                    SiteBuilder.Options.defaults().withMaxTokens(tokens), log);
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "browse: wrote %s (%d files, %.1f MB) for %d latents over %d tokens in %.1f s; open %s%n",
                out, s.files(), s.bytes() / 1e6, s.latents(), s.tokens(), s.seconds(), out.resolve("index.html"));
        o.flush();
        return 0;
    }
}
