package dev.atmsae.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void replacesContentAndLeavesNoTempFiles() throws IOException {
        Path p = dir.resolve("sub/result.json");
        AtomicFiles.writeString(p, "first");
        AtomicFiles.writeString(p, "second");
        assertEquals("second", Files.readString(p));
        try (Stream<Path> s = Files.list(p.getParent())) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void aFailingBodyKeepsTheOldFile() throws IOException {
        Path p = dir.resolve("keep.txt");
        AtomicFiles.writeString(p, "old");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(java.nio.ByteBuffer.wrap("partial".getBytes()));
            throw new IllegalStateException("boom");
        }));
        assertEquals("old", Files.readString(p));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }
}
