"""Diagnosis of a degenerate certificate: the continuous symmetry a user likely left undeclared.

A continuous symmetry group G of the cost makes every critical point part of a manifold of
critical points, and the Riemannian Hessian vanishes on the orbit's tangent space (seed 003, §1
and Fig. 4: the eigenspace problem X ↦ XR, G = O(r); phase retrieval x ↦ x e^{iφ}, G = S¹).
Undeclared, these exact zero eigenvalues make a minimizer look ``degenerate``.  For the groups
met in standard formulations — O(r) on the right of an n × r point (PCA on Stiefel, symmetric
factorization U Uᵀ), O(p) on the left of a p × n point (Gram-matrix costs on Oblique: max-cut,
rank-p correlation matrices), U(r) on the right and the phase of a complex point — the
diagnosis applies the Hessian to the candidate's projected orbit directions and reports the
candidate when all of them lie in the numerical null space, ‖Hess f(x)[q]‖ ≤ τ for orthonormal
coordinates q (τ: the certificate's eigenvalue tolerance plus its round-off floor).  Flatness
along the orbit is necessary, not sufficient, for invariance: the note says "likely".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from manifoldscape.core.symmetry import (
    OrthogonalLeft,
    OrthogonalRight,
    Phase,
    SymmetryGroup,
    UnitaryRight,
)
from manifoldscape.core.tolerance import length_scale


def candidate_symmetries(x: Any) -> list[tuple[str, SymmetryGroup]]:
    """The continuous groups whose action fits the shape and field of the point x."""
    if isinstance(x, (list, tuple)):
        return []
    a = np.asarray(x)
    out: list[tuple[str, SymmetryGroup]] = []
    if np.iscomplexobj(a):
        if a.ndim == 2 and a.shape[1] >= 1:
            out.append((f"UnitaryRight({a.shape[1]})", UnitaryRight(a.shape[1])))
        out.append(("Phase()", Phase()))
        return out
    if a.ndim == 2:
        n, r = a.shape
        if r >= 2:
            out.append((f"OrthogonalRight({r})", OrthogonalRight(r)))
        if n >= 2:
            out.append((f"OrthogonalLeft({n})", OrthogonalLeft(n)))
    return out


def orbit_coordinates(manifold: Any, basis: Any, x: Any, vectors: list[Any]) -> np.ndarray:
    """Orthonormal coordinates (d × s) of the tangent directions spanned by orbit ``vectors``.

    Rank-revealing: the vectors are projected onto T_x M, and only the singular directions with
    σ > √ε · max(‖x‖, 1, σ_max) are kept — those whose direction is known to √ε on the length
    scale of the tolerances — so that a collapsing orbit (the O(r) orbit of a factor U with a
    zero column or at U ≈ 0, the rotations at W = H = 0) gives no false direction made of
    round-off.
    """
    if not vectors:
        return np.zeros((basis.dim, 0))
    s = np.stack([basis.to_coordinates(manifold.projection(x, v)) for v in vectors], axis=1)
    if not np.all(np.isfinite(s)):
        return np.zeros((basis.dim, 0))
    u, sigma, _ = np.linalg.svd(s, full_matrices=False)
    largest = float(sigma[0]) if sigma.size else 0.0
    keep = sigma > math.sqrt(np.finfo(float).eps) * max(length_scale(x), largest)
    return u[:, keep]


def suggest_symmetry(
    manifold: Any, hessian: Any, x: Any, threshold: float, null_dimension: int
) -> str | None:
    """A note naming the likely undeclared continuous symmetry at x, or None.

    ``hessian`` offers ``basis`` and ``apply_coordinates`` (a ``RiemannianHessian``);
    ``threshold`` is the certificate's τ + floor and ``null_dimension`` its count of zero
    eigenvalues.  The first candidate (``candidate_symmetries``) whose orbit directions all lie
    in the null space, and number at most ``null_dimension``, is named.
    """
    if null_dimension <= 0:
        return None
    basis = hessian.basis
    for expression, group in candidate_symmetries(x):
        try:
            q = orbit_coordinates(manifold, basis, x, group.orbit_tangent_vectors(x))
        except (ValueError, np.linalg.LinAlgError):
            continue
        k = q.shape[1]
        if k == 0 or k > null_dimension:
            continue
        leak = max(float(np.linalg.norm(hessian.apply_coordinates(q[:, j]))) for j in range(k))
        if leak <= threshold:
            rest = null_dimension - k
            tail = f"; {rest} zero eigenvalue(s) remain unexplained" if rest else ""
            return (
                f"{k} of the {null_dimension} zero eigenvalue(s) lie along the orbit of "
                f"{group.name} (the Hessian maps its directions to norm ≤ {leak:.3g}): the cost "
                f"is likely invariant under it; declare symmetry=ms.symmetry.{expression} to "
                f"count them as symmetry, not degeneracy{tail}"
            )
    return None
