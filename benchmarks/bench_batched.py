"""Benchmark: batched multi-start against sequential runs (issue 14, item 2).

Same instance (``rayleigh(n=50, seed=0)``), the same K = 64 starts (Gaussian columns normalised,
``default_rng(1)``), the same solver and options (``gradient-descent``, defaults: the
certificate's stopping rule, η = 1/(2 L̂) per start), certification off in both:

* ``sequential`` — K calls ``ms.solve(problem, "gradient-descent", x0=starts[:, k])``;
* ``batched``    — one call ``batched_gradient_descent(problem, starts)`` (one A X per iteration).

Prints the median wall time over ``--repeats`` of each, the speed-up, and the largest distance
between the batched and the sequential final points (and whether the iteration counts agree).
BLAS is pinned to one thread (environment variables set before numpy is imported).
Not a test: run it by hand,

    python benchmarks/bench_batched.py --repeats 5
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # BLAS pinned to one thread, before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.problems import rayleigh  # noqa: E402
from manifoldscape.solvers.batched import batched_gradient_descent  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--starts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    problem = rayleigh(n=args.n, seed=0)
    x = np.random.default_rng(1).standard_normal((args.n, args.starts))
    x /= np.linalg.norm(x, axis=0)

    def sequential() -> list:
        return [
            ms.solve(problem, "gradient-descent", x0=x[:, k], certify=False)
            for k in range(args.starts)
        ]

    def batched() -> list:
        return batched_gradient_descent(problem, x)

    times: dict[str, list[float]] = {"sequential": [], "batched": []}
    for _ in range(args.repeats):
        for name, run in (("sequential", sequential), ("batched", batched)):
            start = time.perf_counter()
            out = run()
            times[name].append(time.perf_counter() - start)
            if name == "sequential":
                seq = out
            else:
                bat = out
    distance = max(float(np.max(np.abs(a.point - b.point))) for a, b in zip(seq, bat, strict=True))
    same_its = all(a.iterations == b.iterations for a, b in zip(seq, bat, strict=True))
    iters = [r.iterations for r in seq]
    t_seq, t_bat = statistics.median(times["sequential"]), statistics.median(times["batched"])
    print(
        f"rayleigh n={args.n}, K={args.starts} starts, gradient-descent, "
        f"iterations per start {min(iters)}–{max(iters)} (median {statistics.median(iters):g})"
    )
    print(f"sequential ({args.starts} × ms.solve)  median {t_seq:8.3f} s")
    print(f"batched (one call)            median {t_bat:8.3f} s")
    print(f"speed-up                      {t_seq / t_bat:8.1f}×")
    print(f"max |x_batched − x_sequential| {distance:.2e}; same iteration counts: {same_its}")


if __name__ == "__main__":
    main()
