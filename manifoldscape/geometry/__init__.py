"""Geometry: what the core needs from a manifold.

Seeded points and tangent vectors, point checks, orthonormal tangent bases in the manifold's own
metric, coordinates and second-order retractions (``points``), and the second-order fixed-rank
manifolds that pymanopt lacks (``fixed_rank``).  This layer sits just above the boundary layer and
below the core: it imports pymanopt, numpy, scipy and ``manifoldscape.boundary`` only.
"""

from manifoldscape.geometry.fixed_rank import (
    FixedRank,
    FixedRankPoint,
    FixedRankTangentVector,
    LowRankMatrix,
    SymmetricFixedRank,
    SymmetricFixedRankPoint,
    SymmetricTangentVector,
)
from manifoldscape.geometry.points import (
    SUPPORTED,
    ProductVector,
    TangentBasis,
    as_tangent,
    batch_item,
    check_point,
    constraint_residual,
    copy_point,
    is_complex,
    point_norm,
    point_shape,
    random_point,
    random_tangent_vector,
    same_point,
    second_order_retraction,
    stack_batch,
    tangent_basis,
    zero_tangent_vector,
)

__all__ = [
    "SUPPORTED",
    "FixedRank",
    "FixedRankPoint",
    "FixedRankTangentVector",
    "LowRankMatrix",
    "ProductVector",
    "SymmetricFixedRank",
    "SymmetricFixedRankPoint",
    "SymmetricTangentVector",
    "TangentBasis",
    "as_tangent",
    "batch_item",
    "check_point",
    "constraint_residual",
    "copy_point",
    "is_complex",
    "point_norm",
    "point_shape",
    "random_point",
    "random_tangent_vector",
    "same_point",
    "second_order_retraction",
    "stack_batch",
    "tangent_basis",
    "zero_tangent_vector",
]
