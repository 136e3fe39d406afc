package dev.atmsae.browse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.cli.Main;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code atmsae browse} from the command line: a good run, and each bad input as one line and exit code 1. */
class BrowseCommandTest {
    @TempDir
    static Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void fixture() {
        BrowseFixture.harvest(tmp.resolve("harvest"), 20, "3", 5);
        BrowseFixture.probeSet(tmp.resolve("probe-l3"), "3", 6);
        BrowseFixture.probeSet(tmp.resolve("probe-emb"), "embeddings", 6);
        BrowseFixture.sae(tmp.resolve("sae"), true, "atm");
    }

    private static void assertOneLineError(Result r, String... fragments) {
        assertEquals(1, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("atmsae: "), err);
        for (String f : fragments) {
            assertTrue(err.contains(f), "'" + f + "' in: " + err);
        }
        assertFalse(err.contains("Exception"), err);
    }

    @Test
    void buildsTheSite() {
        Path site = tmp.resolve("site");
        Result r = cli("browse", "--sae", tmp.resolve("sae").toString(), "--data", tmp.resolve("harvest").toString(),
                "--probe-set", tmp.resolve("probe-l3").toString(), "--out", site.toString(), "--tokens", "100");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("browse: wrote "), r.out());
        assertTrue(Files.isRegularFile(site.resolve("index.html")));
        assertTrue(Files.isRegularFile(site.resolve("data/absorption.js")));
        assertFalse(Files.exists(site.resolve("compare")), "no second SAE, no compare site");
    }

    @Test
    void saeOfAnotherWidthIsOneLine() {
        Path other = tmp.resolve("sae-d8");
        SaeExport.write(other, new SaeWeights("standard", 8, 4, new float[32], new float[4], new float[32],
                new float[8], null, 0, Map.of()), null);
        Result r = cli("browse", "--sae", other.toString(), "--data", tmp.resolve("harvest").toString(), "--out",
                tmp.resolve("x").toString());
        assertOneLineError(r, "sae-d8", "d_in = 8", "d = 16");
        Result c = cli("browse", "--sae", tmp.resolve("sae").toString(), "--compare", other.toString(), "--data",
                tmp.resolve("harvest").toString(), "--out", tmp.resolve("x").toString());
        assertOneLineError(c, "sae-d8", "d_in = 8");
    }

    @Test
    void probeSetFromAnotherLayerIsOneLine() {
        Result r = cli("browse", "--sae", tmp.resolve("sae").toString(), "--data", tmp.resolve("harvest").toString(),
                "--probe-set", tmp.resolve("probe-emb").toString(), "--out", tmp.resolve("x").toString());
        assertOneLineError(r, "probe-emb", "layer embeddings", "layer 3");
    }

    @Test
    void missingTokenMetadataIsOneLine() throws Exception {
        Path copy = tmp.resolve("harvest-no-meta");
        Files.createDirectories(copy);
        try (var files = Files.list(tmp.resolve("harvest"))) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Files.delete(copy.resolve("meta_00001.tsv"));
        Result r = cli("browse", "--sae", tmp.resolve("sae").toString(), "--data", copy.toString(), "--out",
                tmp.resolve("x").toString());
        assertOneLineError(r, "meta_00001.tsv", "missing token metadata", "acts_00001.npy");
        // a metadata file that does not match its shard
        Files.writeString(copy.resolve("meta_00001.tsv"), Files.readAllLines(tmp.resolve("harvest/meta_00001.tsv"))
                .subList(0, 5).stream().reduce("", (a, b) -> a + b + "\n"));
        Result t = cli("browse", "--sae", tmp.resolve("sae").toString(), "--data", copy.toString(), "--out",
                tmp.resolve("x").toString());
        assertOneLineError(t, "meta_00001.tsv", "4 token rows");
    }

    @Test
    void notAHarvestIsOneLine() {
        Result r = cli("browse", "--sae", tmp.resolve("sae").toString(), "--data", tmp.resolve("nowhere").toString(),
                "--out", tmp.resolve("x").toString());
        assertOneLineError(r, "nowhere", "not a harvest directory");
    }
}
