package dev.atmsae.api;

import dev.atmsae.data.NpyWriter;
import dev.atmsae.util.UserError;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Activation shards on disk: the files {@link Training.Builder#shards(Path)} trains on and
 * {@link Evaluation#reconstruction(Sae, Path)} evaluates. A shard is a 2-D float32 {@code .npy} file (or a
 * {@code .safetensors} file with one 2-D tensor) of [rows, d]; a directory of shards is read in file-name order, so
 * name them {@code 00000.npy}, {@code 00001.npy}, ... This class writes them from activations the program holds, the
 * library's counterpart of {@code atmsae harvest} and of numpy's {@code np.save}.
 */
public final class Shards {
    private Shards() {
    }

    /**
     * Writes activations as one float32 {@code .npy} shard, atomically (a reader never sees half a file); creates the
     * parent directories.
     *
     * @param file a path ending in {@code .npy}
     * @param rows the activation vectors, all of the same length, finite
     * @throws AtmsaeException if the name does not end in .npy, a value is NaN or infinite, or the file cannot be
     *                         written
     * @throws IllegalArgumentException if {@code rows} is empty or ragged
     */
    public static void write(Path file, float[][] rows) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(rows, "rows");
        if (rows.length == 0 || rows[0] == null || rows[0].length == 0) {
            throw new IllegalArgumentException("a shard needs at least one non-empty row");
        }
        int dim = rows[0].length;
        float[] flat = new float[Math.multiplyExact(rows.length, dim)];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != dim) {
                throw new IllegalArgumentException("rows[" + r + "] has " + (rows[r] == null ? "no" : rows[r].length)
                        + " values, rows[0] has " + dim);
            }
            System.arraycopy(rows[r], 0, flat, r * dim, dim);
        }
        Boundary.run(() -> {
            if (!file.getFileName().toString().endsWith(".npy")) {
                throw UserError.inFile(file, "a shard written here is a .npy file: end the name in .npy");
            }
            for (int i = 0; i < flat.length; i++) {
                if (!Float.isFinite(flat[i])) {
                    throw UserError.inFile(file, "rows[" + i / dim + "] holds " + flat[i]
                            + "; activations must be finite");
                }
            }
            NpyWriter.write(file, flat, rows.length, dim);
        });
    }
}
