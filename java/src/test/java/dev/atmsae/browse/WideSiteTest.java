package dev.atmsae.browse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Width 16384: what the overview page loads (its HTML, the assets, data/overview.js and data/index.js) stays under
 * 2 MB, and the latent data is split into chunks that a latent page loads one at a time.
 */
class WideSiteTest {
    static final int WIDTH = 16384;

    @TempDir
    Path tmp;

    @Test
    void overviewOfWidth16384LoadsUnder2MbAndLatentsComeInChunks() throws Exception {
        BrowseFixture.harvest(tmp.resolve("harvest"), 20, "3", 3);
        Random rnd = new Random(5);
        int d = BrowseFixture.D;
        float[] wEnc = new float[d * WIDTH], wDec = new float[WIDTH * d], bEnc = new float[WIDTH];
        for (int i = 0; i < wEnc.length; i++) {
            wEnc[i] = (float) rnd.nextGaussian();
            wDec[i] = (float) rnd.nextGaussian();
        }
        java.util.Arrays.fill(bEnc, -0.5f);
        SaeExport.write(tmp.resolve("sae"), new SaeWeights("topk", d, WIDTH, wEnc, bEnc, wDec, new float[d], null, 32,
                Map.of()), null);
        Path site = tmp.resolve("site");
        try (Engine engine = Engines.cpu(2, false)) {
            SiteBuilder.build(engine, new SiteBuilder.Inputs(tmp.resolve("sae"), tmp.resolve("harvest"), null, null,
                    site), SiteBuilder.Options.defaults(), new PrintWriter(new StringWriter()));
        }
        long overview = 0;
        for (String f : List.of("index.html", "assets/app.js", "assets/app.css", "data/overview.js", "data/index.js")) {
            overview += Files.size(site.resolve(f));
        }
        System.out.printf("width %d: overview page loads %.2f MB%n", WIDTH, overview / 1e6);
        assertTrue(overview < 2_000_000, "overview loads " + overview + " bytes");
        long chunks;
        try (var s = Files.list(site.resolve("data/latents"))) {
            chunks = s.count();
        }
        assertEquals(WIDTH / LatentPages.CHUNK, chunks);
        long largest = 0;
        try (var s = Files.list(site.resolve("data/latents"))) {
            for (Path p : s.toList()) {
                largest = Math.max(largest, Files.size(p));
            }
        }
        assertTrue(largest < 2_000_000, "largest chunk " + largest + " bytes");
    }
}
