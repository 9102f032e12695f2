"""Success rates of real Gaussian phase retrieval: factored intensity, smoothed amplitude, rank-1.

For n = 100 and m/n ∈ {2, 3, 4, 6, 10}, 20 seeded instances each, trust regions from the random
and the spectral start (``initial_point`` / ``rank1_initial_point`` with seed 1000 + trial),
success = distance to the truth modulo the sign (or ‖Z − xxᵀ‖ relative) ≤ 1e-6.  The table of
issue 3's closing note.  Not a test: run it by hand (about a minute),

    python benchmarks/rates_phase_retrieval.py
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import time  # noqa: E402
import warnings  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.problems.phase_retrieval import initial_point, phase_retrieval  # noqa: E402
from manifoldscape.problems.rank1_phase_retrieval import (  # noqa: E402
    rank1_initial_point,
    rank1_phase_retrieval,
)

N, TRIALS, RATIOS = 100, 20, (2, 3, 4, 6, 10)


def recovered(form: str, start: str, ratio: int, trial: int) -> bool:
    """One trial: build the seeded instance, solve from the start, compare with the truth."""
    if form == "rank1":
        problem = rank1_phase_retrieval(n=N, m=ratio * N, field="real", seed=trial)
        x0 = rank1_initial_point(problem, start, seed=1000 + trial)
    else:
        problem = phase_retrieval(n=N, m=ratio * N, field="real", loss=form, seed=trial)
        x0 = initial_point(problem, start, seed=1000 + trial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ms.solve(
            problem, "trust-regions", x0=x0, rtol_gradient=1e-12, max_iterations=500, certify=False
        )
    return problem.distance_to_truth(result.point) <= 1e-6


def main() -> None:
    print(f"n = {N}, {TRIALS} trials, trust regions; m/n = {', '.join(map(str, RATIOS))}")
    for form in ("intensity", "smoothed_amplitude", "rank1"):
        for start in ("random", "spectral"):
            begin = time.perf_counter()
            cells = [
                f"{sum(recovered(form, start, r, t) for t in range(TRIALS))}/{TRIALS}"
                for r in RATIOS
            ]
            seconds = time.perf_counter() - begin
            print(f"{form:20s} {start:9s} " + "  ".join(cells) + f"   ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
