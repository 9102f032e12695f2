"""Groups built from groups: products, powers, and the natural group of a quotient manifold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.core.symmetry.base import Identity, SymmetryGroup
from manifoldscape.core.symmetry.continuous import OrthogonalRight, UnitaryRight


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


@dataclass(frozen=True, repr=False)
class PowerGroup(SymmetryGroup):
    """G^k acting slice by slice on the points of a power manifold M^k (arrays of shape (k, …)).

    pymanopt's ``Grassmann(n, p, k=k)`` and ``ComplexGrassmann(n, p, k=k)`` are such powers:
    each slice X_i is acted on by its own group element.  dist² = Σ_i dist_G(x_i, y_i)².
    """

    group: SymmetryGroup = Identity()  # noqa: RUF009 (frozen, immutable)
    k: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.group, SymmetryGroup):
            raise TypeError(f"group must be a SymmetryGroup, got {type(self.group).__name__}")
        if not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        object.__setattr__(self, "name", self.name or f"({self.group.name})^{self.k}")
        object.__setattr__(self, "dimension", self.k * self.group.dimension)

    def _slices(self, x: Any, what: str) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim < 1 or a.shape[0] != self.k:
            raise ValueError(f"{what} must have {self.k} slices for {self.name}, got {a.shape}")
        return a

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._slices(x, "x"), self._slices(y, "y")
        return float(
            np.sqrt(sum(self.group.distance(p, q) ** 2 for p, q in zip(a, b, strict=True)))
        )

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._slices(x, "x"), self._slices(reference, "reference")
        return np.stack([self.group.align(p, q) for p, q in zip(a, b, strict=True)])

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._slices(x, "x")
        out = []
        for i, part in enumerate(a):
            for t in self.group.orbit_tangent_vectors(part):
                v = np.zeros(a.shape, dtype=np.result_type(a, t))
                v[i] = t
                out.append(v)
        return out


def natural_symmetry(manifold: Any) -> SymmetryGroup:
    """The symmetry group a pymanopt quotient manifold's points carry, Identity otherwise.

    Grassmann: O(p) acting on the right on an orthonormal basis of the subspace; complex
    Grassmann: U(p); ``PSDFixedRank``, ``Elliptope``: O(k) on the factor Y of X = Y Yᵀ
    (Journée et al. 2010); ``PSDFixedRankComplex``: U(k); powers k > 1 slice by slice;
    products factor by factor.  The tangent bases of these manifolds span the horizontal space
    (the projection removes the orbit directions), so the group adds no Hessian direction to a
    certificate; it makes distances, recovery and the census's merging of critical points
    modulo the group.
    """
    from pymanopt.manifolds import (
        ComplexGrassmann,
        Elliptope,
        Grassmann,
        Product,
        PSDFixedRank,
        PSDFixedRankComplex,
    )

    if isinstance(manifold, Product):
        groups = [natural_symmetry(m) for m in manifold.manifolds]
        if all(isinstance(g, Identity) for g in groups):
            return Identity()
        return ProductGroup(groups)
    if isinstance(manifold, (Grassmann, ComplexGrassmann)):
        group: SymmetryGroup = (
            OrthogonalRight(manifold._p)
            if isinstance(manifold, Grassmann)
            else UnitaryRight(manifold._p)
        )
        return group if manifold._k == 1 else PowerGroup(group, manifold._k)
    if isinstance(manifold, PSDFixedRankComplex):
        return UnitaryRight(manifold._k)
    if isinstance(manifold, (PSDFixedRank, Elliptope)):
        return OrthogonalRight(manifold._k)
    return Identity()
