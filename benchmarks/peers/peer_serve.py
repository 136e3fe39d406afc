"""What both CPU peers (numpy_sae.py, torch_cpu_sae.py) share: which BLAS the process runs, the rate of the step's
encoder product, and the serving loop through which TrainBench interleaves its repetitions with atmsae's.

Protocol (--serve): the peer builds its model, runs its warm-up steps and prints one JSON line {"ready": true, ...
its versions and BLAS}; then for each line "steps N" on stdin it times N training steps and the encoder product and
prints one JSON line (times_s, median_s, tokens_per_s, gemm_gflops); "quit" or end of input ends it. Without --serve a
peer warms up, times --reps steps once and prints the same JSON, for a person at a shell.
"""
import ctypes
import json
import os
import statistics
import sys
import time

# Names OpenBLAS builds export for their core and configuration: upstream and Debian's, and numpy's
# scipy-openblas wheels (prefixed, 64-bit integer interface).
_CORENAME = ("openblas_get_corename", "scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
             "openblas_get_corename64_")
_CONFIG = ("openblas_get_config", "scipy_openblas_get_config64_", "scipy_openblas_get_config", "openblas_get_config64_")


def _call_string(lib, names):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = ctypes.c_char_p
            return fn().decode(errors="replace").strip()
    return None


def blas_info():
    """The BLAS libraries this process has loaded (from /proc/self/maps) and, for each OpenBLAS, the core whose
    kernels it runs: {"blas": "OpenBLAS 0.3.21 ... (core Cooperlake; /usr/lib/...)"}, or the library's path with
    "not OpenBLAS" (e.g. Debian's reference libblas.so.3, which PyTorch uses unless an optimised one is installed)."""
    paths = []
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path).lower()
                if ("blas" in base or "mkl_rt" in base) and path not in paths:
                    paths.append(path)
    except OSError:
        return {"blas": "unknown (no /proc/self/maps)"}
    openblas = {}  # "config (core X" -> paths: a wrapper such as Debian's libblas.so.3 reports its OpenBLAS again
    others = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        core = _call_string(lib, _CORENAME)
        if core is not None:
            openblas.setdefault(f"{_call_string(lib, _CONFIG) or 'OpenBLAS'} (core {core}", []).append(path)
        else:
            others.append(f"{path} (not OpenBLAS)")
    described = [f"{what}; {', '.join(where)})" for what, where in openblas.items()] + others
    return {"blas": "; ".join(described) or "no BLAS library loaded", "openblas_coretype":
            os.environ.get("OPENBLAS_CORETYPE")}


def gemm_gflops(product, flops, calls=3):
    """GFLOP/s of the best of `calls` runs of `product` (after one untimed call)."""
    product()
    best = min(_timed(product) for _ in range(calls))
    return flops / best * 1e-9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(step, batches, batch, steps, encoder, encoder_flops, check_finite, offset=0):
    """Times `steps` training steps over the rotated batches, then the encoder product."""
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
        loss = step(batches[(offset + i) % len(batches)])
        times.append(time.perf_counter() - t0)
        if not check_finite(loss):
            raise SystemExit("peer: non-finite loss")
    med = statistics.median(times)
    return {"times_s": times, "median_s": med, "tokens_per_s": batch / med,
            "gemm_gflops": gemm_gflops(encoder, encoder_flops)}


def run(args, info, step, batches, encoder, check_finite):
    """Warm-up, then either one measurement (--reps steps) or the --serve loop. `encoder` runs the step's encoder
    product x_c·W_encᵀ ([batch, d]·[d, n]) in the peer's own framework."""
    flops = 2.0 * args.batch * args.d * args.n
    for i in range(args.warmup):
        step(batches[i % len(batches)])
    done = args.warmup
    if not args.serve:
        print(json.dumps({**info, **measure(step, batches, args.batch, args.reps, encoder, flops, check_finite,
                                            done)}))
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "steps" or len(words) != 2:
            raise SystemExit(f"peer: unknown command {line.strip()!r} (expected 'steps N' or 'quit')")
        n = int(words[1])
        print(json.dumps(measure(step, batches, args.batch, n, encoder, flops, check_finite, done)), flush=True)
        done += n


def add_arguments(ap):
    """The options both peers take."""
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--n", type=int, default=6144)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--serve", action="store_true", help="serve 'steps N' requests on stdin (TrainBench)")
