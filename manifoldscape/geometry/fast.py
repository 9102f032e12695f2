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

__all__ = [
    "determinant",
    "frobenius_norm",
    "norm_function",
    "retraction_function",
    "riemannian_gradient",
    "thin_svd",
]

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


try:  # numpy's own LAPACK gufuncs and error-state context, behind numpy.linalg.svd and det
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    from numpy.linalg import _linalg, _umath_linalg

    _SVD_THIN = _umath_linalg.svd_s
    _DET = _umath_linalg.det
    # the error state numpy.linalg.svd enters: LinAlgError when LAPACK does not converge
    _SVD_ERRORS = _make_extobj(
        call=_linalg._raise_linalgerror_svd_nonconvergence,
        invalid="call",
        over="ignore",
        divide="ignore",
        under="ignore",
    )
except (ImportError, AttributeError, TypeError):  # pragma: no cover - another numpy layout
    _SVD_THIN = _DET = _SVD_ERRORS = None


def _plain_matrix(a: Any) -> bool:
    return type(a) is np.ndarray and a.dtype is _FLOAT64 and a.ndim == 2 and a.size > 0


def thin_svd(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U, s, Vᵀ) of ``numpy.linalg.svd(z, full_matrices=False)``, to the last bit.

    For a real float64 matrix: numpy's own gufunc (LAPACK ``gesdd``) under the error state
    numpy enters for it (``LinAlgError`` when it does not converge), without numpy's per-call
    dispatch, checks and conversions, which on the small matrices of the ``msp`` solver cost a
    tenth of the decomposition; any other input, or another numpy, goes to numpy itself.
    """
    if _SVD_THIN is None or not _plain_matrix(z):
        return tuple(np.linalg.svd(z, full_matrices=False))  # type: ignore[return-value]
    token = _extobj_contextvar.set(_SVD_ERRORS)
    try:
        u, s, vt = _SVD_THIN(z, signature="d->ddd")
    except TypeError:  # pragma: no cover - a numpy whose gufunc takes other arguments
        return tuple(np.linalg.svd(z, full_matrices=False))  # type: ignore[return-value]
    finally:
        _extobj_contextvar.reset(token)
    return u, s, vt


def determinant(a: np.ndarray) -> Any:
    """``numpy.linalg.det(a)``, to the last bit: numpy's own gufunc for a real float64 matrix.

    numpy calls it in the ambient error state, as here; only its dispatch and checks are
    skipped.  Any other input, or another numpy, goes to numpy itself.
    """
    if _DET is None or not _plain_matrix(a) or a.shape[0] != a.shape[1]:
        return np.linalg.det(a)
    try:
        return _DET(a, signature="d->d")
    except TypeError:  # pragma: no cover - a numpy whose gufunc takes other arguments
        return np.linalg.det(a)
