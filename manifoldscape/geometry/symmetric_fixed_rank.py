"""The second-order manifold of real symmetric / complex Hermitian n×n matrices of rank r.

``SymmetricFixedRank(n, r, field, psd=...)``: the geometry, formulas and sources are in the
docstring of ``manifoldscape.geometry.fixed_rank``; the factored types in
``manifoldscape.geometry.factored``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int
from manifoldscape.geometry.bases import TangentBasis
from manifoldscape.geometry.factored import (
    LowRankMatrix,
    SymmetricFixedRankPoint,
    SymmetricTangentVector,
    _adjoint_times,
    _check_shape,
    _FixedRankBase,
    _haar,
    _orthonormality,
    _parts,
    _times,
)
from manifoldscape.geometry.householder import Complement as _Complement

__all__ = ["SymmetricFixedRank"]


# --------------------------------------------------------------------------- SymmetricFixedRank
def _hermitian_part(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2).conj())


class SymmetricFixedRank(_FixedRankBase):
    """The embedded manifold of real symmetric / complex Hermitian n×n matrices of rank r.

    Points ``SymmetricFixedRankPoint(U, λ)`` (X = U diag(λ) Uᴴ, λ real non-zero; λ > 0 with
    ``psd=True``), tangent vectors ``SymmetricTangentVector(M, Up)`` (module docstring).  The
    ambient space is 𝔽^{n×n} with Re tr(AᴴB); the normal space contains the skew-Hermitian
    matrices, so P_X first takes the Hermitian part (Z + Zᴴ)/2.
    """

    def __init__(self, n: int, r: int, field: str = "real", psd: bool = False):
        n = require_positive_int(n, "n")
        r = require_positive_int(r, "r")
        if r > n:
            raise ValueError(f"r must be at most n = {n}, got r = {r}")
        if field not in ("real", "complex"):
            raise ValueError(f"field must be 'real' or 'complex', got {field!r}")
        if not isinstance(psd, bool):
            raise TypeError(f"psd must be a bool, got {psd!r}")
        self._n, self._r, self._field, self._psd = n, r, field, psd
        self._complex = field == "complex"
        self._ambient_shape = (n, n)
        dim = 2 * n * r - r * r if self._complex else n * r - r * (r - 1) // 2
        kind = "PSD" if psd else ("Hermitian" if self._complex else "Symmetric")
        super().__init__(f"{kind}FixedRank({n}, {r}, field={field!r})", dim)

    def __repr__(self) -> str:
        return self._name

    __str__ = __repr__

    @property
    def psd(self) -> bool:
        """Whether the manifold is restricted to positive semidefinite matrices (λ > 0)."""
        return self._psd

    def _point(self, point: Any) -> SymmetricFixedRankPoint:
        if isinstance(point, SymmetricFixedRankPoint):
            return point
        return SymmetricFixedRankPoint(*_parts(point, 2, "point"))

    def as_tangent_vector(self, vector: Any) -> SymmetricTangentVector:
        """A sequence of factors (M, Up) as a ``SymmetricTangentVector`` (no copy, no check)."""
        if isinstance(vector, SymmetricTangentVector):
            return vector
        return SymmetricTangentVector(*_parts(vector, 2))

    def low_rank_embedding(self, point: Any, tangent_vector: Any) -> LowRankMatrix:
        """ξ = [U M + U_p, U] [U, U_p]ᴴ as a rank-2r ``LowRankMatrix`` (``embedding``, unformed)."""
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        return LowRankMatrix(np.hstack([x.u @ m + up, x.u]), np.hstack([x.u, up]))

    def inner_product(self, point: Any, tangent_vector_a: Any, tangent_vector_b: Any) -> float:
        """⟨ξ, η⟩ = Re tr(M_ξᴴ M_η) + 2 Re tr(U_pξᴴ U_pη)."""
        ma, upa = _parts(tangent_vector_a, 2)
        mb, upb = _parts(tangent_vector_b, 2)
        return float(np.real(np.vdot(ma, mb)) + 2.0 * np.real(np.vdot(upa, upb)))

    def projection(self, point: Any, vector: Any) -> SymmetricTangentVector:
        """P_X(Z) with Z_h = (Z + Zᴴ)/2: M = Uᴴ Z_h U, U_p = Z_h U − U M."""
        x = self._point(point)
        if isinstance(vector, (list, tuple)):
            return self.to_tangent_space(x, vector)
        zu = 0.5 * (_times(vector, x.u) + _adjoint_times(vector, x.u))
        if not self._complex:
            zu = np.real(zu)
        m = _hermitian_part(x.u.conj().T @ zu)
        return SymmetricTangentVector(m, zu - x.u @ m)

    def to_tangent_space(self, point: Any, vector: Any) -> SymmetricTangentVector:
        """Hermitian part of M, and U_p − U(Uᴴ U_p)."""
        x = self._point(point)
        m, up = _parts(vector, 2)
        return SymmetricTangentVector(_hermitian_part(m), up - x.u @ (x.u.conj().T @ up))

    def embedding(self, point: Any, tangent_vector: Any) -> np.ndarray:
        """The dense n×n matrix U M Uᴴ + U_p Uᴴ + U U_pᴴ."""
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        left = x.u @ m + up
        return left @ x.u.conj().T + x.u @ up.conj().T

    def zero_vector(self, point: Any) -> SymmetricTangentVector:  # noqa: D102
        dtype = complex if self._complex else float
        return SymmetricTangentVector(
            np.zeros((self._r, self._r), dtype), np.zeros((self._n, self._r), dtype)
        )

    def _curvature(
        self, x: SymmetricFixedRankPoint, tangent_vector: Any, gradient: Any, base: Any
    ) -> SymmetricTangentVector:
        """Add to ``base`` (0, P_U^⊥ G_h U_p Λ⁻¹), G_h the Hermitian part of G."""
        _, up = _parts(tangent_vector, 2)
        m0, up0 = base
        gup = 0.5 * (_times(gradient, up) + _adjoint_times(gradient, up)) / x.lam
        if not self._complex:
            gup = np.real(gup)
        return SymmetricTangentVector(m0, up0 + gup - x.u @ (x.u.conj().T @ gup))

    def retraction(self, point: Any, tangent_vector: Any) -> SymmetricFixedRankPoint:
        """Eigendecomposition of X + ξ from the 2r × 2r core, keeping r eigenvalues.

        X + ξ = [U Q] [[Λ + M, Rᴴ], [R, 0]] [U Q]ᴴ with U_p = Q R; the r eigenvalues of largest
        modulus are kept (the largest ones for ``psd=True``): the metric projection, second order.
        For ``psd=True`` a step so long that X + ξ has fewer than r positive eigenvalues (outside
        the domain where the metric projection exists) is reflected, λ ↦ |λ| (floored at ε‖X + ξ‖),
        so that every step stays on the manifold.
        """
        x = self._point(point)
        m, up = _parts(tangent_vector, 2)
        r = self._r
        q, rr = np.linalg.qr(up)
        dtype = complex if self._complex else float
        core = np.zeros((2 * r, 2 * r), dtype=dtype)
        core[:r, :r] = np.diag(x.lam) + _hermitian_part(m)
        core[:r, r:] = rr.conj().T
        core[r:, :r] = rr
        w, z = np.linalg.eigh(core)
        keep = np.argsort(w)[::-1][:r] if self._psd else np.argsort(-np.abs(w))[:r]
        keep = keep[np.argsort(-w[keep])]
        u = np.hstack([x.u, q]) @ z[:, keep]
        if not self._complex:
            u = np.real(u)
        lam = w[keep]
        if self._psd and not np.all(lam > 0):
            # a step beyond the retraction's domain (X + ξ has fewer than r positive
            # eigenvalues): reflect to |λ|, floored, so that the result stays on the manifold
            floor = np.finfo(float).eps * max(float(np.max(np.abs(w))), np.finfo(float).tiny)
            lam = np.maximum(np.abs(lam), floor)
            order = np.argsort(-lam)
            u, lam = u[:, order], lam[order]
        return SymmetricFixedRankPoint(u, lam)

    def seeded_random_point(self, seed: Seed = None) -> SymmetricFixedRankPoint:
        """U Haar, |λ| uniform in [0.5, 1.5] (random signs unless ``psd``), sorted descending."""
        rng = as_generator(seed)
        u = _haar(rng, self._n, self._r, self._complex)
        lam = rng.uniform(0.5, 1.5, self._r)
        if not self._psd:
            lam = lam * rng.choice([-1.0, 1.0], self._r)
        return SymmetricFixedRankPoint(u, np.sort(lam)[::-1].copy())

    def constraint_residual(self, point: Any) -> float:
        """‖UᴴU − I‖; inf if an eigenvalue is zero (not positive, for ``psd``)."""
        x = self._point(point)
        bad = not np.all(x.lam > 0) if self._psd else not np.all(x.lam != 0)
        if bad:
            return float("inf")
        return _orthonormality(x.u)

    def _check_factors(self, factors: list, name: str, tolerance: float) -> SymmetricFixedRankPoint:
        if len(factors) != 2:
            raise TypeError(f"{name} must be the factors (U, λ) of {self}, got {len(factors)}")
        u = self._numeric(factors[0], f"{name}.U")
        lam = self._numeric(factors[1], f"{name}.lam", real=True)
        _check_shape(u, (self._n, self._r), f"{name}.U", self)
        _check_shape(lam, (self._r,), f"{name}.lam", self)
        if self._psd and not np.all(lam > 0):
            raise ValueError(f"{name}.lam must be positive for {self}, got {lam}")
        if not np.all(lam != 0):
            raise ValueError(f"{name}.lam must be non-zero for {self}, got {lam}")
        residual = _orthonormality(u)
        if residual > tolerance * max(1.0, np.sqrt(self._r)):
            raise ValueError(
                f"{name}.U must have orthonormal columns for {self}: ‖UᴴU − I‖ = {residual:.3g} "
                f"exceeds {tolerance:g}"
            )
        return SymmetricFixedRankPoint(u, lam)

    def _from_dense(self, array: np.ndarray, name: str) -> SymmetricFixedRankPoint:
        array = self._numeric(array, name)
        _check_shape(array, self._ambient_shape, name, self)
        scale = max(float(np.linalg.norm(array)), 1e-300)
        if np.linalg.norm(array - array.conj().T) > 1e-10 * scale:
            raise ValueError(f"{name} must be {'Hermitian' if self._complex else 'symmetric'}")
        w, z = np.linalg.eigh(_hermitian_part(array))
        order = np.argsort(-np.abs(w))
        r = self._r
        tail = abs(w[order[r]]) if w.size > r else 0.0
        top = abs(w[order[0]])
        if not abs(w[order[r - 1]]) > 1e-10 * top or tail > 1e-8 * top:
            raise ValueError(f"{name} must have rank {r} for {self}; eigenvalues {w[order]}")
        keep = order[:r]
        keep = keep[np.argsort(-w[keep])]
        return self._check_factors([z[:, keep], w[keep]], name, 1e-8)

    def tangent_basis(self, point: Any) -> TangentBasis:
        """Coordinates of M in the orthonormal Hermitian basis and U_p = U_⊥ K / √2."""
        x = self._point(point)
        n, r, cplx = self._n, self._r, self._complex
        comp = _Complement(x.u)
        iu, ju = np.triu_indices(r, 1)
        n_diag, n_off = r, len(iu)
        n_m = n_diag + n_off * (2 if cplx else 1)
        n_k = (n - r) * r * (2 if cplx else 1)
        dtype = complex if cplx else float

        def to_vectors(c: np.ndarray) -> list:
            b = c.shape[0]
            m = np.zeros((b, r, r), dtype=dtype)
            m[:, np.arange(r), np.arange(r)] = c[:, :n_diag]
            off = c[:, n_diag : n_diag + n_off] / np.sqrt(2.0)
            if cplx:
                off = off + 1j * c[:, n_diag + n_off : n_m] / np.sqrt(2.0)
            m[:, iu, ju] = off
            m[:, ju, iu] = off.conj()
            kc = c[:, n_m:]
            k = kc[:, : (n - r) * r] + (1j * kc[:, (n - r) * r :] if cplx else 0.0)
            padded = np.zeros((n, b * r), dtype=dtype)
            padded[r:] = k.reshape(b, n - r, r).transpose(1, 0, 2).reshape(n - r, b * r)
            up = comp.apply(padded).reshape(n, b, r).transpose(1, 0, 2) / np.sqrt(2.0)
            if not cplx:
                up = np.real(up)
            return [m, up]

        def to_coordinates(v: Any) -> np.ndarray:
            m, up = (np.asarray(p) for p in v)
            b = m.shape[0]
            mh = _hermitian_part(m)
            parts = [np.real(mh[:, np.arange(r), np.arange(r)])]
            off = mh[:, iu, ju] * np.sqrt(2.0)
            parts.append(np.real(off))
            if cplx:
                parts.append(np.imag(off))
            stacked = up.transpose(1, 0, 2).reshape(n, b * r)
            k = comp.apply_adjoint(stacked)[r:].reshape(n - r, b, r).transpose(1, 0, 2)
            k = k.reshape(b, -1) * np.sqrt(2.0)
            parts.append(np.real(k))
            if cplx:
                parts.append(np.imag(k))
            return np.concatenate(parts, axis=1)

        return TangentBasis(self, x, n_m + n_k, to_vectors, to_coordinates)
