"""Benchmark: the sweep machinery — throughput of 2 workers against 1, and per-trial overhead.

1. **Per-trial overhead** of the machinery (seeds, the task, the record, the SQLite commit, and for
   the pool the round trip to a worker process): a trivial registered problem (f(x) = x² on
   ℝ¹) and a trivial registered solver (returns its start point, no certificate), so the trial
   itself costs microseconds.  The same trials called directly (factory + solver, in a loop) are
   the baseline; overhead = (sweep time − direct time) / trials, with the pool's start-up
   removed by differencing two sweep lengths (see 2.).  The issue's target: < 10 ms per trial.

2. **Throughput** on CPU-bound trials: real Gaussian phase retrieval (seed 000; n = ``--n``,
   m = 6n, random start, trust regions, dense certificate), ``--trials`` trials on a local pool
   of 1 and of 2 spawned workers (one BLAS thread each).  Pool start-up (spawning, importing
   numpy/scipy/pymanopt) is paid once per sweep whatever its length, so it is removed by
   differencing: the rate is (N₂ − N₁) / (T(N₂) − T(N₁)) for sweeps of N₁ and N₂ = 2N₁ trials.
   The issue's target: 2 workers ≥ 1.6 × 1 worker.

3. **Batched trials** over starts: one phase-retrieval instance per grid point (``--instance
   per-point``, n = 64, m = 6n), ``--starts`` seeded random starts, in this process, unbatched
   against ``batch=64`` (the starts solved together by batched trust regions / gradient
   descent).  Prints the sweep's wall time and the trials' summed solve and certify times for
   each, and the ratios; both store the same verdicts (checked).

The machine is shared (``os.getloadavg`` is printed): a busy neighbour takes a core from the
2-worker run.  Not a test: run it by hand,

    python benchmarks/bench_sweep.py [--n 256] [--trials 60] [--trivial 400] [--starts 128]
                                     [--only overhead throughput batched]
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from pymanopt.manifolds import Euclidean  # noqa: E402

from manifoldscape.core.loop import start_point  # noqa: E402
from manifoldscape.core.problem import Problem  # noqa: E402
from manifoldscape.core.registry import problem_registry, solver_registry  # noqa: E402
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason  # noqa: E402
from manifoldscape.experiments.sweep import sweep  # noqa: E402


# --------------------------------------------------------------------------- trivial trials
# registered at import, so that the spawned workers (which re-import this script) know them
def trivial_problem(size: int = 1, seed: Any = None) -> Problem:
    """f(x) = ‖x‖² on ℝ^size with truth 0 (a trial that costs microseconds)."""
    return Problem.from_autograd(
        Euclidean(size), lambda x: (x**2).sum(), truth=np.zeros(size), name="trivial"
    )


class TrivialSolver:
    """Returns the start point as the result: the trial's cost is the machinery's."""

    def run(self, problem: Problem, x0: Any = None, *, seed: Any = None, **_: Any) -> Result:
        """The start point, uncertified."""
        x = start_point(problem, x0, seed)
        return Result(
            solver="trivial",
            problem=problem.name,
            point=x,
            cost=problem.cost(x),
            gradient_norm=0.0,
            iterations=0,
            time_s=0.0,
            stop_reason=StopReason.MAX_ITERATIONS,
            stop_message="trivial",
            counts=EvaluationCounts(),
            history=History(),
            certificate=None,
        )


def trivial_solver() -> TrivialSolver:
    """A solver that does nothing."""
    return TrivialSolver()


problem_registry.register("bench-trivial", trivial_problem, replace=True)
solver_registry.register("bench-trivial", trivial_solver, replace=True)


def timed_sweep(directory: Path, label: str, problem: str, trials: int, **options: Any) -> float:
    db = directory / f"{label}-{trials}.sqlite"
    start = time.perf_counter()
    result = sweep(problem, db=db, trials=trials, progress=False, **options)
    elapsed = time.perf_counter() - start
    assert result.ran == result.stored and result.errors == 0, (label, result)
    return elapsed


def throughput(directory: Path, n: int, trials: int) -> None:
    grid = {"n": [n], "m": ["6*n"]}
    rates = {}
    print(f"2. throughput: phase retrieval n = {n}, m = 6n, trust regions + certificate")
    for workers in (1, 2):
        short = timed_sweep(
            directory, f"pr-w{workers}", "phase_retrieval", trials, grid=grid, workers=workers
        )
        long = timed_sweep(
            directory, f"pr-w{workers}", "phase_retrieval", 2 * trials, grid=grid, workers=workers
        )
        rates[workers] = trials / (long - short)
        print(
            f"   {workers} worker(s): {trials} trials {short:6.2f} s, {2 * trials} trials "
            f"{long:6.2f} s -> {rates[workers]:6.1f} trials/s (start-up removed), "
            f"{1000 / rates[workers]:6.1f} ms/trial"
        )
    print(f"   speed-up 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x (target >= 1.6x)")


def overhead(directory: Path, trials: int) -> None:
    print(f"1. per-trial overhead: trivial problem and solver, {trials} and {2 * trials} trials")
    grid = {"size": [1]}
    start = time.perf_counter()
    for seed in range(trials):
        trivial_solver().run(trivial_problem(size=1, seed=seed), seed=seed + 1)
    direct = (time.perf_counter() - start) / trials
    print(f"   direct calls (factory + solver):     {1000 * direct:7.3f} ms/trial")
    for label, options in (
        ("in this process (workers=0)", {"workers": 0}),
        ("local pool, 1 worker", {"workers": 1}),
    ):
        short = timed_sweep(
            directory,
            f"t-{options['workers']}",
            "bench-trivial",
            trials,
            grid=grid,
            solver="bench-trivial",
            **options,
        )
        long = timed_sweep(
            directory,
            f"t-{options['workers']}",
            "bench-trivial",
            2 * trials,
            grid=grid,
            solver="bench-trivial",
            **options,
        )
        per_trial = (long - short) / trials
        startup = short - trials * per_trial
        print(
            f"   sweep, {label:<28} {1000 * per_trial:7.3f} ms/trial -> overhead "
            f"{1000 * (per_trial - direct):6.3f} ms/trial (start-up {startup:5.2f}"
            " s once; target < 10 ms)"
        )


def batched(directory: Path, starts: int, repeats: int = 3) -> None:
    from manifoldscape.experiments.store import open_store

    grid = {"n": [64], "m": ["6*n"]}
    print(f"3. batched trials: phase retrieval n = 64, m = 6n, one instance, {starts} starts")
    for solver in ("trust-regions", "gradient-descent"):
        times: dict[str, list[tuple[float, float, float]]] = {"plain": [], "batch": []}
        verdicts = {}
        for repeat in range(repeats):
            for label, batch in (("plain", None), ("batch", 64)):
                db = directory / f"b-{solver}-{label}-{repeat}.sqlite"
                start = time.perf_counter()
                sweep(
                    "phase_retrieval",
                    grid,
                    trials=starts,
                    db=db,
                    solver=solver,
                    instance="per-point",
                    batch=batch,
                    workers=0,
                    progress=False,
                )
                wall = time.perf_counter() - start
                with open_store(db, readonly=True) as store:
                    rows = store.records()
                verdicts[label] = [(r["trial"], r["verdict"], r["iterations"]) for r in rows]
                solve = sum(r["solve_time"] for r in rows)
                certify = sum(r["certify_time"] for r in rows)
                times[label].append((wall, solve, certify))
        assert verdicts["plain"] == verdicts["batch"], "batched verdicts or iterations differ"
        plain = np.median(np.array(times["plain"]), axis=0)
        batch = np.median(np.array(times["batch"]), axis=0)
        print(
            f"   {solver:<17} wall {plain[0]:6.2f} s -> {batch[0]:6.2f} s "
            f"({plain[0] / batch[0]:4.1f}x); solves {plain[1]:6.2f} s -> {batch[1]:6.2f} s "
            f"({plain[1] / batch[1]:4.1f}x); certificates {plain[2]:5.2f} s / {batch[2]:5.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--trivial", type=int, default=400)
    parser.add_argument("--starts", type=int, default=128)
    parts = ("overhead", "throughput", "batched")
    parser.add_argument("--only", nargs="+", choices=parts, default=list(parts))
    args = parser.parse_args()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"cores available: {len(os.sched_getaffinity(0))}, load average: {load}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if "overhead" in args.only:
            overhead(directory, args.trivial)
        if "throughput" in args.only:
            throughput(directory, args.n, args.trials)
        if "batched" in args.only:
            batched(directory, args.starts)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
