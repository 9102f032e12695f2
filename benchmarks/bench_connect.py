"""Benchmark: what the cascade graph costs on top of a census, the flow integrator, ``connect``.

1. ``census(rayleigh(n=20), starts)`` alone and with ``connect=True`` (the cascade graph of its
   20 classes: 190 edges, every one checked here against the closed form ±v_i → ±v_j, j < i),
   same seed, so the census part is the same; printed: both times and their ratio (the target is
   at most 3×, i.e. the graph at most twice the census).
2. The Riemannian Runge–Kutta flow (``landscape.flow.gradient_flow``) against
   ``scipy.integrate.solve_ivp`` (RK45, the best general-purpose peer) integrating the same flow
   ẋ = 2(A − xᵀAx)x in R^n, from the same start to the same time, both compared with the closed
   form x(t) = e^{2At}x₀/‖e^{2At}x₀‖: time and error.
3. ``connect`` (nudged elastic band, refinement, certificate, descents) between two minimizers
   of −Σq⁴ on S⁴ and of one-sparse dictionary learning on S²: time and the certified saddle.

BLAS runs on one thread (set below before numpy is imported).  Not a test: run it by hand,

    python benchmarks/bench_connect.py [--n 20] [--starts 200] [--seeds 0 1 2]
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.integrate  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.landscape.flow import gradient_flow  # noqa: E402
from manifoldscape.problems import (  # noqa: E402
    dictionary_learning_one_sparse,
    rayleigh,
    tensor_decomposition,
)


def graph_is_exact(problem: ms.Problem, result: ms.Census) -> bool:
    """Whether the graph is {±v_i → ±v_j, j < i} with drops λ_j − λ_i to 1e-8."""
    lam, vectors = problem.objective.eigenvalues, problem.objective.eigenvectors
    which = {
        k: int(np.argmax(np.abs(vectors.T @ c.point))) for k, c in enumerate(result.classes, 1)
    }
    n = len(lam)
    edges = {(which[e.source], which[e.target]) for e in result.graph.edges}
    drops = all(
        abs(e.cost_drop - (lam[which[e.target]] - lam[which[e.source]])) <= 1e-8
        for e in result.graph.edges
    )
    return edges == {(i, j) for i in range(n) for j in range(i)} and drops


def census_versus_connect(n: int, starts: int, seeds: list[int]) -> None:
    """Part 1: the census alone and with the cascade graph."""
    problem = rayleigh(n=n, seed=0)
    print(f"1. census of rayleigh(n={n}) ({n} classes), {starts} starts, seeds {seeds}")
    print(f"{'seed':>4}  {'census':>8}  {'+connect':>8}  {'ratio':>5}  {'lines':>5}  exact graph")
    ratios = []
    for seed in seeds:
        t = time.perf_counter()
        alone = ms.census(problem, starts, seed=seed)
        t_alone = time.perf_counter() - t
        t = time.perf_counter()
        both = ms.census(problem, starts, seed=seed, connect=True)
        t_both = time.perf_counter() - t
        assert len(alone.classes) == len(both.classes) == n
        ratios.append(t_both / t_alone)
        print(
            f"{seed:>4}  {t_alone:>6.2f} s  {t_both:>6.2f} s  {ratios[-1]:>5.2f}  "
            f"{len(both.graph.departures):>5}  {graph_is_exact(problem, both)}"
        )
    print(f"median ratio census --connect / census: {statistics.median(ratios):.2f} (target ≤ 3)")


def flow_versus_scipy(n: int) -> None:
    """Part 2: the flow integrator against solve_ivp on the Rayleigh flow (work and precision)."""
    problem = rayleigh(n=n, seed=0)
    a = problem.objective.a
    lam, v = np.linalg.eigh(a)
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(n)
    x0 /= np.linalg.norm(x0)
    scale = 2.0 * float(np.max(np.abs(lam)))

    def exact(time_: float) -> np.ndarray:
        y = v @ (np.exp(2 * lam * time_) * (v.T @ x0))
        return y / np.linalg.norm(y)

    def rhs(_: float, x: np.ndarray) -> np.ndarray:
        ax = a @ x
        return 2.0 * (ax - (x @ ax) * x)

    # a horizon where the flow still moves (‖grad f‖ = 10⁻² ‖Hess f‖), so the error is the path's
    horizon = gradient_flow(problem, x0, stop_gradient=1e-2 * scale, length=1.0).time
    print(f"2. the Rayleigh flow in R^{n} from a random start to t = {horizon:.2f} (still moving)")
    print(f"   {'method':<44} {'tol':>7}  {'steps':>5}  {'time':>8}  {'error':>7}")
    for rtol in (1e-3, 1e-4, 1e-6, 1e-8):
        line = None
        t = time.perf_counter()
        for _ in range(20):
            line = gradient_flow(
                problem, x0, stop_gradient=0.0, length=1.0, rtol=rtol, until=horizon
            )
        ours = (time.perf_counter() - t) / 20
        error = np.linalg.norm(line.end - exact(line.time))
        print(
            f"   {'gradient_flow, Dormand–Prince on S^' + str(n - 1):<44} {rtol:>7.0e}  "
            f"{line.steps:>5}  {ours * 1e3:>5.2f} ms  {error:>7.1e}"
        )
    for rtol in (1e-3, 1e-6, 1e-8):
        t = time.perf_counter()
        for _ in range(20):
            solution = scipy.integrate.solve_ivp(
                rhs, (0.0, horizon), x0, rtol=rtol, atol=1e-3 * rtol
            )
        peer = (time.perf_counter() - t) / 20
        end = solution.y[:, -1]
        error = np.linalg.norm(end / np.linalg.norm(end) - exact(horizon))
        print(
            f"   {'scipy solve_ivp RK45 in R^' + str(n) + ', normalised at the end':<44} "
            f"{rtol:>7.0e}  {solution.t.size - 1:>5}  {peer * 1e3:>5.2f} ms  {error:>7.1e}"
        )


def connect_timings() -> None:
    """Part 3: connect between two minimizers."""
    print("3. connect between two minimizers")
    l4 = tensor_decomposition(n=5, manifold="sphere", seed=0)
    a = l4.objective.components
    dl = dictionary_learning_one_sparse(n=3)
    for name, problem, x, y in (
        ("−Σq⁴ on S⁴", l4, a[:, 0], a[:, 1]),
        ("one-sparse DL on S²", dl, np.eye(3)[0], np.eye(3)[1]),
    ):
        t = time.perf_counter()
        result = ms.connect(problem, x, y)
        elapsed = time.perf_counter() - t
        print(
            f"   {name:<20} {elapsed:6.2f} s: {result.certificate.summary()}, transition state "
            f"{result.is_transition_state}, barrier {result.barrier[0]:.6g}"
        )


def main() -> None:
    """Run the three parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    census_versus_connect(args.n, args.starts, args.seeds)
    flow_versus_scipy(args.n)
    connect_timings()


if __name__ == "__main__":
    main()
