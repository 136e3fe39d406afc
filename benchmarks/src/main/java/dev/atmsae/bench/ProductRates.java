package dev.atmsae.bench;

import dev.atmsae.core.Philox;
import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;

import java.util.EnumMap;
import java.util.Map;

/**
 * GFLOP/s of an SAE step's dense products through the CPU engine (its tiled BLAS), one per operand layout, each the
 * best of three calls after one untimed call. The encoder layout is also atmsae's share of the machine's sgemm peak.
 */
final class ProductRates implements AutoCloseable {
    /** The layouts of a dense-code step's B×d×n products (SaeBase, ReluSae, AtmSae, AtmMask). */
    enum Layout {
        /** [B, d]·[n, d]ᵀ: the encoder; also ∂f = err·W_decᵀ and ATM's e·W_decᵀ. */
        NT,
        /** [B, n]·[n, d]: the decoder (twice with ATM masking: masked and unmasked). */
        NN,
        /** [B, n]ᵀ·[B, d]: the gradients of W_dec and W_enc. */
        TN
    }

    private final Engine engine;
    private final double flop;
    private final Tensor x;
    private final Tensor w;
    private final Tensor codes;
    private final Tensor rows;
    private final Tensor grad;

    ProductRates(Engine engine, int batch, int d, int n) {
        this.engine = engine;
        this.flop = 2.0 * batch * d * n;
        this.x = filled(engine, batch, d, 1);
        this.w = filled(engine, n, d, 2);
        this.codes = filled(engine, batch, n, 3);
        this.rows = engine.allocF32(batch, d);
        this.grad = engine.allocF32(n, d);
    }

    private static Tensor filled(Engine engine, int rows, int cols, int stream) {
        float[] host = new float[rows * cols];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) Philox.gaussian(7 + stream, Philox.STREAM_SYNTH, i);
        }
        Tensor t = engine.allocF32(rows, cols);
        engine.upload(t, host);
        return t;
    }

    /** The rate of each layout in {@code layouts}, measured now. */
    Map<Layout, Double> measure(Layout... layouts) {
        Map<Layout, Double> rates = new EnumMap<>(Layout.class);
        for (Layout layout : layouts) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 4; i++) {
                long t0 = System.nanoTime();
                run(layout);
                engine.synchronize();
                if (i > 0) {
                    best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
                }
            }
            rates.put(layout, flop / best * 1e-9);
        }
        return rates;
    }

    private void run(Layout layout) {
        switch (layout) {
            case NT -> engine.gemm(false, true, 1f, x, w, 0f, codes);
            case NN -> engine.gemm(false, false, 1f, codes, w, 0f, rows);
            case TN -> engine.gemm(true, false, 1f, codes, x, 0f, grad);
        }
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {x, w, codes, rows, grad}) {
            t.close();
        }
    }
}
