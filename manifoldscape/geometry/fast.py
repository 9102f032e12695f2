"""Direct numpy forms of pymanopt's norm and retraction where its generic path costs more.

On tiny problems the solvers' per-iterate work is dominated by call overhead (issue 14 item 6,
"a thin loop"), so for the manifolds whose formulas are one line the loop calls them directly:

* the norm of a tangent vector of ``Sphere``, ``Stiefel`` and ``SpecialOrthogonalGroup`` (all
  with the embedded Frobenius metric, ``np.linalg.norm(v)`` in pymanopt) is √(v·v) with v the
  raveled vector, which is what ``numpy.linalg.norm`` computes for a real array;
* the retraction of the ``Sphere`` is R_x(v) = (x + v)/‖x + v‖ (pymanopt's ``_normalize``);
* the Riemannian gradient grad f(x) = P_x ∇f(x) (``riemannian_gradient``): on the ``Sphere``
  ∇f − ⟨x, ∇f⟩x (the form of ``generic.euclidean_to_riemannian_gradient``), on ``Stiefel(n, p)``
  ∇f − X sym(Xᵀ∇f) and on ``SpecialOrthogonalGroup(n)`` skew(Xᴴ∇f) (pymanopt's projections),
  for single (k = 1) real points.

Each agrees with pymanopt bit for bit (same floating-point operations in the same order;
``tests/test_geometry_fast.py``).  Only exact types are recognised (a subclass may change the
metric or the retraction); any other manifold gets pymanopt's own method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pymanopt.manifolds import SpecialOrthogonalGroup, Sphere, Stiefel
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.geometry.generic import euclidean_to_riemannian_gradient
from manifoldscape.geometry.layout import as_tangent

__all__ = ["frobenius_norm", "norm_function", "retraction_function", "riemannian_gradient"]

_FLOAT64 = np.dtype(np.float64)


def frobenius_norm(value: np.ndarray) -> float:
    """‖v‖_F = √(v·v), v the raveled array: ``numpy.linalg.norm`` of a real array, bit for bit.

    Complex and non-float64 arrays go to ``numpy.linalg.norm`` itself.
    """
    if type(value) is np.ndarray and (value.dtype is _FLOAT64 or value.dtype == np.float64):
        flat = value.ravel(order="K")
        return math.sqrt(flat.dot(flat))
    return float(np.linalg.norm(value))


def _frobenius_norm(point: Any, tangent_vector: Any) -> float:
    if type(tangent_vector) is np.ndarray and tangent_vector.dtype is _FLOAT64:
        flat = tangent_vector.ravel(order="K")  # frobenius_norm, inlined: it runs every iterate
        return math.sqrt(flat.dot(flat))
    return frobenius_norm(tangent_vector)


def _sphere_retraction(point: Any, tangent_vector: Any) -> Any:
    moved = point + tangent_vector
    if type(moved) is np.ndarray and moved.dtype is _FLOAT64:
        flat = moved.ravel(order="K")  # frobenius_norm, inlined: it runs every iterate
        return moved / math.sqrt(flat.dot(flat))
    return moved / frobenius_norm(moved)


_NORMS: dict[type, Callable[[Any, Any], float]] = {
    Sphere: _frobenius_norm,
    Stiefel: _frobenius_norm,
    SpecialOrthogonalGroup: _frobenius_norm,
}
_RETRACTIONS: dict[type, Callable[[Any, Any], Any]] = {Sphere: _sphere_retraction}


def norm_function(manifold: Manifold) -> Callable[[Any, Any], float]:
    """``(x, v) ↦ ‖v‖_x``: the direct form for the manifolds above, else ``manifold.norm``.

    Pymanopt's complex spheres and Stiefel manifolds are separate classes, so the direct form is
    only ever applied to real points; a complex array would fall back to ``numpy.linalg.norm``.
    """
    return _NORMS.get(type(manifold)) or manifold.norm


def retraction_function(manifold: Manifold) -> Callable[[Any, Any], Any]:
    """``(x, v) ↦ R_x(v)``: the direct form on the ``Sphere``, else ``manifold.retraction``."""
    return _RETRACTIONS.get(type(manifold)) or manifold.retraction


def _sphere_gradient(point: np.ndarray, egrad: np.ndarray) -> np.ndarray:
    if (
        point.dtype is _FLOAT64
        and egrad.dtype is _FLOAT64
        and point.flags.c_contiguous
        and egrad.flags.c_contiguous
    ):
        # numpy computes the (1×N)(N×1) product below as the dot product of the two contiguous
        # rows (BLAS ddot), which this asks for directly, without the reshapes
        return egrad - point.ravel().dot(egrad.ravel()) * point
    inner = np.dot(point.reshape(1, -1), egrad.reshape(-1, 1)).reshape(())
    return egrad - inner * point


def _stiefel_gradient(point: np.ndarray, egrad: np.ndarray) -> np.ndarray:
    inner = point.T @ egrad
    return egrad - point @ (0.5 * (inner + inner.T))


def _special_orthogonal_gradient(point: np.ndarray, egrad: np.ndarray) -> np.ndarray:
    # Xᴴ of a real X is Xᵀ: conjugate would copy it into an array of the same (Fortran) layout,
    # so the transposed view gives the product the same operands, without the copy
    xh = point.T if point.dtype is _FLOAT64 else np.conjugate(point.T)
    inner = xh @ egrad
    return 0.5 * (inner - inner.T)


#: the direct gradient and the number of dimensions of a single point it applies to
_GRADIENTS: dict[type, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], int | None]] = {
    Sphere: (_sphere_gradient, None),
    Stiefel: (_stiefel_gradient, 2),
    SpecialOrthogonalGroup: (_special_orthogonal_gradient, 2),
}


def riemannian_gradient(manifold: Manifold, point: Any, euclidean_gradient: Any) -> Any:
    """Grad f(x) = P_x ∇f(x), as ``as_tangent(euclidean_to_riemannian_gradient(...))`` gives it.

    The direct forms above for plain arrays on the exact classes (a point of pymanopt's power
    manifolds, k > 1, has one more dimension and takes the general path), the general path of
    ``manifoldscape.geometry.generic`` otherwise; bit for bit the same.
    """
    direct = _GRADIENTS.get(type(manifold))
    if (
        direct is not None
        and type(point) is np.ndarray
        and type(euclidean_gradient) is np.ndarray
        and (direct[1] is None or point.ndim == direct[1])
    ):
        return direct[0](point, euclidean_gradient)
    return as_tangent(
        manifold, euclidean_to_riemannian_gradient(manifold, point, euclidean_gradient)
    )
