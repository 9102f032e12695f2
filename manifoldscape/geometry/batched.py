"""The Euclidean-to-Riemannian Hessian conversion on a stack of directions at once.

For a batch of tangent vectors u_1, …, u_b at x, stacked along a leading axis (shape
(b, *shape)), and the stacked Euclidean products ∇²f(x)[u_k], the Riemannian Hessian

    Hess f(x)[u_k] = P_x(∇²f(x)[u_k]) + W_x(u_k, P_x^⊥ ∇f(x))

(Boumal, *An Introduction to Optimization on Smooth Manifolds*, Cor. 5.16; pymanopt's
``RiemannianSubmanifold.euclidean_to_riemannian_hessian``) is linear in u_k and ∇²f(x)[u_k]
with coefficients that depend on x and ∇f(x) only, so it is formed for the whole stack with a
few array operations instead of one pymanopt call (and its ``tensordot``) per direction.  The
formulas are pymanopt 2.2.1's, written for a leading batch axis:

* ``Sphere`` (vectors or matrices, ⟨·,·⟩ summed over all axes): P_x z = z − ⟨x, z⟩ x and
  W_x(u, n) = −⟨x, n⟩ u (Absil, Mahony & Trumpler, "An extrinsic look at the Riemannian
  Hessian", GSI 2013, the Weingarten map of the sphere);
* ``Stiefel(n, p, k)``: P_X Z = Z − X sym(XᵀZ) and W_X(U, N) = −U XᵀN − X sym(UᵀN) (ibid.);
* ``Oblique(m, n)``: column by column as the sphere, Hess f(X)[U] = P_X(∇²f[U]) − U ddiag(Xᵀ∇f)
  (pymanopt's own ``euclidean_to_riemannian_hessian``);
* ``Euclidean``: Hess f(x)[u] = ∇²f(x)[u];
* ``SpecialOrthogonalGroup(n, k)`` (tangent vectors Ω skew, embedded as XΩ):
  Hess f(X)[Ω] = skew(Xᵀ∇²f[XΩ] − Ω sym(Xᵀ∇f)).

Only these exact pymanopt classes take the stacked path (``stacks_hessian``); subclasses, the
classes whose conversion ``manifoldscape.geometry.generic`` corrects, products and every other
manifold keep the per-vector path of ``manifoldscape.core.problem``.  Along with each product
the conversion returns the size of the terms it cancels, the scale of its round-off
(``manifoldscape.core.tolerance``), exactly as the per-vector path measures it: ‖∇²f[u]‖ +
‖W_u‖ + ‖Hess f[u]‖ with W_u the Weingarten term for the sphere and Stiefel, and with
W_u = Hess f[u] − P_x ∇²f[u] for the classes with their own conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymanopt.manifolds import Euclidean, Oblique, SpecialOrthogonalGroup, Sphere, Stiefel
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.geometry.bases import batch_item, stack_batch

__all__ = [
    "column_dots",
    "embedding_stack",
    "euclidean_to_riemannian_hessian_stack",
    "projection_stack",
    "row_norms",
    "stacks_hessian",
]

_STACKED = (Sphere, Stiefel, Oblique, Euclidean, SpecialOrthogonalGroup)
_VECDOT = getattr(np, "vecdot", None)


def stacks_hessian(manifold: Manifold) -> bool:
    """Whether ``euclidean_to_riemannian_hessian_stack`` handles ``manifold`` (module docstring)."""
    return type(manifold) in _STACKED


def embedding_stack(manifold: Manifold, point: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The ambient forms of a stack of tangent vectors (XΩ on SO(n); the vectors elsewhere)."""
    if type(manifold) is SpecialOrthogonalGroup:
        return point @ vectors
    return vectors


def projection_stack(manifold: Manifold, point: Any, vectors: Any, count: int) -> Any:
    """P_x(z_k) for the first ``count`` ambient vectors of a batch, as a batch.

    On pymanopt's ``Sphere``, z − ⟨x, z⟩ x for the whole stack with pymanopt's arithmetic (one
    BLAS dot per item, as its ``tensordot``), so each item equals ``manifold.projection`` of it
    alone to the last bit; elsewhere ``manifold.projection`` item by item.
    """
    if type(manifold) is Sphere and type(vectors) is np.ndarray:
        x = np.asarray(point)
        z = np.ascontiguousarray(vectors[:count])
        return z - _expand(_inner_with(x, z), z.ndim) * x
    return stack_batch([manifold.projection(point, batch_item(vectors, k)) for k in range(count)])


if hasattr(np, "vecdot"):  # numpy ≥ 2.0: about half the call cost of einsum on small arrays

    def column_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """⟨a_k, b_k⟩ for every column k of two real n × K arrays (K points or directions)."""
        return np.vecdot(a, b, axis=0)

else:  # pragma: no cover - numpy < 2.0

    def column_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """⟨a_k, b_k⟩ for every column k of two real n × K arrays (K points or directions)."""
        return np.einsum("ik,ik->k", a, b)


def row_norms(stack: np.ndarray) -> np.ndarray:
    """‖a_k‖ for each item of a stack, free of over/underflow (``tolerance.safe_norm`` per item).

    NaN for an item holding a NaN, inf for one holding an infinity, as ``safe_norm``; the sums
    of squares go through the same BLAS ``dot`` as ``numpy.linalg.norm`` of one item.
    """
    flat = stack.reshape(stack.shape[0], -1)
    if flat.shape[1] == 0:
        return np.zeros(flat.shape[0])
    scale = np.abs(flat).max(axis=1)
    if scale.min() > 1e-150 and scale.max() < 1e150:  # the common case (NaN fails both)
        return np.sqrt(_dots(flat, flat))
    plain = (scale > 1e-150) & (scale < 1e150)
    out = scale.astype(float, copy=True)
    if plain.any():
        out[plain] = np.sqrt(_dots(flat[plain], flat[plain]))
    scaled = np.isfinite(scale) & (scale > 0) & ~plain
    if scaled.any():
        s = scale[scaled]
        small = flat[scaled] / s[:, None]
        out[scaled] = s * np.sqrt(_dots(small, small))
    return out


