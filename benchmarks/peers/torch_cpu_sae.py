#!/usr/bin/env python3
"""PyTorch CPU peer for atmsae's CPU training step (benchmarks.md, "Peers"): torch_sae.py's model and step (the GPU
peer's: same architectures, eager, fp32) on the CPU, timed like numpy_sae.py and printing the same JSON line, so that
TrainBench runs both peers in one invocation. Meant for Debian's python3-torch (/usr/bin/python3).

Usage: torch_cpu_sae.py --arch relu --d 384 --n 6144 --batch 4096 [--k 32] [--warmup 2] [--reps 5] [--threads N] [--serve]
Prints the JSON of numpy_sae.py (with the BLAS PyTorch runs and its encoder product's GFLOP/s); --serve: see peer_serve.py.
Exits 2 with "SKIPPED: ..." on stderr when torch cannot be imported.
"""
import argparse
import os
import sys

try:
    import torch
except ImportError as e:
    print(f"SKIPPED: PyTorch is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_serve  # noqa: E402
from torch_sae import Sae, make_step  # noqa: E402  (the GPU peer's model and step, shared)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    peer_serve.add_arguments(ap)
    a = ap.parse_args()
    # Debian's build starts with one thread on some machines; give it as many as atmsae gets.
    torch.set_num_threads(a.threads)
    device = torch.device("cpu")
    torch.manual_seed(7)
    sae = Sae(a.arch, a.d, a.n, a.k, a.batch, device)
    step, _ = make_step(sae, a.arch, "fp32", sae.loss, device)
    xs = [torch.randn(a.batch, a.d) for _ in range(3)]  # rotated so caches do not flatter

    def encoder():
        with torch.no_grad():
            return (xs[0] - sae.b_dec) @ sae.w_enc.t()

    info = {"peer": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "sparse": "embedding_bag" if a.arch == "topk" else "dense", "arch": a.arch, "d": a.d, "n": a.n,
            "batch": a.batch, "k": a.k, **peer_serve.blas_info()}
    peer_serve.run(a, info, step, xs, encoder, lambda loss: bool(torch.isfinite(loss)))


if __name__ == "__main__":
    sys.exit(main())
