"""Benchmark: ARC, L-BFGS and perturbed gradient descent against trust regions, GD and baselines.

Three settings, each one instance and one start shared by every method, every method run to the
same gradient tolerance 1e-8 · max(|f(x₀)|, ‖∇f(x₀)‖) (the loop's default):

* ``rayleigh``: −xᵀAx on S^{n−1}, n = 300, eigenvalues 1, 0.97 and 300 − 2 equispaced in
  [0.9, −1] (seed 001): a small eigengap, so first-order methods need many iterations;
* ``factorization``: ¼‖Y − UUᵀ‖² with Y of rank 5, n = 100 (seed 003, eq. 2.16), eigenvalues
  (1, 0.8, 0.6, 0.4, 0.05) — ill-conditioned — from a Gaussian U₀ rescaled to ‖U₀‖ = ‖U⋆‖;
* ``saddle``: the Rayleigh instance started *exactly* at the eigenvector of λ₅₀, a strict saddle
  of index 49: only perturbed gradient descent is expected to leave.

Methods: ours (``trust-regions``, the reference of the ratios; ``gradient-descent``;
``perturbed-gradient-descent``; ``arc``; ``lbfgs``), pymanopt's TrustRegions, SteepestDescent
and ConjugateGradient with the autograd backend (the cost written in ``autograd.numpy``), and
the best plain numpy/scipy method (``eigsh`` for the Rayleigh quotient; ``eigh`` of Y for the
factorization, and scipy's L-BFGS-B on the flattened U as the plain-optimizer baseline).
Columns: median wall time over ``--repeats`` interleaved runs, ratio to trust regions,
iterations, f − f⋆, final ‖grad f‖ and the certificate of the final point (certification not
timed).  BLAS threads default to 1 before numpy is imported.  Not a test: run by hand,

    python benchmarks/bench_saddle_solvers.py --repeats 3
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
import scipy.optimize  # noqa: E402
import scipy.sparse.linalg  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.core.loop import gradient_scale  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402
from manifoldscape.problems import rayleigh, symmetric_factorization  # noqa: E402

OURS = ["trust-regions", "gradient-descent", "perturbed-gradient-descent", "arc", "lbfgs"]
PYMANOPT = {
    "pymanopt TR (autograd)": pymanopt.optimizers.TrustRegions,
    "pymanopt SD (autograd)": pymanopt.optimizers.SteepestDescent,
    "pymanopt CG (autograd)": pymanopt.optimizers.ConjugateGradient,
}
MAX_ITERATIONS = 20000


def _ours(problem: Any, name: str, x0: Any, tolerance: float) -> Callable[[], tuple]:
    def run() -> tuple[Any, int]:
        options: dict[str, Any] = {"gradient_tolerance": tolerance, "certify": False}
        if name in ("gradient-descent", "perturbed-gradient-descent"):
            options["max_iterations"] = MAX_ITERATIONS
        result = ms.solve(problem, name, x0=x0, seed=0, **options)
        return result.point, result.iterations

    return run


def _pymanopt(problem: Any, optimizer: type, x0: Any, tolerance: float) -> Callable[[], tuple]:
    def run() -> tuple[Any, int]:
        solver = optimizer(min_gradient_norm=tolerance, max_iterations=MAX_ITERATIONS, verbosity=0)
        out = solver.run(problem, initial_point=np.array(x0, copy=True))
        return out.point, out.iterations

    return run


def _rayleigh_setting(saddle: bool) -> tuple[Any, Any, dict[str, Callable[[], tuple]], float]:
    spectrum = [1.0, 0.97, *np.linspace(0.9, -1.0, 298)]
    problem = rayleigh(n=300, spectrum=spectrum, seed=0)
    a = problem.objective.a
    lam1 = float(problem.objective.eigenvalues[0])
    x0 = problem.objective.eigenvectors[:, 49] if saddle else random_point(problem.manifold, 1)
    tolerance = 1e-8 * gradient_scale(problem, x0)

    @pymanopt.function.autograd(problem.manifold)
    def cost(x: Any) -> Any:
        return -anp.dot(x, anp.dot(a, x))

    autograd_problem = pymanopt.Problem(problem.manifold, cost)
    methods = {name: _ours(problem, name, x0, tolerance) for name in OURS}
    methods.update({k: _pymanopt(autograd_problem, v, x0, tolerance) for k, v in PYMANOPT.items()})

    def eigsh() -> tuple[Any, int]:
        _, vectors = scipy.sparse.linalg.eigsh(
            a, k=1, which="LA", v0=x0, tol=tolerance / (2 * abs(lam1))
        )
        return vectors[:, 0] / np.linalg.norm(vectors[:, 0]), -1

    methods["scipy eigsh"] = eigsh
    return problem, -lam1, methods, tolerance


def _factorization_setting() -> tuple[Any, Any, dict[str, Callable[[], tuple]], float]:
    problem = symmetric_factorization(n=100, r=5, eigenvalues=(1.0, 0.8, 0.6, 0.4, 0.05), seed=0)
    y = problem.objective.y
    n, r = y.shape[0], 5
    x0 = random_point(problem.manifold, 1)
    x0 *= np.linalg.norm(problem.truth) / np.linalg.norm(x0)  # a start of the solution's size
    tolerance = 1e-8 * gradient_scale(problem, x0)

    @pymanopt.function.autograd(problem.manifold)
    def cost(u: Any) -> Any:
        residual = anp.dot(u, u.T) - y
        return 0.25 * anp.sum(residual * residual)

    autograd_problem = pymanopt.Problem(problem.manifold, cost)
    methods = {name: _ours(problem, name, x0, tolerance) for name in OURS}
    methods.update({k: _pymanopt(autograd_problem, v, x0, tolerance) for k, v in PYMANOPT.items()})

    def eigh() -> tuple[Any, int]:
        values, vectors = np.linalg.eigh(y)
        return vectors[:, -r:] * np.sqrt(np.maximum(values[-r:], 0.0)), -1

    def lbfgsb() -> tuple[Any, int]:
        def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
            u = flat.reshape(n, r)
            residual = u @ u.T - y
            return 0.25 * float(np.sum(residual * residual)), (residual @ u).ravel()

        out = scipy.optimize.minimize(
            fun,
            x0.ravel(),
            jac=True,
            method="L-BFGS-B",
            options={"gtol": tolerance / np.sqrt(n * r), "ftol": 0.0, "maxiter": MAX_ITERATIONS},
        )
        return out.x.reshape(n, r), int(out.nit)

    methods["numpy eigh"] = eigh
    methods["scipy L-BFGS-B"] = lbfgsb
    return problem, problem.cost(problem.truth), methods, tolerance


def bench(setting: str, repeats: int) -> None:
    if setting == "factorization":
        problem, optimum, methods, tolerance = _factorization_setting()
    else:
        problem, optimum, methods, tolerance = _rayleigh_setting(setting == "saddle")
    times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, tuple[Any, int]] = {}
    for _ in range(repeats):
        for name, run in methods.items():
            start = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - start)
    reference = statistics.median(times["trust-regions"])
    print(f"\n== {setting}: {problem.name}, dim {problem.manifold.dim}, tolerance {tolerance:.2e}")
    header = (
        f"{'method':<28} {'median s':>9} {'× TR':>7} {'iters':>6} {'f − f⋆':>9} "
        f"{'‖grad f‖':>9}  certificate"
    )
    print(header)
    print("-" * (len(header) + 10))
    for name in methods:
        point, iterations = outputs[name]
        certificate = ms.certify(problem, point)
        median = statistics.median(times[name])
        print(
            f"{name:<28} {median:>9.4f} {median / reference:>7.2f} "
            f"{iterations if iterations >= 0 else '':>6} {problem.cost(point) - optimum:>9.1e} "
            f"{problem.gradient_norm(point):>9.1e}  {certificate.verdict.value}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--settings",
        nargs="+",
        default=["rayleigh", "factorization", "saddle"],
        choices=["rayleigh", "factorization", "saddle"],
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be ≥ 1")
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(f"numpy {np.__version__}, pymanopt {pymanopt.__version__}, BLAS threads {threads}")
    for setting in args.settings:
        bench(setting, args.repeats)


if __name__ == "__main__":
    main()
