"""Benchmark: census of the Rayleigh quotient at n = 20 — all 40 critical points ±v_i.

The instance ``rayleigh(n=20, seed=0)`` (eigenvalues equispaced in [−1, 1], seed 001) has 40
critical points, 20 classes modulo sign, ±v_i of index i − 1.  For each ``starts`` in
``--starts``, each census seed in ``--seeds`` and the census with and without its explore phase
(``explore=True``, the default: mode following outward from the classes found), run
``census(problem, starts, seed=s, explore=...)`` and check, independently of the census, that
every class is a unit eigenvector (residual at round-off) with index i − 1 and that both signs
were reached (``copies == 2``).  Reported: the median number of runs, wall time and CPU time
of this process (the steadier figure on a shared machine), how many of the seeds found all 40
points, and per variant the smallest ``starts`` at which every seed did.

There is no census in pymanopt to compare with; the reference line is what plain numpy does
with the structure the census does not use, ``numpy.linalg.eigh`` of A (all eigenvectors at
once), and pymanopt's ``TrustRegions`` (one minimizer per run) for the cost of a single solve.

BLAS runs on one thread (set below before numpy is imported).  Not a test: run it by hand,

    python benchmarks/bench_census.py --starts 1 2 5 22 44 88 132 176 --seeds 0 1 2 3 4

``--workers-only`` prints just the process-pool comparison: the same census with ``workers=1``
and ``workers=2`` (``--workers-starts`` starts, each seed of ``--seeds``, ``--repeats`` times),
with and without the explore phase, checking that both give identical classes (cost, index,
count, point) and printing the median times and their ratio, and the CPU time of the parent and
of the worker processes: choosing the class to explore, the merging and the certificates run in
the parent, so the parent's share bounds the speed-up (Amdahl).  On a shared machine the wall
ratio also depends on the load; the CPU split does not.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.landscape.census import census  # noqa: E402
from manifoldscape.problems import rayleigh  # noqa: E402


def all_found(problem: ms.Problem, result: ms.Census) -> bool:
    """Whether the census holds the 20 classes ±v_i, index i − 1, both signs each."""
    a, vectors = problem.objective.a, problem.objective.eigenvectors
    n = a.shape[0]
    seen = set()
    for c in result.classes:
        x = c.point
        if np.linalg.norm(a @ x - (x @ a @ x) * x) > 1e-10:
            return False
        i = int(np.argmax(np.abs(vectors.T @ x)))
        if c.index != i or c.copies != 2:
            return False
        seen.add(i)
    return len(result.classes) == n and seen == set(range(n))


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument(
        "--starts", type=int, nargs="+", default=[1, 2, 5, 11, 22, 44, 88, 132, 176]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--workers-starts", type=int, default=88)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers-only", action="store_true")
    args = parser.parse_args()
    problem = rayleigh(n=args.n, seed=0)
    if args.workers_only:
        compare_workers(problem, args.workers_starts, args.seeds, args.repeats)
        return
    print(f"census of rayleigh(n={args.n}, seed=0): {2 * args.n} critical points expected")
    summary = []
    for explore in (False, True):
        print(f"explore={explore}")
        print(
            f"{'starts':>6}  {'runs':>5}  {'median time':>11}  {'median CPU':>10}  "
            f"{'all found':>9}  classes (per seed)"
        )
        smallest = None
        for starts in args.starts:
            times, cpu, found, classes, runs = [], [], 0, [], []
            for seed in args.seeds:
                t, c = time.perf_counter(), time.process_time()
                result = census(problem, starts, seed=seed, explore=explore)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                found += all_found(problem, result)
                classes.append(len(result.classes))
                runs.append(result.runs)
            print(
                f"{starts:>6}  {statistics.median(runs):>5.0f}  "
                f"{statistics.median(times):>9.2f} s  {statistics.median(cpu):>8.2f} s  "
                f"{found:>4}/{len(args.seeds):<4}  {classes}"
            )
            if smallest is None and found == len(args.seeds):
                smallest = (starts, statistics.median(times), statistics.median(runs))
        summary.append((explore, smallest))
    for explore, smallest in summary:
        if smallest is None:
            print(f"explore={explore}: no starts value found all points for every seed")
        else:
            print(
                f"explore={explore}: smallest starts finding all {2 * args.n} points for every "
                f"seed: {smallest[0]} (median {smallest[2]:.0f} runs, {smallest[1]:.2f} s)"
            )

    # references
    a = problem.objective.a
    t = time.perf_counter()
    for _ in range(100):
        np.linalg.eigh(a)
    print(f"reference: numpy.linalg.eigh (all eigenvectors at once): "
          f"{(time.perf_counter() - t) / 100 * 1e6:.0f} µs")  # fmt: skip
    import pymanopt

    solver = pymanopt.optimizers.TrustRegions(verbosity=0)
    pm_problem = problem.to_pymanopt()
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(10):
        solver.run(pm_problem, initial_point=_start(problem, rng))
    print(f"reference: one pymanopt TrustRegions solve (a minimizer only): "
          f"{(time.perf_counter() - t) / 10 * 1e3:.1f} ms")  # fmt: skip
    t = time.perf_counter()
    for _ in range(10):
        ms.solve(problem, seed=rng, certify=False)
    print(f"reference: one manifoldscape trust-regions solve: "
          f"{(time.perf_counter() - t) / 10 * 1e3:.1f} ms")  # fmt: skip


def _key(result: ms.Census) -> list[tuple]:
    return [(c.cost, c.index, c.count, c.copies, c.point.tobytes()) for c in result.classes]


def compare_workers(problem: ms.Problem, starts: int, seeds: list[int], repeats: int) -> None:
    """Median census time with workers=1 and 2, explore off and on; classes must be identical."""
    print(f"census of {problem.name}, {starts} starts, seeds {seeds}, {repeats} repeats each")
    print(f"{'explore':>7}  {'runs':>5}  {'workers=1':>10}  {'workers=2':>10}  {'1/2 ratio':>9}")
    for explore in (False, True):
        times: dict[int, list[float]] = {1: [], 2: []}
        cpu = {"parent": 0.0, "workers": 0.0, "serial": 0.0}
        runs = []
        for seed in seeds:
            keys = {}
            for _ in range(repeats):
                for workers in (1, 2):
                    t, before = time.perf_counter(), os.times()
                    result = census(problem, starts, seed=seed, explore=explore, workers=workers)
                    times[workers].append(time.perf_counter() - t)
                    after = os.times()
                    if workers == 1:
                        cpu["serial"] += after.user - before.user
                    else:
                        cpu["parent"] += after.user - before.user
                        cpu["workers"] += after.children_user - before.children_user
                    keys[workers] = _key(result)
            if keys[1] != keys[2]:
                raise AssertionError(f"seed {seed}: workers=1 and workers=2 differ")
            runs.append(result.runs + result.explore_runs)
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(
            f"{explore!s:>7}  {statistics.median(runs):>5.0f}  {one:>8.2f} s  {two:>8.2f} s  "
            f"{one / two:>8.2f}×   CPU: serial {cpu['serial']:.2f} s; workers=2: parent "
            f"{cpu['parent']:.2f} s + workers {cpu['workers']:.2f} s "
            f"(parent share {cpu['parent'] / (cpu['parent'] + cpu['workers']):.0%})"
        )
    result = census(problem, starts, seed=seeds[0], explore=False)
    t = time.perf_counter()
    for c in result.classes:
        ms.certify(problem, c.point)
    print(
        f"serial in the parent: certifying the {len(result.classes)} classes once: "
        f"{time.perf_counter() - t:.2f} s"
    )
    print("identical classes with workers=1 and workers=2 for every seed")


def _start(problem: ms.Problem, rng: np.random.Generator) -> np.ndarray:
    from manifoldscape.geometry import random_point

    return random_point(problem.manifold, rng)


if __name__ == "__main__":
    main()
