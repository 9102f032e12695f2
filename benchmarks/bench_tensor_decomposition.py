"""Benchmark: orthogonal tensor decomposition on SO(n), n = 20 (seed 001; seed 003 eq. 3.17).

One instance per ``--seeds`` entry (``tensor_decomposition(n, seed=s)``: T = Σ_k a_k^{⊗4} with A
Haar-random orthogonal), one random start X₀ ∈ SO(n) (``random_point(SO(n), 1000 + s)``) shared
by every method, and each run to ‖grad f‖ ≤ ``--rtol`` · max(|f(X₀)|, ‖∇f(X₀)‖):

* ``trust-regions (dense T)``      — manifoldscape's trust regions on the tensor given as data
  (n × n × n × n, the realistic case: the components are unknown), contractions through the
  n² × n² unfolding with T(·, ·, x_i, x_i) cached per point (the reference of the ratios);
* ``trust-regions (factored A)``   — the same, contracting with the components, Y = AᵀX
  (available only for planted instances; O(n³) per evaluation instead of O(n⁵));
* ``pymanopt TR (autograd, dense)`` — pymanopt's TrustRegions, the dense cost written with
  ``autograd.numpy`` (the same n² × n² contraction), autograd deriving gradient and
  Hessian-vector products;
* ``pymanopt TR (autograd, factored)`` — the same with −‖AᵀX‖₄⁴ in ``autograd.numpy``;
* ``pymanopt TR (our derivatives)`` — pymanopt's TrustRegions on ``problem.to_pymanopt()``
  (dense), which separates the cost of autograd from that of the optimizer;
* ``numpy polar fixed point``     — the plain-numpy baseline: X ← polar(−∇f(X)), the
  matching/stretching (MSP) power-type iteration for maximizing Σ_i T(x_i, x_i, x_i, x_i) over
  O(n) (dense contraction; it may leave SO(n) for O(n), which the distance modulo SP(n) ignores).

Reported: the median wall time over seeds × ``--repeats`` runs (interleaved, so load on the
machine hits every method alike; one untimed warm-up run of each method first), the ratio to
the reference, the worst distance to A modulo signed permutations (relative, ‖A‖_F = √n) and
the median iteration count.  Solves do not certify.

BLAS runs on one thread (set below before numpy is imported).  Not a test: run it by hand,

    python benchmarks/bench_tensor_decomposition.py --n 20 --seeds 0 1 2 --repeats 3
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
from manifoldscape.problems import tensor_decomposition  # noqa: E402
from manifoldscape.problems.tensor_decomposition import symmetric_tensor  # noqa: E402

REFERENCE = "trust-regions (dense T)"


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def bench_seed(
    n: int, seed: int, rtol: float
) -> tuple[dict[str, Callable[[], tuple[Any, int]]], Any]:
    """The methods on one instance (name -> run() returning (point, iterations)) and the problem."""
    factored = tensor_decomposition(n=n, seed=seed)
    a = factored.objective.components
    tensor = symmetric_tensor(a)
    dense = tensor_decomposition(T=tensor)
    unfolded = tensor.reshape(n * n, n * n)
    x0 = random_point(factored.manifold, 1000 + seed)
    tolerance = rtol * gradient_scale(factored, x0)

    @pymanopt.function.autograd(factored.manifold)
    def autograd_dense(x: Any) -> Any:
        z = anp.reshape(x[:, None, :] * x[None, :, :], (n * n, n))
        return -anp.sum(z * anp.dot(unfolded, z))

    @pymanopt.function.autograd(factored.manifold)
    def autograd_factored(x: Any) -> Any:
        return -anp.sum(anp.dot(a.T, x) ** 4)

    def ours(problem: Any) -> Callable[[], tuple[Any, int]]:
        def run() -> tuple[Any, int]:
            result = ms.solve(
                problem, "trust-regions", x0=x0, gradient_tolerance=tolerance, certify=False
            )
            return result.point, result.iterations

        return run

    def pymanopt_tr(pymanopt_problem: Any) -> Callable[[], tuple[Any, int]]:
        def run() -> tuple[Any, int]:
            optimizer = pymanopt.optimizers.TrustRegions(min_gradient_norm=tolerance, verbosity=0)
            out = optimizer.run(pymanopt_problem, initial_point=x0.copy())
            return out.point, out.iterations

        return run

    def polar_fixed_point() -> tuple[Any, int]:
        x, iteration = x0.copy(), 0
        while iteration < 1000 and dense.gradient_norm(x) > tolerance:
            u, _, vt = np.linalg.svd(-dense.euclidean_gradient(x))
            x, iteration = u @ vt, iteration + 1
        return x, iteration

    return {
        REFERENCE: ours(dense),
        "trust-regions (factored A)": ours(factored),
        "pymanopt TR (autograd, dense)": pymanopt_tr(
            pymanopt.Problem(factored.manifold, autograd_dense)
        ),
        "pymanopt TR (autograd, factored)": pymanopt_tr(
            pymanopt.Problem(factored.manifold, autograd_factored)
        ),
        "pymanopt TR (our derivatives)": pymanopt_tr(dense.to_pymanopt()),
        "numpy polar fixed point": polar_fixed_point,
    }, factored


def bench(n: int, seeds: list[int], repeats: int, rtol: float) -> list[dict[str, Any]]:
    instances = {seed: bench_seed(n, seed, rtol) for seed in seeds}
    names = list(next(iter(instances.values()))[0])
    times: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, list[float]] = {name: [] for name in names}
    iterations: dict[str, list[int]] = {name: [] for name in names}
    for run in next(iter(instances.values()))[0].values():
        run()  # warm-up: first calls pay for lazy imports and caches
    for _ in range(repeats):
        for methods, problem in instances.values():
            for name, run in methods.items():  # interleaved
                seconds, (point, count) = timed(run)
                times[name].append(seconds)
                errors[name].append(problem.distance_to_truth(point))
                iterations[name].append(count)
    reference = statistics.median(times[REFERENCE])
    return [
        {
            "method": name,
            "median_s": statistics.median(times[name]),
            "ratio": statistics.median(times[name]) / reference,
            "worst_error": max(errors[name]),
            "iterations": statistics.median(iterations[name]),
        }
        for name in names
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'method':<36} {'median s':>10} {'× ref':>8} {'worst dist_SP/‖A‖':>18} {'iters':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['method']:<36} {row['median_s']:>10.4f} {row['ratio']:>8.2f} "
            f"{row['worst_error']:>18.1e} {row['iterations']:>6.0f}"
        )
    by_name = {row["method"]: row for row in rows}
    print()
    for ours, theirs in [
        (REFERENCE, "pymanopt TR (autograd, dense)"),
        ("trust-regions (factored A)", "pymanopt TR (autograd, factored)"),
        (REFERENCE, "pymanopt TR (our derivatives)"),
        (REFERENCE, "numpy polar fixed point"),
    ]:
        speedup = by_name[theirs]["median_s"] / by_name[ours]["median_s"]
        print(f"{theirs} / {ours}: {speedup:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args()
    if args.repeats < 1 or args.n < 2 or args.rtol <= 0:
        parser.error("need --repeats ≥ 1, --n ≥ 2 and --rtol > 0")
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(
        f"numpy {np.__version__}, pymanopt {pymanopt.__version__}, BLAS threads {threads}; "
        f"n = {args.n} (SO(n), T with n⁴ = {args.n**4} entries), seeds {args.seeds}, "
        f"repeats {args.repeats}, rtol {args.rtol:g}"
    )
    print_table(bench(args.n, args.seeds, args.repeats, args.rtol))


if __name__ == "__main__":
    main()
