"""How points and tangent vectors of a pymanopt manifold are laid out, and seeded pymanopt draws.

The lowest module of the geometry layer: which manifolds have hand-written fast paths, the shape
and field of a point, powers ``k > 1`` (pymanopt's ``Stiefel(n, p, k=k)`` and the like, whose
points are arrays of shape (k, …) and whose metric sums over the k slices), pymanopt's tangent
vector types, and ``pymanopt_draw``: a call of pymanopt's own ``random_point`` or
``random_tangent_vector`` (which draw from numpy's *global* random state) under a saved and
restored global state seeded from a ``numpy.random.Generator``, so that the draw is reproducible
from our seed, independent of whatever the global state was, and leaves it untouched.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from pymanopt.manifolds import (
    ComplexEuclidean,
    ComplexGrassmann,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    HermitianPositiveDefinite,
    PoincareBall,
    Positive,
    Product,
    SkewSymmetric,
    SpecialHermitianPositiveDefinite,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
    Symmetric,
    SymmetricPositiveDefinite,
    UnitaryGroup,
)
from pymanopt.manifolds.manifold import Manifold

try:  # pymanopt's list type for tangent vectors of a product (supports + - * /)
    from pymanopt.manifolds.product import _ProductTangentVector as ProductVector
except ImportError:  # pragma: no cover - pymanopt moved it
    ProductVector = list  # type: ignore[misc,assignment]

try:  # pymanopt's tuple types of FixedRankEmbedded: points (u, s, vt), tangents (Up, M, Vp)
    from pymanopt.manifolds.fixed_rank import _FixedRankPoint as EmbeddedPoint
    from pymanopt.manifolds.fixed_rank import _FixedRankTangentVector as EmbeddedTangent
except ImportError:  # pragma: no cover - pymanopt moved them
    EmbeddedPoint = EmbeddedTangent = None  # type: ignore[misc,assignment]

__all__ = [
    "FAST_PATH",
    "EmbeddedPoint",
    "EmbeddedTangent",
    "ProductVector",
    "as_tangent",
    "hook",
    "is_complex",
    "point_shape",
    "power",
    "power_factor",
    "pymanopt_draw",
    "reference_point",
]

#: classes with exact hand-written fast paths (k = 1); ``Product`` of anything is handled
#: factor by factor, and powers k > 1 of the first four slice by slice
FAST_PATH = (Sphere, Stiefel, Grassmann, SpecialOrthogonalGroup, Euclidean, ComplexEuclidean)
_POWERED_FAST = (Stiefel, Grassmann, SpecialOrthogonalGroup)
#: the pymanopt classes whose ``_k`` is a number of copies (elsewhere it can be a rank)
_POWERED = (
    *_POWERED_FAST,
    ComplexGrassmann,
    UnitaryGroup,
    SymmetricPositiveDefinite,
    HermitianPositiveDefinite,
    SpecialHermitianPositiveDefinite,
    PoincareBall,
    Positive,
    Symmetric,
    SkewSymmetric,
)


def hook(manifold: Manifold, name: str) -> Any:
    """The manifold's own implementation of a landscape-protocol method, or None.

    The protocol (``manifoldscape.geometry.points``) lets a manifold supply ``point_shape``,
    ``seeded_random_point``, ``tangent_basis`` and the like itself (the fixed-rank manifolds of
    ``manifoldscape.geometry.fixed_rank`` do); a ``Product`` never does.
    """
    if isinstance(manifold, Product):
        return None
    method = getattr(manifold, name, None)
    return method if callable(method) else None


def power(manifold: Manifold) -> int:
    """The number k of copies in pymanopt's power manifolds (1 for all others)."""
    return int(getattr(manifold, "_k", 1)) if _has_power(manifold) else 1


def _has_power(manifold: Manifold) -> bool:
    # pymanopt names the rank k in the fixed-rank and PSD manifolds too: only these mean a power
    return isinstance(manifold, _POWERED)


def power_factor(manifold: Manifold) -> Manifold | None:
    """For a power M^k (k > 1) of a manifold M with a structured basis, M (k = 1); else None."""
    k = power(manifold)
    if k == 1 or not isinstance(manifold, (*_POWERED_FAST, ComplexGrassmann)):
        return None
    if isinstance(manifold, SpecialOrthogonalGroup):
        return SpecialOrthogonalGroup(manifold._n)
    return type(manifold)(manifold._n, manifold._p)


