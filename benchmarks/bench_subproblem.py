"""Benchmark: the trust-region subproblem — tCG inner iterations with and without a preconditioner.

1. Rayleigh quotient min_{‖x‖=1} −xᵀAx (seed 001), n = 1000, A = Q diag(λ) Qᵀ with Haar Q:
   the linear spectrum λ = linspace(1, −1, n), and an ill-conditioned one λ₁ = 1,
   λ₁ − λ_i = logspace(−4, 0, n − 1) (Hess f(v₁) = 2(λ₁I − A) on v₁⊥ has condition number 1e4).
   Trust regions without a preconditioner, and with two shift-invert preconditioners
   P(x, r) = Proj_x (2(μI − A))⁻¹ Proj_x r (symmetric positive definite on T_xS for μ > λ₁):

   * ``oracle``: μ = λ₁ + 1e-4 (λ₁ − λ_n), applied through the known eigendecomposition;
   * ``cholesky``: μ = λ₁ + 1e-2 (λ₁ − λ_n), one Cholesky factorization (its time included).

   Columns: outer iterations, Hessian-vector products (= tCG inner iterations), median time and
   its ratio to the unpreconditioned run, |f + λ₁|/|λ₁|.
2. Phase retrieval (intensity loss, real Gaussian, n = 256, m = 8n): tCG inner iterations per
   outer iteration and why each tCG stopped (no preconditioner).
3. scipy ``eigsh(−A, k=1, which="SA")`` against ours on the linear-spectrum Rayleigh at
   n = 1000 and 5000, at equal accuracy (ARPACK ``tol`` set so that ‖Av − λv‖ matches the same
   gradient target as ours, ‖grad f‖ = 2‖Ax − (xᵀAx)x‖), counting A-products through a
   ``LinearOperator`` (ours: Hessian-vector products plus one A x per cost evaluation).

4. Subproblem solver and inner precision on every benchmark family: truncated CG against the
   GLTR-type Lanczos solver (``subproblem="lanczos"``), each in double and single inner precision
   (``inner_precision="single"``), same instance, same start, same absolute gradient tolerance
   (``--rtol`` × the gradient scale at x₀): Rayleigh n = 1000 and 5000 (linear and random
   spectra), real Gaussian phase retrieval (n = 256, m = 8n), complex phase retrieval (Gaussian
   n = 256, m = 8n; coded diffraction 128 × 128, L = 6: complex64 products with
   ``inner_precision="single"``), orthogonal tensor decomposition on
   SO(20) (factored), dictionary learning on the sphere (log-cosh, n = 50, p = 20000) and
   −ℓ4 over O(25) (p = 5000).  Columns: outer iterations, Hessian-vector products, median time,
   ratio to tCG in double, final cost minus the tCG-double cost, ‖grad f‖.
5. eigsh at n = 5000 against the four variants (section 3 extended).  The single-precision
   variants use the objective's float32 Hessian-vector product (``euclidean_hessian_single``:
   the Rayleigh objective's float32 copy of A, made on the first single-precision product and
   timed with that run); the rows marked "rounded" hide it, so their products are computed in
   double and rounded, as before it existed.

BLAS is pinned to one thread before numpy is imported.  Not a test; run by hand:

    python benchmarks/bench_subproblem.py --repeats 3
    python benchmarks/bench_subproblem.py --only families --repeats 3
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.sparse.linalg  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.core.loop import gradient_scale  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402
from manifoldscape.problems import (  # noqa: E402
    dictionary_learning,
    dictionary_learning_orthogonal,
    phase_retrieval,
    rayleigh,
    tensor_decomposition,
)
from manifoldscape.problems.eigen import RayleighObjective  # noqa: E402

VARIANTS = {
    "tcg double": {"subproblem": "tcg", "inner_precision": "double"},
    "tcg single": {"subproblem": "tcg", "inner_precision": "single"},
    "lanczos double": {"subproblem": "lanczos", "inner_precision": "double"},
    "lanczos single": {"subproblem": "lanczos", "inner_precision": "single"},
}


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - (x @ v) * x


def oracle_preconditioner(problem: ms.Problem, mu: float) -> Callable[[Any, Any], Any]:
    """Proj (2(μI − A))⁻¹ Proj through the known A = Q diag(λ) Qᵀ (two products with Q)."""
    values, q = problem.objective.eigenvalues, problem.objective.eigenvectors
    scale = 1.0 / (2.0 * (mu - values))

    def apply(x: np.ndarray, r: np.ndarray) -> np.ndarray:
        return _project(x, q @ (scale * (q.T @ _project(x, r))))

    return apply


def cholesky_preconditioner(problem: ms.Problem, mu: float) -> Callable[[Any, Any], Any]:
    """Proj (2(μI − A))⁻¹ Proj through one Cholesky factorization of 2(μI − A)."""
    a = problem.objective.a
    factor = scipy.linalg.cho_factor(2.0 * (mu * np.eye(a.shape[0]) - a))

    def apply(x: np.ndarray, r: np.ndarray) -> np.ndarray:
        return _project(x, scipy.linalg.cho_solve(factor, _project(x, r)))

    return apply


CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = time.perf_counter


def median_time(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median over ``repeats`` runs on the ``--clock`` (wall, or this process's CPU time).

    CPU time is steadier than wall time on a machine shared with other jobs.
    """
    times, out = [], None
    for _ in range(repeats):
        start = _clock()
        out = run()
        times.append(_clock() - start)
    return statistics.median(times), out


