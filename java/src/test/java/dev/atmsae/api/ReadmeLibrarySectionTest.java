package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's "As a library" section and what {@code make test} runs cannot drift apart: its Java program is
 * examples/src/main/java/Quickstart.java character for character (examples/ runs it against the installed jar), and
 * the JVM options it lists are exactly those examples/pom.xml runs every example with, those this build's Surefire
 * runs the tests with, and those its Maven and Gradle snippets pass.
 */
class ReadmeLibrarySectionTest {
    private static final Path ROOT = Path.of("..");

    private static String section() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("## As a library\n");
        assertTrue(start >= 0, "README.md has no '## As a library' section");
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    /** The fenced blocks of the section whose opening fence has the given info string ("" for a plain fence). */
    private static List<String> blocks(String section, String info) {
        List<String> out = new ArrayList<>();
        StringBuilder block = null;
        String blockInfo = null;
        for (String line : section.split("\n", -1)) {
            if (block == null && line.startsWith("```")) {
                block = new StringBuilder();
                blockInfo = line.substring(3).strip();
            } else if (block != null && line.equals("```")) {
                if (blockInfo.equals(info)) {
                    out.add(block.toString());
                }
                block = null;
            } else if (block != null) {
                block.append(line).append('\n');
            }
        }
        return out;
    }

    private static String property(Path pom, String name) throws IOException {
        return property(Files.readString(pom), name);
    }

    private static String property(String xml, String name) {
        Matcher m = Pattern.compile("<" + name + ">([^<]*)</" + name + ">").matcher(xml);
        assertTrue(m.find(), "no <" + name + "> in " + xml);
        return m.group(1);
    }

    @Test
    void theProgramIsTheQuickstartThatMakeTestRuns() throws IOException {
        List<String> java = blocks(section(), "java");
        assertEquals(1, java.size(), "one Java program in the section");
        assertEquals(Files.readString(ROOT.resolve("examples/src/main/java/Quickstart.java")), java.getFirst(),
                "README's program and examples/src/main/java/Quickstart.java differ");
    }

    @Test
    void theJvmOptionsAreTheSameEverywhere() throws IOException {
        String section = section();
        List<String> plain = blocks(section, "");
        assertEquals(1, plain.size(), "one plain block: the JVM options");
        String options = plain.getFirst().strip();
        assertEquals(JvmRequirements.VECTOR_FLAG + " " + JvmRequirements.NATIVE_ACCESS_FLAG, options);
        assertEquals(options, property(ROOT.resolve("examples/pom.xml"), "atmsae.jvmOptions"));
        assertEquals(options, property(ROOT.resolve("pom.xml"), "atmsae.jvmFlags"));

        String maven = blocks(section, "xml").getFirst();
        assertEquals(options, property(maven, "atmsae.jvmOptions"));
        assertTrue(maven.contains("<commandlineArgs>${atmsae.jvmOptions} ")
                && maven.contains("<argLine>${atmsae.jvmOptions}</argLine>"), maven);
        assertTrue(maven.contains("<artifactId>atmsae</artifactId>\n      <version>"
                + property(ROOT.resolve("java/pom.xml"), "version") + "</version>"), "the project's version: " + maven);
        String gradle = blocks(section, "kotlin").getFirst();
        String quoted = "\"" + String.join("\", \"", options.split(" ")) + "\"";
        assertTrue(gradle.contains(quoted), "Gradle's list " + quoted + " in " + gradle);
    }
}