# --------------------------------------------------------------------------- seeded draws
_GLOBAL_STATE_LOCK = threading.Lock()


@contextlib.contextmanager
def _isolated_global_state(rng: np.random.Generator) -> Iterator[None]:
    """Seed numpy's global RandomState from ``rng`` for the block, then restore it exactly."""
    with _GLOBAL_STATE_LOCK:
        saved = np.random.get_state()  # noqa: NPY002 - isolating pymanopt's use of it
        np.random.seed(int(rng.integers(2**32, dtype=np.uint64)))  # noqa: NPY002
        try:
            yield
        finally:
            np.random.set_state(saved)  # noqa: NPY002


def pymanopt_draw(rng: np.random.Generator, draw: Callable[..., Any], *args: Any) -> Any:
    """``draw(*args)`` — a pymanopt method that uses the global numpy state — seeded from ``rng``.

    The global state is saved, seeded from one draw of ``rng``, and restored afterwards (also on
    error), so the result depends on ``rng`` alone and the caller's global state is unchanged.
    A lock serializes such draws between threads of this process (other code that uses the
    global state concurrently in another thread is not under our control).
    """
    with _isolated_global_state(rng):
        return draw(*args)


_REFERENCE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reference_point(manifold: Manifold) -> Any:
    """A fixed point drawn once by pymanopt (seed 0, isolated): its layout, shape and dtype."""
    try:
        return _REFERENCE[manifold]
    except (KeyError, TypeError):
        pass
    point = pymanopt_draw(np.random.default_rng(0), manifold.random_point)
    try:
        _REFERENCE[manifold] = point
    except TypeError:  # pragma: no cover - a manifold that refuses weak references
        pass
    return point


# --------------------------------------------------------------------------- layout
def point_shape(manifold: Manifold) -> tuple[int, ...] | list[tuple[int, ...]]:
    """Shape of a point (a list for a ``Product`` and for ``FixedRankEmbedded``'s (u, s, vt))."""
    if (method := hook(manifold, "point_shape")) is not None:
        return tuple(method())
    if isinstance(manifold, Product):
        return [point_shape(m) for m in manifold.manifolds]  # type: ignore[misc]
    factor = power_factor(manifold)
    if factor is not None:
        return (power(manifold), *point_shape(factor))  # type: ignore[misc]
    if isinstance(manifold, Sphere):
        return tuple(manifold._shape)
    if isinstance(manifold, (Stiefel, Grassmann)):
        return (manifold._n, manifold._p)
    if isinstance(manifold, SpecialOrthogonalGroup):
        return (manifold._n, manifold._n)
    if isinstance(manifold, (Euclidean, ComplexEuclidean)):
        return tuple(manifold._shape)
    if isinstance(manifold, FixedRankEmbedded):
        m, n, k = manifold._m, manifold._n, manifold._k
        return [(m, k), (k,), (k, n)]
    reference = reference_point(manifold)
    if isinstance(reference, (list, tuple)):
        return [tuple(np.shape(p)) for p in reference]
    return tuple(np.shape(reference))


def is_complex(manifold: Manifold) -> bool:
    """Whether points of the manifold are complex arrays."""
    if isinstance(manifold, Product):
        return any(is_complex(m) for m in manifold.manifolds)
    flag = getattr(manifold, "is_complex", None)
    if isinstance(flag, bool):
        return flag
    if isinstance(manifold, FAST_PATH) or isinstance(manifold, FixedRankEmbedded):
        return isinstance(manifold, ComplexEuclidean)
    reference = reference_point(manifold)
    parts = reference if isinstance(reference, (list, tuple)) else [reference]
    return any(np.iscomplexobj(p) for p in parts)


def as_tangent(manifold: Manifold, vector: Any) -> Any:
    """Wrap a product (or factored) tangent vector so that + − * work on it."""
    if (method := hook(manifold, "as_tangent_vector")) is not None:
        return method(vector)
    if isinstance(manifold, Product) and not isinstance(vector, ProductVector):
        return ProductVector(
            [as_tangent(m, v) for m, v in zip(manifold.manifolds, vector, strict=True)]
        )
    if (
        isinstance(manifold, FixedRankEmbedded)
        and EmbeddedTangent is not None
        and not isinstance(vector, EmbeddedTangent)
    ):
        return EmbeddedTangent(*vector)
    return vector
