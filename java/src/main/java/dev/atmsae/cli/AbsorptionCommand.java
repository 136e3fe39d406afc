package dev.atmsae.cli;

import dev.atmsae.engine.Engine;
import dev.atmsae.eval.EngineCodes;
import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.eval.absorption.ReportWriter;
import dev.atmsae.eval.absorption.SparseProbing;
import dev.atmsae.eval.synth.SynthAbsorption;
import dev.atmsae.eval.synth.SynthFiles;
import dev.atmsae.eval.synth.SynthReportWriter;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae absorption}: feature absorption (SAEBench rules, absorption.md §4) plus sparse probing of an exported SAE
 * on a probe-set directory, or absorption against the ground truth of an {@code atmsae synth} directory.
 */
@Command(name = "absorption", mixinStandardHelpOptions = true,
        description = "Measure feature absorption (and sparse probing) of an exported SAE on a probe set or synthetic truth.")
public final class AbsorptionCommand implements Callable<Integer> {
    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAE: SAELens directory (standard, topk, jumprelu) or Gemma Scope params.npz (or its directory).")
    Path sae;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--probe-set", paramLabel = "P",
                description = "Probe-set directory (acts.npy + probe_set.json; see docs/probe-sets.md).")
        String probeSet;

        @Option(names = "--truth", paramLabel = "DIR", description = "Output directory of 'atmsae synth' (ground truth).")
        Path truth;
    }

    @Option(names = "--json", paramLabel = "FILE", description = "Write the full report as JSON.")
    Path json;

    @Option(names = "--md", paramLabel = "FILE", description = "Write the report as Markdown.")
    Path md;

    @Option(names = "--min-probe-f1", defaultValue = "0.6",
            description = "Keep a class only if its ground-truth probe test F1 is above this (default ${DEFAULT-VALUE}).")
    double minProbeF1;

    @Option(names = "--min-classes", paramLabel = "N",
            description = "Fewer kept classes marks the result invalid (default by probe-set kind: first-letter 20, pos 5, else 1).")
    Integer minClasses;

    @Option(names = "--parents", split = ",", paramLabel = "NAME", description = "Score only these parent classes.")
    List<String> parents;

    @Option(names = "--no-sparse-probing", description = "Skip sparse probing.")
    boolean noSparseProbing;

    @Option(names = "--sparse-k", split = ",", defaultValue = "1,2,5,10,20", description = "k values for sparse probing (default ${DEFAULT-VALUE}).")
    int[] sparseK;

    @Option(names = "--engine", defaultValue = "cpu", paramLabel = "ENGINE",
            description = "Engine that encodes the probe rows: cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engineName;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        SaeWeights weights = SaeLoader.read(sae);
        if (input.truth != null) {
            SynthAbsorption.Report r = SynthAbsorption.run(SynthFiles.readTruth(input.truth), weights);
            write(SynthReportWriter.json(r), SynthReportWriter.markdown(r));
            out.printf(Locale.ROOT, "synthetic truth: absorption_fraction %s, full_absorption %s, MMCS %.4f, MCC %.4f%n",
                    fmt(r.meanAbsorptionFraction()), fmt(r.meanFullAbsorption()), r.mmcs(), r.mcc());
            out.flush();
            return 0;
        }
        Path probeSetDir = resolveProbeSet(input.probeSet);
        ProbeSet set = ProbeSets.read(probeSetDir);
        for (int k : sparseK) {
            if (k < 1) {
                throw new UserError("--sparse-k values must be at least 1, got " + k);
            }
        }
        if (!(minProbeF1 >= 0 && minProbeF1 < 1)) {
            throw new UserError("--min-probe-f1 must lie in [0, 1), got " + minProbeF1);
        }
        AbsorptionOptions options = AbsorptionOptions.defaults().withMinProbeF1(minProbeF1).withMinClasses(minClasses)
                .withParents(parents);
        AbsorptionEval.checkWidth(set, weights);
        SaeForward.Codes codes; // shared by both evaluations
        try (Engine engine = EngineChoice.open(engineName, null, spec.commandLine())) {
            codes = EngineCodes.encode(engine, weights, set.acts(), set.n());
        }
        AbsorptionReport report = AbsorptionEval.run(set, weights, codes, options,
                AbsorptionEval.ProbeCache.storedIn(set, probeSetDir));
        SparseProbing.Report sparse = noSparseProbing ? null : SparseProbing.run(set, codes, sparseK);
        write(ReportWriter.json(report, sparse), ReportWriter.markdown(report, sparse));
        out.printf(Locale.ROOT, "%s: %d/%d classes kept%s; absorption_fraction %s, legacy %s, full %s, mean split features %s%n",
                set.name(), report.classesKept(), report.classes().size(), report.valid() ? "" : " (NOT VALID: too few)",
                fmt(report.meanAbsorptionFraction()), fmt(report.meanAbsorptionFractionLegacy()),
                fmt(report.meanFullAbsorption()), fmt(report.meanNumSplitFeatures()));
        for (AbsorptionReport.DroppedClass d : report.dropped()) {
            out.println("  dropped " + d.name() + ": " + d.reason());
        }
        out.flush();
        return 0;
    }

    private static Path resolveProbeSet(String name) {
        Path p = Path.of(name);
        if (Files.isDirectory(p)) {
            return p;
        }
        if (name.equals("pos") || name.equals("first-letter")) {
            throw new UserError("built-in probe set '" + name + "' is not built yet: produce it with the harvest module "
                    + "and pass its directory to --probe-set");
        }
        throw UserError.inFile(p, "not a probe-set directory");
    }

    private void write(String jsonText, String mdText) {
        if (json != null) {
            AtomicFiles.writeString(json, jsonText);
        }
        if (md != null) {
            AtomicFiles.writeString(md, mdText);
        }
    }

    private static String fmt(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
    }
}
