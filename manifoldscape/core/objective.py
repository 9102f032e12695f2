"""The ``Objective`` a problem author writes, and its autograd form.

``Objective``: cost, Euclidean gradient and Hessian-vector product by hand, sharing
intermediate results through ``prepare``; ``AutogradObjective``: the same from an autograd cost.
The ``Problem`` (``manifoldscape.core.problem``) turns them into Riemannian derivatives.
"""

from __future__ import annotations

import abc
import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from pymanopt.manifolds import Product
from pymanopt.manifolds.manifold import Manifold


class Objective(abc.ABC):
    """Cost, Euclidean gradient and Hessian-vector product of a problem, written by hand.

    ``prepare(x)`` computes what cost, gradient and Hessian share at x (for example A x); the
    ``Problem`` calls it once per point and passes its result as ``data``.  Set
    ``batched_hessian = True`` if ``euclidean_hessian`` accepts a batch of directions with a
    leading axis (used to form Hessian matrices with one matrix-matrix product).
    """

    batched_hessian: bool = False

    def prepare(self, x: Any) -> Any:
        """Intermediate results shared by cost, gradient and Hessian at ``x``."""
        return None

    @abc.abstractmethod
    def cost(self, x: Any, data: Any) -> float:
        """f(x)."""

    @abc.abstractmethod
    def euclidean_gradient(self, x: Any, data: Any) -> Any:
        """∇f(x) in the embedding space (same structure as x)."""

    @abc.abstractmethod
    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:
        """∇²f(x)[direction] for an ambient direction."""

    def autograd_cost(self, x: Any) -> Any:
        """The same cost written with ``autograd.numpy``: the reference for the derivatives."""
        raise NotImplementedError(f"{type(self).__name__} has no autograd twin")


class AutogradObjective(Objective):
    """An objective whose derivatives come from autograd (prototyping, and reference twins).

    For complex points the gradient is taken for the real inner product Re⟨u, v⟩, i.e.
    ∂f/∂Re x + i ∂f/∂Im x.
    """

    def __init__(self, cost: Callable[[Any], Any]):
        import autograd

        if not callable(cost):
            raise TypeError(f"cost must be callable, got {type(cost).__name__}")
        self._cost = cost
        self._grad = autograd.grad(cost)

        def directional(x: Any, u: Any) -> Any:
            g = self._grad(x)
            if isinstance(u, (list, tuple)):  # x is boxed by autograd here, u is not
                return sum(_real_inner(g[i], ui) for i, ui in enumerate(u))
            return _real_inner(g, u)

        self._hvp = autograd.grad(directional)

    def cost(self, x: Any, data: Any) -> float:  # noqa: D102
        return scalar_cost(self._cost(x))

    def euclidean_gradient(self, x: Any, data: Any) -> Any:  # noqa: D102
        with _explained_autograd_errors():
            return _conj(self._grad(_autograd_point(x)))

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:  # noqa: D102
        with _explained_autograd_errors(), quiet_constant_derivatives():
            return _conj(self._hvp(_autograd_point(x), _autograd_point(direction)))

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return self._cost(x)


def scalar_cost(value: Any, where: str = "the cost") -> float:
    """A cost value as a float: a number, or an array holding one (a (1, 1) ``xᵀAx``)."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, complex)):
        return float(value)
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"{where} must be a scalar, got an array of shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where} must be a real number, got dtype {array.dtype}")
    return float(array.reshape(()))


@contextlib.contextmanager
def _explained_autograd_errors() -> Any:
    """Name the usual cause when autograd cannot differentiate a cost: plain numpy inside it."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "ArrayBox" in text or "dtype('O')" in text:
            raise TypeError(
                "autograd could not differentiate the cost: write it with autograd.numpy "
                "(import autograd.numpy as anp; anp.dot, anp.linalg.eigh, …) instead of plain "
                f"numpy or float(), which autograd cannot trace ({type(exc).__name__}: "
                f"{' '.join(text.split())[:200]})"
            ) from exc
        raise


@contextlib.contextmanager
def quiet_constant_derivatives() -> Iterator[None]:
    """Silence autograd's warning that a derivative is constant (a linear cost's Hessian is 0)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Output seems independent of input", category=UserWarning
        )
        yield


def _real_inner(a: Any, b: Any) -> Any:
    import autograd.numpy as anp

    return anp.real(anp.sum(a * b))


def _conj(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_conj(p) for p in v]
    return np.conj(v) if np.iscomplexobj(v) else v


def _autograd_point(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [np.asarray(p) for p in x]
    return np.asarray(x)


def _contiguous(*arrays: Any) -> bool:
    """Whether all are C-contiguous numpy arrays (their dot products then round off alike)."""
    return all(type(a) is np.ndarray and a.flags.c_contiguous for a in arrays)


def _embedding(manifold: Manifold, x: Any, tangent_vector: Any) -> Any:
    """Ambient form of a tangent vector (pymanopt's ``Product`` lacks ``embedding``: SO(n))."""
    if isinstance(manifold, Product):
        parts = zip(manifold.manifolds, x, tangent_vector, strict=True)
        return [_embedding(m, p, u) for m, p, u in parts]
    return manifold.embedding(x, tangent_vector)


def _check_shapes(value: Any, reference: Any, method: str, what: str) -> None:
    """Refuse a derivative whose structure or shape differs from the point's (or direction's)."""
    if type(value) is np.ndarray and type(reference) is np.ndarray:
        if value.shape == reference.shape:
            return  # the common case, without the checks below
    if isinstance(reference, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(reference):
            raise ValueError(
                f"{method} returned {type(value).__name__} for {what} of {len(reference)} "
                "parts; it must return one array per part"
            )
        for k, (part, ref) in enumerate(zip(value, reference, strict=True)):
            _check_shapes(part, ref, f"{method} (part {k})", what)
        return
    shape, expected = np.shape(value), np.shape(reference)
    if shape != expected:
        raise ValueError(
            f"{method} returned shape {shape} for {what} of shape {expected}; it must return "
            "an array of the same shape"
        )


def _regroup(layout: Any, args: tuple) -> Any:
    """Pymanopt's flat arguments as a point: one array, a factored tuple, or a product list."""
    if isinstance(layout, (list, tuple)):
        out, start = [], 0
        for size in layout:
            out.append(args[start] if size == 1 else list(args[start : start + size]))
            start += size
        return out
    return args[0] if layout == 1 else list(args)


def _flatten(layout: Any, value: Any) -> Any:
    """A product's value as the flat list pymanopt's wrappers regroup (others unchanged)."""
    if isinstance(layout, (list, tuple)):
        flat: list = []
        for size, part in zip(layout, value, strict=True):
            flat.extend([part] if size == 1 else list(part))
        return flat
    return value