def rayleigh_section(n: int, repeats: int) -> None:
    ill = 1.0 - np.concatenate([[0.0], np.logspace(-4, 0, n - 1)])
    for label, spectrum in (("linear", "linear"), ("ill-conditioned (1e4)", ill)):
        rayleigh_case(rayleigh(n=n, spectrum=spectrum, seed=0), label, repeats)


def rayleigh_case(problem: ms.Problem, label: str, repeats: int) -> None:
    values = problem.objective.eigenvalues
    lam1, width = float(values[0]), float(values[0] - values[-1])
    x0 = random_point(problem.manifold, 1)
    tolerance = 1e-8 * gradient_scale(problem, x0)
    variants: dict[str, Callable[[], Any]] = {
        "none": lambda: None,
        "oracle shift-invert": lambda: oracle_preconditioner(problem, lam1 + 1e-4 * width),
        "cholesky shift-invert": lambda: cholesky_preconditioner(problem, lam1 + 1e-2 * width),
    }
    print(f"\nRayleigh n = {values.size}, {label} spectrum, gradient tolerance {tolerance:.2e}")
    print(
        f"  {'preconditioner':<24}{'outer':>6}{'Hess·v':>8}{'median s':>10}{'× none':>8}"
        f"{'|f+λ₁|/|λ₁|':>13}"
    )
    reference = None
    for name, build in variants.items():

        def run(build: Callable[[], Any] = build) -> Any:
            return ms.solve(
                problem,
                "trust-regions",
                x0=x0,
                gradient_tolerance=tolerance,
                certify=False,
                preconditioner=build(),  # the factorization is timed with the solve
            )

        seconds, result = median_time(run, repeats)
        reference = reference or seconds
        error = abs(result.cost + lam1) / abs(lam1)
        print(
            f"  {name:<24}{result.iterations:>6}{result.counts.hessian:>8}{seconds:>10.4f}"
            f"{seconds / reference:>8.2f}{error:>13.1e}"
        )


def phase_retrieval_section(n: int, ratio: int) -> None:
    problem = phase_retrieval(n=n, m=ratio * n, seed=0)
    result = ms.solve(problem, "trust-regions", seed=1, certify=False)
    inner = [int(k) for k in result.history.extra["inner_iterations"][1:]]
    stops = Counter(str(s) for s in result.history.extra["inner_stop"][1:])
    print(
        f"\nPhase retrieval n = {n}, m = {ratio}n: {result.iterations} outer iterations, "
        f"{result.counts.hessian} Hessian-vector products, stop: {result.stop_reason.value}"
    )
    print(f"  tCG inner iterations per outer iteration: {inner}")
    print(f"  tCG stops: {dict(stops)}")


def families() -> dict[str, Callable[[], ms.Problem]]:
    """Benchmark family name -> instance builder (the instances of the other benchmarks)."""
    return {
        "rayleigh n=1000 linear": lambda: rayleigh(n=1000, seed=0),
        "rayleigh n=1000 random": lambda: rayleigh(n=1000, spectrum="random", seed=0),
        "rayleigh n=5000 linear": lambda: rayleigh(n=5000, seed=0),
        "rayleigh n=5000 random": lambda: rayleigh(n=5000, spectrum="random", seed=0),
        "phase retrieval n=256 m=8n": lambda: phase_retrieval(n=256, m=8 * 256, seed=0),
        "complex phase retrieval n=256 m=8n": lambda: phase_retrieval(
            n=256, m=8 * 256, field="complex", seed=0
        ),
        "coded diffraction 128x128 L=6": lambda: phase_retrieval(
            n=(128, 128), measurement="cdp", n_masks=6, field="complex", seed=0
        ),
        "tensor decomposition SO(20)": lambda: tensor_decomposition(n=20, seed=0),
        "dictionary learning n=50": lambda: dictionary_learning(
            n=50, p=20000, theta=0.3, loss="logcosh", mu=1e-2, seed=0
        ),
        "-l4 over O(25)": lambda: dictionary_learning_orthogonal(n=25, p=5000, seed=0),
    }


def family_section(name: str, build: Callable[[], ms.Problem], repeats: int, rtol: float) -> None:
    problem = build()
    x0 = random_point(problem.manifold, 1000)
    tolerance = rtol * gradient_scale(problem, x0)
    print(f"\n{name}: gradient tolerance {tolerance:.2e}")
    print(
        f"  {'subproblem':<16}{'outer':>6}{'Hess·v':>8}{'median s':>10}{'× tcg':>8}"
        f"{'f − f_tcg':>11}{'‖grad f‖':>10}"
    )
    reference: tuple[float, float] | None = None
    for label, options in VARIANTS.items():

        def run(options: dict[str, str] = options) -> Any:
            return ms.solve(
                problem,
                "trust-regions",
                x0=x0,
                gradient_tolerance=tolerance,
                max_iterations=2000,
                certify=False,
                **options,
            )

        seconds, result = median_time(run, repeats)
        reference = reference or (seconds, result.cost)
        print(
            f"  {label:<16}{result.iterations:>6}{result.counts.hessian:>8}{seconds:>10.4f}"
            f"{seconds / reference[0]:>8.2f}{result.cost - reference[1]:>11.1e}"
            f"{result.gradient_norm:>10.1e}"
        )


