"""Deflation: all columns of a problem on the sphere, one at a time, with any registered solver.

Complete dictionary learning recovers one column of the orthogonal dictionary Ā₀ from
min_{q ∈ S^{n−1}} φ(qᵀȲ); the whole dictionary is found "with a deflation process via orthogonal
projections" (seed 001, "Recovery of All Dictionary Items"; seed 003 §3.1, footnote 17 and refs.
[20, 52]: Sun, Qu & Wright, "Complete dictionary recovery over the sphere I/II", IEEE Trans. Inf.
Theory 2017).  With columns q₁, …, q_j found, let U ∈ ℝ^{n×(n−j)} be an orthonormal basis of
span(q₁, …, q_j)^⊥ and solve the same objective restricted to that complement,

    min_{w ∈ S^{n−j−1}} g(w) = f(U w),
    ∇g(w) = Uᵀ ∇f(U w),   ∇²g(w)[v] = Uᵀ ∇²f(U w)[U v]

(``RestrictedObjective``); then q_{j+1} = U w.  Because the columns of Ā₀ are orthonormal, the
other columns lie in the complement, and a minimizer of g is (approximately) one of them.

**Polishing** (``polish=True``, the default): each found column carries an error, so the
complement of the found columns is not exactly the span of the remaining ones, and the minimizer
of g is only close to a column.  Sun, Qu & Wright (2017, part II) follow each solve by a
rounding step (a linear program) that makes the approximate column exact before deflating;
polishing is the analogous refinement with the same solver, run again on f over all of S^{n−1}
from q = U w.  For dictionary learning every column is a
local minimizer of f, so the refined point is the nearby column and its certificate is the one of
the full problem.  Switch polishing off when the later columns are *not* minimizers of the full
problem: for the Rayleigh quotient −xᵀAx, deflation recovers the eigenvectors v₁, v₂, … in order,
but v_{j} (j ≥ 2) is a saddle of index j − 1 of the full problem, from which a solver may escape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Sphere

from manifoldscape.boundary.arguments import Seed, as_generator, as_real_array, require_positive_int
from manifoldscape.core import certificate
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.registry import solver_registry
from manifoldscape.core.result import Result
from manifoldscape.core.symmetry import Identity

logger = logging.getLogger(__name__)

__all__ = ["DeflationResult", "RestrictedObjective", "deflate", "orthogonal_complement"]

_ORTHONORMALITY_TOLERANCE = 1e-8


class RestrictedObjective(Objective):
    """g(w) = f(U w) for an objective f on ℝⁿ and U ∈ ℝ^{n×m} with orthonormal columns.

    ∇g(w) = Uᵀ∇f(Uw), ∇²g(w)[v] = Uᵀ∇²f(Uw)[Uv] (module docstring); ``prepare`` caches U w
    and the inner objective's shared data; the autograd twin is f's twin at U w.  A batch of
    directions (leading axis) is passed on as one batch when f accepts batches.
    """

    def __init__(self, objective: Objective, basis: Any):
        if not isinstance(objective, Objective):
            raise TypeError(
                f"objective must be a manifoldscape Objective, got {type(objective).__name__}"
            )
        basis = as_real_array(basis, "U", ndim=2)
        n, m = basis.shape
        if m == 0 or m > n:
            raise ValueError(f"U must be n × m with 1 ≤ m ≤ n, got shape {basis.shape}")
        error = float(np.max(np.abs(basis.T @ basis - np.eye(m))))
        if error > _ORTHONORMALITY_TOLERANCE:
            raise ValueError(f"U must have orthonormal columns, but max |UᵀU − I| = {error:.3g}")
        self.objective = objective
        self.basis = basis
        self.batched_hessian = objective.batched_hessian

    def prepare(self, w: np.ndarray) -> tuple[np.ndarray, Any]:  # noqa: D102
        x = self.basis @ w
        return x, self.objective.prepare(x)

    def cost(self, w: np.ndarray, data: tuple[np.ndarray, Any]) -> float:  # noqa: D102
        x, inner = data
        return float(self.objective.cost(x, inner))

    def euclidean_gradient(self, w: np.ndarray, data: tuple[np.ndarray, Any]) -> np.ndarray:  # noqa: D102
        x, inner = data
        return np.asarray(self.objective.euclidean_gradient(x, inner)) @ self.basis

    def euclidean_hessian(  # noqa: D102
        self, w: np.ndarray, data: tuple[np.ndarray, Any], direction: np.ndarray
    ) -> np.ndarray:
        x, inner = data
        lifted = np.asarray(direction) @ self.basis.T  # (m,) → (n,), or a batch (b, m) → (b, n)
        return np.asarray(self.objective.euclidean_hessian(x, inner, lifted)) @ self.basis

    def autograd_cost(self, w: Any) -> Any:  # noqa: D102
        return self.objective.autograd_cost(anp.dot(self.basis, w))


def orthogonal_complement(columns: np.ndarray) -> np.ndarray:
    """An orthonormal basis U (n × (n − j)) of span(columns)^⊥ for n × j ``columns`` of rank j.

    Taken from the full SVD of the columns, so nearly (not exactly) orthogonal columns are fine.
    """
    j = columns.shape[1]
    u, _, _ = np.linalg.svd(columns, full_matrices=True)
    return u[:, j:]


@dataclass(frozen=True, eq=False)
class DeflationResult:
    """The columns found by ``deflate`` and how each was found.

    ``columns`` is Q = [q₁, …, q_k] (n × k, unit columns, in the order found; also as ``Q``).
    ``results[j]`` is the Result that produced q_{j+1}: the polishing run on the full problem when
    ``polished``, else the run on the restricted problem (its point is w, q = U w).
    ``restricted_results[j]`` are the runs on the restricted problems (the first on the problem
    itself); they are certified (on the restricted problem) only without polishing.
    ``certificates[j]`` is the certificate of q_{j+1} as a point of the *full* problem (None if
    certification was switched off).
    """

    columns: np.ndarray
    results: tuple[Result, ...]
    restricted_results: tuple[Result, ...]
    certificates: tuple[certificate.Certificate | None, ...]
    solver: str
    polished: bool
    time_s: float
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def Q(self) -> np.ndarray:
        """The recovered columns as an n × k matrix (same as ``columns``)."""
        return self.columns

    def __len__(self) -> int:
        return self.columns.shape[1]

    def to_dict(self) -> dict[str, Any]:
        """Summary for JSON output (the columns left out)."""
        return {
            "solver": self.solver,
            "polished": self.polished,
            "columns": int(self.columns.shape[1]),
            "time_s": float(self.time_s),
            "results": [r.to_dict() for r in self.results],
            "certificates": [None if c is None else c.to_dict() for c in self.certificates],
        }


def _seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """A fresh SeedSequence from ``seed`` (a copy for a SeedSequence, so reruns repeat)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    as_generator(seed)  # validates the type and the sign of an int
    return np.random.SeedSequence(None if seed is None else int(seed))


