package dev.atmsae.engine.cpu;

import dev.atmsae.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Which BLAS {@code ATMSAE_BLAS} picks, and the one-line errors for settings that cannot work. */
class OpenBlasLibraryTest {

    @Test
    void javaSelectsThePureJavaSgemm() {
        for (String setting : new String[] {"java", " JAVA "}) {
            OpenBlasLibrary.Choice choice = OpenBlasLibrary.resolve(setting);
            assertNull(choice.library());
            assertEquals("ATMSAE_BLAS=java", choice.pureJavaReason());
        }
    }

    @Test
    void missingFileIsAOneLineUserError() {
        UserError e = assertThrows(UserError.class, () -> OpenBlasLibrary.resolve("/nonexistent/libopenblas.so"));
        assertTrue(e.getMessage().startsWith("ATMSAE_BLAS=/nonexistent/libopenblas.so: no such file"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void fileThatIsNoLibraryIsAUserError(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("libopenblas.so"), "not a shared library");
        UserError e = assertThrows(UserError.class, () -> OpenBlasLibrary.resolve(text.toString()));
        assertTrue(e.getMessage().startsWith("ATMSAE_BLAS=" + text + ": cannot load it"), e.getMessage());
    }

    @Test
    void libraryWithoutOpenBlasSymbolsIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> OpenBlasLibrary.resolve("libm.so.6"));
        assertTrue(e.getMessage().contains("not an OpenBLAS"), e.getMessage());
    }

    @Test
    void bundledLibraryIsExtractedToTheCacheAndDescribed() throws Exception {
        String setting = System.getenv(OpenBlasLibrary.ENV);
        assumeTrue(setting == null || setting.isBlank(), "ATMSAE_BLAS=" + setting + " picks another BLAS for this run");
        OpenBlasLibrary library = OpenBlasLibrary.choose().library();
        assertNotNull(library, OpenBlasLibrary.choose().pureJavaReason());
        assertTrue(library.describe().contains("bundled org.bytedeco:openblas"), library.describe());
        assertTrue(library.config().startsWith("OpenBLAS"), library.config());
        assertFalse(library.coreName().isBlank() || library.coreName().equals("?"), library.coreName());
        Path dir = OpenBlasLibrary.bundledDirectory(OpenBlasLibrary.bundledVersion());
        assertTrue(library.describe().contains(dir.toString()), library.describe());
        for (String file : new String[] {"libgcc_s.so.1", "libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0"}) {
            long expected = OpenBlasLibrary.class.getResource("/org/bytedeco/openblas/linux-x86_64/" + file)
                    .openConnection().getContentLengthLong();
            assertEquals(expected, Files.size(dir.resolve(file)), file);
        }
    }
}
