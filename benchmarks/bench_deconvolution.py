"""Benchmark: multichannel sparse blind deconvolution, FFTs against circulant matrices.

Part 1 (evaluations).  ``blind_deconvolution(n, p=50, theta=0.1, loss="logcosh", seed=0)`` for
n ∈ {64, 256, 1024}; at one random q and direction u, the median time of the cost, the
Euclidean gradient and the Hessian-vector product

* ``fft``        — the library's formulation: z_i = IFFT(ŷ_i P̂ q̂), O(p n log n) per product;
* ``circulant``  — the same formulas with the p circulant matrices C_{Py_i} formed once
  (a (p n) × n matrix M: z = M q, ∇f = Mᵀ h'(z)/(np), ∇²f[u] = Mᵀ(h''(z) ∘ M u)/(np)),
  O(p n²) per product and p n² numbers of memory,

checked to agree, with the ratio circulant / fft.

Part 2 (a solve).  n ∈ {64, 256}, p = 50: from the same random start and to the same gradient
tolerance (1e-8), manifoldscape's trust regions (hand-written FFT derivatives) against
pymanopt's TrustRegions with autograd (the cost written with ``autograd.numpy.fft``, autograd
deriving the gradient and Hessian-vector products) and pymanopt's TrustRegions on our
derivatives (``problem.to_pymanopt()``); times, ratios, kernel errors modulo signed shift and
scale.

BLAS on one thread (set before numpy is imported).  Not a test: run it by hand,

    python benchmarks/bench_deconvolution.py
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
import pymanopt  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.geometry import random_point, random_tangent_vector  # noqa: E402
from manifoldscape.problems import blind_deconvolution  # noqa: E402
from manifoldscape.problems.deconvolution import (  # noqa: E402
    _surrogate,
    _surrogate_first,
    _surrogate_second,
    circulant_matrix,
    kernel_error,
)


def median_time(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class CirculantForm:
    """The same objective with the circulant matrices C_{Py_i} formed (the baseline)."""

    def __init__(self, objective: Any):
        filters = np.fft.irfft(objective.filters, objective.n, axis=-1)  # P y_i
        self.matrix = circulant_matrix(filters).reshape(objective.p * objective.n, objective.n)
        self.loss, self.mu = objective.loss, objective.mu
        self.scale = 1.0 / (objective.n * objective.p)

    def cost(self, q: np.ndarray) -> float:
        """f(q) with z = M q."""
        return self.scale * float(np.sum(_surrogate(self.loss, self.mu, self.matrix @ q)))

    def gradient(self, q: np.ndarray) -> np.ndarray:
        """∇f(q) = Mᵀ h'(M q)/(np)."""
        z = self.matrix @ q
        return self.scale * (self.matrix.T @ _surrogate_first(self.loss, self.mu, z))

    def hessian(self, q: np.ndarray, u: np.ndarray) -> np.ndarray:
        """∇²f(q)[u] = Mᵀ(h''(M q) ∘ M u)/(np)."""
        z = self.matrix @ q
        second = _surrogate_second(self.loss, self.mu, z)
        return self.scale * (self.matrix.T @ (second * (self.matrix @ u)))


def evaluations(sizes: tuple[int, ...] = (64, 256, 1024), p: int = 50) -> None:
    print(f"Part 1: one evaluation, p = {p} channels, θ = 0.1, log-cosh μ = 1e-2 (median times)")
    header = f"{'n':>5} {'product':>10} {'fft':>10} {'circulant':>11} {'ratio':>7} {'max diff':>9}"
    print(header)
    for n in sizes:
        _evaluate(n, p)