def _dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ⟨a_k, b_k⟩ (real) with the BLAS ``dot`` kernel, item by item."""
    if _VECDOT is not None:
        return _VECDOT(a, b)
    return np.array([np.dot(x, y) for x, y in zip(a, b, strict=True)])  # numpy < 2


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _skew(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a - np.swapaxes(a, -1, -2))


def _inner_with(point: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """⟨x, z_k⟩ summed over all axes of x, for each item of the stack: shape (b,).

    Item by item with the BLAS ``dot`` kernel (``numpy.vecdot``), as pymanopt's ``tensordot``
    computes ⟨x, z⟩ for one vector, so the results round off exactly as the per-vector path's
    (a matrix-vector product would sum in another order).
    """
    return _dots(stack.reshape(stack.shape[0], -1), point.reshape(1, -1))


def _expand(values: np.ndarray, ndim: int) -> np.ndarray:
    return values.reshape(values.shape + (1,) * (ndim - 1))


def euclidean_to_riemannian_hessian_stack(
    manifold: Manifold,
    point: np.ndarray,
    egrad: np.ndarray,
    ehess: np.ndarray,
    vectors: np.ndarray,
    terms: bool = True,
    cache: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Hess f(x)[u_k] for stacks ∇²f(x)[u_k] and u_k (leading axis), and the term sizes (b,).

    ``manifold`` must pass ``stacks_hessian``; the formulas are in the module docstring.  The
    sizes (None unless ``terms``) are ‖∇²f[u_k]‖ + ‖W_k‖ + ‖Hess f[u_k]‖ summed in the order
    of the per-vector path.  ``cache``, a dict kept for this point and gradient (the problem's
    point cache), keeps the sphere's Weingarten weight −⟨x, P_x^⊥ ∇f⟩ across calls.
    """
    kind = type(manifold)
    x = np.asarray(point)
    if kind is Sphere:
        weight = None if cache is None else cache.get("sphere_weingarten_weight")
        if weight is None:
            g = np.asarray(egrad)
            normal = g - (g - _inner_with(x, g[None])[0] * x)  # P_x^⊥ ∇f, as pymanopt
            weight = -_inner_with(x, normal[None])[0]
            if cache is not None:
                cache["sphere_weingarten_weight"] = weight
        correction = weight * vectors
        inner = _inner_with(x, ehess)
        out = ehess - _expand(inner, ehess.ndim) * x + correction
        parts = (ehess, correction, out)
    elif kind is Stiefel:
        xt = np.swapaxes(x, -1, -2)
        normal = egrad - (egrad - x @ _sym(xt @ egrad))  # P_X^⊥ ∇f, as pymanopt
        # (−U Xᵀ) N, in pymanopt's order of the products
        correction = -vectors @ xt @ normal - x @ _sym(np.swapaxes(vectors, -1, -2) @ normal)
        out = ehess - x @ _sym(xt @ ehess) + correction
        parts = (ehess, correction, out)
    elif kind is Oblique:
        projected = ehess - x * np.sum(x * ehess, axis=-2, keepdims=True)
        out = projected - vectors * np.sum(x * egrad, axis=0)[None, :]
        parts = (ehess, out, out - projected) if terms else ()
    elif kind is Euclidean:
        out = ehess
        parts = (ehess, out, out - ehess) if terms else ()
    elif kind is SpecialOrthogonalGroup:
        xt = np.swapaxes(x, -1, -2)
        xt_ehess = xt @ ehess
        out = _skew(xt_ehess - vectors @ _sym(xt @ egrad))
        # the per-vector path measures W_u against pymanopt's projection skew(Xᵀ ∇²f[u])
        parts = (ehess, out, out - _skew(xt_ehess)) if terms else ()
    else:
        raise TypeError(f"no stacked Hessian conversion for {manifold}; check stacks_hessian first")
    if not terms:
        return out, None
    return out, _summed_row_norms(parts)


def _summed_row_norms(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    """Σ_part ``row_norms(part)``, to the last bit, with one reduction per part when it can.

    Each row's sum of squares s_k is the BLAS ``dot`` ``row_norms`` takes, on the same layout.
    When every s_k lies in (N·1e-290, 1e290) (N entries per row), every row's largest magnitude
    m_k lies in (1e-150, 1e150), as m_k² ≤ s_k ≤ N m_k² up to rounding far inside the margins:
    the case in which ``row_norms`` returns √s_k.  Otherwise (a NaN fails the test too)
    ``row_norms`` itself.
    """
    squares = []
    with np.errstate(over="ignore"):  # a huge row's sum overflows: row_norms scales it below
        for part in parts:
            flat = part.reshape(part.shape[0], -1)
            squares.append(_dots(flat, flat) if flat.shape[1] else None)
    total = None
    for part, sums in zip(parts, squares, strict=True):
        norms = None
        if sums is not None and sums.dtype == np.float64:
            low = part.size // max(part.shape[0], 1) * 1e-290  # N entries per row
            if all(low < s < 1e290 for s in sums.tolist()):
                norms = np.sqrt(sums)
        if norms is None:
            norms = row_norms(part)
        total = norms if total is None else total + norms
    return total
