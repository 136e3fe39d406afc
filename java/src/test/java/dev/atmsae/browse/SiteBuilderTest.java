package dev.atmsae.browse;

import dev.atmsae.io.SaeLoader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.eval.EngineCodes;
import dev.atmsae.eval.SaeForward;
import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.AbsorptionRows;
import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.io.SaeWeights;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The site's data on the fixture world, where every latent's meaning and the absorbed words are known. */
class SiteBuilderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static Path site;
    static SiteBuilder.Summary summary;

    @BeforeAll
    static void build() {
        BrowseFixture.harvest(tmp.resolve("harvest"), 60, "3", 1);
        BrowseFixture.probeSet(tmp.resolve("probe"), "3", 2);
        BrowseFixture.sae(tmp.resolve("sae-a"), true, "atm");
        BrowseFixture.sae(tmp.resolve("sae-b"), false, "topk");
        site = tmp.resolve("site");
        try (Engine engine = Engines.cpu(2, false)) {
            summary = SiteBuilder.build(engine, new SiteBuilder.Inputs(tmp.resolve("sae-a"), tmp.resolve("harvest"),
                    tmp.resolve("probe"), tmp.resolve("sae-b"), site), SiteBuilder.Options.defaults(),
                    new PrintWriter(new StringWriter()));
        }
    }

    static JsonNode data(Path file) throws Exception {
        String text = Files.readString(file);
        assertTrue(text.startsWith("window.__atmsae(") && text.endsWith(");\n"), file + " is not a data script");
        return JSON.readTree(text.substring("window.__atmsae(".length(), text.length() - 3));
    }

    @Test
    void writesEveryPageAndBothSites() {
        for (Path root : List.of(site, site.resolve(SiteBuilder.COMPARE_DIR))) {
            for (String page : SiteBuilder.PAGES) {
                assertTrue(Files.isRegularFile(root.resolve(page)), page);
            }
            assertTrue(Files.isRegularFile(root.resolve("assets/app.js")));
            assertTrue(Files.isRegularFile(root.resolve("data/latents/c00000.js")));
        }
        assertEquals(BrowseFixture.D, summary.latents());
        assertEquals(60 * 3 * 4 + countWalks(), summary.tokens());
    }

    private static long countWalks() {
        // "walk" adds a "##ing" row; count from the metadata rather than re-deriving the random draw
        try (HarvestData h = HarvestData.open(tmp.resolve("harvest"))) {
            long n = 0;
            for (int r = 0; r < h.tokens().rows(); r++) {
                n += h.tokens().token(r).equals("##ing") ? 1 : 0;
            }
            return n;
        }
    }

    @Test
    void overviewHoldsMetricsAndDeadLatents() throws Exception {
        JsonNode ov = data(site.resolve("data/overview.js"));
        assertEquals("atm", ov.at("/sae/arch").asText());
        assertEquals(1, ov.at("/metrics/dead_latents").asInt(), "latent 15 never fires");
        assertEquals(1, ov.at("/density_histogram/dead").asInt());
        assertTrue(ov.at("/metrics/fvu").asDouble() < 0.5, "the planted SAE reconstructs well");
        assertEquals("compare/", ov.at("/compare/href").asText());
        assertEquals("../", data(site.resolve("compare/data/overview.js")).at("/compare/href").asText());
    }

    @Test
    void latentTopContextIsItsWordWithTheMaxMarked() throws Exception {
        JsonNode chunk = data(site.resolve("data/latents/c00000.js"));
        JsonNode cat = chunk.at("/latents/" + BrowseFixture.dirOf("cat"));
        JsonNode top = cat.at("/contexts/0");
        assertEquals("cat", top.at("/toks").get(top.at("/at").asInt()).asText());
        double max = 0;
        for (JsonNode a : top.at("/acts")) {
            max = Math.max(max, a.asDouble());
        }
        assertEquals(max, top.at("/acts").get(top.at("/at").asInt()).asDouble(), 0.0, "marked token has the max");
        assertEquals(top.at("/act").asDouble(), cat.at("/max").asDouble(), 1e-3);
        // the window is the sentence: "the cat VERB ."
        assertEquals("the", top.at("/toks/0").asText());
        assertEquals(".", top.at("/toks").get(top.at("/toks").size() - 1).asText());
        assertEquals("NOUN", cat.at("/tags").fieldNames().next());
        assertEquals(SiteBuilder.Options.defaults().topContexts(), cat.at("/contexts").size());
        // decoder cosines: the absorbing dog latent is the NOUN latent's nearest neighbour (cos √½)
        JsonNode noun = chunk.at("/latents/" + BrowseFixture.NOUN);
        assertEquals(BrowseFixture.DOG, noun.at("/neighbours/0/0").asInt());
        assertEquals(Math.sqrt(0.5), noun.at("/neighbours/0/1").asDouble(), 1e-3);
        // the dead latent never fired
        assertEquals(0, chunk.at("/latents/" + BrowseFixture.DOT + "/contexts").size());
    }

    @Test
    void absorptionViewShowsDogAbsorbedByItsLatent() throws Exception {
        JsonNode ab = data(site.resolve("data/absorption.js"));
        JsonNode noun = null;
        for (JsonNode c : ab.at("/classes")) {
            if (c.at("/name").asText().equals("NOUN")) {
                noun = c;
            }
        }
        assertTrue(noun != null && noun.at("/kept").asBoolean(), "NOUN is scored");
        assertEquals(BrowseFixture.NOUN, noun.at("/main/0").asInt());
        assertTrue(noun.at("/rows").size() > 0, "absorbed rows listed: " + noun);
        for (JsonNode r : noun.at("/rows")) {
            assertEquals("dog", r.at("/word").asText(), "only dog is absorbed");
            assertEquals(BrowseFixture.DOG, r.at("/absorbers/0/0").asInt());
            assertTrue(r.at("/absorbers/0/1").asDouble() > 0.4, "absorber carries most of A");
        }
        JsonNode other = data(site.resolve("compare/data/absorption.js"));
        for (JsonNode c : other.at("/classes")) {
            if (c.at("/name").asText().equals("NOUN")) {
                assertEquals(0, c.at("/rows").size(), "the non-absorbing SAE absorbs nothing");
            }
        }
    }

    /** The per-row view reproduces the report's own numbers (same rows, same rules). */
    @Test
    void absorptionRowsAgreeWithTheReport() {
        ProbeSet set = dev.atmsae.eval.absorption.ProbeSets.read(tmp.resolve("probe"));
        SaeWeights sae = dev.atmsae.io.SaeLoader.read(tmp.resolve("sae-a"));
        SaeForward.Codes codes;
        try (Engine engine = Engines.cpu(2, false)) {
            codes = EngineCodes.encode(engine, sae, set.acts(), set.n());
        }
        AbsorptionEval.ProbeCache cache = new AbsorptionEval.ProbeCache(set);
        AbsorptionReport report = AbsorptionEval.run(set, sae, codes, AbsorptionOptions.defaults(), cache);
        for (AbsorptionReport.ClassResult c : report.classes()) {
            List<AbsorptionRows.Row> rows = AbsorptionRows.of(set, sae, codes, AbsorptionOptions.defaults(), cache, c);
            assertEquals(c.nScored(), rows.size(), c.name());
            double frac = rows.stream().mapToDouble(AbsorptionRows.Row::fraction).average().orElse(0);
            double full = rows.stream().filter(AbsorptionRows.Row::full).count() / (double) Math.max(1, rows.size());
            assertEquals(c.absorptionFraction(), frac, 1e-12, c.name());
            assertEquals(c.fullAbsorption(), full, 1e-12, c.name());
            List<Integer> absorbers = new ArrayList<>();
            rows.forEach(r -> r.absorbers().forEach(a -> absorbers.add(a.latent())));
            for (AbsorptionReport.AbsorbingLatent a : c.absorbingLatents()) {
                assertEquals(a.count(), absorbers.stream().filter(j -> j == a.latent()).count(), c.name());
            }
        }
        assertFalse(report.classes().isEmpty());
    }
}
