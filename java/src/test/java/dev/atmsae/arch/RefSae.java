package dev.atmsae.arch;

import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Philox;

import java.util.Arrays;

/**
 * Float64 reference of every architecture's loss and analytic gradient (architectures.md, atm.md), written
 * independently of the engine kernels: plain loops, dense codes, selections by sorting. Parameters are stored like
 * the engine's ([n, d] encoder and decoder). The flat parameter vector is W_enc, b_enc, W_dec, b_dec, log θ.
 */
final class RefSae {
    final int d;
    final int n;
    final double[] wEnc, bEnc, wDec, bDec, logTheta;

    RefSae(int d, int n) {
        this.d = d;
        this.n = n;
        wEnc = new double[n * d];
        bEnc = new double[n];
        wDec = new double[n * d];
        bDec = new double[d];
        logTheta = new double[n];
    }

    /** Random parameters from Philox (test stream 100 + salt): Gaussian rows, small biases. */
    static RefSae random(int d, int n, long seed) {
        RefSae r = new RefSae(d, n);
        long i = 0;
        for (int k = 0; k < n * d; k++) {
            r.wEnc[k] = 0.5 * gauss(seed, i++);
            r.wDec[k] = 0.5 * gauss(seed, i++);
        }
        for (int k = 0; k < n; k++) {
            r.bEnc[k] = 0.1 * gauss(seed, i++);
            r.logTheta[k] = Math.log(0.3 + 0.4 * Philox.uniform(seed, 100, i++));
        }
        for (int k = 0; k < d; k++) {
            r.bDec[k] = 0.1 * gauss(seed, i++);
        }
        return r;
    }

    static double gauss(long seed, long index) {
        return Philox.gaussian(seed, 100, index);
    }

    static double[] randomRows(int rows, int d, long seed) {
        double[] x = new double[rows * d];
        for (int k = 0; k < x.length; k++) {
            x[k] = Philox.gaussian(seed, 101, k);
        }
        return x;
    }

    int size() {
        return 2 * n * d + 2 * n + d;
    }

    double[] flat() {
        double[] out = new double[size()];
        int o = 0;
        for (double[] a : new double[][]{wEnc, bEnc, wDec, bDec, logTheta}) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        return out;
    }

    void setFlat(double[] v) {
        int o = 0;
        for (double[] a : new double[][]{wEnc, bEnc, wDec, bDec, logTheta}) {
            System.arraycopy(v, o, a, 0, a.length);
            o += a.length;
        }
    }

