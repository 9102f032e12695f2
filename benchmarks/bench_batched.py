"""Benchmark: batched multi-start against sequential runs (issue 14, item 2).

Cases (each: the same instance, the same K = 64 starts, the same solver and default options,
certification off in both):

* ``rayleigh-gd``  — ``rayleigh(n=50, seed=0)``, gradient descent (η = 1/(2 L̂) per start);
* ``rayleigh-tr``  — the same instance, trust regions;
* ``pr-gd``        — real Gaussian phase retrieval ``phase_retrieval(n=64, m=6n, seed=0)``
  (intensity loss, on ℝ⁶⁴), gradient descent;
* ``pr-tr``        — the same instance, trust regions.

Starts: Gaussian columns from ``default_rng(1)`` (normalised on the sphere).  ``sequential`` is K
calls ``ms.solve(problem, solver, x0=starts[:, k], certify=False)``; ``batched`` one call
``batched_gradient_descent`` / ``batched_trust_regions``.  Prints the median wall time over
``--repeats`` of each (interleaved), the speed-up, the largest distance between batched and
sequential final points, and whether iteration counts agree.  BLAS is pinned to one thread
(environment variables set before numpy is imported).  ``--clock cpu`` times with the process's
CPU clock instead of the wall clock (steadier on a shared machine; both are single-threaded).
Not a test: run it by hand,

    python benchmarks/bench_batched.py --repeats 5 [--cases pr-gd pr-tr] [--clock cpu]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # BLAS pinned to one thread, before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.problems import phase_retrieval, rayleigh  # noqa: E402
from manifoldscape.solvers import batched_gradient_descent, batched_trust_regions  # noqa: E402

CASES = ("rayleigh-gd", "rayleigh-tr", "pr-gd", "pr-tr")


def _case(name: str, k: int) -> tuple:
    if name.startswith("rayleigh"):
        problem = rayleigh(n=50, seed=0)
        x = np.random.default_rng(1).standard_normal((50, k))
        x /= np.linalg.norm(x, axis=0)
    else:
        problem = phase_retrieval(n=64, m=6 * 64, seed=0)
        x = np.random.default_rng(1).standard_normal((64, k))
    if name.endswith("gd"):
        return problem, x, "gradient-descent", batched_gradient_descent
    return problem, x, "trust-regions", batched_trust_regions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(
        f"{'case':<12} {'its/start':>15} {'sequential':>11} {'batched':>9} {'speed-up':>9} "
        f"{'max |Δx|':>9} same its"
    )
    for name in args.cases:
        problem, x, solver, batched_solver = _case(name, args.starts)

        def sequential(problem=problem, x=x, solver=solver) -> list:
            return [ms.solve(problem, solver, x0=x[:, k], certify=False) for k in range(x.shape[1])]

        def batched(problem=problem, x=x, batched_solver=batched_solver) -> list:
            return batched_solver(problem, x)

        times: dict[str, list[float]] = {"sequential": [], "batched": []}
        out: dict[str, list] = {}
        for _ in range(args.repeats):
            for label, run in (("sequential", sequential), ("batched", batched)):
                start = clock()
                out[label] = run()
                times[label].append(clock() - start)
        seq, bat = out["sequential"], out["batched"]
        distance = max(
            float(np.max(np.abs(a.point - b.point))) for a, b in zip(seq, bat, strict=True)
        )
        same_its = all(a.iterations == b.iterations for a, b in zip(seq, bat, strict=True))
        iters = [r.iterations for r in seq]
        t_seq = statistics.median(times["sequential"])
        t_bat = statistics.median(times["batched"])
        span = f"{min(iters)}–{max(iters)} ({statistics.median(iters):g})"
        print(
            f"{name:<12} {span:>15} {t_seq:10.3f}s {t_bat:8.3f}s {t_seq / t_bat:8.1f}× "
            f"{distance:9.1e} {same_its}",
            flush=True,
        )


if __name__ == "__main__":
    main()
