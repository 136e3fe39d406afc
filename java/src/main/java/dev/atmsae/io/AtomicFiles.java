package dev.atmsae.io;

import dev.atmsae.util.UserError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that readers (and a crash) see either the old content or the complete new content, never a
 * partial file: write a temp file in the same directory, fsync it, rename it over the target (ATOMIC_MOVE), fsync
 * the directory so the rename itself is durable. Every result file and checkpoint goes through here.
 */
public final class AtomicFiles {
    /** The body that fills the temp file; it may write anywhere in the channel (e.g. patch a header at the end). */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Atomically replaces {@code target} with what {@code body} writes. Parent directories are created. */
    public static void write(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = dir.resolve("." + abs.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    StandardOpenOption.READ)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(dir);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UserError(target + ": cannot write: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /** Atomically writes {@code bytes} to {@code target}. */
    public static void writeBytes(Path target, byte[] bytes) {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Atomically writes {@code text} as UTF-8 to {@code target}. */
    public static void writeString(Path target, String text) {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes every remaining byte of {@code buf} (FileChannel.write may write fewer). */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static void syncDirectory(Path dir) {
        // Linux lets us open a directory read-only and fsync it; other systems may refuse, which only costs durability.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the temp file is hidden and harmless
        }
    }
}