    void normalizeDecoderRows() {
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += wDec[i * d + j] * wDec[i * d + j];
            }
            s = Math.sqrt(s);
            for (int j = 0; j < d; j++) {
                wDec[i * d + j] /= s;
            }
        }
    }

    /** What the loss depends on besides parameters and inputs. */
    static final class Ctx {
        ArchKind arch;
        double coeff;        // λ (relu/atm: L1, jumprelu: L0)
        int k;               // topk, batchtopk
        double eps;          // jumprelu bandwidth
        boolean[] kept;      // atm: mask (true = kept), [B·n]
        ArchKind base;       // atm: the sparsity mechanism under the mask (atm_base); null = ReLU + L1
        double[] scale;      // atm: factor of kept codes per latent (atm_rescale: 1/(1 − p)); null = 1
        boolean[] dead;      // topk family: dead latents [n]
        int auxCap;
        double auxCoeff;
        double[] frozenE;    // AuxK target e = x − x̂, held constant (stopgrad); null → computed from the params
        double frozenV;
        int[] groupEnds;     // matryoshka: exclusive prefix widths, the last = n
        double[] groupWeights; // matryoshka: w_m of each prefix's MSE
    }

    /** Loss pieces, intermediate values and the gradient (flat layout). */
    static final class Result {
        double loss, mse, sparsity, aux;
        double[] h, f, err, grad, e;
        double l0;
    }

    Result eval(Ctx c, double[] x, int rows) {
        int B = rows;
        Result r = new Result();
        double[] xc = new double[B * d];
        double[] h = new double[B * n];
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < d; j++) {
                xc[b * d + j] = x[b * d + j] - bDec[j];
            }
            for (int i = 0; i < n; i++) {
                double s = bEnc[i];
                for (int j = 0; j < d; j++) {
                    s += xc[b * d + j] * wEnc[i * d + j];
                }
                h[b * n + i] = s;
            }
        }
        // code f and its derivative mask df/dh (the code that enters the decoder); fOpen = the unmasked code
        ArchKind mech = mechanism(c);
        boolean atm = c.arch == ArchKind.ATM;
        double[] f = new double[B * n];
        double[] fOpen = new double[B * n];
        double[] keep = new double[B * n]; // ∂f/∂(unmasked code): kept·scale for ATM, 1 otherwise
        boolean[] pass = new boolean[B * n];
        boolean[] selected = selection(mech, c.k, h, B);
        for (int t = 0; t < B * n; t++) {
            double v = switch (mech) {
                case RELU, ATM -> Math.max(h[t], 0);
                case JUMPRELU -> h[t] > Math.exp(logTheta[t % n]) ? h[t] : 0;
                case TOPK, BATCHTOPK, MATRYOSHKA -> selected[t] ? Math.max(h[t], 0) : 0;
            };
            keep[t] = !atm ? 1 : !c.kept[t] ? 0 : c.scale == null ? 1 : c.scale[t % n];
            fOpen[t] = v;
            f[t] = keep[t] * v;
            pass[t] = mech == ArchKind.JUMPRELU ? h[t] > Math.exp(logTheta[t % n]) && keep[t] != 0 : f[t] > 0;
        }
        // Reconstruction: every architecture is one prefix (the full width, weight 1) except Matryoshka, whose loss is
        // Σ_m w_m·(1/B)·Σ_b‖x̂_m − x‖² over the nested prefixes x̂_m (latents below ends[m]), each decoded from scratch.
        boolean nested = mech == ArchKind.MATRYOSHKA; // Matryoshka, or ATM on a Matryoshka base
        int[] ends = nested ? c.groupEnds : new int[] {n};
        double[] weights = nested ? c.groupWeights : new double[] {1};
        int groups = ends.length;
        double[][] prefixErr = new double[groups][B * d];
        double recon = 0;
        double sq = 0;
        for (int m = 0; m < groups; m++) {
            sq = 0;
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < d; j++) {
                    double s = bDec[j] - x[b * d + j];
                    for (int i = 0; i < ends[m]; i++) {
                        s += f[b * n + i] * wDec[i * d + j];
                    }
                    prefixErr[m][b * d + j] = s;
                    sq += s * s;
                }
            }
            recon += weights[m] * sq / B;
        }
        double[] err = prefixErr[groups - 1];
        r.mse = sq / B;
        // gradient reaching latent i's decoded part: Σ over the prefixes that contain it, (2·w_m/B)·err_m
        int[] groupOf = new int[n];
        for (int i = 0, m = 0; i < n; i++) {
            while (i >= ends[m]) {
                m++;
            }
            groupOf[i] = m;
        }
        double[][] gPrefix = new double[groups][B * d];
        for (int m = groups - 1; m >= 0; m--) {
            for (int t = 0; t < B * d; t++) {
                gPrefix[m][t] = 2.0 * weights[m] / B * prefixErr[m][t] + (m + 1 < groups ? gPrefix[m + 1][t] : 0);
            }
        }
        double[] dn = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += wDec[i * d + j] * wDec[i * d + j];
            }
            dn[i] = Math.sqrt(s);
        }
        double sparsity = 0;
        long active = 0;
        for (int t = 0; t < B * n; t++) {
            if (f[t] > 0) {
                active++;
            }
            sparsity += switch (mech) {
                case RELU -> f[t] * dn[t % n];
                case ATM -> f[t];
                case JUMPRELU -> h[t] > Math.exp(logTheta[t % n]) ? 1 : 0; // the unmasked code's L0
                default -> 0;
            };
        }
        r.sparsity = c.coeff * sparsity / B;
        r.l0 = (double) active / B;

        double[] gWEnc = new double[n * d], gBEnc = new double[n], gWDec = new double[n * d], gBDec = new double[d];
        double[] gLogTheta = new double[n];
        double[] gH = new double[B * n];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < n; i++) {
                int t = b * n + i;
                double gF = 0;
                for (int j = 0; j < d; j++) {
                    double g = gPrefix[groupOf[i]][b * d + j];
                    gF += g * wDec[i * d + j];
                    gWDec[i * d + j] += g * f[t];
                }
                double penalty = switch (mech) {
                    case RELU -> c.coeff / B * dn[i];
                    case ATM -> c.coeff / B;
                    default -> 0;
                };
                gH[t] = pass[t] ? (gF + penalty) * keep[t] : 0;
                if (mech == ArchKind.JUMPRELU) {
                    double theta = Math.exp(logTheta[i]);
                    double kern = Math.abs((h[t] - theta) / c.eps) < 0.5 ? 1 : 0;
                    gLogTheta[i] += theta * (gF * keep[t] * (-theta / c.eps) * kern + c.coeff / B * (-1 / c.eps) * kern);
                }
            }
        }
        if (c.arch == ArchKind.RELU) {
            for (int i = 0; i < n; i++) {
                double fs = 0;
                for (int b = 0; b < B; b++) {
                    fs += f[b * n + i];
                }
                for (int j = 0; j < d; j++) {
                    gWDec[i * d + j] += c.coeff / B * fs * wDec[i * d + j] / dn[i];
                }
            }
        }
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < d; j++) {
                gBDec[j] += gPrefix[0][b * d + j];
            }
        }
        // AuxK
        // e = x − x̂ of the unmasked code (ATM: statistics and AuxK use it)
        r.e = new double[B * d];
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < d; j++) {
                double s = x[b * d + j] - bDec[j];
                for (int i = 0; i < n; i++) {
                    s -= fOpen[b * n + i] * wDec[i * d + j];
                }
                r.e[b * d + j] = s;
            }
        }
        if (mech.kControlled() && c.dead != null && c.auxCoeff > 0) {
            r.aux = auxK(c, h, B, r.e, gH, gWDec);
        }
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < n; i++) {
                double g = gH[b * n + i];
                gBEnc[i] += g;
                for (int j = 0; j < d; j++) {
                    gWEnc[i * d + j] += g * xc[b * d + j];
                    gBDec[j] -= g * wEnc[i * d + j];
                }
            }
        }
        r.loss = recon + r.sparsity + c.auxCoeff * r.aux;
        r.h = h;
        r.f = f;
        r.err = err;
        r.grad = new double[size()];
        int o = 0;
        for (double[] a : new double[][]{gWEnc, gBEnc, gWDec, gBDec, gLogTheta}) {
            System.arraycopy(a, 0, r.grad, o, a.length);
            o += a.length;
        }
        return r;
    }

    /** The sparsity mechanism: the arch, or ATM's base. */
    static ArchKind mechanism(Ctx c) {
        return c.arch == ArchKind.ATM && c.base != null ? c.base : c.arch;
    }

    /** Which entries the TopK family keeps (unused elsewhere). */
    private boolean[] selection(ArchKind mech, int k, double[] h, int B) {
        boolean[] sel = new boolean[B * n];
        if (mech == ArchKind.TOPK) {
            for (int b = 0; b < B; b++) {
                Integer[] order = new Integer[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                final int row = b;
                Arrays.sort(order, (p, q) -> {
                    int cmp = Double.compare(h[row * n + q], h[row * n + p]);
                    return cmp != 0 ? cmp : Integer.compare(p, q);
                });
                for (int t = 0; t < k; t++) {
                    sel[b * n + order[t]] = true;
                }
            }
        } else if (mech == ArchKind.BATCHTOPK || mech == ArchKind.MATRYOSHKA) {
            Integer[] order = new Integer[B * n];
            for (int t = 0; t < B * n; t++) {
                order[t] = t;
            }
            Arrays.sort(order, (p, q) -> {
                int cmp = Double.compare(Math.max(h[q], 0), Math.max(h[p], 0));
                return cmp != 0 ? cmp : Integer.compare(p, q);
            });
            for (int t = 0; t < k * B; t++) {
                if (h[order[t]] > 0) {
                    sel[order[t]] = true;
                }
            }
        }
        return sel;
    }

    /** AuxK loss; adds α·∂L_aux into gH (pre-activations) and gWDec. */
    private double auxK(Ctx c, double[] h, int B, double[] eNow, double[] gH, double[] gWDec) {
        int deadCount = 0;
        for (boolean dd : c.dead) {
            if (dd) {
                deadCount++;
            }
        }
        int kAux = Math.min(Math.min(d / 2, deadCount), c.auxCap);
        if (kAux == 0) {
            return 0;
        }
        double[] e = c.frozenE != null ? c.frozenE : eNow;
        double v = c.frozenE != null ? c.frozenV : variance(e, B);
        double loss = 0;
        for (int b = 0; b < B; b++) {
            Integer[] order = new Integer[n];
            int cnt = 0;
            for (int i = 0; i < n; i++) {
                if (c.dead[i]) {
                    order[cnt++] = i;
                }
            }
            Integer[] deadIdx = Arrays.copyOf(order, cnt);
            final int row = b;
            Arrays.sort(deadIdx, (p, q) -> {
                int cmp = Double.compare(h[row * n + q], h[row * n + p]);
                return cmp != 0 ? cmp : Integer.compare(p, q);
            });
            double[] diff = new double[d];
            for (int j = 0; j < d; j++) {
                diff[j] = -e[b * d + j];
            }
            for (int t = 0; t < kAux; t++) {
                int i = deadIdx[t];
                double fa = Math.max(h[b * n + i], 0);
                for (int j = 0; j < d; j++) {
                    diff[j] += fa * wDec[i * d + j];
                }
            }
            for (int j = 0; j < d; j++) {
                loss += diff[j] * diff[j] / v;
            }
            for (int t = 0; t < kAux; t++) {
                int i = deadIdx[t];
                double fa = Math.max(h[b * n + i], 0);
                double g = 0;
                for (int j = 0; j < d; j++) {
                    double gd = c.auxCoeff * 2 * diff[j] / v;
                    g += gd * wDec[i * d + j];
                    gWDec[i * d + j] += gd * fa;
                }
                if (fa > 0) {
                    gH[b * n + i] += g;
                }
            }
        }
        return loss;
    }

    static double variance(double[] e, int B) {
        int d = e.length / B;
        double v = 0;
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int b = 0; b < B; b++) {
                mean += e[b * d + j];
            }
            mean /= B;
            for (int b = 0; b < B; b++) {
                v += (e[b * d + j] - mean) * (e[b * d + j] - mean);
            }
        }
        return v;
    }
}
