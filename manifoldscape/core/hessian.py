"""The Riemannian Hessian at a point as an operator: applied, in coordinates, as a matrix.

In an orthonormal basis {b_k} of T_x M (``geometry.tangent_basis``) the Hessian is the symmetric
matrix H_ij = ⟨b_i, Hess f(x)[b_j]⟩ (Boumal, *An Introduction to Optimization on Smooth
Manifolds*, §5.5), whose inertia classifies a critical point.  The matrix is formed only for small
tangent dimensions, block by block with batched Hessian-vector products; beyond that the operator
c ↦ H c is handed to Lanczos (``scipy.sparse.linalg.eigsh``) matrix-free.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse.linalg

from manifoldscape.geometry import TangentBasis, stack_batch, tangent_basis

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem


class RiemannianHessian:
    """Hess f(x) for a problem at a point, with its orthonormal tangent basis."""

    def __init__(self, problem: Problem, point: Any, basis: TangentBasis | None = None):
        self.problem = problem
        self.point = point
        self._basis = basis
        self.applications = 0

    @cached_property
    def basis(self) -> TangentBasis:
        """Orthonormal basis of T_x M (matrix-free)."""
        return (
            self._basis
            if self._basis is not None
            else tangent_basis(self.problem.manifold, self.point)
        )

    @property
    def dim(self) -> int:
        """Tangent-space dimension d."""
        return self.basis.dim

    def apply(self, tangent_vector: Any) -> Any:
        """Hess f(x)[u]."""
        self.applications += 1
        return self.problem.riemannian_hessian(self.point, tangent_vector)

    def apply_coordinates(self, coordinates: np.ndarray) -> np.ndarray:
        """H c: the Hessian acting on tangent coordinates."""
        c = np.asarray(coordinates, dtype=float).reshape(-1)
        return self.basis.to_coordinates(self.apply(self.basis.to_vector(c)))

    def matrix(self, block: int = 256) -> np.ndarray:
        """The d × d matrix H_ij = ⟨b_i, Hess f(x)[b_j]⟩, symmetrized (small d only).

        ``asymmetry`` afterwards holds ‖H − Hᵀ‖_max / ‖H‖_max before symmetrization.
        """
        d = self.dim
        h = np.empty((d, d))
        eye = np.eye(d)
        for start in range(0, d, block):
            stop = min(start + block, d)
            vectors = self.basis.to_vectors(eye[start:stop])
            images = self.problem.riemannian_hessian_batch(self.point, vectors, stop - start)
            self.applications += stop - start
            h[:, start:stop] = self.basis.to_coordinates_batch(stack_batch(images)).T
        scale = max(float(np.max(np.abs(h))) if d else 0.0, 1e-300)
        self.asymmetry = float(np.max(np.abs(h - h.T))) / scale if d else 0.0
        return 0.5 * (h + h.T)

    def linear_operator(self) -> scipy.sparse.linalg.LinearOperator:
        """H as a matrix-free ``LinearOperator`` on R^d (coordinates)."""
        return scipy.sparse.linalg.LinearOperator(
            (self.dim, self.dim), matvec=self.apply_coordinates, dtype=float
        )
