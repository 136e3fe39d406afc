package dev.atmsae.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.atmsae.data.ActivationLoader;
import dev.atmsae.data.BatchStream;
import dev.atmsae.data.ShardRowStream;
import dev.atmsae.data.ShardSet;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.SaeEvaluator;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.SaeLoader;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code atmsae eval}: core metrics (mse, fvu, explained variance, cosine, L0, L1, dead fraction) of an exported SAE
 * directory over activation shards, read in data order (no shuffle) from the first row.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a SAELens-format SAE directory on activation shards; prints JSON with mse, fvu,",
                "explained_variance, cosine_sim, l0, l1, dead_fraction and tokens."})
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAE: SAELens directory (cfg.json + sae_weights.safetensors) or Gemma Scope params.npz (or its directory).")
    Path sae;

    @Option(names = "--data", required = true, paramLabel = "PATH", description = "Activation shard or directory of shards.")
    Path data;

    @Option(names = "--tokens", paramLabel = "T", description = "Tokens to evaluate (default: every row of --data).")
    Long tokens;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "4096", description = "Rows per batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON to FILE.")
    Path json;

    @Option(names = "--skip-nonfinite", description = "Drop activation rows holding NaN/Inf instead of failing.")
    boolean skipNonFinite;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "cpu", description = "cpu | cuda | auto (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--threads", paramLabel = "N", description = "CPU engine threads (default: all processors).")
    Integer threads;

    /** Every row in file order, the ragged last batch included; the loader (whole batches) where rows are dropped. */
    private BatchStream openData(int batchSize) {
        return skipNonFinite ? ActivationLoader.open(data, ActivationLoader.Options.defaults(batchSize)
                .withShuffle(false).withSkipNonFinite(true)) : ShardRowStream.open(data, batchSize);
    }

    @Override
    public Integer call() throws IOException {
        if (batch < 1 || (tokens != null && tokens < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch and --tokens must be ≥ 1");
        }
        SaeWeights weights = SaeLoader.read(sae);
        long rows;
        try (ShardSet shards = ShardSet.open(data)) {
            rows = shards.rows();
        }
        long evalTokens = tokens == null ? rows : tokens;
        if (evalTokens > rows) {
            throw UserError.inFile(data, "holds " + rows + " rows, fewer than --tokens " + evalTokens);
        }
        int b = (int) Math.min(batch, evalTokens);
        Map<String, Object> result = new LinkedHashMap<>();
        try (Engine eng = EngineChoice.open(engine, threads, spec.commandLine())) {
            SaeEvaluator.Outcome outcome = SaeEvaluator.evaluate(eng, weights, openData(b), evalTokens);
            result.putAll(outcome.metrics().result());
            result.put("architecture", weights.architecture());
            result.put("sae", sae.toString());
            result.put("data", data.toString());
            result.put("engine", eng.describe());
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        String text = mapper.writeValueAsString(result);
        spec.commandLine().getOut().println(text);
        spec.commandLine().getOut().flush();
        if (json != null) {
            AtomicFiles.writeString(json, text + "\n");
        }
        return 0;
    }
}
