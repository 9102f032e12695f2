"""Symmetry groups: the action on points, the distance modulo the group, the orbit's tangents.

A problem with symmetry group G satisfies f(g · x) = f(x) for all g ∈ G (seed 003, §1: "symmetric
nonconvex problems").  Two consequences shape landscape analysis:

* recovery is only possible modulo G, so success is measured by
  dist_G(x, x♮) = min_{g ∈ G} ‖x − g · x♮‖;
* a continuous G makes every critical point part of a manifold of critical points, so the
  Riemannian Hessian has exact zero eigenvalues along the orbit's tangent directions
  {d/dt (g(t) · x)|_{t=0}}.  The certificate separates these out and reports them as symmetry,
  not as degeneracy (seed 003, Fig. 4: eigenspace X ↦ XR, G = O(r); phase retrieval
  x ↦ x e^{iφ}, G = S¹).

Points are arrays, or lists of arrays for product manifolds; a group acting on a list acts on the
concatenated vector unless stated otherwise (``ProductGroup`` acts factor by factor).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def _flat(point: Any) -> np.ndarray:
    if isinstance(point, (list, tuple)):
        return np.concatenate([np.ravel(np.asarray(p)) for p in point])
    return np.ravel(np.asarray(point))


def _like(vector: np.ndarray, point: Any) -> Any:
    if isinstance(point, (list, tuple)):
        out, start = [], 0
        for p in point:
            size = np.size(p)
            out.append(vector[start : start + size].reshape(np.shape(p)))
            start += size
        return out
    return vector.reshape(np.shape(point))


class SymmetryGroup(abc.ABC):
    """A group G acting on the points of a manifold and leaving the cost invariant."""

    #: dimension of the group as a manifold (0 for a finite group)
    dimension: int = 0
    #: human-readable name
    name: str = "G"

    @abc.abstractmethod
    def distance(self, x: Any, y: Any) -> float:
        """dist_G(x, y) = min_{g ∈ G} ‖x − g · y‖ (Euclidean norm of the embedding)."""

    @abc.abstractmethod
    def align(self, x: Any, reference: Any) -> Any:
        """The element g · x of the orbit of x closest to ``reference``."""

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:
        """Ambient vectors spanning the tangent space of the orbit G · x (empty if G is finite)."""
        return []

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Identity(SymmetryGroup):
    """The trivial group: no symmetry."""

    name: str = "trivial"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        return float(np.linalg.norm(_flat(x) - _flat(y)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        return x


@dataclass(frozen=True, repr=False)
class Sign(SymmetryGroup):
    """The group {±1} acting by x ↦ −x (on all factors of a product at once).

    Rayleigh quotient (seed 001: minimizers ±v₁), top singular pair (seed 000: (±u₁, ±v₁)),
    real phase retrieval (seed 003 §2).
    """

    name: str = "sign {±1}"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = _flat(x), _flat(y)
        return float(min(np.linalg.norm(a - b), np.linalg.norm(a + b)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        sign = -1.0 if np.linalg.norm(a + b) < np.linalg.norm(a - b) else 1.0
        return _like(sign * a, x)


@dataclass(frozen=True, repr=False)
class Phase(SymmetryGroup):
    """The circle group U(1) ≅ S¹ acting by x ↦ e^{iφ} x on complex points.

    dist(x, y) = min_φ ‖x − e^{iφ} y‖ = (‖x‖² + ‖y‖² − 2 |⟨y, x⟩|)^{1/2} (seed 003 §2.1),
    evaluated as ‖x − e^{iφ*} y‖ at the optimal phase to avoid cancellation; the orbit tangent
    at x is i x.
    """

    name: str = "phase U(1)"
    dimension: int = 1

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a = _flat(x)
        return float(np.linalg.norm(a - _flat(self.align(y, x))))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        inner = np.vdot(a, b)
        phase = inner / abs(inner) if abs(inner) > 0 else 1.0
        return _like(phase * a, x)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        return [_like(1j * _flat(x), x)]


@dataclass(frozen=True, repr=False)
class OrthogonalRight(SymmetryGroup):
    """O(r) acting on the right, X ↦ X R, for n × r real matrices.

    Eigenspace on Stiefel (seed 003 Fig. 4, G = O(r)), symmetric factorization U Uᵀ (seed 003
    App. A).  The distance is the orthogonal Procrustes problem:
    min_R ‖X − Y R‖_F² = ‖X‖² + ‖Y‖² − 2 ‖Yᵀ X‖_*, attained at R = polar(Yᵀ X).  Orbit tangents
    at X are X Ω for skew Ω (dimension r(r−1)/2).

    A point given as a list of matrices (U, V), each with r columns, is acted on by the *same* R
    in every factor, (U, V) ↦ (U R, V R): the O(r) symmetry of a balanced asymmetric
    factorization (seed 003, eq. 2.15).  The list is treated as the stacked matrix [U; V].
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"O({self.r}) right action")
        object.__setattr__(self, "dimension", self.r * (self.r - 1) // 2)

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        if isinstance(x, (list, tuple)):
            parts = [self._matrix(p, f"{what}[{k}]") for k, p in enumerate(x)]
            return np.vstack(parts) if parts else np.zeros((0, self.r))
        m = np.asarray(x)
        if m.ndim != 2 or m.shape[1] != self.r:
            raise ValueError(
                f"{what} must be an n × {self.r} matrix for {self.name}, got shape {m.shape}"
            )
        if np.iscomplexobj(m):
            raise ValueError(f"{what} must be real for {self.name}")
        return m

    def _rotation(self, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
        u, _, vt = np.linalg.svd(x.T @ reference)
        return u @ vt

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        return float(np.linalg.norm(a - b @ self._rotation(b, a)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        moved = a @ self._rotation(a, b)
        return _split_rows(moved, x) if isinstance(x, (list, tuple)) else moved

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._matrix(x, "x")
        out = []
        for i, j in zip(*np.triu_indices(self.r, 1), strict=True):
            omega = np.zeros((self.r, self.r))
            omega[i, j], omega[j, i] = 1.0, -1.0
            t = a @ omega / np.sqrt(2.0)
            out.append(_split_rows(t, x) if isinstance(x, (list, tuple)) else t)
        return out


def _split_rows(stacked: np.ndarray, like: Sequence[Any]) -> list[np.ndarray]:
    """Split a stacked matrix [U; V; …] back into blocks with the row counts of ``like``."""
    out, start = [], 0
    for p in like:
        rows = np.shape(p)[0]
        out.append(stacked[start : start + rows])
        start += rows
    return out


@dataclass(frozen=True, repr=False)
class GeneralLinear(SymmetryGroup):
    """GL(r) acting on a pair of factors, (U, V) ↦ (U Γ, V Γ^{-T}), Γ invertible r × r.

    The symmetry of every loss of the product U Vᵀ (seed 003, eqs. 2.12–2.13; seed 001,
    "Symmetries in matrix recovery").  Its orbit through (U, V) with U, V of full column rank
    is an r²-dimensional manifold; differentiating Γ(t) = I + tΩ gives the orbit tangents

        (U Ω, −V Ωᵀ),   Ω ∈ R^{r×r}   (dimension r²),

    which ``orbit_tangent_vectors`` returns for the r² unit matrices Ω = E_ij.

    GL(r) is not compact, so min_Γ ‖x − Γ · y‖ need not be attained (seed 003, footnote 11: the
    orbit is neither closed nor bounded).  ``distance`` is therefore a distance between *orbits*
    through their balanced representatives: every full-rank pair has a balanced point
    bal(U, V) = (P Σ^{1/2}, Q Σ^{1/2}) on its orbit, with U Vᵀ = P Σ Qᵀ the thin SVD, unique up
    to (U, V) ↦ (U R, V R), R ∈ O(r); so

        dist_GL(x, y) = min_{R ∈ O(r)} ‖bal(x) − bal(y) R‖_F,

    which is zero exactly when U Vᵀ = U' V'ᵀ and has the units of the factors (not of the
    product).  ``align(x, reference)`` returns (U Γ, V Γ^{-T}) with Γ = U⁺ U_ref, the least
    squares fit of the first factor, which is exact when x and the reference lie on the same
    orbit; when that Γ is singular or ill-conditioned it falls back to the balanced
    representative of x rotated onto the reference.
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"GL({self.r}) (U Γ, V Γ^-T)")
        object.__setattr__(self, "dimension", self.r * self.r)

    def _pair(self, x: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise ValueError(f"{what} must be a pair [U, V] of factors for {self.name}")
        u, v = np.asarray(x[0]), np.asarray(x[1])
        for label, m in (("U", u), ("V", v)):
            if m.ndim != 2 or m.shape[1] != self.r:
                raise ValueError(
                    f"{what}: {label} must be a matrix with {self.r} columns for {self.name}, "
                    f"got shape {m.shape}"
                )
            if np.iscomplexobj(m):
                raise ValueError(f"{what}: {label} must be real for {self.name}")
        return u, v

    def balanced(self, x: Any) -> list[np.ndarray]:
        """The balanced representative (P Σ^{1/2}, Q Σ^{1/2}) of the orbit of x = (U, V).

        Computed from thin QR factorizations of U and V and the SVD of an r × r matrix, in
        O((n₁ + n₂) r²) operations; U Vᵀ is never formed.
        """
        u, v = self._pair(x, "x")
        qu, ru = np.linalg.qr(u)
        qv, rv = np.linalg.qr(v)
        a, sigma, bt = np.linalg.svd(ru @ rv.T)
        root = np.sqrt(sigma)
        return [qu @ (a * root), qv @ (bt.T * root)]

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a = np.vstack(self.balanced(x))
        b = np.vstack(self.balanced(y))
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shapes, got {a.shape} and {b.shape}")
        w, _, zt = np.linalg.svd(b.T @ a)
        return float(np.linalg.norm(a - b @ (w @ zt)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        u, v = self._pair(x, "x")
        ur, vr = self._pair(reference, "reference")
        gamma = np.linalg.lstsq(u, ur, rcond=None)[0]
        if np.linalg.cond(gamma) < 1e10:
            return [u @ gamma, v @ np.linalg.inv(gamma).T]
        a = np.vstack(self.balanced(x))
        b = np.vstack([ur, vr])
        w, _, zt = np.linalg.svd(a.T @ b)
        return _split_rows(a @ (w @ zt), [u, v])

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        u, v = self._pair(x, "x")
        out = []
        for i in range(self.r):
            for j in range(self.r):
                # Ω = E_ij: (U Ω, −V Ωᵀ) = (U[:, i] e_jᵀ, −V[:, j] e_iᵀ)
                du = np.zeros_like(u, dtype=float)
                dv = np.zeros_like(v, dtype=float)
                du[:, j] = u[:, i]
                dv[:, i] = -v[:, j]
                out.append([du, dv])
        return out


@dataclass(frozen=True, repr=False)
class ProductGroup(SymmetryGroup):
    """G₁ × … × G_k acting factor by factor on a point (x₁, …, x_k) of a product manifold.

    The distance is (Σ dist_{G_i}(x_i, y_i)²)^{1/2}, since the factors' group elements are chosen
    independently.
    """

    factors: Sequence[SymmetryGroup] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.factors or not all(isinstance(g, SymmetryGroup) for g in self.factors):
            raise TypeError("factors must be a non-empty sequence of SymmetryGroup")
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "name", self.name or " × ".join(g.name for g in self.factors))
        object.__setattr__(self, "dimension", sum(g.dimension for g in self.factors))

    def _parts(self, x: Any, what: str) -> list:
        if not isinstance(x, (list, tuple)) or len(x) != len(self.factors):
            raise ValueError(
                f"{what} must be a list of {len(self.factors)} factors for {self.name}"
            )
        return list(x)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        xs, ys = self._parts(x, "x"), self._parts(y, "y")
        return float(
            np.sqrt(
                sum(g.distance(a, b) ** 2 for g, a, b in zip(self.factors, xs, ys, strict=True))
            )
        )

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        xs, rs = self._parts(x, "x"), self._parts(reference, "reference")
        return [g.align(a, r) for g, a, r in zip(self.factors, xs, rs, strict=True)]

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        xs = self._parts(x, "x")
        out = []
        for k, (g, part) in enumerate(zip(self.factors, xs, strict=True)):
            for t in g.orbit_tangent_vectors(part):
                out.append(
                    [t if i == k else np.zeros_like(np.asarray(p)) for i, p in enumerate(xs)]
                )
        return out
