"""The Riemannian Hessian at a point as an operator: applied, in coordinates, as a matrix.

In an orthonormal basis {b_k} of T_x M (``geometry.tangent_basis``) the Hessian is the symmetric
matrix H_ij = ⟨b_i, Hess f(x)[b_j]⟩ (Boumal, *An Introduction to Optimization on Smooth
Manifolds*, §5.5), whose inertia classifies a critical point.  The matrix is formed only for small
tangent dimensions, block by block with batched Hessian-vector products; beyond that the operator
c ↦ H c is handed to Lanczos (``scipy.sparse.linalg.eigsh``) matrix-free.
"""

from __future__ import annotations

import itertools
import math
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from manifoldscape.core.tolerance import safe_norm
from manifoldscape.geometry import TangentBasis, stack_batch, tangent_basis
from manifoldscape.geometry.layout import hook

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem


class RiemannianHessian:
    """Hess f(x) for a problem at a point, with its orthonormal tangent basis."""

    def __init__(self, problem: Problem, point: Any, basis: TangentBasis | None = None):
        self.problem = problem
        self.point = point
        self._basis = basis
        self.applications = 0
        #: the largest ‖∇²f[u]‖ + ‖W_u‖ + ‖Hess f[u]‖ over the unit vectors u applied so far: the
        #: scale of the round-off of the results (``manifoldscape.core.tolerance``)
        self.term_size = 0.0
        self._skew: np.ndarray | None = None
        self._asymmetry_norm: float | None = 0.0
        #: whether every entry of the last matrix formed is finite
        self.finite = True

    def _record(self, terms: list[float], norms: Any) -> None:
        if type(norms) is float and norms == 1.0:  # unit basis vectors: size / 1 = size
            for size in terms:
                self.term_size = max(self.term_size, size)
            return
        for size, norm in zip(terms, np.broadcast_to(norms, (len(terms),)), strict=True):
            if norm > 0 and np.isfinite(norm):
                self.term_size = max(self.term_size, size / norm)
            elif not np.isfinite(size):
                self.term_size = float("inf")

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
        terms: list[float] = []
        image = self.problem.riemannian_hessian(self.point, tangent_vector, terms)
        self._record(terms, safe_norm(tangent_vector))
        return image

    def apply_coordinates(self, coordinates: np.ndarray) -> np.ndarray:
        """H c: the Hessian acting on tangent coordinates."""
        c = np.asarray(coordinates, dtype=float).reshape(-1)
        return self.basis.to_coordinates(self.apply(self.basis.to_vector(c)))

    def matrix(self, block: int = 256) -> np.ndarray:
        """The d × d matrix H_ij = ⟨b_i, Hess f(x)[b_j]⟩, symmetrized (small d only).

        ``asymmetry`` afterwards holds ‖H − Hᵀ‖_max / ‖H‖_max before symmetrization and
        ``asymmetry_norm`` the spectral norm of its skew part (NaN if an entry is not finite).
        """
        d = self.dim
        h = np.empty((d, d))
        eye = _identity(d)
        # the terms the conversion cancels are measured on the first two columns (a shift puts
        # the same c I into every column); the asymmetry below measures the rest directly
        probes = min(d, 2)
        stacked = self.problem.stacks_hessian()  # one conversion per block (geometry.batched)
        # the bases of the stacked manifolds map the unit coordinates e_j exactly (one nonzero
        # term per entry), so all d basis vectors at once equal those formed block by block
        every = self.basis.to_vectors(eye) if stacked and d <= block else None
        # the same blocks on both paths, so the objective's products round off the same way
        edges = [0, probes, *range(probes + block, d, block), d] if probes else [0]
        for start, stop in itertools.pairwise(edges):
            if start == stop:
                continue
            terms: list[float] | None = [] if start == 0 else None
            if every is not None:
                vectors = every[start:stop]
            else:
                vectors = self.basis.to_vectors(eye[start:stop])
            if stacked:
                images = self.problem.riemannian_hessian_stack(
                    self.point, vectors, stop - start, terms
                )
            else:
                batch = self.problem.riemannian_hessian_batch(
                    self.point, vectors, stop - start, terms
                )
                images = stack_batch(batch)
            self.applications += stop - start
            if terms is not None:
                self._record(terms, 1.0)
            h[:, start:stop] = self.basis.to_coordinates_batch(images).T
        self._skew = None
        # max |h_ij| is finite exactly when every entry is (a NaN propagates through the max)
        scale = float(np.abs(h).max()) if d else math.nan
        self.finite = math.isfinite(scale)
        if self.finite:
            skew = 0.5 * (h - h.T)
            self.asymmetry = 2.0 * float(np.abs(skew).max()) / scale if scale > 0 else 0.0
            self._skew = skew  # its spectral norm (``asymmetry_norm``) on demand
            self._asymmetry_norm = None
        else:
            self.asymmetry = 0.0 if not d else float("nan")
            self._asymmetry_norm = 0.0 if not d else float("nan")
        return 0.5 * (h + h.T)

    @property
    def asymmetry_norm(self) -> float:
        """‖H − Hᵀ‖₂ / 2 of the last matrix formed (0 before), computed when first asked."""
        if self._asymmetry_norm is None:
            skew = self._skew
            self._asymmetry_norm = _spectral_norm_estimate(skew) if np.any(skew) else 0.0
        return self._asymmetry_norm

    def linear_operator(self) -> scipy.sparse.linalg.LinearOperator:
        """H as a matrix-free ``LinearOperator`` on R^d (coordinates)."""
        return scipy.sparse.linalg.LinearOperator(
            (self.dim, self.dim), matvec=self.apply_coordinates, dtype=float
        )


