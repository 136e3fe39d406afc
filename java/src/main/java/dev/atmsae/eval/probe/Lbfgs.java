package dev.atmsae.eval.probe;

/**
 * L-BFGS (memory 10, Armijo backtracking) as a state machine that asks for objective evaluations instead of making
 * them: {@link #point()} is where it needs f and ∇f next, the caller writes ∇f into {@link #gradientOut()} and passes
 * f to {@link #receive}. Several searches can so share one pass over the data per round
 * ({@link LogisticRegression#fitAll}); each follows exactly the path it would follow alone.
 */
final class Lbfgs {
    private static final int MEMORY = 10;
    private static final int MAX_HALVINGS = 40;

    private final int size;
    private final int maxIter;
    private final double[] theta;
    private final double[] grad;
    private final double[] newTheta;
    private final double[] newGrad;
    private final double[][] sHist = new double[MEMORY][];
    private final double[][] yHist = new double[MEMORY][];
    private final double[] rho = new double[MEMORY];
    private int stored;
    private int head;
    private int iter;
    private double f;
    private double[] dir;
    private double slope;
    private double step;
    private int tries;
    private boolean started;
    private boolean done;

    /** A search over {@code size} parameters from θ = 0. */
    Lbfgs(int size, int maxIter) {
        this.size = size;
        this.maxIter = maxIter;
        theta = new double[size];
        grad = new double[size];
        newTheta = new double[size];
        newGrad = new double[size];
    }

    boolean done() {
        return done;
    }

    /** Where the next evaluation is wanted (do not modify). */
    double[] point() {
        return started ? newTheta : theta;
    }

    /** Where that evaluation's gradient goes. */
    double[] gradientOut() {
        return started ? newGrad : grad;
    }

    /** The best point so far (the answer once {@link #done()}). */
    double[] solution() {
        return theta;
    }

    /** Takes f at {@link #point()} (its gradient already in {@link #gradientOut()}) and moves on. */
    void receive(double value) {
        if (!started) {
            started = true;
            f = value;
            startIteration();
            return;
        }
        double fNew = value;
        if (fNew <= f + 1e-4 * step * slope || ++tries > MAX_HALVINGS) {
            finishIteration(fNew);
        } else {
            step *= 0.5;
            setTrial();
        }
    }

    private void startIteration() {
        if (iter >= maxIter || maxAbs(grad) < 1e-7) {
            done = true;
            return;
        }
        dir = twoLoop();
        slope = dot(dir, grad);
        if (slope >= 0) { // not a descent direction: restart from steepest descent
            stored = 0;
            dir = negate(grad);
            slope = dot(dir, grad);
        }
        step = (stored == 0) ? Math.min(1.0, 1.0 / Math.max(1e-12, Math.sqrt(-slope))) : 1.0;
        tries = 0;
        setTrial();
    }

    private void setTrial() {
        for (int j = 0; j < size; j++) {
            newTheta[j] = theta[j] + step * dir[j];
        }
    }

    private void finishIteration(double fNew) {
        double[] sv = new double[size], yv = new double[size];
        for (int j = 0; j < size; j++) {
            sv[j] = newTheta[j] - theta[j];
            yv[j] = newGrad[j] - grad[j];
        }
        double sy = dot(sv, yv);
        if (sy > 1e-12) {
            sHist[head] = sv;
            yHist[head] = yv;
            rho[head] = 1.0 / sy;
            head = (head + 1) % MEMORY;
            stored = Math.min(stored + 1, MEMORY);
        }
        double change = f - fNew;
        System.arraycopy(newTheta, 0, theta, 0, size);
        System.arraycopy(newGrad, 0, grad, 0, size);
        f = fNew;
        if (tries > MAX_HALVINGS || Math.abs(change) <= 1e-12 * Math.max(1.0, Math.abs(f))) {
            done = true;
            return;
        }
        iter++;
        startIteration();
    }

    /** −H·∇f by the two-loop recursion over the stored pairs. */
    private double[] twoLoop() {
        double[] q = grad.clone();
        double[] alpha = new double[MEMORY];
        for (int t = 1; t <= stored; t++) {
            int k = Math.floorMod(head - t, MEMORY);
            alpha[k] = rho[k] * dot(sHist[k], q);
            axpy(-alpha[k], yHist[k], q);
        }
        if (stored > 0) {
            int last = Math.floorMod(head - 1, MEMORY);
            double gamma = dot(sHist[last], yHist[last]) / dot(yHist[last], yHist[last]);
            for (int j = 0; j < q.length; j++) {
                q[j] *= gamma;
            }
        }
        for (int t = stored; t >= 1; t--) {
            int k = Math.floorMod(head - t, MEMORY);
            double beta = rho[k] * dot(yHist[k], q);
            axpy(alpha[k] - beta, sHist[k], q);
        }
        return negate(q);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += a[j] * b[j];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int j = 0; j < y.length; j++) {
            y[j] += a * x[j];
        }
    }

    private static double[] negate(double[] v) {
        double[] out = new double[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = -v[j];
        }
        return out;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
