package dev.atmsae.browse;

import dev.atmsae.io.SaeLoader;
import dev.atmsae.engine.Engine;
import dev.atmsae.eval.CoreMetrics;
import dev.atmsae.eval.EngineCodes;
import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Builds the static feature browser of an SAE (issue 13): pages and scripts from the class path, data as
 * {@link Jsonp} scripts. Layout of SITE/: {@code index.html} (overview), {@code latent.html#J}, {@code absorption.html}
 * (with a probe set), {@code compare.html} (with a second SAE, whose own site goes to {@code SITE/compare/}),
 * {@code assets/}, {@code data/overview.js}, {@code data/index.js}, {@code data/latents/cNNNNN.js},
 * {@code data/absorption.js}.
 */
public final class SiteBuilder {
    static final List<String> PAGES = List.of("index.html", "latent.html", "absorption.html", "compare.html");
    static final List<String> ASSETS = List.of("app.js", "app.css");
    static final String COMPARE_DIR = "compare";

    /** What to build from. {@code probeSet} and {@code compare} may be null. */
    public record Inputs(Path sae, Path data, Path probeSet, Path compare, Path out) {
    }

    /**
     * @param topContexts    contexts shown per latent
     * @param contextHalf    tokens either side of the max token, at most (within its sentence)
     * @param topTagged      strongest activations counted for top tokens and the POS-tag distribution
     * @param neighbours     decoder-cosine nearest latents per latent
     * @param maxTokens      harvest rows used (0 = all)
     * @param maxAbsorbedRows absorbed rows listed per parent class
     */
    public record Options(int topContexts, int contextHalf, int topTagged, int neighbours, long maxTokens,
                          int maxAbsorbedRows) {
        public Options {
            // a context window must fit in the chunks beside its own (HarvestPass: at least 256 rows each)
            if (contextHalf < 0 || contextHalf > 128 || topContexts < 1 || topTagged < 1 || neighbours < 0
                    || maxTokens < 0 || maxAbsorbedRows < 0) {
                throw new IllegalArgumentException("browse options out of range: " + this);
            }
        }

        public static Options defaults() {
            return new Options(16, 14, 100, 8, 0, 300);
        }

        public Options withMaxTokens(long tokens) {
            return new Options(topContexts, contextHalf, topTagged, neighbours, tokens, maxAbsorbedRows);
        }
    }

    /** What was built: latents, harvest rows used, files and bytes under the site, seconds. */
    public record Summary(int latents, long tokens, long files, long bytes, double seconds) {
    }

    private SiteBuilder() {
    }

    /** Checks every input (one-line {@link UserError}s), then builds the site. */
    public static Summary build(Engine engine, Inputs in, Options options, PrintWriter log) {
        long t0 = System.nanoTime();
        SaeWeights sae = SaeLoader.read(in.sae());
        SaeWeights other = in.compare() == null ? null : SaeLoader.read(in.compare());
        try (HarvestData data = HarvestData.open(in.data())) {
            checkWidth(in.sae(), sae, data);
            if (other != null) {
                checkWidth(in.compare(), other, data);
            }
            ProbeSet set = in.probeSet() == null ? null : ProbeSets.read(in.probeSet());
            if (set != null) {
                checkProbeSet(in.probeSet(), set, sae, data);
            }
            AbsorptionEval.ProbeCache probes = set == null ? null : AbsorptionEval.ProbeCache.storedIn(set, in.probeSet());
            int limit = (int) Math.min(data.tokens().rows(), options.maxTokens() > 0 ? options.maxTokens() : Long.MAX_VALUE);
            String compareLabel = other == null ? null : label(in.compare(), other);
            Site a = new Site(in.out(), label(in.sae(), sae), in.sae(), sae, compareLabel == null ? null
                    : Map.of("href", COMPARE_DIR + "/", "label", compareLabel, "role", "a"));
            a.build(engine, data, limit, set, probes, options, log);
            if (other != null) {
                Site b = new Site(in.out().resolve(COMPARE_DIR), compareLabel, in.compare(), other,
                        Map.of("href", "../", "label", a.label, "role", "b"));
                b.build(engine, data, limit, set, probes, options, log);
            }
            long[] size = sizeOf(in.out());
            return new Summary(sae.dSae(), limit, size[0], size[1], (System.nanoTime() - t0) / 1e9);
        }
    }

    private static void checkWidth(Path dir, SaeWeights sae, HarvestData data) {
        if (sae.dIn() != data.d()) {
            throw UserError.inFile(dir, "SAE d_in = " + sae.dIn() + " but the harvest " + data.dir() + " has d = "
                    + data.d() + " (the SAE was trained on other activations)");
        }
    }

    private static void checkProbeSet(Path dir, ProbeSet set, SaeWeights sae, HarvestData data) {
        Object layer = set.source() == null ? null : set.source().get("layer");
        if (layer != null && data.layer() != null && !layer.toString().equals(data.layer())) {
            throw UserError.inFile(dir, "probe set is from layer " + layer + " but the harvest " + data.dir()
                    + " is from layer " + data.layer());
        }
        if (set.d() != sae.dIn()) {
            throw UserError.inFile(dir, "probe set has d = " + set.d() + " but the SAE has d_in = " + sae.dIn());
        }
    }

    /** "runs/atm-l0_16-seed1 (atm)": the SAE directory's name and atmsae's architecture id when cfg.json has it. */
    static String label(Path dir, SaeWeights sae) {
        return dir.toAbsolutePath().normalize().getFileName() + " (" + archOf(sae) + ")";
    }

    static String archOf(SaeWeights sae) {
        if (sae.metadata() != null && sae.metadata().get("atmsae") instanceof Map<?, ?> own && own.get("arch") != null) {
            return own.get("arch").toString();
        }
        return sae.architecture();
    }

    /** One SAE's site. */
    private static final class Site {
        private final Path out;
        private final String label;
        private final Path saeDir;
        private final SaeWeights sae;
        private final Map<String, Object> compare;

        Site(Path out, String label, Path saeDir, SaeWeights sae, Map<String, Object> compare) {
            this.out = out;
            this.label = label;
            this.saeDir = saeDir;
            this.sae = sae;
            this.compare = compare;
        }

        void build(Engine engine, HarvestData data, int limit, ProbeSet set, AbsorptionEval.ProbeCache probes,
                   Options options, PrintWriter log) {
            long t0 = System.nanoTime();
            LatentStats stats = new LatentStats(sae.dSae(), options.topContexts(), options.topTagged(),
                    options.contextHalf());
            long[] lastPrint = {System.nanoTime()};
            CoreMetrics metrics = HarvestPass.run(engine, sae, data, limit, stats, done -> {
                if (System.nanoTime() - lastPrint[0] > 10e9) {
                    lastPrint[0] = System.nanoTime();
                    log.printf(Locale.ROOT, "browse: %s: %d / %d tokens%n", label, done, limit);
                    log.flush();
                }
            });
            long t1 = System.nanoTime();
            DecoderNeighbours.Result near = DecoderNeighbours.of(engine, sae, options.neighbours());
            long t2 = System.nanoTime();
            Path dataDir = out.resolve("data");
            new LatentPages(stats, data.tokens(), near).write(dataDir);
            long t3 = System.nanoTime();
            if (set != null) {
                SaeForward.Codes codes = EngineCodes.encode(engine, sae, set.acts(), set.n());
                Jsonp.write(dataDir.resolve("absorption.js"),
                        AbsorptionPage.data(set, sae, codes, probes, options.maxAbsorbedRows()));
            }
            long t4 = System.nanoTime();
            Jsonp.write(dataDir.resolve("overview.js"), overview(data, stats, metrics, set, limit, (t4 - t0) / 1e9));
            copyResources();
            log.printf(Locale.ROOT, "browse: %s: %d latents over %d tokens in %.1f s (harvest pass %.1f s, nearest "
                    + "latents %.1f s, latent pages %.1f s, absorption %.1f s)%n", label, sae.dSae(), limit,
                    (System.nanoTime() - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9);
            log.flush();
        }

        private Map<String, Object> overview(HarvestData data, LatentStats stats, CoreMetrics metrics, ProbeSet set,
                                             int limit, double seconds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", label);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("dir", saeDir.toAbsolutePath().normalize().toString());
            s.put("arch", archOf(sae));
            s.put("saelens_architecture", sae.architecture());
            s.put("d_in", sae.dIn());
            s.put("d_sae", sae.dSae());
            if (sae.k() > 0) {
                s.put("k", sae.k());
            }
            if (sae.metadata() != null) {
                s.put("model_name", sae.metadata().get("model_name"));
                s.put("hook_name", sae.metadata().get("hook_name"));
            }
            m.put("sae", s);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("dir", data.dir().toAbsolutePath().normalize().toString());
            d.put("layer", data.layer());
            d.put("hook_name", data.hookName());
            d.put("tokens", limit);
            d.put("harvest_tokens", data.tokens().rows());
            m.put("data", d);
            Map<String, Object> r = metrics.result();
            Map<String, Object> core = new LinkedHashMap<>();
            for (String key : List.of("l0", "fvu", "explained_variance", "cosine_sim", "dead_fraction", "dead_latents")) {
                Object v = r.get(key);
                core.put(key, v instanceof Double x ? Jsonp.round(x, 4) : v);
            }
            m.put("metrics", core);
            m.put("density_histogram", densityHistogram(stats));
            m.put("chunk", LatentPages.CHUNK);
            m.put("has_tags", data.tokens().hasTags());
            m.put("absorption", set == null ? null : set.name());
            m.put("compare", compare);
            m.put("build_seconds", Jsonp.round(seconds, 3));
            return m;
        }

        /** Latents per 0.25-wide bin of log10(density) from −7 to 0; never-firing latents counted apart. */
        private static Map<String, Object> densityHistogram(LatentStats stats) {
            int bins = 28;
            int[] counts = new int[bins];
            int dead = 0;
            for (int j = 0; j < stats.latents(); j++) {
                double dens = stats.density(j);
                if (dens == 0) {
                    dead++;
                    continue;
                }
                int b = (int) Math.floor((Math.log10(dens) + 7) / 0.25);
                counts[Math.max(0, Math.min(bins - 1, b))]++;
            }
            return Map.of("log10_min", -7, "log10_step", 0.25, "counts", counts, "dead", dead);
        }

        private void copyResources() {
            for (String page : PAGES) {
                copy(page, out.resolve(page));
            }
            for (String asset : ASSETS) {
                copy(asset, out.resolve("assets").resolve(asset));
            }
        }

        private static void copy(String resource, Path target) {
            try (InputStream in = SiteBuilder.class.getResourceAsStream("site/" + resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing class-path resource site/" + resource);
                }
                dev.atmsae.io.AtomicFiles.writeBytes(target, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** {files, bytes} under {@code dir}. */
    static long[] sizeOf(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            long[] out = new long[2];
            s.filter(Files::isRegularFile).forEach(p -> {
                out[0]++;
                try {
                    out[1] += Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
