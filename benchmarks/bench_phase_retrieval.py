"""Benchmark: phase retrieval (seed 000; seed 003 §2) — ours against pymanopt + autograd and WF.

Part 1 — real Gaussian phase retrieval, n = 256, m = 10n, intensity loss
f(x) = 1/(2m) Σ ((a_iᵀx)² − y_i)² (``phase_retrieval(n=256, m=2560, seed=0)``), every method from
the same start (``initial_point(problem, start, seed=1)`` for each of ``--starts``) and to the same
accuracy ‖∇f(x)‖ ≤ tol, tol = ``--rtol`` · max(|f(x₀)|, ‖∇f(x₀)‖):

* ``trust-regions``           — manifoldscape's Riemannian trust regions (hand-written derivatives);
* ``pymanopt TR (autograd)``  — pymanopt's TrustRegions on a ``pymanopt.function.autograd`` cost
  written with ``autograd.numpy``, autograd deriving the gradient and the Hessian-vector products;
* ``Wirtinger flow (numpy)``  — plain Wirtinger flow (Candès, Li, Soltanolkotabi, "Phase retrieval
  via Wirtinger flow", IEEE TIT 61 (2015), Alg. 1): z ← z − (μ_τ/‖z₀‖²) ∇f_WF(z) with
  ∇f_WF(z) = (1/m) 𝒜*((|𝒜z|² − y) ∘ 𝒜z) (= ∇f/2 in our convention) and the paper's schedule
  μ_τ = min(1 − exp(−τ/τ₀), μ_max), τ₀ = 330; μ_max = 0.2 here and for CDP (the paper's 0.4 is
  for complex Gaussian data: for real Gaussian data the Hessian of f_WF at x has the eigenvalue
  ≈ 6‖x‖² along x, where 0.4 steps diverge), written directly in numpy below; once stopped at
  the same gradient tolerance, once run until its relative error is that of ``trust-regions``
  (whose last, quadratically convergent step overshoots the tolerance).

For each: the median wall time over ``--repeats`` interleaved runs, the ratio to
``trust-regions``, the relative error modulo the sign dist(x, ±x♮)/‖x♮‖ and ‖∇f(x)‖, iterations.

Part 2 — coded diffraction, complex 256 × 256 image, L = 6 octanary masks (m = 6 · 65536,
``phase_retrieval(n=(256, 256), field="complex", measurement="cdp", n_masks=6, seed=0)``), from
the optimal spectral (Luo–Alghamdi–Lu), spectral and truncated spectral starts (the time of the
start itself is reported apart): trust-regions with the default scale-aware stopping (rtol 1e-8),
trust-regions and Wirtinger flow run until the relative error modulo the phase is ≤ 1e-8 (a
callback watching the truth) or ``--cdp-max-time`` seconds.  Peak memory of each solve by
``tracemalloc`` (numpy reports its buffers to it; allocated during the solve, so the data
themselves are not counted) against the data size (y and the masks).

Not a test: run it by hand,

    python benchmarks/bench_phase_retrieval.py --repeats 5
    python benchmarks/bench_phase_retrieval.py --skip-cdp          # part 1 only

BLAS is pinned to one thread (``OPENBLAS_NUM_THREADS`` etc. set to 1 before numpy is imported,
unless already set): a multithreaded BLAS competing with other processes on a shared machine
makes every matrix-vector product erratic.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
import pymanopt  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.core.loop import gradient_scale  # noqa: E402
from manifoldscape.core.problem import Problem  # noqa: E402
from manifoldscape.problems.phase_retrieval import initial_point, phase_retrieval  # noqa: E402

TAU0 = 330.0  # Candès–Li–Soltanolkotabi (2015), §2 (step schedule of Alg. 1 in the experiments)
MU_MAX = 0.2


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def wirtinger_flow(
    problem: Problem,
    x0: np.ndarray,
    *,
    gradient_tolerance: float = 0.0,
    target_error: float = 0.0,
    max_iterations: int = 100_000,
    max_time: float = np.inf,
) -> tuple[np.ndarray, int]:
    """Plain Wirtinger flow (CLS 2015, Alg. 1) in numpy from x0; returns (z, iterations).

    Stops when ‖∇f(z)‖ = 2‖∇f_WF(z)‖ ≤ ``gradient_tolerance`` (our gradient convention), when
    the relative error modulo the symmetry is ≤ ``target_error``, or at the limits.
    """
    operator, y = problem.objective.operator, problem.objective.y
    real = problem.objective.real
    m = operator.m
    z = np.array(x0, copy=True)
    norm0 = float(np.real(np.vdot(z, z)))
    start = time.perf_counter()
    for tau in range(max_iterations):
        w = operator.apply(z)
        u = w.real**2 + w.imag**2 if np.iscomplexobj(w) else w * w
        grad = operator.adjoint((u - y) * w) / m
        if real and np.iscomplexobj(grad):
            grad = grad.real
        if 2.0 * np.linalg.norm(grad) <= gradient_tolerance:
            return z, tau
        if target_error > 0 and problem.distance_to_truth(z) <= target_error:
            return z, tau
        if time.perf_counter() - start > max_time:
            return z, tau
        mu = min(1.0 - np.exp(-(tau + 1) / TAU0), MU_MAX)
        z = z - (mu / norm0) * grad
    return z, max_iterations


# --------------------------------------------------------------------------- part 1
def bench_gaussian(n: int, ratio: int, starts: list[str], repeats: int, rtol: float) -> list[dict]:
    problem = phase_retrieval(n=n, m=ratio * n, seed=0)
    a, y, m = problem.objective.operator.a, problem.objective.y, problem.objective.operator.m

    @pymanopt.function.autograd(problem.manifold)
    def autograd_cost(x: Any) -> Any:
        return anp.sum((anp.dot(a, x) ** 2 - y) ** 2) / (2.0 * m)

    pymanopt_problem = pymanopt.Problem(problem.manifold, autograd_cost)
    rows: list[dict] = []
    for start in starts:
        rows.extend(_gaussian_start(problem, pymanopt_problem, start, repeats, rtol))
    return rows


def _gaussian_start(
    problem: Problem, pymanopt_problem: Any, start: str, repeats: int, rtol: float
) -> list[dict]:
    """Part 1 from one start: the three methods, interleaved ``repeats`` times."""
    n, m = problem.objective.operator.n, problem.objective.operator.m
    rows: list[dict] = []
    x0 = initial_point(problem, start, seed=1)
    tolerance = rtol * gradient_scale(problem, x0)

    def ours() -> tuple[Any, int]:
        result = ms.solve(
            problem, "trust-regions", x0=x0, gradient_tolerance=tolerance, certify=False
        )
        return result.point, result.iterations

    def pymanopt_tr() -> tuple[Any, int]:
        optimizer = pymanopt.optimizers.TrustRegions(min_gradient_norm=tolerance, verbosity=0)
        out = optimizer.run(pymanopt_problem, initial_point=x0.copy())
        return out.point, out.iterations

    def wf() -> tuple[Any, int]:
        return wirtinger_flow(problem, x0, gradient_tolerance=tolerance)

    # the accuracy trust regions reach (its last step overshoots the tolerance)
    ours_error = problem.distance_to_truth(ours()[0])

    def wf_to_ours() -> tuple[Any, int]:
        return wirtinger_flow(problem, x0, target_error=max(ours_error, 1e-13))

    methods = {
        "trust-regions": ours,
        "pymanopt TR (autograd)": pymanopt_tr,
        "Wirtinger flow (numpy)": wf,
        "Wirtinger flow (to TR's error)": wf_to_ours,
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, Any] = {}
    for _ in range(repeats):  # interleaved: load on the machine hits every method alike
        for name, run in methods.items():
            seconds, outputs[name] = timed(run)
            times[name].append(seconds)
    reference = statistics.median(times["trust-regions"])
    for name in methods:
        point, iterations = outputs[name]
        rows.append(
            {
                "case": f"gauss n={n} m={m // n}n {start}",
                "method": name,
                "median_s": statistics.median(times[name]),
                "ratio": statistics.median(times[name]) / reference,
                "error": problem.distance_to_truth(point),
                "gradient_norm": problem.gradient_norm(point),
                "iterations": iterations,
            }
        )
    rows.append(
        {
            "note": f"gauss {start}: start error {problem.distance_to_truth(x0):.2e}, "
            f"gradient tolerance {tolerance:.2e} (rtol {rtol:g})"
        }
    )
    return rows


# --------------------------------------------------------------------------- part 2
def _traced(run: Callable[[], Any]) -> tuple[float, Any, int]:
    """Wall time, output and peak traced memory (bytes allocated during the run) of ``run``.

    tracemalloc sees numpy's buffers; its bookkeeping is per allocation, negligible next to the
    FFTs of a 256 × 256 × 6 operator.
    """
    tracemalloc.start()
    try:
        seconds, out = timed(run)
        return seconds, out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_cdp(shape: tuple[int, int], masks: int, starts: list[str], max_time: float) -> list:
    problem = phase_retrieval(n=shape, field="complex", measurement="cdp", n_masks=masks, seed=0)
    operator = problem.objective.operator
    data_bytes = problem.objective.y.nbytes + operator.masks.nbytes
    target = 1e-8
    rows: list[dict] = []
    for start in starts:
        seconds, x0 = timed(lambda start=start: initial_point(problem, start, seed=1))
        rows.append(
            {
                "note": f"cdp {shape} L={masks} {start} start: {seconds:.2f} s, start error "
                f"{problem.distance_to_truth(x0):.3f}, data {data_bytes / 2**20:.1f} MiB "
                "(y + masks)"
            }
        )
        print_table(rows[-1:], header=False)

        def default_stop(x0: np.ndarray = x0) -> tuple[Any, int]:
            result = ms.solve(problem, "trust-regions", x0=x0, certify=False, max_time=max_time)
            return result.point, result.iterations

        def to_target(x0: np.ndarray = x0) -> tuple[Any, int]:
            def reached(iteration: int, info: Any) -> bool:
                return problem.distance_to_truth(info.state.point) <= target

            result = ms.solve(
                problem,
                "trust-regions",
                x0=x0,
                certify=False,
                max_time=max_time,
                gradient_tolerance=0.0,
                callback=reached,
            )
            return result.point, result.iterations

        def wf(x0: np.ndarray = x0) -> tuple[Any, int]:
            return wirtinger_flow(problem, x0, target_error=target, max_time=max_time)

        for name, run in (
            ("trust-regions (default stop)", default_stop),
            ("trust-regions (to 1e-8)", to_target),
            ("Wirtinger flow (to 1e-8)", wf),
        ):
            seconds, (point, iterations), peak = _traced(run)
            rows.append(
                {
                    "case": f"cdp {shape[0]}x{shape[1]} L={masks} {start}",
                    "method": name,
                    "median_s": seconds,
                    "ratio": float("nan"),
                    "error": problem.distance_to_truth(point),
                    "gradient_norm": problem.gradient_norm(point),
                    "iterations": iterations,
                    "memory": peak / data_bytes,
                }
            )
            print_table(rows[-1:], header=False)
    return rows


def print_table(rows: list[dict], header: bool = True) -> None:
    title = (
        f"{'case':<30} {'method':<30} {'time s':>9} {'× ours':>7} {'rel. error':>10} "
        f"{'‖∇f‖':>9} {'iter':>6} {'peak/data':>9}"
    )
    if header:
        print(title)
        print("-" * len(title))
    for row in rows:
        if "note" in row:
            print(f"  ({row['note']})", flush=True)
            continue
        ratio = "" if np.isnan(row["ratio"]) else f"{row['ratio']:.2f}"
        memory = row.get("memory", float("nan"))
        memory_text = "" if np.isnan(memory) else f"{memory:.1f}"
        print(
            f"{row['case']:<30} {row['method']:<30} {row['median_s']:>9.3f} {ratio:>7} "
            f"{row['error']:>10.1e} {row['gradient_norm']:>9.1e} {row['iterations']:>6} "
            f"{memory_text:>9}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--ratio", type=int, default=10, help="m/n for the Gaussian case")
    parser.add_argument("--starts", nargs="+", default=["spectral", "random"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rtol", type=float, default=1e-11)
    parser.add_argument("--cdp-size", type=int, default=256)
    parser.add_argument("--cdp-masks", type=int, default=6)
    parser.add_argument(
        "--cdp-starts", nargs="+", default=["optimal_spectral", "spectral", "truncated_spectral"]
    )
    parser.add_argument("--cdp-max-time", type=float, default=120.0)
    parser.add_argument("--skip-cdp", action="store_true")
    args = parser.parse_args()
    if args.repeats < 1 or args.n < 3 or args.ratio < 1 or args.rtol <= 0:
        parser.error("--repeats, --n ≥ 3, --ratio and --rtol must be positive")
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(f"numpy {np.__version__}, pymanopt {pymanopt.__version__}, BLAS threads {threads}")
    rows = bench_gaussian(args.n, args.ratio, args.starts, args.repeats, args.rtol)
    print_table(rows)
    if not args.skip_cdp:
        print()
        shape = (args.cdp_size, args.cdp_size)
        print_table([])  # the header; bench_cdp prints each row as it is measured
        bench_cdp(shape, args.cdp_masks, args.cdp_starts, args.cdp_max_time)


if __name__ == "__main__":
    main()
