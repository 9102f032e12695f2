"""Benchmark: small landscape work on BLAS's own thread count against one BLAS thread.

``manifoldscape.boundary.threads`` runs ``certify``, ``census``, ``cascade_graph`` and
``connect`` on one BLAS thread when the problem's dimension is at most ``SMALL_DIMENSION``.  This
benchmark runs the same calls with that policy switched off (``SMALL_DIMENSION = 0``: BLAS
keeps the threads it was given, by default one per core) and on, in one process, interleaved,
and prints medians and ratios.  ``ms.solve`` (without its certificate) is timed both ways too,
under ``threadpoolctl`` limits, to show what the policy would do for the solvers.

``--load N`` starts N busy processes first (a pure-Python loop each), as a user's other work
on the machine would be; threads that must hand work to a busy core are what the policy avoids.
BLAS threads are NOT pinned here (that is what is measured).  Not a test; run by hand,

    python benchmarks/bench_threads.py [--load 1] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

import manifoldscape as ms
from manifoldscape.boundary import threads
from manifoldscape.problems import phase_retrieval, rayleigh


def _median(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _policy(on: bool) -> None:
    threads.SMALL_DIMENSION = 256 if on else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=0, help="busy processes started first")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        counts = sorted({lib["num_threads"] for lib in threadpool_info()})
        print(
            f"cores {len(os.sched_getaffinity(0))}, BLAS threads {counts}, busy processes "
            f"{args.load}, load average {os.getloadavg()[0]:.2f}; medians of {args.repeats}"
        )
        pr64 = phase_retrieval(n=64, m=6 * 64, seed=0)
        pr256 = phase_retrieval(n=256, m=8 * 256, seed=0)
        ray = rayleigh(n=200, seed=0)
        x_pr, x_ray = (ms.solve(p, seed=1).point for p in (pr64, ray))
        cases: list[tuple[str, Callable[[], Any]]] = [
            (
                "certify, phase retrieval n=64",
                lambda: ms.certify(pr64, x_pr),
            ),
            ("certify, rayleigh n=200", lambda: ms.certify(ray, x_ray)),
            (
                "census, phase retrieval n=32, 16 starts",
                lambda: ms.census(
                    phase_retrieval(n=32, m=6 * 32, seed=0), starts=16, seed=0, explore=False
                ),
            ),
            (
                "census, rayleigh n=20, 1 start",
                lambda: ms.census(rayleigh(n=20, seed=0), 1, seed=0),
            ),
        ]
        print(f"{'call':<42}{'BLAS threads':>14}{'one thread':>12}{'ratio':>8}")
        for label, run in cases:
            run()
            both = {}
            for on in (False, True, False, True):
                _policy(on)
                both.setdefault(on, []).append(_median(run, args.repeats))
            off, on_ = min(both[False]), min(both[True])
            print(f"{label:<42}{off:>13.4f}s{on_:>11.4f}s{off / on_:>7.1f}×")
        _policy(True)
        print("solves without certificate (threadpoolctl limits around ms.solve):")
        for label, problem in (
            ("solve, phase retrieval n=64", pr64),
            ("solve, phase retrieval n=256 m=8n", pr256),
            ("solve, rayleigh n=200", ray),
        ):

            def run(problem: ms.Problem = problem) -> Any:
                return ms.solve(problem, seed=2, certify=False)

            run()
            default = _median(run, args.repeats)
            with threadpool_limits(limits=1, user_api="blas"):
                one = _median(run, args.repeats)
            print(f"{label:<42}{default:>13.4f}s{one:>11.4f}s{default / one:>7.1f}×")
    finally:
        for process in busy:
            process.kill()


if __name__ == "__main__":
    main()