def _evaluate(n: int, p: int) -> None:
    problem = blind_deconvolution(n, p, theta=0.1, seed=0)
    objective = problem.objective
    rng = np.random.default_rng(1)
    q = random_point(problem.manifold, rng)
    u = random_tangent_vector(problem.manifold, q, rng)
    start = time.perf_counter()
    dense = CirculantForm(objective)
    formed = time.perf_counter() - start
    repeats = 50 if n <= 256 else 10

    def fft_cost() -> float:
        return objective.cost(q, objective.prepare(q))

    def fft_gradient() -> np.ndarray:
        return objective.euclidean_gradient(q, objective.prepare(q))

    def fft_hessian() -> np.ndarray:
        return objective.euclidean_hessian(q, objective.prepare(q), u)

    pairs = [
        ("cost", fft_cost, lambda: dense.cost(q)),
        ("gradient", fft_gradient, lambda: dense.gradient(q)),
        ("Hess·u", fft_hessian, lambda: dense.hessian(q, u)),
    ]
    for name, ours, theirs in pairs:
        difference = np.max(np.abs(np.asarray(ours()) - np.asarray(theirs())))
        t_ours, t_theirs = median_time(ours, repeats), median_time(theirs, repeats)
        print(
            f"{n:>5} {name:>10} {t_ours * 1e3:>8.3f}ms {t_theirs * 1e3:>9.3f}ms "
            f"{t_theirs / t_ours:>6.1f}× {difference:>9.1e}"
        )
    print(
        f"{n:>5} {'(forming M)':>10} {'':>10} {formed * 1e3:>9.1f}ms   "
        f"({dense.matrix.nbytes / 2**20:.0f} MiB)"
    )


def solves(sizes: tuple[int, ...] = (64, 256), p: int = 50, tolerance: float = 1e-8) -> None:
    print(f"\nPart 2: one trust-region solve from the same random start, ‖grad f‖ ≤ {tolerance}")
    print(f"{'n':>5} {'method':>32} {'time':>9} {'ratio':>7} {'kernel error':>13}")
    for n in sizes:
        _solve(n, p, tolerance)


def _solve(n: int, p: int, tolerance: float) -> None:
    problem = blind_deconvolution(n, p, theta=0.1, seed=0)
    objective = problem.objective
    q0 = random_point(problem.manifold, 7)
    filters, mu, scale = objective.filters, objective.mu, 1.0 / (n * p)

    @pymanopt.function.autograd(problem.manifold)
    def autograd_cost(q: Any) -> Any:
        z = anp.real(anp.fft.ifft(anp.fft.fft(q)[None, :] * full_filters, axis=-1))
        t = anp.abs(z)
        return scale * anp.sum(t + mu * anp.log1p(anp.exp(-2.0 * t / mu)) - mu * np.log(2.0))

    full_filters = np.fft.fft(np.fft.irfft(filters, n, axis=-1), axis=-1)

    def ours() -> np.ndarray:
        problem._cache.clear()
        return ms.solve(
            problem, "trust-regions", x0=q0, gradient_tolerance=tolerance, certify=False
        ).point

    def pymanopt_run(pymanopt_problem: Any) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            problem._cache.clear()
            optimizer = pymanopt.optimizers.TrustRegions(min_gradient_norm=tolerance, verbosity=0)
            return optimizer.run(pymanopt_problem, initial_point=q0.copy()).point

        return run

    methods = {
        "manifoldscape trust-regions": ours,
        "pymanopt TR (autograd, anp.fft)": pymanopt_run(
            pymanopt.Problem(problem.manifold, autograd_cost)
        ),
        "pymanopt TR (our derivatives)": pymanopt_run(problem.to_pymanopt()),
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    errors: dict[str, float] = {}
    for _ in range(3):  # interleaved repeats
        for name, run in methods.items():
            start = time.perf_counter()
            point = run()
            times[name].append(time.perf_counter() - start)
            errors[name] = kernel_error(problem, point)
    reference = statistics.median(times["manifoldscape trust-regions"])
    for name in methods:
        t = statistics.median(times[name])
        print(f"{n:>5} {name:>32} {t:>8.3f}s {t / reference:>6.1f}× {errors[name]:>13.2e}")


if __name__ == "__main__":
    evaluations()
    solves()
