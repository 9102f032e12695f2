"""Benchmark: the Rayleigh quotient min_{‖x‖=1} −xᵀAx (seed 001) at n = 1000 and 5000.

Same instance (``rayleigh(n, seed=0)``: A = Q diag(linspace(1, −1, n)) Qᵀ, dense), same start
(``random_point(Sphere(n), 1)``), same stopping accuracy ‖grad f‖ ≤ 1e-8 · max(|f(x₀)|, ‖∇f(x₀)‖):

* ``trust-regions``           — manifoldscape's Riemannian trust regions (hand-written derivatives);
* ``pymanopt TR (autograd)``  — pymanopt's TrustRegions on a ``pymanopt.function.autograd`` cost,
  autograd deriving the gradient and the Hessian-vector products;
* ``pymanopt TR (numpy)``     — pymanopt's TrustRegions on ``problem.to_pymanopt()`` (our
  derivatives), which separates the cost of autograd from that of the optimizer;
* ``eigsh``                   — scipy.sparse.linalg.eigsh(A, k=1, which="LA", v0=x₀) with
  ``tol`` set so that its residual matches the same gradient norm (grad f = −2(Ax − λx)).

For each: the median wall time over ``--repeats`` runs, the ratio to ``trust-regions``, the final
relative error |f(x) − (−λ₁)|/|λ₁| and gradient norm.  Then the time of
``certify(problem, point)`` against the solve time.  Not a test: run it by hand,

    python benchmarks/bench_rayleigh.py --sizes 1000 5000 --repeats 5

On a shared machine, run with ``OPENBLAS_NUM_THREADS=1`` (or ``OMP_NUM_THREADS=1``): a
multithreaded BLAS competing with other processes makes every matrix-vector product erratic.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pymanopt
import scipy.sparse.linalg

import manifoldscape as ms
from manifoldscape.core.loop import gradient_scale
from manifoldscape.geometry import random_point
from manifoldscape.problems import rayleigh


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def bench_size(n: int, repeats: int) -> list[dict[str, Any]]:
    problem = rayleigh(n=n, seed=0)
    a = problem.objective.a
    lam1 = float(problem.objective.eigenvalues[0])
    x0 = random_point(problem.manifold, 1)
    tolerance = 1e-8 * gradient_scale(problem, x0)

    @pymanopt.function.autograd(problem.manifold)
    def autograd_cost(x: Any) -> Any:
        return -anp.dot(x, anp.dot(a, x))

    def ours() -> tuple[Any, int]:
        result = ms.solve(
            problem, "trust-regions", x0=x0, gradient_tolerance=tolerance, certify=False
        )
        return result.point, result.counts.hessian

    def pymanopt_tr(pymanopt_problem: Any) -> Callable[[], tuple[Any, int]]:
        def run() -> tuple[Any, int]:
            optimizer = pymanopt.optimizers.TrustRegions(min_gradient_norm=tolerance, verbosity=0)
            out = optimizer.run(pymanopt_problem, initial_point=x0.copy())
            return out.point, -1

        return run

    def eigsh() -> tuple[Any, int]:
        # ‖Av − λv‖ ≤ tol·|λ| (ARPACK) and ‖grad f‖ = 2‖Av − λv‖: match the gradient target
        _, vectors = scipy.sparse.linalg.eigsh(
            a, k=1, which="LA", v0=x0, tol=tolerance / (2 * abs(lam1))
        )
        v = vectors[:, 0]
        return v / np.linalg.norm(v), -1

    methods = {
        "trust-regions": ours,
        "pymanopt TR (autograd)": pymanopt_tr(pymanopt.Problem(problem.manifold, autograd_cost)),
        "pymanopt TR (numpy)": pymanopt_tr(problem.to_pymanopt()),
        "eigsh": eigsh,
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    points: dict[str, Any] = {}
    hessian_products: dict[str, int] = {}
    for _ in range(repeats):  # interleaved, so that load on the machine hits every method alike
        for name, run in methods.items():
            seconds, (point, products) = timed(run)
            times[name].append(seconds)
            points[name] = point
            hessian_products[name] = products
    reference = statistics.median(times["trust-regions"])
    rows = []
    for name in methods:
        point = points[name]
        cost = problem.cost(point)
        rows.append(
            {
                "n": n,
                "method": name,
                "median_s": statistics.median(times[name]),
                "ratio": statistics.median(times[name]) / reference,
                "relative_error": abs(cost + lam1) / abs(lam1),
                "gradient_norm": problem.gradient_norm(point),
                "hessian_products": hessian_products[name],
            }
        )
    certify_times = []
    for _ in range(repeats):
        seconds, certificate = timed(lambda: ms.certify(problem, points["trust-regions"]))
        certify_times.append(seconds)
    rows.append(
        {
            "n": n,
            "method": f"certify ({certificate.method}: {certificate.verdict.value})",
            "median_s": statistics.median(certify_times),
            "ratio": statistics.median(certify_times) / reference,
            "relative_error": float("nan"),
            "gradient_norm": float("nan"),
            "hessian_products": -1,
        }
    )
    rows.append({"n": n, "tolerance": tolerance, "gap": lam1 - problem.objective.eigenvalues[1]})
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'n':>6}  {'method':<36} {'median s':>10} {'× ours':>8} {'|f+λ₁|/|λ₁|':>12} "
        f"{'‖grad f‖':>10} {'Hess·v':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if "tolerance" in row:
            print(
                f"{row['n']:>6}  (gradient tolerance {row['tolerance']:.2e}, eigengap λ₁−λ₂ = "
                f"{row['gap']:.2e})"
            )
            print()
            continue
        products = "" if row["hessian_products"] < 0 else str(row["hessian_products"])
        error = "" if np.isnan(row["relative_error"]) else f"{row['relative_error']:.1e}"
        grad = "" if np.isnan(row["gradient_norm"]) else f"{row['gradient_norm']:.1e}"
        print(
            f"{row['n']:>6}  {row['method']:<36} {row['median_s']:>10.4f} {row['ratio']:>8.2f} "
            f"{error:>12} {grad:>10} {products:>7}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.repeats < 1 or any(n < 3 for n in args.sizes):
        parser.error("--repeats must be ≥ 1 and every size ≥ 3")
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(
        f"numpy {np.__version__}, pymanopt {pymanopt.__version__}, "
        f"BLAS threads {threads or 'default'}"
    )
    rows = []
    for n in args.sizes:
        rows.extend(bench_size(n, args.repeats))
    print_table(rows)


if __name__ == "__main__":
    main()
