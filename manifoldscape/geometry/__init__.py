"""Geometry: what the core needs from a manifold, for every pymanopt manifold.

Seeded points, point checks and second-order retractions (``points``), orthonormal tangent bases
in the manifold's own metric, batched (``bases``), the generic path for manifolds without a
fast path and the fixes of pymanopt's defects (``generic``), layouts and isolated pymanopt draws
(``layout``), the Hessian conversion on stacks of directions (``batched``), and the
second-order fixed-rank manifolds that pymanopt lacks (``fixed_rank``).
This layer sits just above the boundary layer and below the core: it imports pymanopt, numpy,
scipy and ``manifoldscape.boundary`` only.
"""

from manifoldscape.geometry.bases import (
    TangentBasis,
    batch_item,
    generic_tangent_basis,
    stack_batch,
    tangent_basis,
)
from manifoldscape.geometry.batched import (
    embedding_stack,
    euclidean_to_riemannian_hessian_stack,
    projection_stack,
    stacks_hessian,
)
from manifoldscape.geometry.fixed_rank import (
    FixedRank,
    FixedRankPoint,
    FixedRankTangentVector,
    LowRankMatrix,
    SymmetricFixedRank,
    SymmetricFixedRankPoint,
    SymmetricTangentVector,
)
from manifoldscape.geometry.generic import (
    SecondOrderUnavailable,
    corrects_hessian,
    dimension,
    euclidean_to_riemannian_gradient,
    euclidean_to_riemannian_hessian,
    has_second_order_retraction,
    inner_product,
    metric_whitener,
    projection,
    pymanopt_compatible,
    require_second_order,
    to_tangent_space,
    transport,
)
from manifoldscape.geometry.householder import orthonormal_factor, symmetric_eigh
from manifoldscape.geometry.layout import FAST_PATH, pymanopt_draw, reference_point
from manifoldscape.geometry.points import (
    SUPPORTED,
    ProductVector,
    as_tangent,
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
    zero_tangent_vector,
)

__all__ = [
    "FAST_PATH",
    "SUPPORTED",
    "FixedRank",
    "FixedRankPoint",
    "FixedRankTangentVector",
    "LowRankMatrix",
    "ProductVector",
    "SecondOrderUnavailable",
    "SymmetricFixedRank",
    "SymmetricFixedRankPoint",
    "SymmetricTangentVector",
    "TangentBasis",
    "as_tangent",
    "batch_item",
    "check_point",
    "constraint_residual",
    "copy_point",
    "corrects_hessian",
    "dimension",
    "embedding_stack",
    "euclidean_to_riemannian_gradient",
    "euclidean_to_riemannian_hessian",
    "euclidean_to_riemannian_hessian_stack",
    "generic_tangent_basis",
    "has_second_order_retraction",
    "inner_product",
    "is_complex",
    "metric_whitener",
    "orthonormal_factor",
    "point_norm",
    "point_shape",
    "projection",
    "projection_stack",
    "pymanopt_compatible",
    "pymanopt_draw",
    "random_point",
    "random_tangent_vector",
    "reference_point",
    "require_second_order",
    "same_point",
    "second_order_retraction",
    "stack_batch",
    "stacks_hessian",
    "symmetric_eigh",
    "tangent_basis",
    "to_tangent_space",
    "transport",
    "zero_tangent_vector",
]
