package dev.atmsae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The long-run runner end to end with two CPU engines (what it does on the GPU host with cuda,cpu). */
class GpuLongRunTest {
    @Test
    void writesVerdictsCurvesAndPlots(@TempDir Path out) throws Exception {
        int status = GpuLongRun.run(Map.of("out", out.toString(), "engines", "cpu-java,cpu", "steps", "40", "d", "32",
                "n", "64", "batch", "32", "k", "6", "archs", "topk,relu"));
        assertEquals(0, status);
        JsonNode root = new ObjectMapper().readTree(out.resolve("longrun.json").toFile());
        assertEquals(2, root.path("results").size());
        for (JsonNode r : root.path("results")) {
            assertTrue(r.path("passed").asBoolean(), r.toString());
            assertEquals(40, r.path("curves_a").path("loss").size());
            assertEquals(40, r.path("curves_b").path("l0").size());
        }
        String md = Files.readString(out.resolve("longrun.md"));
        assertTrue(md.contains("| topk |") && md.contains("| relu |"), md);
        for (String png : new String[] {"longrun-loss.png", "longrun-l0.png"}) {
            byte[] head = Files.readAllBytes(out.resolve(png));
            assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G', png);
        }
    }
}
