#!/usr/bin/env python3
"""PyTorch peer for atmsae's GPU benchmark: the same training step per architecture, same shapes, same precision.

Architectures (architectures.md, atm.md): relu (L1 weighted by decoder norms), atm (ReLU base + per-latent EMA
statistics, importance, threshold, stochastic mask), topk (k, sparse decode via embedding_bag, AuxK on dead latents),
batchtopk (k*B over the batch), jumprelu (rectangle-kernel straight-through estimator, L0 penalty), matryoshka
(BatchTopK codes; equal-weight MSEs of the nested prefixes over the SAEBench groups, decoded group by group).
Common: x_c = x - b_dec, h = x_c W_enc^T + b_enc (W_enc stored [n, d] as in atmsae), x_hat = f W_dec + b_dec,
Adam (fused), global grad-norm clip 1.0, unit-norm decoder rows (gradient projection + renormalisation) for all but relu.

Precisions, paired with atmsae's (benchmarks.md: equal precision only):
  fp32  TF32 off everywhere;  tf32  allow_tf32 on;  bf16  autocast(bfloat16) with fp32 master weights.
Modes: eager and torch.compile of the forward+loss. Timing: CUDA events around whole steps after warm-up, median.
Prints and writes JSON: {"device", "torch", "results": [{arch, n, precision, mode, step_ms_p50, tokens_per_s}]}.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


class JumpReLUFn(torch.autograd.Function):
    """f = h * 1[h > theta]; d/dh = 1[h > theta]; d/dtheta = -(theta/eps) K((h - theta)/eps), K = 1[|u| < 1/2]."""

    @staticmethod
    def forward(ctx, h, theta, eps):
        ctx.save_for_backward(h, theta)
        ctx.eps = eps
        return h * (h > theta)

    @staticmethod
    def backward(ctx, g):
        h, theta = ctx.saved_tensors
        eps = ctx.eps
        k = ((h - theta).abs() < eps / 2).to(g.dtype)
        g_theta = (g * (-theta / eps) * k).sum(0)
        return g * (h > theta), g_theta, None


class StepFn(torch.autograd.Function):
    """H(h - theta) with d/dtheta = -(1/eps) K((h - theta)/eps), d/dh = 0."""

    @staticmethod
    def forward(ctx, h, theta, eps):
        ctx.save_for_backward(h, theta)
        ctx.eps = eps
        return (h > theta).to(h.dtype)

    @staticmethod
    def backward(ctx, g):
        h, theta = ctx.saved_tensors
        eps = ctx.eps
        k = ((h - theta).abs() < eps / 2).to(g.dtype)
        return torch.zeros_like(h), (g * (-1.0 / eps) * k).sum(0), None


def matryoshka_ends(n):
    """Group ends of atmsae's default matryoshka_groups (auto): the SAEBench fractions 1/32, 1/16, 1/8, 1/4 of the
    width (floored) and the rest, groups that round to no latents dropped."""
    ends, end = [], 0
    for size in (n // 32, n // 16, n // 8, n // 4):
        if size > 0:
            end += size
            ends.append(end)
    return ends + [n]


def matryoshka_loss(f, w_dec, b_dec, x, ends, weights=None):
    """Matryoshka's reconstruction loss sum_m w_m mean_b ||x - xhat_m||^2 (default w_m = 1/M, dictionary_learning's
    and atmsae's default), xhat_m = b_dec + the codes of groups <= m decoded. The prefixes are accumulated group by
    group in index order, so the whole costs one decode plus O(M B d), never one full decode per group."""
    weights = weights or [1.0 / len(ends)] * len(ends)
    xhat = b_dec.expand_as(x)
    loss, lo = 0.0, 0
    for hi, w in zip(ends, weights):
        xhat = xhat + f[:, lo:hi] @ w_dec[lo:hi]
        loss = loss + w * (xhat - x).pow(2).sum(-1).mean()
        lo = hi
    return loss


class Sae(torch.nn.Module):
    def __init__(self, arch, d, n, k, batch, device):
        super().__init__()
        self.arch, self.d, self.n, self.k, self.batch = arch, d, n, k, batch
        g = torch.Generator(device="cpu").manual_seed(42)
        w = torch.randn(n, d, generator=g)
        w = w / w.norm(dim=1, keepdim=True) * (0.1 if arch in ("relu", "atm") else 1.0)
        self.w_dec = torch.nn.Parameter(w.clone().to(device))
        self.w_enc = torch.nn.Parameter(w.clone().to(device))
        self.b_enc = torch.nn.Parameter(torch.zeros(n, device=device))
        self.b_dec = torch.nn.Parameter(torch.zeros(d, device=device))
        if arch == "jumprelu":
            self.log_theta = torch.nn.Parameter(torch.full((n,), math.log(0.01), device=device))
        self.l1 = 1.5 if arch == "atm" else 5.0
        self.l0 = 1.0
        self.eps = 0.05
        # ATM state: EMAs of magnitude, frequency, contribution; step counter for bias correction.
        self.register_buffer("ema", torch.zeros(3, n, device=device))
        self.register_buffer("fires", torch.zeros(n, device=device))
        self.dead_window = 10_000_000
        self.tokens_seen = 0
        self.aux_active = False
        # A tensor, not a Python int: torch.compile would otherwise recompile on every new step value.
        self.register_buffer("t", torch.zeros((), device=device))

    def encode_pre(self, x):
        return (x - self.b_dec) @ self.w_enc.t() + self.b_enc

    def loss(self, x):
        h = self.encode_pre(x)
        a = self.arch
        if a == "relu":
            f = F.relu(h)
            xhat = f @ self.w_dec + self.b_dec
            mse = (xhat - x).pow(2).sum(-1).mean()
            return mse + self.l1 * (f * self.w_dec.norm(dim=1)).sum(-1).mean()
        if a == "atm":
            f = F.relu(h)
            with torch.no_grad():
                self.atm_mask_update(x, f)
            ft = f * self.keep
            xhat = ft @ self.w_dec + self.b_dec
            mse = (xhat - x).pow(2).sum(-1).mean()
            return mse + self.l1 * ft.sum(-1).mean()
        if a == "jumprelu":
            theta = self.log_theta.exp()
            f = JumpReLUFn.apply(h, theta, self.eps)
            xhat = f @ self.w_dec + self.b_dec
            mse = (xhat - x).pow(2).sum(-1).mean()
            l0 = StepFn.apply(h, theta, self.eps).sum(-1).mean()
            return mse + self.l0 * l0
        if a == "topk":
            vals, idx = h.topk(self.k, dim=-1)
            vals = F.relu(vals)
            xhat = F.embedding_bag(idx, self.w_dec, per_sample_weights=vals.to(self.w_dec.dtype), mode="sum") + self.b_dec
            mse = (xhat - x).pow(2).sum(-1).mean()
            with torch.no_grad():
                self.fires.index_add_(0, idx.flatten(), (vals.flatten() > 0).float())
            # AuxK on dead latents: like atmsae, a latent is dead after dead_window tokens without firing, so a short
            # benchmark never gets here (aux_active is set outside the compiled region, once the window has passed).
            dead = self.fires == 0
            if self.aux_active and bool(dead.any()):
                k_aux = min(self.d // 2, int(dead.sum()))
                hv, hi = h.masked_fill(~dead, float("-inf")).topk(k_aux, dim=-1)
                e = (x - xhat).detach()
                ehat = F.embedding_bag(hi, self.w_dec, per_sample_weights=F.relu(hv).to(self.w_dec.dtype), mode="sum")
                aux = (e - ehat).pow(2).sum(-1).mean() / e.var(0).sum().clamp_min(1e-8)
                return mse + aux / 32
            return mse
        if a in ("batchtopk", "matryoshka"):
            r = F.relu(h)
            flat = r.flatten()
            vals, idx = flat.topk(self.k * x.shape[0])
            f = torch.zeros_like(flat).scatter(0, idx, vals).view_as(r)
            if a == "matryoshka":
                return matryoshka_loss(f, self.w_dec, self.b_dec, x, matryoshka_ends(self.n))
            xhat = f @ self.w_dec + self.b_dec
            return (xhat - x).pow(2).sum(-1).mean()
        raise ValueError(a)

    def atm_mask_update(self, x, f):
        """atm.md steps 2-7: statistics of the unmasked code, EMA, importance, threshold, mask probability, mask."""
        xhat_u = f @ self.w_dec + self.b_dec
        e = x - xhat_u
        e_dot_d = e @ self.w_dec.t()
        dn = self.w_dec.pow(2).sum(1)
        stats = torch.stack([f.mean(0), (f > 0).float().mean(0),
                             (f.pow(2) * dn + 2 * f * e_dot_d).mean(0).clamp_min(0)])
        self.t.add_(1)
        beta = 0.99
        self.ema.mul_(beta).add_((1 - beta) * stats)
        hat = self.ema / (1 - beta ** self.t)
        norm = hat / (hat.mean(1, keepdim=True) + 1e-8)
        imp = norm.mean(0)
        theta = imp.mean() + imp.std(unbiased=False)
        p = (1 - torch.exp(-(theta - imp) / theta)).clamp(0, 0.95)
        self.keep = (torch.rand_like(f) >= p).to(f.dtype)


def unit_norm_project(sae):
    w, g = sae.w_dec, sae.w_dec.grad
    g.sub_((g * w).sum(1, keepdim=True) / w.pow(2).sum(1, keepdim=True) * w)


def make_step(sae, arch, precision, loss_fn, device):
    """One training step (forward, backward, clip, projection, Adam, renormalisation) as a function of the batch;
    shared by the GPU benchmark and the CPU peer (torch_cpu_sae.py). Fused Adam where the device has it (CUDA)."""
    opt = torch.optim.Adam(sae.parameters(), lr=1e-4, betas=(0.0 if arch == "jumprelu" else 0.9, 0.999), eps=1e-8,
                           **({"fused": True} if device.type == "cuda" else {}))

    def step(x):
        sae.tokens_seen += x.shape[0]
        if sae.tokens_seen >= sae.dead_window and not sae.aux_active:
            sae.aux_active = True   # (a full implementation would also reset fires per window, as atmsae does)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)
        if arch != "relu":
            unit_norm_project(sae)
        opt.step()
        if arch != "relu":
            with torch.no_grad():
                sae.w_dec.div_(sae.w_dec.norm(dim=1, keepdim=True))
        return loss

    return step, opt


def run_one(arch, n, precision, mode, args, device):
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    sae = Sae(arch, args.d, n, args.k, args.batch, device)
    gen = torch.Generator(device=device).manual_seed(7)
    xs = [torch.randn(args.batch, args.d, device=device, generator=gen) for _ in range(4)]
    loss_fn = sae.loss
    if mode == "compile":
        loss_fn = torch.compile(sae.loss)
    step, opt = make_step(sae, arch, precision, loss_fn, device)

    for i in range(args.warmup):
        step(xs[i % 4])
    torch.cuda.synchronize()
    times = []
    for i in range(args.steps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step(xs[i % 4])
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    ms = statistics.median(times)
    del sae, opt, xs
    torch.cuda.empty_cache()
    return {"arch": arch, "n": n, "precision": precision, "mode": mode, "step_ms_p50": ms,
            "step_ms_max": max(times), "tokens_per_s": args.batch / (ms / 1e3)}


def write_json(args, results):
    if not args.json:
        return
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "d": args.d, "batch": args.batch,
           "k": args.k, "results": results}
    with open(args.json + ".tmp", "w") as fh:
        json.dump(out, fh, indent=2)
    import os
    os.replace(args.json + ".tmp", args.json)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=2304)
    ap.add_argument("--widths", default="16384,65536")
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--archs", default="atm,topk,batchtopk,jumprelu,relu,matryoshka")
    ap.add_argument("--precisions", default="fp32,tf32,bf16")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("SKIPPED: no CUDA device visible to PyTorch", file=sys.stderr)
        sys.exit(2)
    device = torch.device("cuda")
    modes = ["eager"] if args.no_compile else ["eager", "compile"]
    results = []
    for n in [int(w) for w in args.widths.split(",")]:
        for precision in args.precisions.split(","):
            for arch in args.archs.split(","):
                for mode in modes:
                    t0 = time.time()
                    try:
                        r = run_one(arch, n, precision, mode, args, device)
                    except Exception as e:  # report and go on: one failing pairing must not hide the others
                        r = {"arch": arch, "n": n, "precision": precision, "mode": mode, "error": repr(e)[:300]}
                    r["wall_s"] = round(time.time() - t0, 1)
                    print(json.dumps(r), flush=True)
                    results.append(r)
                    write_json(args, results)   # after every pairing: a timeout keeps what finished
    print(json.dumps({"summary": len(results)}))


if __name__ == "__main__":
    main()