class _DoubleProductsOnly(RayleighObjective):
    """The Rayleigh objective without its float32 product: single precision rounds double's."""

    euclidean_hessian_single = None  # type: ignore[assignment]


def eigsh_section(n: int, repeats: int) -> None:
    problem = rayleigh(n=n, seed=0)
    a = problem.objective.a
    lam1 = float(problem.objective.eigenvalues[0])
    x0 = random_point(problem.manifold, 1)
    tolerance = 1e-8 * gradient_scale(problem, x0)
    products = [0]

    def matvec(v: np.ndarray) -> np.ndarray:
        products[0] += 1
        return -(a @ v)

    operator = scipy.sparse.linalg.LinearOperator((n, n), matvec=matvec, dtype=float)

    def eigsh() -> np.ndarray:
        products[0] = 0
        _, vectors = scipy.sparse.linalg.eigsh(
            operator, k=1, which="SA", v0=x0, tol=tolerance / (2 * abs(lam1))
        )
        return vectors[:, 0] / np.linalg.norm(vectors[:, 0])

    t_eigsh, v = median_time(eigsh, repeats)
    eigsh_products = products[0]
    print(f"\nRayleigh n = {n}, linear spectrum, equal accuracy (gradient {tolerance:.2e})")
    print(
        f"  {'method':<38}{'A-products':>11}{'Hess·v':>8}{'outer':>6}{'median s':>10}"
        f"{'× eigsh':>8}{'‖grad f‖':>10}"
    )
    print(
        f"  {'eigsh SA k=1':<38}{eigsh_products:>11}{'':>8}{'':>6}{t_eigsh:>10.4f}{1.0:>8.2f}"
        f"{problem.gradient_norm(v):>10.1e}"
    )
    rounded = ms.Problem(problem.manifold, _DoubleProductsOnly(a))
    runs = [(label, options, problem) for label, options in VARIANTS.items()]
    runs += [
        (label + " rounded", VARIANTS[label], rounded) for label in VARIANTS if "single" in label
    ]
    for label, options, instance in runs:

        def ours(options: dict[str, str] = options, instance: ms.Problem = instance) -> Any:
            return ms.solve(
                instance,
                "trust-regions",
                x0=x0,
                gradient_tolerance=tolerance,
                certify=False,
                **options,
            )

        t_ours, result = median_time(ours, repeats)
        count = result.counts.hessian + result.counts.cost  # one A x per cost evaluation
        print(
            f"  {'trust-regions ' + label:<38}{count:>11}{result.counts.hessian:>8}"
            f"{result.iterations:>6}{t_ours:>10.4f}{t_ours / t_eigsh:>8.2f}"
            f"{problem.gradient_norm(result.point):>10.1e}"
        )


def product_floor(n: int, repeats: int) -> None:
    """One A v in float64 against float32 at size n: the ceiling of a single-precision product.

    What the Rayleigh objective's float32 product (``euclidean_hessian_single``, used by
    ``inner_precision="single"``) saves per product at most.
    """
    a = rayleigh(n=n, seed=0).objective.a
    a32 = a.astype(np.float32)
    v = np.random.default_rng(0).standard_normal(n)
    v32 = v.astype(np.float32)
    loops = 20
    t64, _ = median_time(lambda: [a @ v for _ in range(loops)], repeats)
    t32, _ = median_time(lambda: [a32 @ v32 for _ in range(loops)], repeats)
    print(
        f"\nOne A·v at n = {n}: float64 {1e3 * t64 / loops:.2f} ms, float32 "
        f"{1e3 * t32 / loops:.2f} ms ({t64 / t32:.2f}× faster in single precision)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eigsh-sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rtol", type=float, default=1e-8)
    parser.add_argument(
        "--only", choices=["preconditioner", "families", "eigsh"], nargs="+", default=None
    )
    parser.add_argument("--families", nargs="+", default=None, help="substrings of family names")
    parser.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be ≥ 1")
    global _clock
    _clock = CLOCK[args.clock]
    sections = args.only or ["preconditioner", "families", "eigsh"]
    print(f"numpy {np.__version__}, BLAS threads pinned to 1, {args.clock} clock")
    if "preconditioner" in sections:
        rayleigh_section(1000, args.repeats)
        phase_retrieval_section(256, 8)
    if "families" in sections:
        for name, build in families().items():
            if args.families is None or any(f in name for f in args.families):
                family_section(name, build, args.repeats, args.rtol)
    if "eigsh" in sections:
        for n in args.eigsh_sizes:
            eigsh_section(n, args.repeats)
            product_floor(n, args.repeats)


if __name__ == "__main__":
    main()
