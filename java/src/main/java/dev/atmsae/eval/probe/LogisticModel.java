package dev.atmsae.eval.probe;

/** A fitted binary logistic probe: logit = w·x + b, positive iff logit &gt; threshold (0 unless tuned). */
public record LogisticModel(double[] w, double b) {
    public double logit(Rows rows, int r) {
        return rows.dot(r, w) + b;
    }

    /** Logits of every row. */
    public double[] logits(Rows rows) {
        double[] out = new double[rows.n()];
        for (int r = 0; r < out.length; r++) {
            out[r] = logit(rows, r);
        }
        return out;
    }

    /** The weight vector normalised to unit length (the probe direction p̂). */
    public double[] unitDirection() {
        double s = 0;
        for (double v : w) {
            s += v * v;
        }
        double norm = Math.sqrt(s);
        double[] out = new double[w.length];
        for (int j = 0; j < w.length; j++) {
            out[j] = norm == 0 ? 0 : w[j] / norm;
        }
        return out;
    }
}
