"""Benchmark: per-iteration overhead of the shared solver loop (issue 14 item 6, "a thin loop").

Each case runs one of our solvers through ``ms.solve`` (``certify=False``) for a fixed number of
iterations (gradient and step tolerances 0, so only ``max_iterations`` stops it) against a bare
numpy loop doing the same iteration from the same start on the same instance:

* ``msp``, −ℓ4 on O(25) (``dictionary_learning_orthogonal(n=25, p=500, seed=0)``; Zhai et al.
  2020, seed 003 eq. 3.2): bare A ← polar(−∇f(A)), ∇f(A) = −(1/p)(AY)^{∘3}Yᵀ, by SVD (the
  iteration of ``solvers/power_iteration.py`` with σ = 0);
* ``msp``, tensor decomposition on SO(20) (``tensor_decomposition(n=20, seed=0)``, seed 003
  eq. 3.17): bare X ← polar_SO(−∇f(X)), ∇f(X) = −4 A (AᵀX)^{∘3}, by SVD, the last column of U
  flipped when det(UVᵀ) = −1 (Kabsch–Umeyama);
* ``gradient-descent``, Rayleigh n = 50 (``rayleigh(n=50, seed=0)``, seed 001): bare
  x ← (x − η grad f(x)) / ‖·‖ with grad f = −2(Ax − (xᵀAx)x) and the same fixed η.

What the bare loop does, per iteration: the same arithmetic as the library (the objective's own
formulas for ∇f, products rather than powers, the same SVD and sign test), and the stopping
test the solver runs, computed cheaply: the Riemannian gradient norm ‖grad f(x_k)‖ (Stiefel
projection ∇f − X sym(Xᵀ∇f), SO(n) skew(Xᵀ∇f), sphere ∇f − (xᵀ∇f)x) against the gradient
tolerance, and for ``msp`` ‖x_{k+1} − x_k‖ against the step tolerance.  What it does not do:
evaluate the cost (``msp`` evaluates f at every trial point for its monotone safeguard, and
both solvers record f in the history), the safeguard test itself, the history, the evaluation
counts, the point cache, state objects and the non-finite checks.  The column "bare, no test"
is the iteration alone (no gradient norm, no step norm), for reference.

The problems are tiny on purpose, so the time per iteration is dominated by the loop's own work
(history, stopping rules, counts, state objects) rather than by the arithmetic.  Reported: the
median over ``--repeats`` of time per iteration (whole run / iterations, start-up included) for
ours and the bare loops, run alternately, the median of the per-repeat ratios ours/bare (target
≤ 1.3; "CPU": the same ratio of CPU times, steadier on a loaded machine) and
ours/bare-no-test, and max |x_ours − x_bare| (same iterates).

BLAS runs on one thread (set below before numpy is imported).  Not a test: run it by hand,

    python benchmarks/bench_loop.py --repeats 7 --iterations 300
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

import numpy as np  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.geometry import random_point  # noqa: E402
from manifoldscape.problems import (  # noqa: E402
    dictionary_learning_orthogonal,
    rayleigh,
    tensor_decomposition,
)


def interleaved(
    ours: Callable[[], Any], bares: list[Callable[[], Any]], repeats: int
) -> tuple[float, list[float], list[float], float, Any, Any]:
    """Median times of ``ours()`` and of each bare loop, run alternately, and of the ratios.

    One warm-up run of each first; the medians of the per-repeat ratios ours/bare are robust to
    load on a shared machine.  Also the median per-repeat ratio of CPU times (``process_time``;
    BLAS runs on this thread) against the first bare loop, which time spent waiting for a core
    does not enter, and the outputs of the last runs of ours and bares[0].
    """
    x_ours = ours()
    x_bare = None
    for bare in bares:
        x_bare = bare() if x_bare is None else x_bare
    t_ours: list[float] = []
    t_bare: list[list[float]] = [[] for _ in bares]
    ratios: list[list[float]] = [[] for _ in bares]
    cpu_ratios: list[float] = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        x_ours = ours()
        elapsed, cpu_ours = time.perf_counter() - start, time.process_time() - cpu
        t_ours.append(elapsed)
        for k, bare in enumerate(bares):
            start, cpu = time.perf_counter(), time.process_time()
            x = bare()
            t, cpu_bare = time.perf_counter() - start, time.process_time() - cpu
            if k == 0:
                x_bare = x
                cpu_ratios.append(cpu_ours / cpu_bare)
            t_bare[k].append(t)
            ratios[k].append(elapsed / t)
    median = statistics.median
    return (
        median(t_ours),
        [median(t) for t in t_bare],
        [median(r) for r in ratios],
        median(cpu_ratios),
        x_ours,
        x_bare,
    )


def _norm(v: np.ndarray) -> float:
    return float(np.linalg.norm(v))


def bare_msp_l4(
    a: np.ndarray, y: np.ndarray, iterations: int, tol: float | None = 0.0, step_tol: float = 0.0
) -> np.ndarray:
    """A ← polar(−∇f(A)), ∇f(A) = −(1/p)(AY)^{∘3}Yᵀ; stop on ‖grad f‖ ≤ tol or step < step_tol.

    ``tol=None``: the iteration alone, no stopping test.
    """
    scale = 1.0 / y.shape[1]
    for _ in range(iterations):
        z = a @ y
        egrad = -scale * ((z * z * z) @ y.T)
        if tol is not None:
            xg = a.T @ egrad
            if _norm(egrad - a @ (0.5 * (xg + xg.T))) <= tol:
                break
        u, _, vt = np.linalg.svd(-egrad, full_matrices=False)
        a_new = u @ vt
        if tol is not None and _norm(a_new - a) < step_tol:
            return a_new
        a = a_new
    return a


def bare_msp_tensor(
    x: np.ndarray, c: np.ndarray, iterations: int, tol: float | None = 0.0, step_tol: float = 0.0
) -> np.ndarray:
    """X ← polar_SO(−∇f(X)), ∇f(X) = −4 A (AᵀX)^{∘3}; the same tests (``tol=None``: none)."""
    for _ in range(iterations):
        y = c.T @ x
        egrad = -4.0 * (c @ (y * y * y))
        if tol is not None:
            xg = x.T @ egrad
            if _norm(0.5 * (xg - xg.T)) <= tol:
                break
        u, _, vt = np.linalg.svd(-egrad, full_matrices=False)
        x_new = u @ vt
        if np.linalg.det(x_new) < 0:
            u[:, -1] = -u[:, -1]
            x_new = u @ vt
        if tol is not None and _norm(x_new - x) < step_tol:
            return x_new
        x = x_new
    return x


def bare_gd_rayleigh(
    x: np.ndarray, a: np.ndarray, eta: float, iterations: int, tol: float | None = 0.0
) -> np.ndarray:
    """Sphere: x ← (x − η grad f(x))/‖·‖, grad f = −2(Ax − (xᵀAx)x); stop on ‖grad f‖ ≤ tol."""
    for _ in range(iterations):
        g = -2.0 * (a @ x)
        g = g - (x @ g) * x
        if tol is not None and _norm(g) <= tol:
            break
        x = x - eta * g
        x = x / np.linalg.norm(x)
    return x


def cases(iterations: int) -> list[tuple[str, Callable[[], Any], list[Callable[[], Any]]]]:
    """(name, ours, [bare with the stopping test, bare without]) on fixed instances and starts."""
    fixed = {"max_iterations": iterations, "gradient_tolerance": 0.0, "certify": False}
    out = []

    l4 = dictionary_learning_orthogonal(n=25, p=500, seed=0)
    a0 = random_point(l4.manifold, 1)
    y = l4.objective.y
    out.append(
        (
            "msp, -l4 on O(25)",
            lambda: ms.solve(l4, "msp", x0=a0, step_tolerance=0.0, **fixed).point,
            [
                lambda: bare_msp_l4(a0, y, iterations),
                lambda: bare_msp_l4(a0, y, iterations, tol=None),
            ],
        )
    )

    tensor = tensor_decomposition(n=20, seed=0)
    x0 = random_point(tensor.manifold, 1)
    c = tensor.objective.components
    out.append(
        (
            "msp, tensor on SO(20)",
            lambda: ms.solve(tensor, "msp", x0=x0, step_tolerance=0.0, **fixed).point,
            [
                lambda: bare_msp_tensor(x0, c, iterations),
                lambda: bare_msp_tensor(x0, c, iterations, tol=None),
            ],
        )
    )

    ray = rayleigh(n=50, seed=0)
    q0 = random_point(ray.manifold, 1)
    a, eta = ray.objective.a, 0.1
    out.append(
        (
            "gradient-descent, Rayleigh n=50",
            lambda: ms.solve(ray, "gradient-descent", x0=q0, step_size=eta, **fixed).point,
            [
                lambda: bare_gd_rayleigh(q0, a, eta, iterations),
                lambda: bare_gd_rayleigh(q0, a, eta, iterations, tol=None),
            ],
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    print(f"{args.iterations} iterations, median of {args.repeats} (BLAS on 1 thread)")
    print(
        f"{'case':<34}{'ours':>9}{'bare':>9}{'no test':>9}{'ratio':>8}{'CPU':>6}"
        f"{'/no test':>9}{'max|Δx|':>10}"
    )
    print(f"{'':<34}{'[µs/it]':>27}{'(ours/bare, ours/no test)':>32}")
    for name, ours, bares in cases(args.iterations):
        t_ours, t_bare, ratios, cpu, x_ours, x_bare = interleaved(ours, bares, args.repeats)
        per = [1e6 * t / args.iterations for t in (t_ours, *t_bare)]
        delta = float(np.max(np.abs(np.asarray(x_ours) - np.asarray(x_bare))))
        print(
            f"{name:<34}{per[0]:>9.1f}{per[1]:>9.1f}{per[2]:>9.1f}{ratios[0]:>8.2f}{cpu:>6.2f}"
            f"{ratios[1]:>9.2f}{delta:>10.1e}"
        )


if __name__ == "__main__":
    main()
