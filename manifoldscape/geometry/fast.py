"""Direct numpy forms of pymanopt's norm and retraction where its generic path costs more.

On tiny problems the solvers' per-iterate work is dominated by call overhead (issue 14 item 6,
"a thin loop"), so for the manifolds whose formulas are one line the loop calls them directly:

* the norm of a tangent vector of ``Sphere``, ``Stiefel`` and ``SpecialOrthogonalGroup`` (all
  with the embedded Frobenius metric, ``np.linalg.norm(v)`` in pymanopt) is √(v·v) with v the
  raveled vector, which is what ``numpy.linalg.norm`` computes for a real array;
* the retraction of the ``Sphere`` is R_x(v) = (x + v)/‖x + v‖ (pymanopt's ``_normalize``).

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

__all__ = ["frobenius_norm", "norm_function", "retraction_function"]


def frobenius_norm(value: np.ndarray) -> float:
    """‖v‖_F = √(v·v), v the raveled array: ``numpy.linalg.norm`` of a real array, bit for bit.

    Complex and non-float64 arrays go to ``numpy.linalg.norm`` itself.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:
        flat = value.ravel(order="K")
        return math.sqrt(flat.dot(flat))
    return float(np.linalg.norm(value))


def _frobenius_norm(point: Any, tangent_vector: Any) -> float:
    return frobenius_norm(tangent_vector)


def _sphere_retraction(point: Any, tangent_vector: Any) -> Any:
    moved = point + tangent_vector
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
