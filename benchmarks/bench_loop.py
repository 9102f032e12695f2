"""Benchmark: per-iteration overhead of the shared solver loop (issue 14 item 6, "a thin loop").

Each case runs one of our solvers through ``ms.solve`` (``certify=False``) for a fixed number of
iterations (gradient and step tolerances 0, so only ``max_iterations`` stops it) against a bare
numpy loop doing the same iteration from the same start on the same instance:

* ``msp``, −ℓ4 on O(25) (``dictionary_learning_orthogonal(n=25, p=500, seed=0)``; Zhai et al.
  2020, seed 003 eq. 3.2): bare A ← polar((AY)^{∘3}Yᵀ) by SVD (the iteration of
  ``solvers/power_iteration.py`` with σ = 0);
* ``msp``, tensor decomposition on SO(20) (``tensor_decomposition(n=20, seed=0)``, seed 003
  eq. 3.17): bare X ← polar(4 A (AᵀX)^{∘3}) by SVD, the last column of U flipped when
  det(UVᵀ) = −1 (Kabsch–Umeyama);
* ``gradient-descent``, Rayleigh n = 50 (``rayleigh(n=50, seed=0)``, seed 001): bare
  x ← (x − η grad f(x)) / ‖·‖ with grad f = −2(Ax − (xᵀAx)x) and the same fixed η.

The problems are tiny on purpose, so the time per iteration is dominated by the loop's own work
(history, stopping rules, counts, state objects) rather than by the arithmetic.  Reported: the
median over ``--repeats`` of time per iteration (whole run / iterations, start-up included) for
ours and the bare loop, run alternately, the median of the per-repeat ratios ours/bare (target
≤ 1.3), and max |x_ours − x_bare| (same iterates).

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
    ours: Callable[[], Any], bare: Callable[[], Any], repeats: int
) -> tuple[float, float, float, Any, Any]:
    """Median times of ``ours()`` and ``bare()``, run alternately, and of their ratio.

    One warm-up run of each first; the median of the per-repeat ratios is robust to load on a
    shared machine.  Also returns the outputs of the last runs.
    """
    x_ours, x_bare = ours(), bare()
    t_ours, t_bare, ratios = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        x_ours = ours()
        middle = time.perf_counter()
        x_bare = bare()
        end = time.perf_counter()
        t_ours.append(middle - start)
        t_bare.append(end - middle)
        ratios.append((middle - start) / (end - middle))
    median = statistics.median
    return median(t_ours), median(t_bare), median(ratios), x_ours, x_bare


def bare_msp_l4(a: np.ndarray, y: np.ndarray, iterations: int) -> np.ndarray:
    """A ← polar((AY)^{∘3}Yᵀ) (−∇f up to the factor 1/p, which polar ignores)."""
    for _ in range(iterations):
        z = a @ y
        u, _, vt = np.linalg.svd((z * z * z) @ y.T)
        a = u @ vt
    return a


def bare_msp_tensor(x: np.ndarray, c: np.ndarray, iterations: int) -> np.ndarray:
    """X ← polar_SO(4 A (AᵀX)^{∘3})."""
    for _ in range(iterations):
        y = c.T @ x
        u, _, vt = np.linalg.svd(4.0 * (c @ y**3))
        if np.linalg.det(u) * np.linalg.det(vt) < 0:
            u[:, -1] = -u[:, -1]
        x = u @ vt
    return x


def bare_gd_rayleigh(x: np.ndarray, a: np.ndarray, eta: float, iterations: int) -> np.ndarray:
    """Gradient descent: x ← (x − η grad f(x))/‖·‖, grad f = −2(Ax − (xᵀAx)x)."""
    for _ in range(iterations):
        g = -2.0 * (a @ x)
        g = g - (x @ g) * x
        x = x - eta * g
        x = x / np.linalg.norm(x)
    return x


def cases(iterations: int) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(name, ours, bare) for the three cases, on fixed instances and starts."""
    fixed = {"max_iterations": iterations, "gradient_tolerance": 0.0, "certify": False}
    out = []

    l4 = dictionary_learning_orthogonal(n=25, p=500, seed=0)
    a0 = random_point(l4.manifold, 1)
    y = l4.objective.y
    out.append(
        (
            "msp, -l4 on O(25)",
            lambda: ms.solve(l4, "msp", x0=a0, step_tolerance=0.0, **fixed).point,
            lambda: bare_msp_l4(a0, y, iterations),
        )
    )

    tensor = tensor_decomposition(n=20, seed=0)
    x0 = random_point(tensor.manifold, 1)
    c = tensor.objective.components
    out.append(
        (
            "msp, tensor on SO(20)",
            lambda: ms.solve(tensor, "msp", x0=x0, step_tolerance=0.0, **fixed).point,
            lambda: bare_msp_tensor(x0, c, iterations),
        )
    )

    ray = rayleigh(n=50, seed=0)
    q0 = random_point(ray.manifold, 1)
    a, eta = ray.objective.a, 0.1
    out.append(
        (
            "gradient-descent, Rayleigh n=50",
            lambda: ms.solve(ray, "gradient-descent", x0=q0, step_size=eta, **fixed).point,
            lambda: bare_gd_rayleigh(q0, a, eta, iterations),
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    print(f"{args.iterations} iterations, median of {args.repeats} (BLAS on 1 thread)")
    print(f"{'case':<34}{'ours [µs/it]':>14}{'bare [µs/it]':>14}{'ratio':>8}{'max|Δx|':>10}")
    for name, ours, bare in cases(args.iterations):
        t_ours, t_bare, ratio, x_ours, x_bare = interleaved(ours, bare, args.repeats)
        per_ours = 1e6 * t_ours / args.iterations
        per_bare = 1e6 * t_bare / args.iterations
        delta = float(np.max(np.abs(np.asarray(x_ours) - np.asarray(x_bare))))
        print(f"{name:<34}{per_ours:>14.1f}{per_bare:>14.1f}{ratio:>8.2f}{delta:>10.1e}")


if __name__ == "__main__":
    main()