#: read-only identity matrices by size (the unit coordinates of a Hessian matrix's columns)
_IDENTITIES: dict[int, np.ndarray] = {}


def _identity(d: int) -> np.ndarray:
    eye = _IDENTITIES.get(d)
    if eye is None:
        eye = np.eye(d)
        eye.flags.writeable = False
        if d <= 512:
            _IDENTITIES[d] = eye
    return eye


def _spectral_norm_estimate(matrix: np.ndarray, iterations: int = 12) -> float:
    """‖M‖₂: exact up to 300 × 300, else by power iteration on MᵀM (a lower bound, O(d²)/step)."""
    if matrix.shape[1] <= 300:
        scale = float(np.max(np.abs(matrix)))
        if scale == 0.0 or not np.isfinite(scale):
            return scale
        return scale * float(np.linalg.norm(matrix / scale, 2))
    v = np.random.default_rng(0).standard_normal(matrix.shape[1])
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(iterations):
        w = matrix @ v
        estimate = safe_norm(w)
        if estimate == 0.0 or not np.isfinite(estimate):
            break
        v = matrix.T @ (w / estimate)
        size = safe_norm(v)
        if size == 0.0 or not np.isfinite(size):
            break
        v /= size
    return estimate


def hessian_norm_estimate(problem: Any, point: Any, steps: int = 4, seed: int = 0) -> float:
    """Max |Ritz value| of ``steps`` Lanczos steps on Hess f(x): a lower bound on ‖Hess f(x)‖.

    Runs on tangent vectors in the manifold's metric (no tangent basis is formed), from a
    random tangent vector drawn from ``seed``; ``problem`` may be an ``EvaluationCounter``, so the
    products are counted.  The extreme Ritz values of a few steps are within a small factor of
    the extreme eigenvalues for the spread spectra met in practice (Kuczyński and Woźniakowski,
    SIAM J. Matrix Anal. Appl. 13, 1992, bound the expected ratio for random starts).
    """
    from manifoldscape.geometry import inner_product, random_tangent_vector, to_tangent_space

    manifold = problem.manifold
    v = _start_vector(manifold, point, seed, random_tangent_vector)
    size = float(manifold.norm(point, v))
    if not (size > 0 and np.isfinite(size)):
        return 0.0
    v = v / size
    previous, beta = None, 0.0
    alphas: list[float] = []
    betas: list[float] = []
    for _ in range(steps):
        # back onto T_x M: the round-off normal part of a product is amplified by the next one
        # (by ‖∇f‖ through the Weingarten term, huge under a shift)
        w = to_tangent_space(manifold, point, problem.riemannian_hessian(point, v))
        alpha = inner_product(manifold, point, w, v)
        if not np.isfinite(alpha):
            return float("nan")
        w = w - alpha * v if previous is None else w - alpha * v - beta * previous
        alphas.append(alpha)
        beta = float(manifold.norm(point, w))
        if not (beta > 1e-12 * max(abs(a) for a in alphas)) or len(alphas) == steps:
            break
        betas.append(beta)
        previous, v = v, w / beta
    ritz = _tridiagonal_eigenvalues(np.array(alphas), np.array(betas[: len(alphas) - 1]))
    return float(np.max(np.abs(ritz)))


#: unit coordinates of the Lanczos start by (seed, tangent dimension): a fresh generator's
#: draw costs more than the few products of the estimate
_START_COORDINATES: dict[tuple[int, int], np.ndarray] = {}


def _start_vector(manifold: Any, point: Any, seed: int, draw: Any) -> Any:
    """``draw(manifold, point, numpy.random.default_rng(seed))`` (``random_tangent_vector``).

    A unit tangent vector, Gaussian in orthonormal tangent coordinates; the normalized
    coordinates drawn from an integer seed are remembered per tangent dimension, so only the
    basis is formed at each point.  A manifold with its own draw draws each time.
    """
    if type(seed) is not int or hook(manifold, "seeded_random_tangent_vector") is not None:
        return draw(manifold, point, np.random.default_rng(seed))
    basis = tangent_basis(manifold, point)
    key = (seed, basis.dim)
    coordinates = _START_COORDINATES.get(key)
    if coordinates is None:
        coordinates = np.random.default_rng(seed).standard_normal(basis.dim)
        norm = np.linalg.norm(coordinates)
        coordinates = coordinates / norm if norm > 0 else coordinates
        coordinates.flags.writeable = False
        if len(_START_COORDINATES) < 64:
            _START_COORDINATES[key] = coordinates
    return basis.to_vector(coordinates)


_DSTEVD = scipy.linalg.get_lapack_funcs("stevd", dtype=np.float64)


def _tridiagonal_eigenvalues(d: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``scipy.linalg.eigvalsh_tridiagonal(d, e)``: its LAPACK ``dstevd`` call, made directly.

    scipy's checks and dispatch cost more than the solve of the few Ritz values; any input but
    finite real diagonals of two or more entries goes to scipy (its checks and messages).
    """
    if (
        d.dtype == np.float64
        and e.dtype == np.float64
        and d.ndim == 1
        and d.size > 1
        and e.size == d.size - 1
        and np.isfinite(d).all()
        and np.isfinite(e).all()
    ):
        w, _, info = _DSTEVD(d, e, compute_v=False)
        if info == 0:
            return w[: d.size]
    return scipy.linalg.eigvalsh_tridiagonal(d, e)
