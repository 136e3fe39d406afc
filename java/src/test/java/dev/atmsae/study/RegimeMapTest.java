package dev.atmsae.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atmsae.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny regime map end to end (about 15 s on two cores): two regimes (one with the later generator settings), widths
 * and L0 targets relative to each regime's truth with settings that round together run once, a Matryoshka variant
 * whose groups follow each regime's root count, the report's three files, and a second invocation that retrains
 * nothing.
 */
class RegimeMapTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            {"name": "tiny map (test)",
             "base": {"tokens": 8192, "eval_tokens": 2000, "d": 24, "trees": 2, "children": 4, "independent": 4,
                      "parent_rate": 0.3, "child_prob": 0.6, "independent_rate": 0.1},
             "regimes": [{"name": "plain", "source": "test"},
                         {"name": "orphans", "synth": {"orphan_prob": 0.1, "child_scale": 2, "independent": 6}}],
             "widths": [1, 2], "l0": [0.75, 1, 2],
             "methods": ["topk", {"name": "matryoshka-roots", "arch": "matryoshka",
                                  "keys": {"matryoshka_groups": "{roots},rest"}}],
             "seeds": [1], "tokens": 8192, "batch": 256, "eval_tokens": 2048, "common": {"lr": 0.004}}
            """;

    @Test
    @SuppressWarnings("unchecked")
    void tinyMapRunsEverySettingOnceWritesItsReportAndReuses() throws Exception {
        Path config = dir.resolve("map.json");
        Files.writeString(config, CONFIG);
        Path out = dir.resolve("out");
        String[] args = {"regime-map", "--config", config.toString(), "--out", out.toString(), "--engine", "cpu",
            "--quiet"};
        StringWriter stderr = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(stderr), args), stderr.toString());

        RegimeMapSpec spec = RegimeMapSpec.read(config);
        RegimeMapSpec.Regime plain = spec.regimes().get(0);
        assertEquals(14, plain.config().features());
        assertEquals(2 * 0.3 * 1.6 + 0.4, plain.config().meanActiveFeatures(), 1e-12);
        // k = round(0.75 × 1.36) = round(1 × 1.36) = 1, round(2 × 1.36) = 3: two k, so 2 widths × 2 k × 2 methods
        try (var runs = Files.list(out.resolve("runs/plain"))) {
            assertEquals(8, runs.count());
        }
        Map<String, Object> trained = new ObjectMapper().readValue(Files.readString(
                out.resolve("runs/orphans/matryoshka-roots-w32-k3-s1/train_config.json")),
                new TypeReference<Map<String, Object>>() { });
        assertEquals("8,rest", trained.get("matryoshka_groups"), "{roots} = 2 trees + 6 independent in that regime");

        Map<String, Object> map = new ObjectMapper().readValue(Files.readString(out.resolve("map.json")),
                new TypeReference<Map<String, Object>>() { });
        List<Map<String, Object>> cells = (List<Map<String, Object>>) map.get("cells");
        // the orphans regime has 1.7 active features: k = 1, 2 and 3, so 2 × 3 × 2 cells beside plain's 8
        assertEquals(20, cells.size());
        for (Map<String, Object> c : cells) {
            Map<String, Object> cell = (Map<String, Object>) c.get("cell");
            if (((Number) cell.get("seeds")).intValue() > 0) {
                Map<String, Object> measures = (Map<String, Object>) cell.get("measures");
                double parentCos = ((Number) measures.get("parent_latent_cos")).doubleValue();
                assertTrue(parentCos > -1 && parentCos <= 1, "decoder cosines recorded: " + measures);
            }
        }
        assertTrue(Files.readString(out.resolve("map.md")).contains("## Where each method absorbs strongly"));
        assertTrue(Files.size(out.resolve("map.png")) > 1000);

        Path metrics = out.resolve("runs/plain/topk-w14-k1-s1/metrics.json");
        long before = Files.getLastModifiedTime(metrics).toMillis();
        String first = Files.readString(out.resolve("map.json"));
        assertEquals(0, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args));
        assertEquals(before, Files.getLastModifiedTime(metrics).toMillis());
        assertEquals(first, Files.readString(out.resolve("map.json")));
    }

    @Test
    void badRegimeIsOneLineNamingIt() throws Exception {
        Path config = dir.resolve("bad.json");
        Files.writeString(config, CONFIG.replace("\"orphan_prob\": 0.1", "\"orphan_prob\": 1.5"));
        StringWriter stderr = new StringWriter();
        assertEquals(1, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(stderr), "regime-map",
                "--config", config.toString(), "--out", dir.resolve("o").toString()));
        assertTrue(stderr.toString().contains("regime orphans") && stderr.toString().contains("1.5"), stderr.toString());
        assertEquals(1, stderr.toString().strip().lines().count(), stderr.toString());
    }
}
