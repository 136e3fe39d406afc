package dev.atmsae.arch;

import dev.atmsae.core.StateValues;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;

import java.util.Map;

/**
 * Tokens since each latent last fired, on the host (n longs), fed each step with the engine's per-latent fire counts
 * of that batch. A latent is dead when it has not fired in the last {@code window} tokens (architectures.md); a
 * fresh SAE starts with every counter at 0, so nothing is dead before one window has passed.
 */
public final class DeadLatentTracker {
    private final long window;
    private final long[] sinceFired;
    private final int[] counts;
    private final int[] maskBuffer;
    private int deadCount;

    public DeadLatentTracker(int width, long windowTokens) {
        this.window = windowTokens;
        this.sinceFired = new long[width];
        this.counts = new int[width];
        this.maskBuffer = new int[width];
    }

    /** Downloads {@code fires} (I32 [1, n], this batch's counts) and advances every counter by {@code rows}. */
    public void update(Engine engine, Tensor fires, int rows) {
        engine.download(fires, counts);
        int dead = 0;
        for (int i = 0; i < sinceFired.length; i++) {
            sinceFired[i] = counts[i] > 0 ? 0 : sinceFired[i] + rows;
            if (sinceFired[i] >= window) {
                dead++;
            }
        }
        deadCount = dead;
    }

    public boolean isDead(int latent) {
        return sinceFired[latent] >= window;
    }

    public int deadCount() {
        return deadCount;
    }

    public double deadFraction() {
        return (double) deadCount / sinceFired.length;
    }

    /** Writes 1 for dead, 0 for alive into {@code mask} (I32 [1, n]) — the {@code allow} set of AuxK's TopK. */
    public void uploadDeadMask(Engine engine, Tensor mask) {
        for (int i = 0; i < maskBuffer.length; i++) {
            maskBuffer[i] = isDead(i) ? 1 : 0;
        }
        engine.upload(mask, maskBuffer);
    }

    public void putState(Map<String, Object> out) {
        out.put("dead_since_fired", sinceFired.clone());
    }

    public void restoreState(Map<String, Object> in) {
        long[] s = StateValues.longs(in, "dead_since_fired");
        if (s.length != sinceFired.length) {
            throw new IllegalArgumentException("dead_since_fired has " + s.length + " entries, expected " + sinceFired.length);
        }
        System.arraycopy(s, 0, sinceFired, 0, s.length);
        int dead = 0;
        for (long v : sinceFired) {
            if (v >= window) {
                dead++;
            }
        }
        deadCount = dead;
    }
}
