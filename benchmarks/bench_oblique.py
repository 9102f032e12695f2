"""Benchmark: a max-cut-style cost on the oblique manifold against the same cost on a product.

The Burer–Monteiro relaxation of max-cut, min ⟨C, YᵀY⟩ over Y ∈ ℝ^{p×n} with unit columns, is
stated twice: on ``Oblique(p, n)`` (one p × n array, one vectorized projection per step) and on
``Product([Sphere(p)] * n)`` (n arrays, every operation dispatched factor by factor) — the
rewrite a user had to make when only products of spheres were supported.  Same C (the Laplacian
of a random graph, seeded), same start (the columns of one seeded random point), same solver
(``trust-regions``, the loop's default stopping rule; hand-written derivatives, then autograd
ones from ``Problem.from_autograd``), and the
certificate of the final point timed separately.  Prints the median times, the ratio product /
oblique (the acceptance floor is 10×) and the costs (equal to 1e-8 relative).

Not a test: run it by hand,

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_oblique.py --n 30 --p 5 --repeats 3
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from pymanopt.manifolds import Oblique, Product, Sphere  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402


class MaxCutOblique(ms.Objective):
    """f(Y) = ⟨C, YᵀY⟩ for Y with unit columns: ∇f = 2 Y C, ∇²f[U] = 2 U C."""

    def __init__(self, c: np.ndarray):
        self.c = c

    def cost(self, x: Any, data: Any) -> float:  # noqa: D102
        return float(np.sum(self.c * (x.T @ x)))

    def euclidean_gradient(self, x: Any, data: Any) -> Any:  # noqa: D102
        return 2.0 * x @ self.c

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:  # noqa: D102
        return 2.0 * direction @ self.c


class MaxCutProduct(MaxCutOblique):
    """The same cost on a list of n unit vectors (the columns)."""

    def cost(self, x: Any, data: Any) -> float:  # noqa: D102
        return super().cost(np.column_stack(x), data)

    def euclidean_gradient(self, x: Any, data: Any) -> Any:  # noqa: D102
        return list(super().euclidean_gradient(np.column_stack(x), data).T)

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:  # noqa: D102
        return list(super().euclidean_hessian(x, data, np.column_stack(direction)).T)


def laplacian(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    adjacency = np.triu(rng.random((n, n)) < 0.5, 1).astype(float)
    adjacency = adjacency + adjacency.T
    return -0.25 * (np.diag(adjacency.sum(axis=1)) - adjacency)  # maximize the cut


def run(n: int, p: int, repeats: int, autograd: bool) -> None:
    c = laplacian(n, seed=0)
    if autograd:  # the costs a user writes first
        oblique = ms.Problem.from_autograd(
            Oblique(p, n), lambda y: anp.sum(c * (y.T @ y)), name="max-cut (oblique)"
        )
        product = ms.Problem.from_autograd(
            Product([Sphere(p)] * n),
            lambda ys: anp.sum(c * (anp.stack(ys, axis=1).T @ anp.stack(ys, axis=1))),
            name="max-cut (product)",
        )
    else:
        oblique = ms.Problem(Oblique(p, n), MaxCutOblique(c), name="max-cut (oblique)")
        product = ms.Problem(Product([Sphere(p)] * n), MaxCutProduct(c), name="max-cut (product)")
    y0 = random_point(oblique.manifold, 1)
    starts = {oblique.name: y0, product.name: list(y0.T)}
    rows = []
    for problem in (oblique, product):
        solve_times, certify_times = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            result = ms.solve(problem, "trust-regions", x0=starts[problem.name], certify=False)
            solve_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            certificate = ms.certify(problem, result.point)
            certify_times.append(time.perf_counter() - start)
        rows.append(
            (
                problem.name,
                statistics.median(solve_times),
                statistics.median(certify_times),
                result.cost,
                result.iterations,
                certificate.verdict.value,
            )
        )
    kind = "autograd derivatives" if autograd else "hand-written derivatives"
    print(f"max-cut relaxation, n = {n} columns in R^{p}, trust-regions, {kind}, {repeats} repeats")
    print(
        f"{'manifold':22s} {'solve s':>9s} {'certify s':>10s} {'cost':>16s} {'iters':>6s} verdict"
    )
    for name, solve_s, certify_s, cost, iterations, verdict in rows:
        print(
            f"{name:22s} {solve_s:9.3f} {certify_s:10.3f} {cost:16.10f} {iterations:6d} {verdict}"
        )
    (_, s_ob, c_ob, f_ob, *_), (_, s_pr, c_pr, f_pr, *_) = rows
    print(
        f"ratio product / oblique: solve {s_pr / s_ob:.1f}x, solve + certify "
        f"{(s_pr + c_pr) / (s_ob + c_ob):.1f}x"
    )
    print(f"relative cost difference {abs(f_ob - f_pr) / max(abs(f_ob), 1e-300):.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--p", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for autograd in (False, True):
        run(args.n, args.p, args.repeats, autograd)
        print()


if __name__ == "__main__":
    main()
