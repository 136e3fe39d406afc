package dev.atmsae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The numpy peer's --serve protocol end to end at a tiny shape: the ready line names its BLAS, each "steps N" request
 * answers N step times, tokens/s and the encoder product's GFLOP/s; a missing script is skipped with a reason.
 */
class PeerProcessTest {
    private static final Path PEERS = Path.of("peers").toAbsolutePath();

    private static boolean numpyImportable() throws Exception {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void numpyPeerServesPairedRequests() throws Exception {
        boolean numpy = numpyImportable();
        if (!numpy) {
            System.out.println("SKIPPED numpy peer protocol: python3 cannot import numpy here");
        }
        assumeTrue(numpy, "python3 cannot import numpy here");
        PeerProcess.Kind kind = new PeerProcess.Kind("numpy", "python3", PEERS.resolve("numpy_sae.py"));
        try (PeerProcess peer = kind.start("topk", 8, 32, 16, 4, 1)) {
            assertNotNull(peer, "the peer did not start");
            assertTrue(peer.info().path("blas").asText().length() > 0, peer.info().toString());
            assertEquals("topk", peer.info().path("arch").asText());
            for (int steps : new int[] {2, 3}) {
                JsonNode m = peer.measure(steps);
                assertNotNull(m);
                assertEquals(steps, m.get("times_s").size());
                assertEquals(16 / m.get("median_s").asDouble(), m.get("tokens_per_s").asDouble(), 1e-6);
                assertTrue(m.get("gemm_gflops").asDouble() > 0, m.toString());
            }
        }
    }

    @Test
    void missingScriptIsSkipped() {
        assertNull(new PeerProcess.Kind("numpy", "python3", PEERS.resolve("no_such_peer.py"))
                .start("relu", 8, 32, 16, 4, 1));
    }
}
