package dev.atmsae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rooms layer cleanly: a main source file may refer (by import or fully qualified name in code; comments and string
 * literals do not count) only to its own room or to rooms below it. Rooms, lowest first:
 * <pre>
 *   util
 *   io, core            (core: TrainConfig, ArchKind, schedules, sparsity control, geometric median, Philox)
 *   data, engine        (engine includes engine.cpu and engine.cuda)
 *   arch
 *   eval, gpucheck      (eval: with eval.probe, eval.absorption, eval.synth; the trainer's final metrics use it.
 *                        gpucheck: the CUDA engine's parity harnesses and self-test, which train SAEs of arch on
 *                        two engines: run on a GPU and on the emulated device)
 *   train               (the loop, checkpoints)
 *   report
 *   sweep, browse       (browse: the static latent browser)
 *   api, study          (study: the staged ATM study over sweeps)
 *   cli
 * </pre>
 * A new package must be given a room here. The checker is tested on a synthetic violation.
 */
class RoomLayeringTest {
    /** Package prefix → level; the longest matching prefix wins. */
    private static final Map<String, Integer> LEVELS = new LinkedHashMap<>();

    static {
        LEVELS.put("dev.atmsae.util", 0);
        LEVELS.put("dev.atmsae.io", 1);
        LEVELS.put("dev.atmsae.core", 1);
        LEVELS.put("dev.atmsae.data", 2);
        LEVELS.put("dev.atmsae.engine", 2);
        LEVELS.put("dev.atmsae.arch", 3);
        LEVELS.put("dev.atmsae.eval", 4);
        LEVELS.put("dev.atmsae.gpucheck", 4);
        LEVELS.put("dev.atmsae.train", 5);
        LEVELS.put("dev.atmsae.report", 6);
        LEVELS.put("dev.atmsae.sweep", 7);
        LEVELS.put("dev.atmsae.browse", 7);
        LEVELS.put("dev.atmsae.api", 8);
        LEVELS.put("dev.atmsae.study", 8);
        LEVELS.put("dev.atmsae.cli", 9);
    }

    /** Known exceptions, file → room it may reach up to, each with its reason (none at present). */
    private static final Map<String, String> ALLOWED = Map.of();

    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.atmsae(?:\\.[a-z]\\w*)+)\\.[A-Z]");
    private static final Pattern COMMENTS_AND_STRINGS = Pattern.compile(
            "//[^\\n]*|/\\*.*?\\*/|\"\"\".*?\"\"\"|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*'", Pattern.DOTALL);

    private static String room(String pkg) {
        String best = null;
        for (String prefix : LEVELS.keySet()) {
            if ((pkg.equals(prefix) || pkg.startsWith(prefix + ".")) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best;
    }

    /** The violations of one source file: "file: room → higher room (package)". */
    static List<String> violations(String file, String source) {
        Matcher p = PACKAGE.matcher(source);
        if (!p.find()) {
            return List.of(file + ": no package line");
        }
        String own = room(p.group(1));
        if (own == null) {
            return List.of(file + ": package " + p.group(1) + " has no room in RoomLayeringTest");
        }
        String code = COMMENTS_AND_STRINGS.matcher(source).replaceAll(" ");
        Set<String> out = new TreeSet<>();
        Matcher m = REFERENCE.matcher(code);
        while (m.find()) {
            String target = room(m.group(1));
            if (target == null) {
                out.add(file + ": refers to " + m.group(1) + ", which has no room in RoomLayeringTest");
            } else if (!target.equals(own) && LEVELS.get(target) >= LEVELS.get(own)) {
                String allowedUpTo = ALLOWED.get(file);
                if (allowedUpTo == null || LEVELS.get(target) > LEVELS.get(allowedUpTo)) {
                    out.add(file + ": " + own + " → " + target + " (" + m.group(1) + ")");
                }
            }
        }
        return new ArrayList<>(out);
    }

    @Test
    void noRoomRefersToAHigherOne() throws IOException {
        Path root = Path.of("src/main/java");
        assertTrue(Files.isDirectory(root.resolve("dev/atmsae")), "run from the java/ module: " + root.toAbsolutePath());
        List<String> found = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path f : all.filter(x -> x.toString().endsWith(".java")).sorted().toList()) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                found.addAll(violations(rel, Files.readString(f)));
                files++;
            }
        }
        assertTrue(files > 100, "scanned " + files + " files");
        assertEquals(List.of(), found, "imports from a lower room to a higher one");
    }

    @Test
    void theCheckerSeesUpwardReferencesButNotCommentsOrStrings() {
        String bad = "package dev.atmsae.engine.cpu;\nimport dev.atmsae.train.Trainer;\n"
                + "class X { Object y = dev.atmsae.arch.SaeBase.class; }\n";
        assertEquals(List.of("x.java: dev.atmsae.engine → dev.atmsae.arch (dev.atmsae.arch)",
                "x.java: dev.atmsae.engine → dev.atmsae.train (dev.atmsae.train)"), violations("x.java", bad));
        String fine = "package dev.atmsae.arch;\nimport dev.atmsae.core.Philox;\nimport dev.atmsae.engine.cpu.CpuEngine;\n"
                + "/** See {@link dev.atmsae.train.Trainer}. */ class X { String s = \"dev.atmsae.cli.Main\"; } "
                + "// dev.atmsae.sweep.Sweep\n";
        assertEquals(List.of(), violations("y.java", fine));
        assertEquals(List.of("z.java: package dev.atmsae.newroom has no room in RoomLayeringTest"),
                violations("z.java", "package dev.atmsae.newroom;\n"));
    }
}
