package dev.atmsae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One peer (numpy or PyTorch) for one architecture, kept running for the whole case so that its repetitions can be
 * interleaved with atmsae's at no start-up cost: the script's {@code --serve} mode (peers/peer_serve.py) warms up,
 * reports its versions and BLAS in a first JSON line, then times "steps N" per request.
 */
final class PeerProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How to start a peer: its name, the Python that runs it, its script. */
    record Kind(String name, String python, Path script) {
        /** Starts it for one case; null (with the reason on stderr) when it cannot run here. */
        PeerProcess start(String arch, int d, int n, int batch, int k, int warmup) {
            if (!Files.isRegularFile(script)) {
                System.err.println("TrainBench: " + name + " peer not found at " + script + "; skipping it");
                return null;
            }
            Process p;
            try {
                p = new ProcessBuilder(List.of(python, script.toString(), "--serve", "--arch", arch, "--d",
                        Integer.toString(d), "--n", Integer.toString(n), "--batch", Integer.toString(batch), "--k",
                        Integer.toString(k), "--warmup", Integer.toString(warmup)))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            } catch (IOException e) {
                System.err.println("TrainBench: cannot start " + python + " for the " + name + " peer: "
                        + e.getMessage());
                return null;
            }
            PeerProcess peer = new PeerProcess(this, p);
            JsonNode ready = peer.readLine();
            if (ready == null || !ready.path("ready").asBoolean()) {
                peer.close();
                System.err.println("TrainBench: the " + name + " peer did not start for " + arch + " " + d + "x" + n
                        + " (exit " + peer.exitCode() + "); skipping it");
                return null;
            }
            peer.info = ready;
            return peer;
        }
    }

    private final Kind kind;
    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private JsonNode info;

    private PeerProcess(Kind kind, Process process) {
        this.kind = kind;
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    String name() {
        return kind.name();
    }

    /** The ready line: versions, {@code blas} (the library and the core it runs), thread count. */
    JsonNode info() {
        return info;
    }

    /**
     * Times {@code steps} training steps and the encoder product: {@code median_s}, {@code tokens_per_s},
     * {@code gemm_gflops}, {@code times_s}; null when the peer died (reported on stderr).
     */
    JsonNode measure(int steps) {
        try {
            in.write("steps " + steps + "\n");
            in.flush();
        } catch (IOException e) {
            System.err.println("TrainBench: the " + name() + " peer stopped: " + e.getMessage());
            return null;
        }
        JsonNode r = readLine();
        if (r == null) {
            System.err.println("TrainBench: the " + name() + " peer stopped (exit " + exitCode() + ")");
        }
        return r;
    }

    private JsonNode readLine() {
        try {
            String line = out.readLine();
            return line == null ? null : JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }

    private String exitCode() {
        try {
            return process.waitFor(10, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        try {
            in.write("quit\n");
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
