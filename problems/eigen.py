"""Eigenvectors, singular pairs and eigenspaces: the first family of benign nonconvex problems.

* ``rayleigh``: min_{‖x‖=1} −xᵀAx (seed 001, "A classical example: the Rayleigh quotient").  With
  A = Σ λ_i v_i v_iᵀ, λ₁ > … > λ_n, the critical points are ±v_i; the Riemannian Hessian at v_i is
  −2(A − λ_i I) on v_i^⊥, with eigenvalues −2(λ_j − λ_i), j ≠ i, so ±v_i has index i − 1: ±v₁
  are the only minimizers, ±v_n the only maximizers, everything else a strict saddle.
* ``singular_pair``: min_{‖u‖=‖v‖=1} −uᵀAv (seed 000, the power-iteration slides): critical points
  (±u_i, ±v_i) with value −σ_i and (±u_i, ∓v_i) with value σ_i; only (±u₁, ±v₁) are minimizers,
  only (±u₁, ∓v₁) maximizers, all others strict saddles.
* ``eigenspace``: min_{XᵀX = I} −½ tr(XᵀAX) on the Grassmann or the Stiefel manifold (seed 003,
  Fig. 4 "eigenspace computation", symmetry X ↦ XR, G = O(r)).  At the span of eigenvectors
  {v_i : i ∈ S} the Hessian eigenvalues on the Grassmann manifold are λ_j − λ_i for i ∈ S,
  j ∉ S, so the index is #{(i ∈ S, j ∉ S) : λ_j > λ_i}.

A may be a dense array, a scipy sparse matrix or a ``scipy.sparse.linalg.LinearOperator``: every
derivative is a product with A, so nothing of size n × n is formed when A is matrix-free.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import autograd.numpy as anp
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from pymanopt.manifolds import Grassmann, Product, Sphere, Stiefel

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_finite,
    require_nonempty,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import OrthogonalRight, Sign
from manifoldscape.geometry import random_point

logger = logging.getLogger(__name__)

MatrixLike = np.ndarray | scipy.sparse.spmatrix | scipy.sparse.linalg.LinearOperator

_AUTOGRAD_DENSE_LIMIT = 4000


# --------------------------------------------------------------------------- matrix handling
def _as_operator(a: Any, name: str, *, square: bool, symmetric: bool, seed: int = 0) -> Any:
    """Validate a dense, sparse or matrix-free A at the boundary and return it."""
    shape = getattr(a, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        require_nonempty(shape, name)
    if isinstance(a, scipy.sparse.linalg.LinearOperator):
        if np.dtype(a.dtype).kind == "c":
            raise ValueError(f"{name} must be real, got a complex LinearOperator")
        shape = a.shape
        rng = np.random.default_rng(seed)
        probe_u = rng.standard_normal(shape[1])
        probe_v = rng.standard_normal(shape[0])
        au = a.matvec(probe_u)
        if symmetric:
            atv = au  # Aᵀ = A: rmatvec is never needed
        else:
            try:
                atv = a.rmatvec(probe_v)
            except NotImplementedError as exc:
                raise ValueError(f"{name} as a LinearOperator must define rmatvec (Aᵀ v)") from exc
        if not (np.all(np.isfinite(au)) and np.all(np.isfinite(atv))):
            raise ValueError(
                f"{name} must be finite: its products with a random vector hold NaN or Inf"
            )
        if square and shape[0] != shape[1]:
            raise ValueError(f"{name} must be square, got shape {shape}")
        if symmetric:
            av = a.matvec(probe_v)
            gap = abs(probe_v @ au - probe_u @ av)
            if gap > 1e-8 * (np.linalg.norm(au) * np.linalg.norm(probe_v) + 1e-300):
                raise ValueError(f"{name} must be symmetric: ⟨v, A u⟩ ≠ ⟨A v, u⟩ for random u, v")
        return a
    if scipy.sparse.issparse(a):
        if a.dtype.kind == "c":
            raise ValueError(f"{name} must be real, got a complex sparse matrix")
        if a.ndim != 2 or (square and a.shape[0] != a.shape[1]):
            raise ValueError(f"{name} must be a square matrix, got shape {a.shape}")
        a = scipy.sparse.csr_array(a, dtype=float)
        require_finite(a.data, name)
        if symmetric:
            asym = abs(a - a.T).max() if a.nnz else 0.0
            if asym > 1e-10 * max(abs(a).max() if a.nnz else 0.0, 1e-300):
                raise ValueError(f"{name} must be symmetric, but max |A − Aᵀ| = {asym:.3g}")
        return a
    a = as_real_array(a, name, ndim=2)
    if square and a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be square, got shape {a.shape}")
    if symmetric:
        asym = float(np.max(np.abs(a - a.T))) if a.size else 0.0
        if asym > 1e-10 * max(float(np.max(np.abs(a))), 1e-300):
            raise ValueError(f"{name} must be symmetric, but max |A − Aᵀ| = {asym:.3g}")
    return a


def _apply(a: Any, v: np.ndarray) -> np.ndarray:
    """A v for v of shape (n,), (n, k) or a batch (b, n, k) (batch folded into one product)."""
    if v.ndim <= 2:
        return np.asarray(a @ v)
    b, n, k = v.shape
    out = np.asarray(a @ v.transpose(1, 0, 2).reshape(n, b * k))
    return out.reshape(-1, b, k).transpose(1, 0, 2)


def _apply_transpose(a: Any, v: np.ndarray) -> np.ndarray:
    if isinstance(a, scipy.sparse.linalg.LinearOperator):
        return np.asarray(a.rmatmat(v) if v.ndim == 2 else a.rmatvec(v))
    return np.asarray(a.T @ v)


def _dense_for_autograd(a: Any) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a
    if max(a.shape) > _AUTOGRAD_DENSE_LIMIT:
        raise NotImplementedError(
            f"the autograd twin needs a dense A; {a.shape} is too large to densify"
        )
    if scipy.sparse.issparse(a):
        return a.toarray()
    return a @ np.eye(a.shape[1])


def _spectrum(spectrum: str | Sequence[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct eigenvalues in decreasing order for a seeded instance."""
    if isinstance(spectrum, str):
        if spectrum == "linear":
            values = np.linspace(1.0, -1.0, n) if n > 1 else np.ones(1)
        elif spectrum == "random":
            values = np.sort(rng.standard_normal(n))[::-1]
        else:
            raise ValueError(
                f"spectrum must be 'linear', 'random' or a list of {n} numbers, got {spectrum!r}"
            )
    else:
        values = as_real_array(spectrum, "spectrum", ndim=1)
        if values.shape != (n,):
            raise ValueError(f"spectrum must have {n} values, got {values.shape[0]}")
        values = np.sort(values)[::-1]
    return values


