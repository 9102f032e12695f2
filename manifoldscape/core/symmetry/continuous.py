"""Continuous matrix groups: O(r) and U(r) acting on the right, GL(r) on factor pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.core.symmetry.base import SymmetryGroup, _split_rows


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
class UnitaryRight(SymmetryGroup):
    """U(r) acting on the right, X ↦ X Q (Qᴴ Q = I), for complex n × r matrices.

    The symmetry of the complex Grassmann manifold and of Hermitian factorizations X = Y Yᴴ
    (pymanopt's ``ComplexGrassmann``, ``PSDFixedRankComplex``).  The distance is the complex
    orthogonal Procrustes problem, min_Q ‖X − Y Q‖_F, attained at Q = polar(Yᴴ X); orbit tangents
    at X are X Ω for Ω skew-Hermitian (real dimension r²): (E_ij − E_ji)/√2 and
    i(E_ij + E_ji)/√2 for i < j, and i E_ii.
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"U({self.r}) right action")
        object.__setattr__(self, "dimension", self.r * self.r)

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        m = np.asarray(x)
        if m.ndim != 2 or m.shape[1] != self.r:
            raise ValueError(
                f"{what} must be an n × {self.r} matrix for {self.name}, got shape {m.shape}"
            )
        return m

    def _rotation(self, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
        u, _, vh = np.linalg.svd(x.conj().T @ reference)
        return u @ vh

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        return float(np.linalg.norm(a - b @ self._rotation(b, a)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        return a @ self._rotation(a, b)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._matrix(x, "x")
        out = []
        for i in range(self.r):
            for j in range(i, self.r):
                e = np.zeros((self.r, self.r), dtype=complex)
                e[i, j] = 1.0
                if i == j:
                    generators = [1j * e]
                else:
                    generators = [(e - e.T) / np.sqrt(2.0), 1j * (e + e.T) / np.sqrt(2.0)]
                out.extend(a @ omega for omega in generators)
        return out


@dataclass(frozen=True, repr=False)
class OrthogonalLeft(SymmetryGroup):
    """O(p) acting on the left, Y ↦ R Y, for p × n real matrices.

    The symmetry of Burer–Monteiro relaxations written with unit *columns* (pymanopt's
    ``Oblique(p, n)``): a cost of the Gram matrix YᵀY, such as max-cut ⟨C, YᵀY⟩ or a rank-p
    correlation-matrix fit, is unchanged by Y ↦ RY, R ∈ O(p) (the left-hand form of seed 003,
    App. A, X = UUᵀ with U ↦ UR).  The distance is the orthogonal Procrustes problem from the
    left, min_R ‖X − R Y‖_F, attained at R = polar(X Yᵀ); orbit tangents at X are Ω X for skew
    Ω (dimension p(p−1)/2), normalized as (E_ij − E_ji) X/√2.
    """

    p: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.p, bool) or not isinstance(self.p, (int, np.integer)) or self.p < 1:
            raise ValueError(f"p must be a positive integer, got {self.p!r}")
        object.__setattr__(self, "name", self.name or f"O({self.p}) left action")
        object.__setattr__(self, "dimension", self.p * (self.p - 1) // 2)

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        m = np.asarray(x)
        if m.ndim != 2 or m.shape[0] != self.p:
            raise ValueError(
                f"{what} must be a {self.p} × n matrix for {self.name}, got shape {m.shape}"
            )
        if np.iscomplexobj(m):
            raise ValueError(f"{what} must be real for {self.name}")
        return m

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        # Y ↦ R Y is Yᵀ ↦ Yᵀ Rᵀ: the right action on the transposes
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        return OrthogonalRight(self.p).distance(a.T, b.T)

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        return OrthogonalRight(self.p).align(a.T, b.T).T

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        # the right action's tangents at Xᵀ are Xᵀ Ω/√2, and −(Xᵀ Ω)ᵀ = Ω X/√2
        right = OrthogonalRight(self.p).orbit_tangent_vectors(self._matrix(x, "x").T)
        return [-t.T for t in right]
