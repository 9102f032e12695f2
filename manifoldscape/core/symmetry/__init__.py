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

from manifoldscape.core.symmetry.base import Identity, Phase, Sign, SymmetryGroup
from manifoldscape.core.symmetry.composite import PowerGroup, ProductGroup, natural_symmetry
from manifoldscape.core.symmetry.continuous import (
    GeneralLinear,
    OrthogonalLeft,
    OrthogonalRight,
    UnitaryRight,
)
from manifoldscape.core.symmetry.discrete import (
    ColumnPermutations,
    ColumnSigns,
    Scaled,
    SignedPermutation,
    SignedShift,
)

__all__ = [
    "ColumnPermutations",
    "ColumnSigns",
    "GeneralLinear",
    "Identity",
    "OrthogonalLeft",
    "OrthogonalRight",
    "Phase",
    "PowerGroup",
    "ProductGroup",
    "Scaled",
    "Sign",
    "SignedPermutation",
    "SignedShift",
    "SymmetryGroup",
    "UnitaryRight",
    "natural_symmetry",
]
