"""Benchmark: Gaussian matrix sensing, n = 50, r = 3, m = 5nr (seed 002, eq. 1; seed 003, 2.20).

One instance per ``--seeds`` entry (``matrix_sensing(n, r, seed=s)``: A_i with i.i.d. N(0, 1)
entries, symmetrised; M* = X*X*ᵀ with X* i.i.d. N(0, 1)), one random start X₀ ∈ ℝ^{n×r}
(``random_point(Euclidean(n, r), 1000 + s)``) shared by every method — as the factor X₀ itself, or
as the matrix X₀X₀ᵀ on the fixed-rank manifolds — and trust regions to ‖grad f‖ ≤
``--rtol`` · max(|f(x₀)|, ‖∇f(x₀)‖) (a tolerance tight enough for a relative error ≤ 1e-8, see
``tests/test_low_rank.py::_recover_fixed_rank``):

* ``trust-regions (XXᵀ)``          — manifoldscape's trust regions on the factored symmetric form
  f(X) = 1/(2m) Σ (⟨A_i, XXᵀ⟩ − b_i)², hand-written derivatives (the reference of the ratios);
* ``trust-regions (PSD rank r)``   — the same loss on ``SymmetricFixedRank(n, r, psd=True)``
  (``form="psd_fixed_rank"``), started at X₀X₀ᵀ;
* ``trust-regions (rank r)``       — on ``FixedRank(n, n, r)`` (``form="fixed_rank"``, given the
  same symmetrised A_i and M* as user data), started at the same matrix X₀X₀ᵀ;
* ``pymanopt TR (autograd)``       — pymanopt's TrustRegions on the factored cost written with
  ``autograd.numpy`` (the m × n² sensing matrix times vec(XXᵀ)), autograd deriving the gradient
  and the Hessian-vector products: the baseline of the issue's "≥ 10× faster";
* ``pymanopt TR (numpy)``          — pymanopt's TrustRegions on ``problem.to_pymanopt()`` (our
  derivatives), which separates the cost of autograd from that of the optimizer.

For each: the median wall time over seeds × ``--repeats`` runs (interleaved, so load on the machine
hits every method alike), the ratio to the reference, the worst final relative error
‖X̂ − M*‖_F/‖M*‖_F, and the median number of Hessian-vector products (ours only).  The solves do
not certify (``certify=False``); the time of ``certify`` at the factored solution is listed too.

BLAS runs on one thread: ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``
default to 1 below, before numpy is imported (a multithreaded BLAS competing with other processes
on a shared machine makes every product erratic; override from the shell to measure threading).
Not a test: run it by hand,

    python benchmarks/bench_matrix_sensing.py --seeds 0 1 2 --repeats 3
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
import pymanopt  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.core.loop import gradient_scale  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402
from manifoldscape.geometry.fixed_rank import FixedRankPoint, SymmetricFixedRankPoint  # noqa: E402
from manifoldscape.problems import matrix_sensing  # noqa: E402
from manifoldscape.problems.low_rank import relative_matrix_error  # noqa: E402

REFERENCE = "trust-regions (XXᵀ)"


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def _as_manifold_points(x0: np.ndarray) -> tuple[SymmetricFixedRankPoint, FixedRankPoint]:
    """X₀X₀ᵀ as a point of the PSD and of the general fixed-rank manifold (thin QR + eigh)."""
    q, t = np.linalg.qr(x0)
    lam, w = np.linalg.eigh(t @ t.T)
    lam, w = lam[::-1].copy(), w[:, ::-1]
    u = q @ w
    return SymmetricFixedRankPoint(u, lam), FixedRankPoint(u, lam.copy(), u.copy())


def bench_seed(n: int, r: int, seed: int, rtol: float) -> dict[str, Callable[[], Any]]:
    """The methods on one instance: name -> run() returning (point, problem, Hessian products)."""
    m = 5 * n * r
    factored = matrix_sensing(n=n, r=r, m=m, seed=seed)
    psd = matrix_sensing(n=n, r=r, m=m, form="psd_fixed_rank", seed=seed)
    loss = factored.objective.loss
    flat, b = loss.flat, loss.b  # the full m × n² matrix of the (symmetrised) A_i
    target = factored.objective.target
    general = matrix_sensing(flat.reshape(m, n, n), M=target, r=r, form="fixed_rank")
    x0 = random_point(factored.manifold, 1000 + seed)
    psd0, general0 = _as_manifold_points(x0)

    @pymanopt.function.autograd(factored.manifold)
    def autograd_cost(x: Any) -> Any:
        residual = anp.dot(flat, anp.reshape(anp.dot(x, x.T), (-1,))) - b
        return anp.sum(residual * residual) / (2 * m)

    def ours(problem: Any, start: Any) -> Callable[[], tuple[Any, Any, int]]:
        tolerance = rtol * gradient_scale(problem, start)

        def run() -> tuple[Any, Any, int]:
            result = ms.solve(
                problem, "trust-regions", x0=start, gradient_tolerance=tolerance, certify=False
            )
            return result.point, problem, result.counts.hessian

        return run

    def pymanopt_tr(pymanopt_problem: Any) -> Callable[[], tuple[Any, Any, int]]:
        tolerance = rtol * gradient_scale(factored, x0)

        def run() -> tuple[Any, Any, int]:
            optimizer = pymanopt.optimizers.TrustRegions(min_gradient_norm=tolerance, verbosity=0)
            out = optimizer.run(pymanopt_problem, initial_point=x0.copy())
            return out.point, factored, -1

        return run

    return {
        REFERENCE: ours(factored, x0),
        "trust-regions (PSD rank r)": ours(psd, psd0),
        "trust-regions (rank r)": ours(general, general0),
        "pymanopt TR (autograd)": pymanopt_tr(pymanopt.Problem(factored.manifold, autograd_cost)),
        "pymanopt TR (numpy)": pymanopt_tr(factored.to_pymanopt()),
    }


def bench(n: int, r: int, seeds: list[int], repeats: int, rtol: float) -> list[dict[str, Any]]:
    instances = {seed: bench_seed(n, r, seed, rtol) for seed in seeds}
    names = list(next(iter(instances.values())))
    times: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, list[float]] = {name: [] for name in names}
    products: dict[str, list[int]] = {name: [] for name in names}
    solutions = {}
    for _ in range(repeats):
        for seed, methods in instances.items():
            for name, run in methods.items():  # interleaved
                seconds, (point, problem, count) = timed(run)
                times[name].append(seconds)
                errors[name].append(relative_matrix_error(problem, point))
                products[name].append(count)
                if name == REFERENCE:
                    solutions[seed] = (problem, point)
    reference = statistics.median(times[REFERENCE])
    rows = [
        {
            "method": name,
            "median_s": statistics.median(times[name]),
            "ratio": statistics.median(times[name]) / reference,
            "worst_error": max(errors[name]),
            "hessian_products": statistics.median(products[name]),
        }
        for name in names
    ]
    certify_times = []
    for problem, point in solutions.values():
        seconds, certificate = timed(lambda p=problem, x=point: ms.certify(p, x))
        certify_times.append(seconds)
    rows.append(
        {
            "method": f"certify XXᵀ ({certificate.method}: {certificate.verdict.value})",
            "median_s": statistics.median(certify_times),
            "ratio": statistics.median(certify_times) / reference,
            "worst_error": float("nan"),
            "hessian_products": -1,
        }
    )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'method':<44} {'median s':>10} {'× ref':>8} {'worst ‖X̂−M*‖/‖M*‖':>20} {'Hess·v':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        count = "" if row["hessian_products"] < 0 else f"{row['hessian_products']:.0f}"
        error = "" if np.isnan(row["worst_error"]) else f"{row['worst_error']:.1e}"
        print(
            f"{row['method']:<44} {row['median_s']:>10.4f} {row['ratio']:>8.2f} {error:>20} "
            f"{count:>7}"
        )
    autograd = next(row for row in rows if row["method"] == "pymanopt TR (autograd)")
    print()
    for row in rows[:3]:
        speedup = autograd["median_s"] / row["median_s"]
        print(f"pymanopt TR (autograd) / {row['method']}: {speedup:.1f}× (issue asks ≥ 10×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--r", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args()
    if args.repeats < 1 or args.n < 2 or not 1 <= args.r <= args.n or args.rtol <= 0:
        parser.error("need --repeats ≥ 1, --n ≥ 2, 1 ≤ --r ≤ --n and --rtol > 0")
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(
        f"numpy {np.__version__}, pymanopt {pymanopt.__version__}, BLAS threads {threads}; "
        f"n = {args.n}, r = {args.r}, m = {5 * args.n * args.r}, seeds {args.seeds}, "
        f"repeats {args.repeats}, rtol {args.rtol:g}"
    )
    print_table(bench(args.n, args.r, args.seeds, args.repeats, args.rtol))


if __name__ == "__main__":
    main()
