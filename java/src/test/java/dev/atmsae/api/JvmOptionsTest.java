package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's JVM options as a newcomer meets them, in child JVMs started with chosen options: without
 * {@code --add-modules jdk.incubator.vector} the first API call — whichever it is — throws an {@link AtmsaeException}
 * naming the flag before any work; a JVM that denies native access gets one naming
 * {@code --enable-native-access=ALL-UNNAMED}; and the README's two options are enough for everything, shards included
 * (this suite itself runs with only those two: the root pom's Surefire argLine).
 */
class JvmOptionsTest {
    private static final String README_OPTIONS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    @TempDir
    Path tmp;

    /** Runs {@link #main} in a child JVM with {@code jvmOptions}; returns what it printed (one line per call). */
    private static String child(List<String> jvmOptions, String... calls) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), JvmOptionsTest.class.getName()));
        cmd.addAll(List.of(calls));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child JVM did not finish: " + out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** Child JVM: makes each named call (an argument "load:DIR" loads DIR) and prints its outcome on one line. */
    public static void main(String[] args) {
        for (String call : args) {
            try {
                switch (call.replaceAll(":.*", "")) {
                    case "builder" -> Training.builder();
                    case "load" -> Sae.load(Path.of(call.substring("load:".length())), Device.cpu(1)).close();
                    case "probes" -> ProbeSet.builder("x", 4);
                    case "shards" -> Shards.write(Path.of(call.substring("shards:".length())), new float[][] {{1, 2}});
                    default -> throw new IllegalArgumentException(call);
                }
                System.out.println(call + " -> ok");
            } catch (AtmsaeException e) {
                System.out.println(call + " -> AtmsaeException: " + e.getMessage());
            } catch (Throwable t) {
                System.out.println(call + " -> " + t);
            }
        }
    }

    private Path sae() {
        Path dir = tmp.resolve("sae");
        SaeExport.write(dir, new SaeWeights("standard", 4, 8, new float[32], new float[8], new float[32], new float[4],
                null, 0, Map.of()), null);
        return dir;
    }

    @Test
    void withoutTheVectorModuleTheFirstCallNamesTheFlag() throws Exception {
        String out = child(List.of("--enable-native-access=ALL-UNNAMED"), "builder", "load:" + sae(), "probes",
                "shards:" + tmp.resolve("x.npy"));
        String expected = JvmRequirements.problem(false);
        assertEquals(4, out.lines().filter(l -> l.endsWith("-> AtmsaeException: " + expected)).count(), out);
        assertTrue(expected.contains("--add-modules jdk.incubator.vector"), expected);
    }

    @Test
    void aJvmThatDeniesNativeAccessGetsTheFlagNamed() throws Exception {
        String out = child(List.of("--add-modules", "jdk.incubator.vector", "--illegal-native-access=deny"),
                "load:" + sae());
        assertTrue(out.contains("-> AtmsaeException: this JVM denies native access") && out.contains(
                "--enable-native-access=ALL-UNNAMED"), out);
    }

    @Test
    void theReadmeOptionsAreEnough() throws Exception {
        String out = child(List.of(README_OPTIONS.split(" ")), "builder", "load:" + sae(),
                "shards:" + tmp.resolve("y.npy"));
        assertEquals(3, out.lines().filter(l -> l.endsWith("-> ok")).count(), out);
    }

    @Test
    void theProblemIsOneLineNamingTheFlagOrNone() {
        assertNull(JvmRequirements.problem(true));
        String problem = JvmRequirements.problem(false);
        assertTrue(problem.contains(JvmRequirements.VECTOR_FLAG) && !problem.contains("\n"), problem);
    }

    @Test
    void theBoundaryTranslatesUserAndSetupProblemsOnly() {
        UserError user = new UserError("x.npy: truncated");
        RuntimeException wrapped = new IllegalStateException("activation reader failed", user);
        assertEquals("x.npy: truncated", Boundary.translate(wrapped).getMessage());
        assertTrue(Boundary.translate(wrapped) instanceof AtmsaeException);
        RuntimeException denied = new IllegalCallerException("Illegal native access from an unnamed module");
        assertTrue(Boundary.translate(denied).getMessage().contains("--enable-native-access=ALL-UNNAMED"));
        RuntimeException bug = new IllegalStateException("a bug");
        assertEquals(bug, Boundary.translate(bug));
        AtmsaeException api = new AtmsaeException("already public", null);
        assertEquals(api, Boundary.translate(api));
    }
}
