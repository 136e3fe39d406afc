package dev.atmsae.harvest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HarvestCommandTest {
    @Test
    void harvestVerbIsRegisteredThroughTheServiceLoader() {
        assertTrue(Main.commandLine().getSubcommands().containsKey("harvest"));
        assertEquals(0, Main.run("harvest", "--help"));
    }

    @Test
    void userMistakesExitWithOne(@TempDir Path tmp) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            assertEquals(1, Main.run("harvest", "--out", tmp.toString(), "--layer", "7"));
            assertEquals(1, Main.run("harvest", "--out", tmp.toString(), "--probe-set", "nouns"));
            assertEquals(1, Main.run("harvest", "--out", tmp.toString(), "--genres", "z"));
            assertEquals(1, Main.run("harvest", "--out", tmp.toString(), "--corpus", tmp.resolve("nope").toString()));
            assertEquals(2, Main.run("harvest"));
        } finally {
            System.setErr(err);
        }
        String text = captured.toString();
        assertTrue(text.contains("--layer") && text.contains("--probe-set") && text.contains("--genres")
                && text.contains("nope"), text);
    }

    @Test
    void smallHarvestThroughTheCli(@TempDir Path tmp) {
        TestCorpora.tiny(tmp.resolve("corpus"));
        Path out = tmp.resolve("shards");
        assertEquals(0, Main.run("harvest", "--out", out.toString(), "--corpus", tmp.resolve("corpus").toString(),
                "--layer", "embeddings", "--quiet"));
        assertTrue(Files.isRegularFile(out.resolve("acts_00000.npy")));
        assertTrue(Files.isRegularFile(out.resolve("meta_00000.tsv")));
        assertTrue(Files.isRegularFile(out.resolve(Harvester.MANIFEST)));
    }
}
