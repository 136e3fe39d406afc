package dev.atmsae.browse;

import dev.atmsae.eval.absorption.ProbeSet;
import dev.atmsae.eval.absorption.ProbeSets;
import dev.atmsae.io.NpyArrays;
import dev.atmsae.io.AtomicFiles;
import dev.atmsae.io.SaeExport;
import dev.atmsae.io.SaeWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny world for browse tests: d = 16 orthonormal directions (NOUN, VERB, twelve words, "the", "."), a fake harvest
 * of sentences over those words with token metadata, a POS-like probe set, and hand-built SAEs whose latents are
 * known: latent 0 = NOUN, 1 = VERB, 2..13 = the words, 14 = "the", 15 never fires. In the "absorbing" SAE the NOUN
 * latent is silent on "dog", whose own latent's decoder carries the NOUN direction: the NOUN class is absorbed
 * exactly on "dog" rows, by latent {@link #DOG}.
 */
final class BrowseFixture {
    static final int D = 16;
    static final int NOUN = 0, VERB = 1, DOG = 2, THE = 14, DOT = 15;
    static final List<String> NOUNS = List.of("dog", "cat", "house", "tree", "car", "bird");
    static final List<String> VERBS = List.of("runs", "sees", "walk", "eats", "sings", "sleeps");
    private static final double NOISE = 0.03;

    private BrowseFixture() {
    }

    /** Direction index of a word (its own basis vector). */
    static int dirOf(String word) {
        int n = NOUNS.indexOf(word);
        if (n >= 0) {
            return 2 + n;
        }
        int v = VERBS.indexOf(word);
        if (v >= 0) {
            return 8 + v;
        }
        return word.equals("the") ? THE : DOT;
    }

    static String tagOf(String word) {
        return NOUNS.contains(word) ? "NOUN" : VERBS.contains(word) ? "VERB" : word.equals("the") ? "DET" : null;
    }

    /** Activation of a token: its word direction plus the parent direction, plus noise. */
    static float[] activation(String word, double weight, Random rnd) {
        float[] x = new float[D];
        x[dirOf(word)] += (float) weight;
        String tag = tagOf(word);
        if ("NOUN".equals(tag)) {
            x[NOUN] += (float) (0.8 * weight);
        } else if ("VERB".equals(tag)) {
            x[VERB] += (float) (0.8 * weight);
        }
        for (int i = 0; i < D; i++) {
            x[i] += (float) (NOISE * rnd.nextGaussian());
        }
        return x;
    }

    /**
     * Writes a harvest of {@code sequences} sequences (three sentences "the NOUN VERB ." each; "walk" is split into
     * "walk ##ing") in two shards, with meta_*.tsv and a manifest saying {@code layer}.
     */
    static void harvest(Path dir, int sequences, String layer, long seed) {
        Random rnd = new Random(seed);
        List<float[]> rows = new ArrayList<>();
        List<String> meta = new ArrayList<>();
        int half = sequences / 2;
        int shard = 0;
        StringBuilder tsv = header();
        for (int s = 0; s < sequences; s++) {
            if (s == half) {
                writeShard(dir, shard++, rows, tsv);
                rows.clear();
                tsv = header();
            }
            int position = 1;
            for (int sentence = 0; sentence < 3; sentence++) {
                String noun = NOUNS.get(rnd.nextInt(NOUNS.size()));
                String verb = VERBS.get(rnd.nextInt(VERBS.size()));
                String[] words = {"the", noun, verb, "."};
                for (int w = 0; w < words.length; w++) {
                    String word = words[w];
                    if (word.equals("walk")) {
                        rows.add(activation(word, 1.0, rnd));
                        tsv.append(line(word, "walk", s, sentence, w, true, position++));
                        rows.add(activation(word, 0.5, rnd));
                        tsv.append(line(word, "##ing", s, sentence, w, false, position++));
                    } else {
                        rows.add(activation(word, 0.6 + 0.8 * rnd.nextDouble(), rnd));
                        tsv.append(line(word, word, s, sentence, w, true, position++));
                    }
                }
            }
        }
        writeShard(dir, shard, rows, tsv);
        AtomicFiles.writeString(dir.resolve(HarvestData.MANIFEST), "{\"format\": \"atmsae-harvest/1\", \"layer\": \""
                + layer + "\", \"hook_name\": \"encoder.layer." + layer + ".hook_resid_post\", \"d\": " + D + "}\n");
    }

    private static StringBuilder header() {
        return new StringBuilder("token_id\ttoken\tdoc\tgenre\tsentence\tword_index\tfirst_subtoken\tword\ttag_raw"
                + "\ttag_fine\ttag_coarse\tsequence\tposition\n");
    }

    private static String line(String word, String token, int seq, int sentence, int wordIndex, boolean first, int pos) {
        String tag = tagOf(word);
        return String.join("\t", "1000", token, "ca" + String.format("%02d", seq % 7 + 1), "a",
                Integer.toString(seq * 3 + sentence), Integer.toString(wordIndex), first ? "1" : "0", word,
                tag == null ? "." : tag.toLowerCase(), tag == null ? "-" : tag.toLowerCase(), tag == null ? "-" : tag,
                Integer.toString(seq), Integer.toString(pos)) + "\n";
    }

    private static void writeShard(Path dir, int index, List<float[]> rows, StringBuilder tsv) {
        float[] flat = new float[rows.size() * D];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r), 0, flat, r * D, D);
        }
        NpyArrays.writeF32(dir.resolve(String.format("acts_%05d.npy", index)), flat, rows.size(), D);
        AtomicFiles.writeString(dir.resolve(String.format("meta_%05d.tsv", index)), tsv.toString());
    }

    /** A POS-like probe set (parents NOUN with children = the nouns, VERB, DET) at {@code layer}; dog rows are all test. */
    static ProbeSet probeSet(Path dir, String layer, long seed) {
        Random rnd = new Random(seed);
        List<String> all = new ArrayList<>(NOUNS);
        all.addAll(VERBS);
        all.add("the");
        int n = 780;
        float[] acts = new float[n * D];
        int[] parent = new int[n], child = new int[n], split = new int[n], group = new int[n];
        List<String> words = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String w = all.get(i % all.size());
            System.arraycopy(activation(w, 0.6 + 0.8 * rnd.nextDouble(), rnd), 0, acts, i * D, D);
            String tag = tagOf(w);
            parent[i] = tag.equals("NOUN") ? 0 : tag.equals("VERB") ? 1 : 2;
            child[i] = parent[i] == 0 ? NOUNS.indexOf(w) : parent[i] == 1 ? VERBS.indexOf(w) : -1;
            group[i] = i / all.size();
            // "dog" only in the test split, so k-sparse probing on train rows does not take its latent as a main one
            split[i] = group[i] % 4 == 0 || w.equals("dog") ? ProbeSet.TEST : ProbeSet.TRAIN;
            words.add(w);
        }
        ProbeSet set = new ProbeSet("pos-fixture", "pos", D, Map.of("layer", layer), acts,
                List.of(new ProbeSet.ParentClass("NOUN", NOUNS), new ProbeSet.ParentClass("VERB", VERBS),
                        new ProbeSet.ParentClass("DET", List.of())), parent, child, split, group, words);
        ProbeSets.write(dir, set);
        return set;
    }

    /**
     * Writes a hand-built SAE: latent i encodes and decodes direction i (bias −0.3), latent 15 never fires. With
     * {@code absorbing}, the NOUN latent's encoder subtracts the "dog" direction and the dog latent's decoder row is
     * (e_NOUN + e_dog)/√2. {@code arch} goes to metadata.atmsae.arch.
     */
    static SaeWeights sae(Path dir, boolean absorbing, String arch) {
        int n = D;
        float[] wEnc = new float[D * n];
        float[] wDec = new float[n * D];
        float[] bEnc = new float[n];
        for (int j = 0; j < n; j++) {
            if (j == DOT) {
                wEnc[NOUN * n + j] = -1;
                bEnc[j] = -1;
                wDec[j * D + j] = 1;
                continue;
            }
            wEnc[j * n + j] = 1;
            wDec[j * D + j] = 1;
            bEnc[j] = -0.3f;
        }
        if (absorbing) {
            wEnc[DOG * n + NOUN] = -3;
            float r = (float) Math.sqrt(0.5);
            wDec[DOG * D + DOG] = r;
            wDec[DOG * D + NOUN] = r;
        }
        SaeWeights w = new SaeWeights("standard", D, n, wEnc, bEnc, wDec, new float[D], null, 0,
                Map.of("atmsae", Map.of("arch", arch)));
        SaeExport.write(dir, w, null);
        return w;
    }
}
