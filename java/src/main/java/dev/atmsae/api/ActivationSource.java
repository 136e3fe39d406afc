package dev.atmsae.api;

import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * Activations that the host program produces itself — e.g. its own language model running in the same process — for
 * {@link Training} and {@link Evaluation}. atmsae asks for batches by index; each request is answered by writing
 * {@code rows × dim()} float32 values, row-major, into the buffer.
 *
 * <p><b>Determinism.</b> Training reads the opening batches twice (once to estimate the input scale and initialise
 * b_dec, then again as the first training steps) and resumes from a checkpoint at a batch index. For runs that can be
 * repeated and resumed bit for bit, return the same values for the same {@code batchIndex}. A live source that cannot
 * (it streams new text) still trains correctly; a resumed run then simply sees new data.
 *
 * <p><b>Threads.</b> {@link #fill} is called from the thread that runs the training or evaluation, one call at a time.
 */
public interface ActivationSource {
    /**
     * The activation width d (the SAE's input width).
     *
     * @return d, at least 1
     */
    int dim();

    /**
     * Writes batch {@code batchIndex}: {@code rows} activation vectors of {@link #dim()} values, row-major, into
     * {@code out} from its position (its remaining capacity is exactly {@code rows × dim()}). Values must be finite.
     *
     * @param batchIndex 0 for the first batch of a run, then 1, 2, ...
     * @param rows       vectors in this batch
     * @param out        where to put them
     */
    void fill(long batchIndex, int rows, FloatBuffer out);

    /**
     * A source over rows held in memory, cycled in order (batch b starts at row b·rows modulo the row count).
     *
     * @param rows activation vectors, all of the same length
     * @return the source
     * @throws IllegalArgumentException if {@code rows} is empty or ragged
     */
    static ActivationSource ofRows(float[][] rows) {
        Objects.requireNonNull(rows, "rows");
        if (rows.length == 0 || rows[0] == null || rows[0].length == 0) {
            throw new IllegalArgumentException("ofRows needs at least one non-empty row");
        }
        int d = rows[0].length;
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != d) {
                throw new IllegalArgumentException("row " + r + " has " + (rows[r] == null ? "no" : rows[r].length)
                        + " values, row 0 has " + d);
            }
        }
        return new ActivationSource() {
            @Override
            public int dim() {
                return d;
            }

            @Override
            public void fill(long batchIndex, int count, FloatBuffer out) {
                long first = batchIndex * count;
                for (int i = 0; i < count; i++) {
                    out.put(rows[(int) ((first + i) % rows.length)]);
                }
            }
        };
    }
}
