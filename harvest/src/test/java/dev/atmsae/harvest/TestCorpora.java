package dev.atmsae.harvest;

import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.corpus.CorpusLocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Corpora for tests: the real Brown corpus (fetched by tools/fetch-corpus.sh when missing) and tiny hand-made ones. */
public final class TestCorpora {
    /** The first sentence of ca01, as the file holds it. */
    public static final String CA01_FIRST = "The/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd "
            + "Friday/nr an/at investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd "
            + "``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.";

    private TestCorpora() {}

    /**
     * The real corpus. If it is missing and cannot be fetched this throws, so the test FAILS with the fetch error
     * rather than passing silently without data.
     */
    public static BrownCorpus brown() {
        return BrownCorpus.open(CorpusLocator.locate(null));
    }

    /** A two-document corpus in the Brown file layout (ca01 = news, cb01 = editorial). */
    public static BrownCorpus tiny(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("ca01"), "\n\n\t" + CA01_FIRST + "\n\n\n"
                    + "\tThe/at jury/nn further/rbr said/vbd it/pps did/dod n't/* find/vb 1-1/2/cd votes/nns ./.\n");
            Files.writeString(dir.resolve("cb01"), "\n\tAssembly/nn-tl session/nn brought/vbd much/ap good/jj ./.\n\n"
                    + "\tHe's/pps+bez gone/vbn ,/, but/cc Mayor-nominate/nn-tl Ivan/np Allen/np Jr./np was/bedz n't/* ./.\n");
            Files.writeString(dir.resolve("cats.txt"), "ca01 news\ncb01 editorial\n");
            return BrownCorpus.open(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
