"""Local searches near critical points: eigenvector following, mode following, Newton polish.

The machinery shared by the census (``manifoldscape.landscape.census``), the cascade graph
(``manifoldscape.landscape.graph``) and the double-ended search (``manifoldscape.landscape.paths``).
In the eigenbasis Hess f(x) = Σ λ_i q_i q_iᵀ (λ ascending) of the Riemannian Hessian in an
orthonormal tangent basis (``manifoldscape.geometry.tangent_basis``; Boumal, *An Introduction to
Optimization on Smooth Manifolds*, §5.5), the eigenvector-following step toward index k is

    η = −Σ_i σ_i ⟨q_i, grad f(x)⟩ / max(|λ_i|, δ) q_i,   σ_i = −1 for i ≤ k, +1 for i > k,

restricted to a trust radius and retracted: ascent along the k lowest curvature directions,
descent along the others (Cerjan and Miller, J. Chem. Phys. 75, 2800, 1981; Wales, *Energy
Landscapes*, Cambridge 2003, §6.2).  At a nondegenerate critical point of index k the signs σ_i
are those of λ_i, η is the Newton step and the point is an attractor; critical points of any
other index repel.  Mode following replaces "the k lowest" by the eigenvectors that overlap most
with modes followed from the previous step.  Every search ends with Riemannian Newton steps,
Hess f(x)[η] = −grad f(x), to round-off (``newton_polish``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse.linalg

from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.problem import Problem
from manifoldscape.core.tolerance import (
    ambient_size,
    gradient_floor,
    safe_norm,
)
from manifoldscape.geometry import (
    batch_item,
    orthonormal_factor,
    point_norm,
    projection_stack,
    stack_batch,
    symmetric_eigh,
    tangent_basis,
)

__all__ = [
    "LocalModel",
    "RunResult",
    "displacements",
    "follow",
    "following_step",
    "local_model",
    "newton_polish",
    "orbit_complement",
    "scaled",
    "tracked_modes",
]

#: eigenvalues below this fraction of ‖Hess f‖ are floored in an eigenvector-following step
EIGENVALUE_FLOOR = 1e-8
#: eigenvector following gives up after this many steps without lowering ‖grad f‖ by 10 %
FOLLOW_PATIENCE = 20
#: mode following: steps before a small gradient hands the point to Newton
ESCAPE_STEPS = 5


@dataclass
class LocalModel:
    """Gradient and Hessian spectrum at x in an orthonormal tangent basis."""

    basis: Any
    gradient: np.ndarray
    gradient_norm: float
    hessian_norm: float
    tolerance_scale: float  # ‖Hess f‖ · max(‖x‖, 1): what rtol_gradient multiplies
    floor: float = 0.0  # round-off floor of ‖grad f‖ (manifoldscape.core.tolerance)
    eigenvalues: np.ndarray | None = None  # dense: all, ascending
    eigenvectors: np.ndarray | None = None
    operator: Any = None  # matrix-free


def local_model(problem: Problem, x: Any, dense_limit: int, k_lowest: int) -> LocalModel:
    """Gradient and Hessian at x in an orthonormal tangent basis.

    All eigenpairs up to ``dense_limit`` tangent dimensions; beyond, the operator matrix-free,
    ‖Hess f‖ by Lanczos and the ``k_lowest`` lowest eigenpairs when asked.
    """
    basis = tangent_basis(problem.manifold, x)
    hessian = RiemannianHessian(problem, x, basis)
    g = basis.to_coordinates(problem.riemannian_gradient(x))
    gnorm = point_norm(g)
    length = max(_safe_norm(x), 1.0)  # length_scale(x)
    floor = gradient_floor(_safe_norm(problem.euclidean_gradient(x)), gnorm, ambient_size(x))
    if basis.dim <= dense_limit:
        h = hessian.matrix()
        lam, q = symmetric_eigh(h) if hessian.finite else np.linalg.eigh(h)
        hnorm = float(np.abs(lam).max()) if lam.size else 0.0
        return LocalModel(basis, g, gnorm, hnorm, hnorm * length, floor, lam, q)
    operator = hessian.linear_operator()
    d = basis.dim
    v0 = np.random.default_rng(0).standard_normal(d)
    largest = scipy.sparse.linalg.eigsh(
        operator, k=1, which="LM", v0=v0, tol=1e-3, return_eigenvectors=False
    )
    hnorm = float(abs(largest[0]))
    model = LocalModel(basis, g, gnorm, hnorm, hnorm * length, floor, operator=operator)
    if k_lowest:
        lam, q = scipy.sparse.linalg.eigsh(
            operator, k=min(k_lowest, d - 1), which="SA", v0=v0, tol=1e-6
        )
        model.eigenvalues, model.eigenvectors = lam, q
    return model


def _safe_norm(value: Any) -> float:
    """``tolerance.safe_norm(value)`` to the last bit, without its dispatch for an array."""
    if type(value) is np.ndarray and value.dtype == np.float64 and value.flags.c_contiguous:
        scale = float(np.abs(value).max()) if value.size else 0.0
        if 1e-150 < scale < 1e150:  # safe_norm's plain case: numpy.linalg.norm's arithmetic
            return point_norm(value)
    return safe_norm(value)


def following_step(
    model: LocalModel, target: int | None, floor: float, ascend: np.ndarray | None = None
) -> np.ndarray:
    """The eigenvector-following step toward index ``target``, or the Newton step (None).

    Dense: η = −Σ σ_i g_i / max(|λ_i|, δ) q_i (module docstring), with σ_i = sign(λ_i) for
    Newton.  Matrix-free: Newton by MINRES on H η = −g; toward index k, MINRES on the operator
    H − 2 Q_k Λ_k Q_kᵀ (the k lowest eigenvalues reflected) with right-hand side
    −(I − 2 Q_k Q_kᵀ) g.  ``ascend`` (positions in ``model.eigenvalues``) replaces "the k lowest"
    by a chosen set of modes: the mode following of the explore phase.
    """
    g = model.gradient
    floor = floor * max(model.hessian_norm, 1e-300)
    if ascend is None and target is not None:
        ascend = np.arange(target)
    if model.operator is None:
        lam, q = model.eigenvalues, model.eigenvectors
        gq = q.T @ g
        if ascend is None:
            scaled = gq / np.where(lam >= 0, np.maximum(lam, floor), np.minimum(lam, -floor))
        else:
            sigma = np.ones_like(lam)
            sigma[ascend] = -1.0
            scaled = sigma * gq / np.maximum(np.abs(lam), floor)
        return -(q @ scaled)
    d = g.size
    if ascend is None or len(ascend) == 0 or model.eigenvalues is None:
        operator, rhs = model.operator, -g
    else:
        lam, q = model.eigenvalues[ascend], model.eigenvectors[:, ascend]

        def matvec(c: np.ndarray) -> np.ndarray:
            c = np.asarray(c).reshape(-1)
            return model.operator.matvec(c) - 2.0 * (q @ (lam * (q.T @ c)))

        operator = scipy.sparse.linalg.LinearOperator((d, d), matvec=matvec, dtype=float)
        rhs = -(g - 2.0 * (q @ (q.T @ g)))
    eta, _ = scipy.sparse.linalg.minres(operator, rhs, rtol=1e-10, maxiter=max(20, 2 * d))
    return np.asarray(eta)


@dataclass
class RunResult:
    """The end of a local search: the point, its gradient norm, whether it passed the test."""

    point: Any
    gradient_norm: float
    converged: bool
    scale: float = 0.0  # ‖Hess f‖ · ℓ at the point


def newton_polish(
    problem: Problem,
    x: Any,
    *,
    newton_steps: int,
    radius: float,
    dense_limit: int,
    divergence: float,
    model: LocalModel | None = None,
) -> tuple[Any, float, float]:
    """Riemannian Newton steps to round-off; returns the best point, ‖grad f‖, its scale, floor.

    ``model``, if given, is ``local_model`` at x already formed (dense, or matrix-free without
    eigenpairs), used for the first step instead of forming it again.

    Stops when ‖grad f‖ is at its round-off floor (``manifoldscape.core.tolerance``) or when it
    has stopped decreasing.  At a degenerate critical point Newton converges
    only linearly (for a gradient that is homogeneous of degree p along the null directions,
    at the rate (p − 1)/p); when successive steps shrink at a steady rate ρ the Aitken-extrapolated
    step η/(1 − ρ) is tried as well and kept if it lowers ‖grad f‖, which lands such a point at
    round-off instead of a few digits away; while the steps keep shrinking (ρ < 0.9) the
    iteration is not stalled even if ‖grad f‖ is not monotone.
    """
    manifold = problem.manifold
    best = (x, math.inf, 0.0, 0.0)
    stalled, previous, shrinking = 0, math.nan, False
    for _ in range(newton_steps + 1):
        if model is None:
            model = local_model(problem, x, dense_limit, 0)
        if not (np.isfinite(model.gradient_norm) and np.isfinite(model.tolerance_scale)):
            break
        progress = model.gradient_norm < 0.9 * best[1] or shrinking
        stalled = 0 if progress else stalled + 1
        if model.gradient_norm < best[1]:
            best = (x, model.gradient_norm, model.tolerance_scale, model.floor)
        limit = 2 if model.gradient_norm <= 1e-10 * model.tolerance_scale + model.floor else 4
        if model.gradient_norm <= model.floor or stalled >= limit:
            break
        eta = following_step(model, None, floor=1e-14)
        norm = point_norm(eta)
        if not np.isfinite(norm) or norm == 0.0:
            break
        if norm > radius:
            eta *= radius / norm
        candidate = manifold.retraction(x, model.basis.to_vector(eta))
        rate = norm / previous
        # steps shrinking at a steady rate: converging linearly to a degenerate point, where
        # ‖grad f‖ need not decrease monotonically — not a stall
        shrinking = rate < 0.9
        if 0.2 < rate < 0.95:
            extrapolated = manifold.retraction(x, model.basis.to_vector(eta / (1.0 - rate)))
            if problem.gradient_norm(extrapolated) < problem.gradient_norm(candidate):
                candidate = extrapolated
        x, previous, model = candidate, norm, None
        if point_norm(x) > divergence or not np.isfinite(problem.cost(x)):
            break
    return best


def follow(
    problem: Problem,
    x: Any,
    *,
    target: int | None,
    max_steps: int,
    newton_steps: int,
    radius: float,
    dense_limit: int,
    rtol_gradient: float,
    divergence: float,
    modes: list[Any] | None = None,
) -> RunResult:
    """Eigenvector following toward index ``target`` (None: none), then Newton to round-off.

    With ``modes`` (tangent vectors at x), mode following instead: at each step the ascent
    directions are the ``len(modes)`` Hessian eigenvectors that overlap most with the modes
    followed so far (projected onto the current tangent space), which then become the modes
    (Cerjan and Miller 1981; Wales, *Energy Landscapes*, §6.2).  Returns the point with the
    smallest gradient norm met and whether it passes the certificate's gradient test.
    """
    manifold = problem.manifold
    best_x, best_norm, stalled = x, math.inf, 0
    last = None  # the local model at x when the loop stops there (Newton's first step reuses it)
    if modes is not None:
        target = len(modes)
    tracking = bool(modes)  # modes: a list of tangent vectors, then a batch of them
    if target is not None:
        for step in range(max_steps):
            model = local_model(problem, x, dense_limit, target + (2 if tracking else 0))
            if not (np.isfinite(model.gradient_norm) and np.isfinite(model.tolerance_scale)):
                break
            stalled = 0 if model.gradient_norm < 0.9 * best_norm else stalled + 1
            if model.gradient_norm < best_norm:
                best_x, best_norm = x, model.gradient_norm
            if stalled > FOLLOW_PATIENCE:
                x = best_x
                break
            # close to a critical point: Newton converges to it whatever its index (a mode
            # followed from a small displacement first gets away from where it started)
            if model.gradient_norm <= 1e-4 * model.tolerance_scale + model.floor and (
                modes is None or step >= ESCAPE_STEPS
            ):
                last = model
                break
            ascend = None
            if tracking:
                ascend = tracked_modes(manifold, x, model, modes)
                followed = model.basis.to_vectors_each(model.eigenvectors[:, ascend].T)
                # an array batch goes on contiguous, as ``stack_batch`` of its items would be
                modes = (
                    np.ascontiguousarray(followed)
                    if type(followed) is np.ndarray
                    else [batch_item(followed, k) for k in range(len(ascend))]
                )
            eta = following_step(model, target, floor=EIGENVALUE_FLOOR, ascend=ascend)
            norm = point_norm(eta)
            if not np.isfinite(norm):
                break
            if norm > radius:
                eta *= radius / norm
            x = manifold.retraction(x, model.basis.to_vector(eta))
            if point_norm(x) > divergence or not np.isfinite(problem.cost(x)):
                break
        else:
            x = best_x  # the budget ran out: polish the best point met
    point, gradient_norm, scale, floor = newton_polish(
        problem,
        x,
        newton_steps=newton_steps,
        radius=radius,
        dense_limit=dense_limit,
        divergence=divergence,
        model=_without_eigenpairs(last),
    )
    # converged unless the certificate's gradient test says "not critical" for sure
    return RunResult(point, gradient_norm, gradient_norm <= rtol_gradient * scale + floor, scale)


def _without_eigenpairs(model: LocalModel | None) -> LocalModel | None:
    """The model as ``local_model(..., k_lowest=0)`` would form it (matrix-free: no eigenpairs)."""
    if model is None or model.operator is None:
        return model  # dense: every eigenpair, whatever k_lowest
    return replace(model, eigenvalues=None, eigenvectors=None)


def tracked_modes(manifold: Any, x: Any, model: LocalModel, modes: Any) -> np.ndarray:
    """Positions of the eigenvectors of ``model`` spanning most of the followed ``modes``.

    ``modes``: a list of tangent vectors or a batch of them (an array with a leading axis).

    The modes, tangent vectors at the previous iterate, are projected onto the tangent space at
    x and orthonormalised (U); eigenvector q_i scores ‖Uᵀ q_i‖² and the len(modes) best win.
    """
    count = len(modes)
    stacked = modes if type(modes) is np.ndarray else stack_batch(modes)
    projected = projection_stack(manifold, x, stacked, count)
    u = orthonormal_factor(model.basis.to_coordinates_each(projected, count).T)
    overlaps = ((u.T @ model.eigenvectors) ** 2).sum(axis=0)
    chosen = np.argsort(-overlaps, kind="stable")[: len(modes)]
    return np.sort(chosen)


def orbit_complement(problem: Problem, x: Any, basis: Any) -> np.ndarray:
    """Orthonormal coordinates (d × (d − s)) of the tangent directions off the symmetry orbit."""
    vectors = problem.symmetry.orbit_tangent_vectors(x)
    if not vectors:
        return np.eye(basis.dim)
    s = np.stack([basis.to_coordinates(problem.manifold.projection(x, v)) for v in vectors], axis=1)
    u, sigma, _ = np.linalg.svd(s, full_matrices=True)
    rank = int(np.sum(sigma > 1e-8 * max(point_norm(x), 1.0)))
    return u[:, rank:]


def displacements(
    problem: Problem, x: Any, *, dense_limit: int, max_matrix_free_index: int, epsilon: float
) -> list[tuple[Any, list[Any]]]:
    """The explore-phase starts from the critical point x: (x ± ε v_j, modes to follow).

    The Hessian eigenvectors v_j off the symmetry orbit (all of them up to ``dense_limit``
    tangent dimensions; the ``max_matrix_free_index`` + 1 lowest beyond), mapped to the manifold
    by the retraction.  With N the negative-curvature modes (index k = |N|), a mode with λ_j ≥ 0
    is followed uphill, ascending along N ∪ {v_j} (toward index k + 1), a mode with λ_j < 0
    downhill, ascending along N ∖ {v_j} (toward index k − 1).  Ordered by |λ_j|, softest first,
    both signs of each mode next to each other.
    """
    manifold = problem.manifold
    basis = tangent_basis(manifold, x)
    hessian = RiemannianHessian(problem, x, basis)
    complement = orbit_complement(problem, x, basis)
    if complement.shape[1] == 0:
        return []
    if basis.dim <= dense_limit:
        h = hessian.matrix()
        lam, w = np.linalg.eigh(complement.T @ h @ complement)
        q = complement @ w
    else:
        operator = hessian.linear_operator()
        k = min(max_matrix_free_index + 1 + (basis.dim - complement.shape[1]), basis.dim - 1)
        v0 = np.random.default_rng(0).standard_normal(basis.dim)
        lam, q = scipy.sparse.linalg.eigsh(operator, k=k, which="SA", v0=v0, tol=1e-8)
        off = np.sum((complement.T @ q) ** 2, axis=0) > 0.5
        lam, q = lam[off], q[:, off]
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    tol = 1e-6 * scale + problem.gradient_norm(x) / max(point_norm(x), 1.0)
    every = basis.to_vectors_each(q.T)
    vectors = [batch_item(every, j) for j in range(lam.size)]
    negative = [j for j in range(lam.size) if lam[j] < -tol]
    starts = []
    for j in np.argsort(np.abs(lam), kind="stable"):
        ascend = [i for i in negative if i != j] if lam[j] < -tol else [*negative, j]
        modes = [vectors[i] for i in ascend]
        for sign in (1.0, -1.0):
            start = manifold.retraction(x, scaled(vectors[j], sign * epsilon))
            starts.append((start, modes))
    return starts


def scaled(vector: Any, factor: float) -> Any:
    """The vector multiplied by ``factor`` (factor by factor for a list of arrays)."""
    if isinstance(vector, (list, tuple)):
        return [scaled(v, factor) for v in vector]
    return factor * vector