def _sphere_dimension(problem: Any) -> int:
    if not isinstance(problem, Problem):
        raise TypeError(
            f"problem must be a manifoldscape Problem, got {type(problem).__name__}; build one "
            "with a factory of manifoldscape.problems or Problem.from_autograd"
        )
    manifold = problem.manifold
    shape = tuple(getattr(manifold, "_shape", ())) if isinstance(manifold, Sphere) else ()
    if not isinstance(manifold, Sphere) or len(shape) != 1:
        raise ValueError(
            "deflate needs a problem on the sphere S^{n−1} of vectors (pymanopt Sphere(n)), "
            f"got a problem on {manifold}"
        )
    return int(shape[0])


def deflate(
    problem: Problem,
    solver: str = "trust-regions",
    *,
    columns: int | None = None,
    seed: Seed = None,
    polish: bool = True,
    polish_options: Mapping[str, Any] | None = None,
    certify: bool = True,
    **options: Any,
) -> DeflationResult:
    """Find ``columns`` (default n) mutually orthogonal solutions of a problem on S^{n−1}.

    Column j + 1 minimizes f(U w) over the unit sphere of span(q₁, …, q_j)^⊥ (U an orthonormal
    basis), solved by the registered ``solver`` configured with ``options`` from a random start;
    with ``polish`` the solver then refines q = U w on the full problem (module docstring),
    configured with ``options`` updated by ``polish_options`` (for example a smaller first step
    ``step_size`` for the subgradient method, whose first steps would otherwise leave q).  Each
    column's runs draw their start from a child of ``numpy.random.SeedSequence(seed)``, so the
    same seed gives the same columns.  ``certify=False`` skips the certificates.

    Raises ``ValueError`` for an unknown solver name, ``columns`` outside 1..n, or a problem that
    is not on a sphere of vectors; ``TypeError`` for unknown solver options.
    """
    n = _sphere_dimension(problem)
    if not isinstance(solver, str):
        raise TypeError(f"solver must be a registered solver name, got {type(solver).__name__}")
    count = n if columns is None else require_positive_int(columns, "columns")
    if count > n:
        raise ValueError(f"columns must be at most n = {n} (the sphere S^{n - 1}), got {count}")
    for name, flag in (("polish", polish), ("certify", certify)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    entry = solver_registry.get(solver)
    configured = entry.factory(**options)
    if polish_options is not None and not isinstance(polish_options, Mapping):
        raise TypeError(
            f"polish_options must be a mapping of solver options or None, got "
            f"{type(polish_options).__name__}"
        )
    polisher = entry.factory(**{**options, **dict(polish_options or {})})
    children = _seed_sequence(seed).spawn(count)

    start = time.perf_counter()
    found = np.zeros((n, count))
    results: list[Result] = []
    restricted_results: list[Result] = []
    certificates: list[Any] = []
    for j in range(count):
        solve_seed, polish_seed = (np.random.default_rng(s) for s in children[j].spawn(2))
        if j == 0:
            basis, restricted = None, problem
        else:
            basis = orthogonal_complement(found[:, :j])
            restricted = Problem(
                Sphere(n - j),
                RestrictedObjective(problem.objective, basis),
                name=f"{problem.name} on the complement of {j} columns",
                symmetry=Identity(),
                parameters={"n": n - j, "deflated_columns": j},
            )
        run = configured.run(restricted, seed=solve_seed, certify=certify and not polish)
        restricted_results.append(run)
        q = np.asarray(run.point) if basis is None else basis @ run.point
        q = q / np.linalg.norm(q)
        if polish:
            polished = polisher.run(problem, x0=q, seed=polish_seed, certify=certify)
            q = np.asarray(polished.point)
            results.append(polished)
            certificates.append(polished.certificate)
        else:
            results.append(run)
            certificates.append(certificate.certify(problem, q) if certify else None)
        if j > 0:
            overlap = float(np.max(np.abs(found[:, :j].T @ q)))
            if overlap > 0.5:
                logger.warning(
                    "deflate: column %d has |⟨q, q_i⟩| = %.3f with an earlier column",
                    j + 1,
                    overlap,
                )
        found[:, j] = q
        logger.info(
            "deflate: column %d of %d, %s (%s)", j + 1, count, run.stop_reason.value, solver
        )
    return DeflationResult(
        columns=found,
        results=tuple(results),
        restricted_results=tuple(restricted_results),
        certificates=tuple(certificates),
        solver=solver,
        polished=bool(polish),
        time_s=time.perf_counter() - start,
        options={**options, "polish_options": dict(polish_options or {})},
    )
