package dev.atmsae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atmsae.io.SaeExport;
import dev.atmsae.train.TrainTestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * atmsae train --arch matryoshka through the command line: the alias, --target-l0 as k, the export's cfg.json, and
 * bad matryoshka_groups specs as one-line usage errors (exit 2) naming the setting.
 */
class MatryoshkaCliTest {
    private static final int D = 16;

    @TempDir
    Path tmp;

    private static Object[] run(String... args) {
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            return new Object[] {Main.run(args), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    @Test
    void trainsWithTargetL0AsKAndExportsJumpReluWithGroups() {
        Path shard = TrainTestData.writeShard(tmp.resolve("acts.npy"), 1024, D, 3);
        Path out = tmp.resolve("run");
        Object[] r = run("train", "--data", shard.toString(), "--arch", "matryoshka_batchtopk", "--width", "64",
                "--target-l0", "4", "--tokens", "1024", "--batch", "64", "--seed", "5", "--threads", "1",
                "--out", out.toString(), "--quiet");
        assertEquals(0, r[0], () -> "stderr: " + r[1]);
        JsonNode cfg = SaeExport.readConfig(out);
        assertEquals("jumprelu", cfg.path("architecture").asText());
        JsonNode facts = cfg.path("metadata").path("atmsae");
        assertEquals("matryoshka", facts.path("arch").asText());
        assertEquals(4, facts.path("config").path("k").asInt());
        assertTrue(facts.path("config").path("target_l0").isNull(), "L0 is k, no coefficient target");
        assertEquals("[2,4,8,16,34]", facts.path("matryoshka").path("group_sizes").toString());
        assertEquals("equal", facts.path("matryoshka").path("loss").asText());
    }

    @Test
    void badGroupSpecsAreOneLineUsageErrors() {
        Path shard = TrainTestData.writeShard(tmp.resolve("a.npy"), 256, D, 1);
        String[][] cases = {
            {"10,20,30", "not the width 64"},      // sizes that do not sum to the width
            {"32,32,rest", "no latents"},          // an empty group
            {"0,32,32", "group size 0"},           // an empty group, written as a size
            {"1/2,0,rest", "outside (0, 1]"},      // a fraction ≤ 0
            {"-1/4,rest", "outside (0, 1]"},
        };
        for (String[] c : cases) {
            Object[] r = run("train", "--data", shard.toString(), "--arch", "matryoshka", "--width", "64", "--k", "4",
                    "--tokens", "256", "--out", tmp.resolve("bad").toString(), "--set", "matryoshka_groups=" + c[0]);
            String err = ((String) r[1]).strip();
            String first = err.lines().findFirst().orElse("");
            assertEquals(2, r[0], c[0] + ": " + err);
            assertTrue(first.contains("matryoshka_groups = " + c[0]) && first.contains(c[1]), c[0] + ": " + err);
            // the one-line error, then the CLI's usual pointer to --help; no stack trace
            assertTrue(err.lines().count() <= 2 && !err.contains("Exception"), "one line, no trace: " + err);
        }
        Object[] r = run("train", "--data", shard.toString(), "--arch", "matryoshka", "--width", "64",
                "--target-l0", "4.5", "--tokens", "256", "--out", tmp.resolve("bad").toString());
        assertEquals(2, r[0], (String) r[1]);
    }
}