def _haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    return random_point(Stiefel(n, n), rng) if n > 1 else np.ones((1, 1))


def _top_eigenvectors(a: Any, p: int, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Top p eigenpairs of symmetric A, or None when λ_p = λ_{p+1} (the truth is not unique)."""
    n = a.shape[0]
    if (isinstance(a, np.ndarray) and n <= 2000) or n <= p + 2:
        values, vectors = np.linalg.eigh(_dense_for_autograd(a))
        values, vectors = values[::-1], vectors[:, ::-1]
    else:
        values, vectors = scipy.sparse.linalg.eigsh(a, k=p + 1, which="LA", tol=1e-12)
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
    # a gap below the eigenvalues' accuracy: relative to their spread (which a shift A + cI does
    # not change) and to the round-off ε max |λ| of the computed eigenvalues
    spread = float(values[0] - values[-1])
    floor = 32 * np.finfo(float).eps * float(np.max(np.abs(values)))
    if p < n and values[p - 1] - values[p] <= 1e-10 * spread + floor:
        logger.warning(
            "%s has a repeated eigenvalue at position %d: no unique ground truth", name, p
        )
        return None
    return values, vectors[:, :p]


def _single_copy(a: Any) -> Any:
    """A float32 copy of a dense or sparse A (``astype``), or False when A has no ``astype``."""
    if isinstance(a, np.ndarray):
        return np.ascontiguousarray(a, dtype=np.float32)
    astype = getattr(a, "astype", None)
    if astype is None:
        return False
    try:
        return astype(np.float32)
    except (TypeError, ValueError, NotImplementedError):
        return False


# --------------------------------------------------------------------------- Rayleigh quotient
class RayleighObjective(Objective):
    """f(x) = −xᵀAx, ∇f = −2Ax, ∇²f[u] = −2Au (seed 001, the boxed Rayleigh problem).

    ``euclidean_hessian_single`` computes −2Au in float32 with a float32 copy of A made on its
    first call: 50% more memory for a dense A (a quarter more for a sparse one), spent only when
    single precision is asked for (trust regions with ``inner_precision="single"``).  A
    ``LinearOperator`` without ``astype`` is applied in double and the product rounded.
    """

    batched_hessian = True

    def __init__(self, a: Any):
        self.a = a
        self._a_single: Any = None

    def prepare(self, x: np.ndarray) -> np.ndarray:  # noqa: D102
        return np.asarray(self.a @ x)

    def cost(self, x: np.ndarray, ax: np.ndarray) -> float:  # noqa: D102
        return -float(x @ ax)

    def euclidean_gradient(self, x: np.ndarray, ax: np.ndarray) -> np.ndarray:  # noqa: D102
        return -2.0 * ax

    def euclidean_hessian(self, x: np.ndarray, ax: np.ndarray, u: np.ndarray) -> np.ndarray:  # noqa: D102
        if u.ndim == 2:  # batch of directions, one per row
            return -2.0 * _apply(self.a, u.T).T
        return -2.0 * np.asarray(self.a @ u)

    def euclidean_hessian_single(self, x: np.ndarray, ax: np.ndarray, u: np.ndarray) -> np.ndarray:
        """−2Au for a float32 direction u, in float32 (with the float32 copy of A)."""
        if self._a_single is None:
            self._a_single = _single_copy(self.a)
        if self._a_single is False:  # no float32 form: the product in double, rounded
            return (-2.0 * np.asarray(self.a @ u.astype(np.float64))).astype(np.float32)
        return np.float32(-2.0) * np.asarray(self._a_single @ u, dtype=np.float32)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return -anp.dot(x, anp.dot(_dense_for_autograd(self.a), x))

    # batched evaluation: K points as the columns of X (n × K), one product A X for all of them
    def prepare_batch(self, x: np.ndarray) -> np.ndarray:
        """A X for points stacked as the columns of X (n × K): one matrix-matrix product."""
        return np.asarray(self.a @ x)

    def cost_batch(self, x: np.ndarray, ax: np.ndarray) -> np.ndarray:
        """f(x_k) = −x_kᵀ A x_k for every column k (shape (K,))."""
        return -np.einsum("ik,ik->k", x, ax)

    def gradient_batch(self, x: np.ndarray, ax: np.ndarray) -> np.ndarray:
        """∇f(x_k) = −2 A x_k, column by column (n × K)."""
        return -2.0 * ax

    def hessian_data_batch(self, x: np.ndarray, ax: np.ndarray) -> None:
        """What ``hessian_batch`` reads of the prepared data: nothing (∇²f is −2A everywhere)."""
        return None

    def hessian_batch(self, x: np.ndarray, u: np.ndarray, data: Any = None) -> np.ndarray:
        """∇²f(x_k)[u_k] = −2 A u_k, column by column (n × K): one product A U (``data`` unused)."""
        return -2.0 * np.asarray(self.a @ u)


def rayleigh(
    A: MatrixLike | None = None,
    *,
    n: int = 50,
    spectrum: str | Sequence[float] = "linear",
    seed: Seed = None,
) -> Problem:
    """Rayleigh quotient min_{‖x‖₂=1} −xᵀAx on the sphere S^{n−1} (seed 001).

    Give a symmetric ``A`` (dense, sparse or ``LinearOperator``), or let the factory build
    A = Q diag(λ) Qᵀ with Haar-random Q from ``seed`` and eigenvalues ``spectrum`` ("linear":
    equispaced from 1 to −1; "random": sorted Gaussian; or n numbers).  The ground truth is the top
    eigenvector v₁ (none if λ₁ = λ₂); the symmetry group is {±1}.
    """
    rng = as_generator(seed)
    if A is None:
        n = require_positive_int(n, "n", minimum=2)
        require_memory(32 * n * n, f"rayleigh(n={n}): A = Q diag(λ) Qᵀ is n × n")
        values = _spectrum(spectrum, n, rng)
        q = _haar_orthogonal(n, rng)
        a = (q * values) @ q.T
        a = 0.5 * (a + a.T)
        objective = RayleighObjective(a)
        objective.eigenvalues, objective.eigenvectors = values, q
        truth = q[:, 0] if values[0] > values[1] else None
        params = {"n": n, "spectrum": spectrum if isinstance(spectrum, str) else list(values)}
    else:
        a = _as_operator(A, "A", square=True, symmetric=True)
        n = a.shape[0]
        if n < 2:
            raise ValueError(f"A must be at least 2 × 2, got shape {a.shape}")
        objective = RayleighObjective(a)
        top = _top_eigenvectors(a, 1, "A")
        truth = None if top is None else top[1][:, 0]
        params = {"n": n, "spectrum": "user"}
    return Problem(
        Sphere(n),
        objective,
        name="rayleigh",
        symmetry=Sign(),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )


# --------------------------------------------------------------------------- singular pair
class SingularPairObjective(Objective):
    """f(u, v) = −uᵀAv; ∇f = (−Av, −Aᵀu); ∇²f[(u̇, v̇)] = (−A v̇, −Aᵀ u̇) (seed 000)."""

    def __init__(self, a: Any):
        self.a = a

    def prepare(self, x: list) -> tuple[np.ndarray, np.ndarray]:  # noqa: D102
        u, v = x
        return np.asarray(self.a @ v), _apply_transpose(self.a, u)

    def cost(self, x: list, data: tuple) -> float:  # noqa: D102
        return -float(x[0] @ data[0])

    def euclidean_gradient(self, x: list, data: tuple) -> list:  # noqa: D102
        return [-data[0], -data[1]]

    def euclidean_hessian(self, x: list, data: tuple, direction: list) -> list:  # noqa: D102
        du, dv = direction
        return [-np.asarray(self.a @ dv), -_apply_transpose(self.a, du)]

    def autograd_cost(self, x: list) -> Any:  # noqa: D102
        return -anp.dot(x[0], anp.dot(_dense_for_autograd(self.a), x[1]))


def singular_pair(
    A: MatrixLike | None = None,
    *,
    m: int = 6,
    n: int | None = None,
    singular_values: str | Sequence[float] = "linear",
    seed: Seed = None,
) -> Problem:
    """Top singular pair: min −uᵀAv over S^{m−1} × S^{n−1} (seed 000, power iteration).

    Give ``A`` (dense, sparse or ``LinearOperator``, m × n), or let the factory build
    A = U diag(σ) Vᵀ with Haar-random U, V ("linear": σ_i = (k − i + 1)/k; or k = min(m, n)
    numbers).  Ground truth (u₁, v₁); symmetry (u, v) ↦ (−u, −v).
    """
    rng = as_generator(seed)
    if A is None:
        m = require_positive_int(m, "m", minimum=2)
        n = m if n is None else require_positive_int(n, "n", minimum=2)
        k = min(m, n)
        require_memory(8 * (m * m + n * n + 2 * m * n), f"singular_pair(m={m}, n={n}): A is m × n")
        if isinstance(singular_values, str):
            if singular_values != "linear":
                raise ValueError(f"singular_values must be 'linear' or a list of {k} numbers")
            sigma = np.arange(k, 0, -1) / k
        else:
            sigma = np.sort(as_real_array(singular_values, "singular_values", ndim=1))[::-1]
            if sigma.shape != (k,) or np.any(sigma < 0):
                raise ValueError(f"singular_values must be {k} non-negative numbers")
        left, right = _haar_orthogonal(m, rng)[:, :k], _haar_orthogonal(n, rng)[:, :k]
        a = (left * sigma) @ right.T
        objective = SingularPairObjective(a)
        objective.singular_values, objective.left, objective.right = sigma, left, right
        truth = [left[:, 0], right[:, 0]] if k == 1 or sigma[0] > sigma[1] else None
        params = {"m": m, "n": n}
    else:
        a = _as_operator(A, "A", square=False, symmetric=False)
        m, n = a.shape
        if min(m, n) < 2:
            raise ValueError(f"A must be at least 2 × 2, got shape {a.shape}")
        objective = SingularPairObjective(a)
        truth = None
        if min(m, n) >= 3:
            uu, ss, vvt = scipy.sparse.linalg.svds(a, k=2, tol=1e-12, random_state=0)
            order = np.argsort(ss)[::-1]
            if ss[order[0]] - ss[order[1]] > 1e-10 * ss[order[0]]:
                truth = [uu[:, order[0]], vvt[order[0]]]
        else:
            uu, ss, vvt = np.linalg.svd(_dense_for_autograd(a))
            if ss[0] - ss[1] > 1e-10 * ss[0]:
                truth = [uu[:, 0], vvt[0]]
        params = {"m": m, "n": n}
    return Problem(
        Product([Sphere(m), Sphere(n)]),
        objective,
        name="singular_pair",
        symmetry=Sign(),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )


# --------------------------------------------------------------------------- eigenspace
class EigenspaceObjective(Objective):
    """f(X) = −½ tr(XᵀAX); ∇f = −AX; ∇²f[U] = −AU (seed 003, Fig. 4)."""

    batched_hessian = True

    def __init__(self, a: Any):
        self.a = a

    def prepare(self, x: np.ndarray) -> np.ndarray:  # noqa: D102
        return _apply(self.a, x)

    def cost(self, x: np.ndarray, ax: np.ndarray) -> float:  # noqa: D102
        return -0.5 * float(np.sum(x * ax))

    def euclidean_gradient(self, x: np.ndarray, ax: np.ndarray) -> np.ndarray:  # noqa: D102
        return -ax

    def euclidean_hessian(self, x: np.ndarray, ax: np.ndarray, u: np.ndarray) -> np.ndarray:  # noqa: D102
        return -_apply(self.a, u)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return -0.5 * anp.sum(x * anp.dot(_dense_for_autograd(self.a), x))


def eigenspace(
    A: MatrixLike | None = None,
    *,
    n: int = 6,
    p: int = 2,
    manifold: str = "grassmann",
    spectrum: str | Sequence[float] = "linear",
    seed: Seed = None,
) -> Problem:
    """Principal subspace: min_{XᵀX=I} −½ tr(XᵀAX) (seed 003, Fig. 4), X of size n × p.

    ``manifold`` is "grassmann" (points are subspaces) or "stiefel" (orthonormal bases; the O(p)
    orbit X ↦ XR gives p(p−1)/2 zero Hessian eigenvalues, reported as symmetry).  A and the
    seeded instance as for ``rayleigh``; the ground truth is the top-p eigenvectors, compared
    modulo O(p).
    """
    if manifold not in ("grassmann", "stiefel"):
        raise ValueError(f"manifold must be 'grassmann' or 'stiefel', got {manifold!r}")
    rng = as_generator(seed)
    p = require_positive_int(p, "p")
    if A is None:
        n = require_positive_int(n, "n", minimum=2)
        if p >= n:
            raise ValueError(f"p must be smaller than n = {n}, got p = {p}")
        require_memory(32 * n * n, f"eigenspace(n={n}): A is n × n")
        values = _spectrum(spectrum, n, rng)
        q = _haar_orthogonal(n, rng)
        a = (q * values) @ q.T
        a = 0.5 * (a + a.T)
        objective = EigenspaceObjective(a)
        objective.eigenvalues, objective.eigenvectors = values, q
        truth = q[:, :p] if values[p - 1] > values[p] else None
        params = {
            "n": n,
            "p": p,
            "manifold": manifold,
            "spectrum": spectrum if isinstance(spectrum, str) else list(values),
        }
    else:
        a = _as_operator(A, "A", square=True, symmetric=True)
        n = a.shape[0]
        if p >= n:
            raise ValueError(f"p must be smaller than n = {n}, got p = {p}")
        objective = EigenspaceObjective(a)
        top = _top_eigenvectors(a, p, "A")
        truth = None if top is None else top[1]
        params = {"n": n, "p": p, "manifold": manifold, "spectrum": "user"}
    space = Grassmann(n, p) if manifold == "grassmann" else Stiefel(n, p)
    return Problem(
        space,
        objective,
        name="eigenspace",
        symmetry=OrthogonalRight(p),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )
