package dev.atmsae.eval.probe;

/** Precision / recall / F1 / accuracy of a binary decision "score &gt; threshold" against labels. */
public record BinaryMetrics(int tp, int fp, int fn, int tn) {
    public static BinaryMetrics of(double[] scores, boolean[] labels, double threshold) {
        int tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < scores.length; i++) {
            boolean predicted = scores[i] > threshold;
            if (predicted && labels[i]) {
                tp++;
            } else if (predicted) {
                fp++;
            } else if (labels[i]) {
                fn++;
            } else {
                tn++;
            }
        }
        return new BinaryMetrics(tp, fp, fn, tn);
    }

    public double precision() {
        return tp + fp == 0 ? 0 : (double) tp / (tp + fp);
    }

    public double recall() {
        return tp + fn == 0 ? 0 : (double) tp / (tp + fn);
    }

    /** F1 (0 when there are no true and no predicted positives, as sklearn's zero_division=0). */
    public double f1() {
        return 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    public double accuracy() {
        return (double) (tp + tn) / Math.max(1, tp + fp + fn + tn);
    }

    /** Mean of the true-positive and true-negative rates (accuracy on a class-balanced test set). */
    public double balancedAccuracy() {
        double tpr = tp + fn == 0 ? 0 : (double) tp / (tp + fn);
        double tnr = tn + fp == 0 ? 0 : (double) tn / (tn + fp);
        return 0.5 * (tpr + tnr);
    }

    /** The threshold (midpoint between adjacent sorted scores) that maximises F1 on the given (training) data. */
    public static double bestF1Threshold(double[] scores, boolean[] labels) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        int totalPos = 0;
        for (boolean l : labels) {
            totalPos += l ? 1 : 0;
        }
        double best = -1, bestThr = 0;
        int tp = 0, fp = 0;
        for (int r = 0; r < order.length; r++) {
            if (labels[order[r]]) {
                tp++;
            } else {
                fp++;
            }
            boolean boundary = r + 1 == order.length || scores[order[r + 1]] < scores[order[r]];
            if (!boundary) {
                continue;
            }
            double f1 = 2.0 * tp / (2.0 * tp + fp + (totalPos - tp));
            if (f1 > best) {
                best = f1;
                bestThr = r + 1 == order.length ? scores[order[r]] - 1 : 0.5 * (scores[order[r]] + scores[order[r + 1]]);
            }
        }
        return bestThr;
    }
}
