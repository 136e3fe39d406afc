package dev.atmsae.harvest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.NpyArrays;
import dev.atmsae.harvest.corpus.BrownCorpus;
import dev.atmsae.harvest.model.Layer;
import dev.atmsae.harvest.model.MiniLm;
import dev.atmsae.harvest.model.MiniLmEncoder;
import dev.atmsae.harvest.model.MiniLmEncoderTest;
import dev.atmsae.util.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HarvesterTest {
    private static MiniLmEncoder encoder;

    @BeforeAll
    static void load() {
        encoder = new MiniLmEncoder(List.of(Layer.EMBEDDINGS, new Layer(0), new Layer(5)), 2);
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    private static Harvester.Options options(Path out, Layer layer, int batch) {
        return new Harvester.Options(out, null, layer, 0, 0, Set.of(), false, 20, batch, 2, 0, true);
    }

    @Test
    void lastLayerShardsEqualOnnxRuntimeOnTheUnmodifiedModelAndMetaLinesUp(@TempDir Path tmp) throws Exception {
        BrownCorpus corpus = TestCorpora.tiny(tmp.resolve("corpus"));
        Path out = tmp.resolve("h");
        Harvester.Result r = Harvester.run(options(out, new Layer(5), 1), corpus, encoder);
        // ca01 packs into one sequence of 46 content tokens, cb01 into one of 24: the shard closes after >= 30 rows.
        assertEquals(2, r.shards());
        assertEquals(70, r.rows());

        List<String[]> meta = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        for (int s = 0; s < r.shards(); s++) {
            List<String> lines = Files.readAllLines(out.resolve(Harvester.metaName(s)));
            assertEquals(String.join("\t", ShardMeta.COLUMNS), lines.get(0));
            NpyArrays.Array acts = NpyArrays.read(out.resolve(Harvester.actsName(s)));
            assertEquals(MiniLm.D_MODEL, acts.cols());
            assertEquals(lines.size() - 1, acts.rows());
            for (int i = 1; i < lines.size(); i++) {
                meta.add(lines.get(i).split("\t", -1));
                float[] row = new float[MiniLm.D_MODEL];
                System.arraycopy(acts.f32(), (i - 1) * MiniLm.D_MODEL, row, 0, MiniLm.D_MODEL);
                rows.add(row);
            }
        }
        // Rebuild each sequence from the metadata (special tokens are excluded) and run plain ONNX Runtime on it.
        Map<Integer, List<Integer>> bySequence = new LinkedHashMap<>();
        for (int i = 0; i < meta.size(); i++) {
            bySequence.computeIfAbsent(Integer.parseInt(meta.get(i)[11]), k -> new ArrayList<>()).add(i);
        }
        List<int[]> sequences = new ArrayList<>();
        for (List<Integer> idx : bySequence.values()) {
            int[] ids = new int[idx.size() + 2];
            ids[0] = MiniLm.CLS_ID;
            ids[ids.length - 1] = MiniLm.SEP_ID;
            for (int k = 0; k < idx.size(); k++) {
                ids[k + 1] = Integer.parseInt(meta.get(idx.get(k))[0]);
            }
            sequences.add(ids);
        }
        List<float[]> directs = MiniLmEncoderTest.directLastHiddenStates(sequences);
        double maxDiff = 0;
        int seqNo = 0;
        for (List<Integer> idx : bySequence.values()) {
            for (int k = 0; k < idx.size(); k++) {
                assertEquals(k + 1, Integer.parseInt(meta.get(idx.get(k))[12]), "position column");
            }
            float[] direct = directs.get(seqNo++);
            for (int k = 0; k < idx.size(); k++) {
                float[] row = rows.get(idx.get(k));
                for (int j = 0; j < MiniLm.D_MODEL; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(row[j] - direct[(k + 1) * MiniLm.D_MODEL + j]));
                }
            }
        }
        assertTrue(maxDiff <= 1e-5, "harvest vs direct ONNX Runtime: max |diff| = " + maxDiff);
        System.out.println("harvest (layer 5, rewritten graph) vs ONNX Runtime on the unmodified model: max |diff| = "
                + maxDiff);

        // Hand-checked alignment in ca01's first sentence: Atlanta's/np$ -> atlanta ' s.
        String[] atlanta = find(meta, "5865");
        assertArrayEquals(new String[] {"5865", "atlanta", "ca01", "a", "0", "10", "1", "Atlanta's", "np$", "np$",
                "NOUN"}, java.util.Arrays.copyOf(atlanta, 11));
        int at = meta.indexOf(atlanta);
        assertEquals("0", meta.get(at + 1)[6]);
        assertEquals("Atlanta's", meta.get(at + 1)[7]);
        assertEquals("0", meta.get(at + 2)[6]);
        // n't/* -> n ' t, ADV; He's/pps+bez -> pps, PRON; 1-1/2/cd -> NUM
        String[] nt = find(meta, "1050");
        assertEquals(List.of("n't", "*", "*", "ADV"), List.of(nt[7], nt[8], nt[9], nt[10]));
        String[] he = find(meta, "2002");
        assertEquals(List.of("cb01", "b", "He's", "pps+bez", "pps", "PRON"),
                List.of(he[2], he[3], he[7], he[8], he[9], he[10]));
        String[] comma = find(meta, "1010");
        assertEquals(List.of(",", ",", "-", "-"), List.of(comma[7], comma[8], comma[9], comma[10]));
    }

    @Test
    void reRunSkipsFinishedShardsRewritesMissingOnesAndRefusesOtherSettings(@TempDir Path tmp) throws Exception {
        BrownCorpus corpus = TestCorpora.tiny(tmp.resolve("corpus"));
        Path out = tmp.resolve("h");
        Harvester.Options opts = options(out, Layer.EMBEDDINGS, 32);
        assertEquals(2, Harvester.run(opts, corpus, encoder).shardsWritten());
        byte[] shard0 = Files.readAllBytes(out.resolve(Harvester.actsName(0)));
        byte[] meta1 = Files.readAllBytes(out.resolve(Harvester.metaName(1)));
        assertEquals(0, Harvester.run(opts, corpus, encoder).shardsWritten());

        Files.delete(out.resolve(Harvester.actsName(0)));
        Harvester.Result again = Harvester.run(opts, corpus, encoder);
        assertEquals(1, again.shardsWritten());
        assertArrayEquals(shard0, Files.readAllBytes(out.resolve(Harvester.actsName(0))));
        assertArrayEquals(meta1, Files.readAllBytes(out.resolve(Harvester.metaName(1))));
        String manifest = Files.readString(out.resolve(Harvester.MANIFEST));
        assertTrue(manifest.contains("\"complete\" : true"), manifest);
        assertTrue(manifest.contains("/embeddings/LayerNorm/Add_1_output_0"), manifest);

        UserError e = assertThrows(UserError.class, () -> Harvester.run(options(out, new Layer(3), 32), corpus));
        assertTrue(e.getMessage().contains("other settings"), e.getMessage());
    }

    @Test
    void allTokensKeepsSpecialPositionsAndTokenBudgetCutsAtASequence(@TempDir Path tmp) throws Exception {
        BrownCorpus corpus = TestCorpora.tiny(tmp.resolve("corpus"));
        Path out = tmp.resolve("h");
        Harvester.Result r = Harvester.run(new Harvester.Options(out, null, new Layer(0), 10, 0, Set.of(), true,
                1000, 32, 2, 0, true), corpus, encoder);
        assertEquals(1, r.shards());
        List<String> lines = Files.readAllLines(out.resolve(Harvester.metaName(0)));
        assertTrue(lines.get(1).startsWith("101\t[CLS]\t"), lines.get(1));
        assertTrue(lines.get(lines.size() - 1).startsWith("102\t[SEP]\t"));
        // one whole sequence (the first document in the seeded order) and nothing more
        assertTrue(r.rows() == 48 || r.rows() == 26, "rows " + r.rows());
    }

    private static String[] find(List<String[]> meta, String tokenId) {
        return meta.stream().filter(m -> m[0].equals(tokenId)).findFirst().orElseThrow();
    }
}
