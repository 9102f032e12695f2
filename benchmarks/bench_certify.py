"""Benchmark: the certificate against the trust-region solve it certifies.

For each instance the same seeded start goes to ``trust-regions`` (default stopping rule, no
certificate), then the final point is certified three ways in the same process:

* ``certify`` with ``method="auto"`` (the default: Krylov until the verdict and the index are
  decided, or the dense matrix when that counts fewer operations);
* ``certify`` with ``method="dense"`` (every eigenvalue of the d × d matrix: the reference
  verdict, when d is small enough to afford it);
* ``certify`` with ``method="krylov"``.

Printed per instance: the solve time, each certificate's time and its ratio to the solve, the
Hessian-vector products it made, the path ``auto`` took, and whether the verdicts and indices of
all paths agree.  Instances:

* the Rayleigh quotient at n = 1000 and 5000, dense A, linear and random spectra (seed 001);
* real Gaussian phase retrieval, intensity loss, n ∈ {256, 1024, 2048}, m = 8n (seeds 000, 001);
* a ``from_autograd`` Rayleigh quotient at tangent dimension 1000 (autograd Hessian-vector
  products: the case where forming the matrix is most expensive).

Not a test.  Run with one BLAS thread on a shared machine:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_certify.py --repeats 3
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import autograd.numpy as anp  # noqa: E402
from pymanopt.manifolds import Sphere  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402
from manifoldscape.problems import phase_retrieval, rayleigh  # noqa: E402


def _median_time(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _autograd_rayleigh(n: int) -> ms.Problem:
    a = rayleigh(n=n, seed=0).objective.a
    return ms.Problem.from_autograd(Sphere(n), lambda x: -anp.dot(x, anp.dot(a, x)), name="ag")


def instances(quick: bool) -> list[tuple[str, Callable[[], ms.Problem]]]:
    out = [
        ("rayleigh n=1000 linear", lambda: rayleigh(n=1000, seed=0)),
        ("rayleigh n=1000 random", lambda: rayleigh(n=1000, spectrum="random", seed=0)),
        ("phase retrieval n=256 m=8n", lambda: phase_retrieval(n=256, m=2048, seed=0)),
        ("from_autograd rayleigh d=1000", lambda: _autograd_rayleigh(1001)),
    ]
    if not quick:
        out[2:2] = [
            ("rayleigh n=5000 linear", lambda: rayleigh(n=5000, seed=0)),
            ("rayleigh n=5000 random", lambda: rayleigh(n=5000, spectrum="random", seed=0)),
        ]
        out[-1:-1] = [
            ("phase retrieval n=1024 m=8n", lambda: phase_retrieval(n=1024, m=8192, seed=0)),
            ("phase retrieval n=2048 m=8n", lambda: phase_retrieval(n=2048, m=16384, seed=0)),
        ]
    return out


def bench(name: str, build: Callable[[], ms.Problem], repeats: int, dense_up_to: int) -> None:
    problem = build()
    x0 = random_point(problem.manifold, 1)
    solve_s, result = _median_time(
        lambda: ms.solve(problem, "trust-regions", x0=x0, certify=False), repeats
    )
    x = result.point
    rows = []
    methods = ["auto", "krylov"] + (["dense"] if problem.manifold.dim <= dense_up_to else [])
    for method in methods:
        seconds, cert = _median_time(lambda m=method: ms.certify(problem, x, method=m), repeats)
        rows.append((method, seconds, cert))
    verdicts = {(c.verdict.value, c.index) for _, _, c in rows}
    print(
        f"\n{name}: d = {int(problem.manifold.dim)}, solve {solve_s:.3f} s "
        f"({result.iterations} iterations, {result.counts.hessian} Hessian-vector products)"
    )
    for method, seconds, cert in rows:
        print(
            f"  certify {method:<6} {seconds:8.3f} s  {seconds / solve_s:6.2f} × solve  "
            f"{cert.hessian_products:6d} products  path {cert.method:<6}  "
            f"{cert.verdict.value}, index {cert.index}"
        )
    print(f"  verdicts agree: {'yes' if len(verdicts) == 1 else 'NO ' + str(verdicts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the small instances")
    parser.add_argument(
        "--dense-up-to", type=int, default=2100, help="largest d certified densely too"
    )
    args = parser.parse_args()
    for name, build in instances(args.quick):
        bench(name, build, args.repeats, args.dense_up_to)


if __name__ == "__main__":
    main()
