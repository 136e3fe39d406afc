#!/usr/bin/env python3
"""numpy + OpenBLAS peer for atmsae's CPU training step (benchmarks.md, "Peers").

One training step = forward, backward and Adam, the same math as atmsae's architectures (architectures.md, atm.md):
relu (ReLU + L1 weighted by decoder norms), atm (ReLU + L1 + EMA statistics, importance threshold, Bernoulli mask,
unit-norm decoder), topk (+AuxK when latents are dead), batchtopk, jumprelu (rectangle-kernel STE, L0 penalty),
matryoshka (BatchTopK codes, equal-weight nested-prefix MSEs over the SAEBench groups, one split decode).
All float32, parameters stored like atmsae's engine: W_enc [n, d] (row i = latent i's encoder direction), W_dec [n, d].
Sparse architectures decode with scipy.sparse when it is importable (the fastest reasonable numpy-stack
implementation), else with a dense scatter + product; the JSON says which.

Usage: numpy_sae.py --arch atm --d 384 --n 6144 --batch 4096 [--k 64] [--warmup 2] [--reps 5] [--serve]
       numpy_sae.py --check    (float64 finite-difference check of the relu/topk/batchtopk/matryoshka gradients)
Prints one JSON object: arch, shape, median seconds per step, tokens/s, the per-repetition times, the BLAS it runs and
the GFLOP/s of its encoder product; --serve answers TrainBench's "steps N" requests instead (peer_serve.py).
"""
import argparse
import sys

import numpy as np

import peer_serve

try:
    import scipy.sparse as sp
except ImportError:  # the peer still works, with dense decoding
    sp = None

F = np.float32


class Adam:
    def __init__(self, params, lr=2e-4, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params, grads):
        # global grad-norm clip at 1.0, as in atmsae
        norm = np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        scale = F(min(1.0, 1.0 / (norm + 1e-12)))
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for k, p in params.items():
            g = grads[k] * scale
            m, v = self.m[k], self.v[k]
            m *= F(self.b1)
            m += F(1 - self.b1) * g
            v *= F(self.b2)
            v += F(1 - self.b2) * (g * g)
            p -= F(self.lr / c1) * m / (np.sqrt(v / F(c2)) + F(self.eps))


def remove_parallel(w, g):
    g -= (np.einsum("ij,ij->i", g, w) / np.einsum("ij,ij->i", w, w))[:, None] * w


def normalize_rows(w):
    w /= np.linalg.norm(w, axis=1, keepdims=True)


def sparse_matrix(rows, cols, vals, shape):
    if sp is not None:
        return sp.csr_matrix((vals, (rows, cols)), shape=shape)
    dense = np.zeros(shape, F)
    dense[rows, cols] = vals
    return dense


