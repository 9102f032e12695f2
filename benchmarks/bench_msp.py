"""Benchmark: −ℓ4 dictionary learning on SO(n) (Zhai et al. 2020; seed 001) and ℓ1 on the sphere.

Part 1, the issue's −ℓ4 case: n = 25, p = 10000, θ = 0.3, Y = A₀X₀ with A₀ Haar-orthogonal and
X₀ Bernoulli–Gaussian(θ); f(A) = −(1/4p)‖AY‖₄⁴ on SO(n); success |1 − ‖A A₀‖₄⁴/n| < 1% (A A₀ is
a signed permutation at the truth).  Same instance, same start (``random_point(SO(n), 1)``):

* ``msp``                    — manifoldscape's fixed-point iteration (hand-written gradient);
* ``trust-regions``          — manifoldscape's trust regions (hand-written Hessian-vector products);
* ``pymanopt TR (autograd)`` — pymanopt's TrustRegions on a ``pymanopt.function.autograd`` cost;
* ``numpy MSP loop``         — the plain loop A ← Polar((AY)^{∘3}Yᵀ) (SVD, det fixed), the best
  plain numpy method, run for as many iterations as ``msp`` took.

Gradient-based stops use ‖grad f‖ ≤ 1e-8 · max(|f(A₀)|, ‖∇f(A₀)‖) (the library's default).

Part 2: the ℓ1 objective (1/p)‖Yᵀq‖₁ on S^{n−1} (n = 50, p = 20000), ``subgradient`` against the
same normalised geometric-step loop written in plain numpy (same start, same 600 iterations):
the overhead of the shared loop (history, counting, stopping criteria).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_msp.py --repeats 3
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pymanopt
from pymanopt.manifolds import SpecialOrthogonalGroup, Sphere

import manifoldscape as ms
from manifoldscape.core.loop import gradient_scale
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.geometry import random_point


class L4Orthogonal(Objective):
    """f(A) = −(1/4p)‖AY‖₄⁴, ∇f = −(1/p)(AY)^{∘3}Yᵀ, ∇²f[U] = −(3/p)((UY)∘(AY)^{∘2})Yᵀ."""

    def __init__(self, y: np.ndarray):
        self.y, self.p = y, y.shape[1]

    def prepare(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: D102
        z = a @ self.y
        return z, z * z * z  # products, not z**3: np.power is several times slower

    def cost(self, a: np.ndarray, data: tuple) -> float:  # noqa: D102
        z, z3 = data
        return -float(np.vdot(z3, z)) / (4 * self.p)

    def euclidean_gradient(self, a: np.ndarray, data: tuple) -> np.ndarray:  # noqa: D102
        return -(data[1] @ self.y.T) / self.p

    def euclidean_hessian(self, a: np.ndarray, data: tuple, u: np.ndarray) -> np.ndarray:  # noqa: D102
        z = data[0]
        return -3.0 * (((u @ self.y) * z * z) @ self.y.T) / self.p


class L1Sphere(Objective):
    """f(q) = (1/p)‖Yᵀq‖₁ with the subgradient (1/p) Y sign(Yᵀq)."""

    def __init__(self, y: np.ndarray):
        self.y, self.p = y, y.shape[1]

    def prepare(self, q: np.ndarray) -> np.ndarray:  # noqa: D102
        return q @ self.y

    def cost(self, q: np.ndarray, z: np.ndarray) -> float:  # noqa: D102
        return float(np.sum(np.abs(z))) / self.p

    def euclidean_gradient(self, q: np.ndarray, z: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.y @ np.sign(z) / self.p

    def euclidean_hessian(self, q: np.ndarray, z: np.ndarray, u: np.ndarray) -> np.ndarray:  # noqa: D102
        return np.zeros_like(u)


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def numpy_msp(a: np.ndarray, y: np.ndarray, iterations: int) -> np.ndarray:
    for _ in range(iterations):
        z = a @ y
        u, _, vt = np.linalg.svd((z * z * z) @ y.T)
        if np.linalg.det(u) * np.linalg.det(vt) < 0:
            u[:, -1] = -u[:, -1]
        a = u @ vt
    return a


def part_l4(repeats: int) -> None:
    n, p, theta = 25, 10000, 0.3
    rng = np.random.default_rng(0)
    a0, _ = np.linalg.qr(rng.standard_normal((n, n)))
    y = a0 @ (rng.standard_normal((n, p)) * (rng.random((n, p)) < theta))
    manifold = SpecialOrthogonalGroup(n)
    problem = Problem(manifold, L4Orthogonal(y), name="l4-orthogonal")
    start = random_point(manifold, 1)
    tolerance = 1e-8 * gradient_scale(problem, start)

    def quality(a: np.ndarray) -> float:
        return abs(1.0 - float(np.sum((a @ a0) ** 4)) / n)

    rows = []
    t, r = timed(lambda: ms.solve(problem, "msp", x0=start, certify=False), repeats)
    msp_time, msp_iterations = t, r.iterations
    rows.append(("msp", t, r.iterations, quality(r.point), r.gradient_norm))
    t, r = timed(lambda: ms.solve(problem, "trust-regions", x0=start, certify=False), repeats)
    rows.append(("trust-regions", t, r.iterations, quality(r.point), r.gradient_norm))

    @pymanopt.function.autograd(manifold)
    def cost(a: Any) -> Any:
        return -anp.sum(anp.dot(a, y) ** 4) / (4 * p)

    peer = pymanopt.Problem(manifold, cost)
    optimizer = pymanopt.optimizers.TrustRegions(
        min_gradient_norm=tolerance, verbosity=0, max_iterations=1000
    )
    t, out = timed(lambda: optimizer.run(peer, initial_point=start.copy()), repeats)
    rows.append(
        ("pymanopt TR (autograd)", t, out.iterations, quality(out.point), out.gradient_norm)
    )
    t, a = timed(lambda: numpy_msp(start.copy(), y, msp_iterations), repeats)
    rows.append(("numpy MSP loop", t, msp_iterations, quality(a), problem.gradient_norm(a)))

    print(f"-ℓ4 on SO({n}), p = {p}, θ = {theta}; median of {repeats}")
    print(
        f"{'method':<24}{'time [s]':>10}{'ratio':>8}{'iters':>7}{'|1-‖AA₀‖⁴/n|':>15}{'‖grad‖':>11}"
    )
    for name, t, iterations, q, g in rows:
        print(f"{name:<24}{t:>10.3f}{t / msp_time:>8.2f}{iterations:>7d}{q:>15.2e}{g:>11.2e}")


def part_l1(repeats: int) -> None:
    n, p, theta = 50, 20000, 0.3
    rng = np.random.default_rng(0)
    y = rng.standard_normal((n, p)) * (rng.random((n, p)) < theta)
    problem = Problem(Sphere(n), L1Sphere(y), name="l1")
    start = random_point(problem.manifold, 2)
    iterations, eta0, beta = 600, 0.1, 0.97

    def loop() -> np.ndarray:
        q, eta = start.copy(), eta0
        for _ in range(iterations):
            g = y @ np.sign(q @ y) / p
            v = g - (q @ g) * q
            q = q - eta * v / np.linalg.norm(v)
            q /= np.linalg.norm(q)
            eta *= beta
        return q

    options = {"step_size": eta0, "decay": beta, "max_iterations": iterations, "step_tolerance": 0}
    ours_t, r = timed(
        lambda: ms.solve(problem, "subgradient", x0=start, certify=False, **options), repeats
    )
    numpy_t, q = timed(loop, repeats)
    print(f"\nℓ1 on S^{n - 1}, p = {p}, θ = {theta}, {iterations} iterations; median of {repeats}")
    print(f"{'method':<24}{'time [s]':>10}{'ratio':>8}{'max|q_i|':>10}")
    print(f"{'subgradient':<24}{ours_t:>10.3f}{1.0:>8.2f}{np.max(np.abs(r.point)):>10.6f}")
    print(f"{'numpy loop':<24}{numpy_t:>10.3f}{numpy_t / ours_t:>8.2f}{np.max(np.abs(q)):>10.6f}")
    print(f"same iterates: max |Δq| = {np.max(np.abs(r.point - q)):.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    part_l4(args.repeats)
    part_l1(args.repeats)


if __name__ == "__main__":
    main()
