"""Phase retrieval of one complex unknown (seed 003 §2.1, Fig. 6).

``phase_retrieval_one_unknown`` is the minimal example of seed 003 §2.1: one complex unknown,
φ(x) = ¼ Σ (y_i² − |a_i x|²)², whose minimizers are the circle x₀e^{iφ} and whose only other
critical point, 0, is a maximizer (seed 003, Fig. 6, eq. (2.4)–(2.6)).
"""

from __future__ import annotations

import numpy as np
from pymanopt.manifolds import ComplexEuclidean

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int, seed_as_int
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Problem
from manifoldscape.core.symmetry import Phase
from manifoldscape.problems.measurements import GaussianMeasurements
from manifoldscape.problems.phase_retrieval import (
    PhaseRetrievalObjective,
    _check_measurements,
    _check_truth,
    _random_signal,
)

__all__ = ["phase_retrieval_one_unknown"]


def phase_retrieval_one_unknown(
    a: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    truth: complex | None = None,
    m: int = 4,
    seed: Seed = None,
) -> Problem:
    """Phase retrieval with a single complex unknown (seed 003 §2.1, eq. (2.1)–(2.6), Fig. 6).

    Recover x₀ ∈ C from magnitudes y_i = |a_i x₀| (eq. (2.1)) by minimizing over x ∈ C

        φ(x) = ¼ Σ_i (y_i² − |a_i x|²)² = ¼ ‖a‖₄⁴ (|x|² − |x₀|²)²,

    (eq. (2.4); eq. (2.3) writes a factor ½, but the gradient (2.5) and Hessian (2.6) are those
    of ¼, which we follow).  Critical points: the circle of global minimizers x₀e^{iφ} (one zero
    Hessian eigenvalue, the phase) and the global maximizer 0 (Hessian −‖a‖₄⁴|x₀|² I).

    Give ``a`` (m complex scalars) and ``y`` (magnitudes, non-negative) and/or ``truth``, or let
    the factory draw a ~ (N + iN)/√2 and x₀ from ``seed``.
    """
    rng = as_generator(seed)
    if a is None:
        if y is not None:
            raise TypeError("y was given without a (the measurement scalars)")
        m = require_positive_int(m, "m")
        require_memory(64 * m, f"phase_retrieval_one_unknown(m={m}): a holds m scalars")
        a_vec = _random_signal((m,), "complex", rng)
    else:
        a_vec = np.asarray(a)
        if a_vec.dtype.kind not in "biufc":
            raise TypeError(f"a must be numeric, got dtype {a_vec.dtype}")
        if a_vec.ndim != 1 or a_vec.size < 1:
            raise ValueError(f"a must be a non-empty vector of m scalars, got shape {a_vec.shape}")
        a_vec = a_vec.astype(complex)
        if not np.all(np.isfinite(a_vec)):
            raise ValueError("a must be finite, but holds NaN or Inf")
    operator = GaussianMeasurements(a_vec[:, None])
    x_true = None
    if truth is not None:
        x_true = _check_truth(np.reshape(np.asarray(truth), (1,)), operator, "complex")
    if y is None:
        if x_true is None:
            x_true = _random_signal((1,), "complex", rng)
        intensities = np.abs(operator.apply(x_true)) ** 2
    else:
        intensities = _check_measurements(y, operator) ** 2  # y holds magnitudes |a_i x₀|
    objective = PhaseRetrievalObjective(operator, intensities, "intensity", real=False, scale=0.5)
    return Problem(
        ComplexEuclidean(1),
        objective,
        name="phase_retrieval_one_unknown",
        symmetry=Phase(),
        truth=x_true,
        parameters={"m": operator.m},
        seed=seed_as_int(seed),
    )