def matryoshka_ends(n):
    """Group ends of atmsae's default matryoshka_groups (auto): the SAEBench fractions 1/32, 1/16, 1/8, 1/4 of the
    width (floored) and the rest, groups that round to no latents dropped."""
    ends, end = [], 0
    for size in (n // 32, n // 16, n // 8, n // 4):
        if size > 0:
            end += size
            ends.append(end)
    return np.array(ends + [n])


def matryoshka_decode(rows, cols, vals, xc, w_dec, ends, batch):
    """Equal-weight (w_m = 1/M) nested-prefix reconstruction and its gradients, one sparse decode in all: entries are
    split by latent group, prefix residuals accumulate group by group, and the gradient reaching group m is the suffix
    sum G_m = sum_{m' >= m} (2 w / B) err_{m'}. Returns (loss, full-width err, G_0 (the b_dec decoder path),
    per-entry gradient gVal, gradient of W_dec)."""
    n = w_dec.shape[0]
    group = np.searchsorted(ends, cols, side="right")
    weight = F(2.0 / (len(ends) * batch))
    acc = -xc
    errs, parts = [], []
    for m in range(len(ends)):
        sel = group == m
        part = sparse_matrix(rows[sel], cols[sel], vals[sel], (batch, n))
        acc = acc + np.asarray(part @ w_dec)
        errs.append(acc)
        parts.append(part)
    loss = sum(float(np.einsum("bd,bd->", e, e)) for e in errs) / (len(ends) * batch)
    grads = [None] * len(ends)
    g = np.zeros_like(xc)
    for m in reversed(range(len(ends))):
        g = g + weight * errs[m]
        grads[m] = g
    stacked = np.stack(grads)
    gval = np.einsum("jd,jd->j", stacked[group, rows], w_dec[cols])
    g_wdec = sum(np.asarray(part.T @ gm) for part, gm in zip(parts, grads))
    return loss, errs[-1], grads[0], gval, g_wdec


class Sae:
    def __init__(self, arch, d, n, batch, k, seed):
        rng = np.random.default_rng(seed)
        self.arch, self.d, self.n, self.B, self.k = arch, d, n, batch, k
        w = rng.standard_normal((n, d)).astype(F)
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        if arch == "relu":
            w *= F(0.1)
        self.p = {"W_enc": w.copy(), "b_enc": np.zeros(n, F), "W_dec": w.copy(), "b_dec": np.zeros(d, F)}
        if arch == "jumprelu":
            self.p["log_theta"] = np.full(n, np.log(0.01), F)
        self.opt = Adam(self.p, b1=0.0 if arch == "jumprelu" else 0.9)
        self.lam = F(1.5 if arch in ("relu", "atm") else 1e-3)
        self.steps_since_fire = np.zeros(n, np.int64)
        self.rng = rng
        if arch == "atm":
            self.ema = {s: np.zeros(n, np.float64) for s in ("a", "q", "r")}
            self.t = 0
        self.theta = 0.0
        self.ends = matryoshka_ends(n)

    def step(self, x):
        p, B = self.p, self.B
        xc = x - p["b_dec"]
        h = xc @ p["W_enc"].T
        h += p["b_enc"]
        g = {}
        if self.arch in ("relu", "atm"):
            f = np.maximum(h, 0)
            if self.arch == "atm":
                f_in = self._atm_mask(x, f)
            else:
                f_in = f
            xhat = f_in @ p["W_dec"]
            xhat += p["b_dec"]
            err = xhat - x
            gx = err * F(2.0 / B)
            dnorm = np.linalg.norm(p["W_dec"], axis=1) if self.arch == "relu" else None
            gf = gx @ p["W_dec"].T
            gf += self.lam / B * (dnorm if dnorm is not None else F(1))
            gh = gf * (f_in > 0)
            g["W_dec"] = f_in.T @ gx
            if dnorm is not None:
                g["W_dec"] += (self.lam / B) * (f_in.sum(0) / dnorm)[:, None] * p["W_dec"]
            fired = (f_in > 0).any(0)
            gh_sparse = None
        elif self.arch in ("topk", "batchtopk", "matryoshka"):
            if self.arch == "topk":
                idx = np.argpartition(-h, self.k, axis=1)[:, : self.k]
                rows = np.repeat(np.arange(B), self.k)
                cols = idx.ravel()
                vals = np.maximum(h[rows, cols], 0)
            else:
                a = np.maximum(h, 0).ravel()
                keep = np.argpartition(-a, self.k * B)[: self.k * B]
                vals = a[keep]
                pos = vals > 0
                keep, vals = keep[pos], vals[pos]
                rows, cols = keep // self.n, keep % self.n
                if vals.size:
                    self.theta = 0.99 * self.theta + 0.01 * float(vals.min())
            if self.arch == "matryoshka":
                _, err, gx, gval, g["W_dec"] = matryoshka_decode(rows, cols, vals, xc, p["W_dec"], self.ends, B)
                gval = gval * (vals > 0)
            else:
                fs = sparse_matrix(rows, cols, vals, (B, self.n))
                xhat = np.asarray(fs @ p["W_dec"])
                xhat += p["b_dec"]
                err = xhat - x
                gx = err * F(2.0 / B)
                # gradient only at the kept entries: gVal_j = <gx[row_j], W_dec[col_j]>
                gval = np.einsum("jd,jd->j", gx[rows], p["W_dec"][cols]) * (vals > 0)
                g["W_dec"] = np.asarray(fs.T @ gx)
            gh_sparse = sparse_matrix(rows, cols, gval.astype(F), (B, self.n))
            fired = np.zeros(self.n, bool)
            fired[cols[vals > 0]] = True
            self._auxk(h, err, g, gh_sparse)
            gh = None
        elif self.arch == "jumprelu":
            theta = np.exp(p["log_theta"])
            act = h > theta
            f = h * act
            xhat = f @ p["W_dec"]
            xhat += p["b_dec"]
            err = xhat - x
            gx = err * F(2.0 / B)
            gf = gx @ p["W_dec"].T
            gh = gf * act
            eps = F(0.05)
            kern = (np.abs((h - theta) / eps) < 0.5).astype(F)
            g_theta = (gf * (-theta / eps) * kern).sum(0) + (self.lam / B) * (-1 / eps) * kern.sum(0)
            g["log_theta"] = (g_theta * theta).astype(F)
            g["W_dec"] = f.T @ gx
            fired = act.any(0)
            gh_sparse = None
        else:
            raise SystemExit("unknown arch " + self.arch)

        if gh_sparse is not None:
            g["W_enc"] = np.asarray(gh_sparse.T @ xc)
            g["b_enc"] = np.asarray(gh_sparse.sum(0)).ravel().astype(F)
        else:
            g["W_enc"] = gh.T @ xc
            g["b_enc"] = gh.sum(0)
        g["b_dec"] = gx.sum(0) - g["b_enc"] @ p["W_enc"]
        if self.arch != "relu":
            remove_parallel(p["W_dec"], g["W_dec"])
        self.opt.step(p, g)
        if self.arch != "relu":
            normalize_rows(p["W_dec"])
        self.steps_since_fire = np.where(fired, 0, self.steps_since_fire + 1)
        return float(np.einsum("bd,bd->", err, err)) / B

    def _atm_mask(self, x, f):
        """ATM statistics, EMAs, importance threshold and Bernoulli mask (atm.md steps 2-7)."""
        p = self.p
        xhat_u = f @ p["W_dec"]
        xhat_u += p["b_dec"]
        e = x - xhat_u
        edotd = e @ p["W_dec"].T
        dn2 = np.einsum("ij,ij->i", p["W_dec"], p["W_dec"])
        a = f.mean(0)
        q = (f > 0).mean(0)
        rho = np.maximum(0, (f * f * dn2 + 2 * f * edotd).mean(0))
        self.t += 1
        beta = 0.99
        for key, s in (("a", a), ("q", q), ("r", rho)):
            self.ema[key] = beta * self.ema[key] + (1 - beta) * s
        corr = 1 - beta ** self.t
        imp = sum(self.ema[key] / corr / (self.ema[key].mean() / corr + 1e-8) for key in "aqr") / 3
        thr = imp.mean() + imp.std()
        prob = np.clip(1 - np.exp(-1.0 * (thr - imp) / thr), 0, 0.95).astype(F)
        keep = self.rng.random(f.shape, dtype=F) >= prob
        return f * keep

    def _auxk(self, h, err, g, gh_sparse):
        """AuxK on dead latents; with fresh weights and a short benchmark no latent is dead, as in atmsae."""
        dead = self.steps_since_fire > 10_000_000 // self.B
        if not dead.any():
            return
        k_aux = min(self.d // 2, int(dead.sum()))
        hd = np.where(dead, h, -np.inf)
        idx = np.argpartition(-hd, k_aux, axis=1)[:, :k_aux]
        rows = np.repeat(np.arange(self.B), k_aux)
        vals = np.maximum(hd[rows, idx.ravel()], 0)
        fa = sparse_matrix(rows, idx.ravel(), vals, (self.B, self.n))
        ehat = np.asarray(fa @ self.p["W_dec"])
        resid = ehat + err
        g["W_dec"] += (1 / 32) * 2 / self.B * np.asarray(fa.T @ resid)


def self_check():
    """Central finite differences in float64 on a tiny problem: the peer's gradients for relu, topk, batchtopk and
    matryoshka
    (W_dec only for relu: the unit-norm projection changes it for the others) before clipping and Adam."""
    global F
    saved, F = F, np.float64
    worst_all = 0.0
    try:
        for arch in ("relu", "topk", "batchtopk", "matryoshka"):
            d, n, B, k = 5, 8, 4, 2
            s = Sae(arch, d, n, B, k, 0)
            for key in s.p:
                s.p[key] = s.p[key].astype(np.float64)
            s.p["b_enc"] += 0.05
            s.p["b_dec"] += np.random.default_rng(1).standard_normal(d) * 0.1
            s.lam = 0.3
            x = np.random.default_rng(2).standard_normal((B, d))
            grads = {}

            class Capture:
                def step(self, p, g):
                    grads.update({key: v.copy() for key, v in g.items()})

            s.opt = Capture()
            p0 = {key: v.copy() for key, v in s.p.items()}
            s.step(x)

            def loss(p):
                h = (x - p["b_dec"]) @ p["W_enc"].T + p["b_enc"]
                if arch == "relu":
                    f = np.maximum(h, 0)
                elif arch == "topk":
                    f = np.zeros_like(h)
                    idx = np.argsort(-h, axis=1)[:, :k]
                    for b in range(B):
                        f[b, idx[b]] = np.maximum(h[b, idx[b]], 0)
                else:
                    a = np.maximum(h, 0).ravel()
                    keep = np.argsort(-a)[: k * B]
                    f = np.zeros_like(a)
                    f[keep] = a[keep]
                    f = f.reshape(B, n)
                if arch == "matryoshka":  # equal-weight prefix MSEs, each prefix decoded from scratch
                    ends = matryoshka_ends(n)
                    return sum((((f[:, :e] @ p["W_dec"][:e] + p["b_dec"]) - x) ** 2).sum() / B
                               for e in ends) / len(ends)
                out = (((f @ p["W_dec"] + p["b_dec"]) - x) ** 2).sum() / B
                if arch == "relu":
                    out += s.lam * (f * np.linalg.norm(p["W_dec"], axis=1)).sum() / B
                return out

            worst = 0.0
            for key in ["W_enc", "b_enc", "b_dec"] + (["W_dec"] if arch == "relu" else []):
                for i in range(p0[key].size):
                    plus = {kk: v.copy() for kk, v in p0.items()}
                    minus = {kk: v.copy() for kk, v in p0.items()}
                    plus[key].flat[i] += 1e-6
                    minus[key].flat[i] -= 1e-6
                    fd = (loss(plus) - loss(minus)) / 2e-6
                    worst = max(worst, abs(fd - grads[key].flat[i]))
            print(f"{arch}: max |finite difference - gradient| = {worst:.2e}")
            worst_all = max(worst_all, worst)
    finally:
        F = saved
    if worst_all > 1e-6:
        raise SystemExit("numpy_sae self-check failed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch")
    ap.add_argument("--check", action="store_true", help="finite-difference self-check of the gradients, then exit")
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    peer_serve.add_arguments(ap)
    a = ap.parse_args()
    if a.check:
        return self_check()
    if not a.arch:
        ap.error("--arch is required")
    rng = np.random.default_rng(a.seed + 1)
    batches = [rng.standard_normal((a.batch, a.d)).astype(F) for _ in range(3)]  # rotated so caches do not flatter
    sae = Sae(a.arch, a.d, a.n, a.batch, a.k, a.seed)
    xc = batches[0] - sae.p["b_dec"]
    info = {"peer": "numpy", "numpy": np.__version__, "sparse": "scipy" if sp is not None else "dense",
            "arch": a.arch, "d": a.d, "n": a.n, "batch": a.batch, "k": a.k, **peer_serve.blas_info()}
    peer_serve.run(a, info, sae.step, batches, lambda: xc @ sae.p["W_enc"].T, np.isfinite)


if __name__ == "__main__":
    sys.exit(main())
