package dev.atmsae.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every kernel the Java side resolves exists as an extern "C" __global__ in cuda/*.cu, and vice versa. */
class KernelNamesTest {
    private static final Pattern GLOBAL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(");

    @Test
    void javaKernelListMatchesTheCudaSources() throws IOException {
        Path cuda = NvccTool.repoRoot().resolve("cuda");
        assertTrue(Files.isDirectory(cuda), "no cuda/ directory at " + cuda);
        Set<String> inSources = new TreeSet<>();
        try (Stream<Path> files = Files.list(cuda)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = GLOBAL.matcher(Files.readString(f));
                while (m.find()) {
                    assertTrue(inSources.add(m.group(1)), "kernel " + m.group(1) + " defined twice");
                }
            }
        }
        Set<String> inJava = Arrays.stream(Kernel.values()).map(Kernel::symbol).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Kernel.values().length, inJava.size(), "duplicate symbol in Kernel");
        assertEquals(inSources, inJava);
    }

    @Test
    void everyFamilyIsIncludedByTheTranslationUnit() throws IOException {
        Path root = NvccTool.repoRoot().resolve("cuda");
        String unit = Files.readString(root.resolve("atmsae_kernels.cu"));
        try (Stream<Path> files = Files.list(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                String name = f.getFileName().toString();
                if (!name.equals("atmsae_kernels.cu")) {
                    assertTrue(unit.contains("#include \"" + name + "\""), name + " is not included by atmsae_kernels.cu");
                }
            }
        }
    }
}
