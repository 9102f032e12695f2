"""Success rate of multichannel sparse blind deconvolution against θ and p (issue 4, acceptance).

Random-init trust-regions on ``blind_deconvolution(n=64, p, theta, loss="logcosh", mu=1e-2)``;
a trial succeeds when the recovered kernel is within 1e-2 of the truth modulo signed shift and
scale (``kernel_error``).  Run: ``python benchmarks/sweep_blind_deconvolution.py [trials]``.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import time

import manifoldscape as ms
from manifoldscape.problems.deconvolution import blind_deconvolution, kernel_error

THETAS = (0.05, 0.1, 0.2, 0.3)
CHANNELS = (10, 25, 50)


def main(trials: int = 10, n: int = 64) -> None:
    """Print a table of success rates (and median kernel errors) over the (θ, p) grid."""
    print(f"n = {n}, trials = {trials}, success: kernel error ≤ 1e-2 modulo signed shift, scale")
    print("theta \\ p | " + " | ".join(f"{p:>16}" for p in CHANNELS))
    start = time.perf_counter()
    for theta in THETAS:
        cells = []
        for p in CHANNELS:
            errors = []
            for trial in range(trials):
                problem = blind_deconvolution(n, p, theta=theta, seed=1000 * trial + p)
                result = ms.solve(problem, "trust-regions", seed=trial, certify=False)
                errors.append(kernel_error(problem, result.point))
            wins = sum(e <= 1e-2 for e in errors)
            errors.sort()
            cells.append(f"{wins:>2}/{trials} (med {errors[len(errors) // 2]:.1e})")
        print(f"{theta:>9} | " + " | ".join(f"{c:>16}" for c in cells), flush=True)
    print(f"total time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
