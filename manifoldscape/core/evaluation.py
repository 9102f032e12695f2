"""Evaluation bookkeeping of a ``Problem``: its point cache and the loop's counter.

``_PointCache`` remembers what was computed at the last few points (prepare data, cost,
gradients; compared exactly, keys copied on entry); ``EvaluationCounter`` is how a solver sees a
problem inside ``IterativeSolver.run``: every cost, gradient and Hessian-vector call counted,
plus the fast path for the points the solver computes itself (``new_point_cost`` and
``gradients_at``: no cache look-up and, without a callback, no copy of the point until the run
ends; issue 14 item 6, "a thin loop").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.objective import _check_shapes, scalar_cost
from manifoldscape.core.result import EvaluationCounts
from manifoldscape.geometry import copy_point, same_point
from manifoldscape.geometry.fast import riemannian_gradient as fast_riemannian_gradient

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem

#: marks a cache entry whose key is still the caller's own array (``_PointCache.insert``)
_PROVISIONAL = "provisional key"


class _PointCache:
    """Remembers what was computed at the last few points (compared exactly, copied on entry)."""

    def __init__(self, size: int = 2):
        self._size = size
        self._entries: list[tuple[Any, dict[str, Any]]] = []

    def entry(self, x: Any) -> dict[str, Any]:
        for key, value in self._entries:
            if same_point(key, x):
                return value
        return self.insert(x)

    def insert(self, x: Any, provisional: bool = False) -> dict[str, Any]:
        """A new, empty entry for x (a copy of x is its key), without looking x up first.

        For a point its caller has just computed: looking it up would only find an equal point
        if the iteration stood still, and then the new entry repeats that work exactly.
        ``provisional``: the key is x itself, not a copy, until ``seal``; only for a caller
        that owns x, will not modify it, and calls ``seal`` before anyone else can (the loop
        of ``IterativeSolver.run`` without a callback: its iterates reach no user code before
        the run ends).
        """
        value: dict[str, Any] = {}
        if provisional:
            key, value[_PROVISIONAL] = x, True
        elif type(x) is np.ndarray:  # copied as copy_point copies it (np.array(x, copy=True))
            key = x.copy(order="K")
        else:
            key = copy_point(x)
        self._entries.insert(0, (key, value))
        del self._entries[self._size :]
        return value

    def seal(self) -> None:
        """Replace the keys of provisional entries by copies (see ``insert``)."""
        entries = self._entries
        for k, (key, value) in enumerate(entries):
            if value.pop(_PROVISIONAL, False):
                entries[k] = (copy_point(key), value)

    def clear(self) -> None:
        self._entries.clear()


class EvaluationCounter:
    """Counts the cost, gradient and Hessian-vector calls a solver makes on a problem."""

    def __init__(self, problem: Problem, provisional_keys: bool = False):
        self.problem = problem
        self.manifold = problem.manifold
        self.n_cost = self.n_gradient = self.n_hessian = 0
        #: new points enter the cache without a copy until ``seal`` (``_PointCache.insert``)
        self.provisional_keys = provisional_keys

    def seal(self) -> None:
        """Copy the cache keys of the points entered provisionally (call before returning them)."""
        self.problem._cache.seal()

    def cost(self, x: Any) -> float:
        """f(x), counted."""
        self.n_cost += 1
        return self.problem.cost(x)

    def new_point_cost(self, x: Any) -> tuple[float, dict[str, Any]]:
        """f(x) and x's cache entry at a point just computed (``Problem.new_point_cost``)."""
        self.n_cost += 1
        problem = self.problem
        if not self.provisional_keys:
            return problem.new_point_cost(x)
        # Problem.new_point_cost with _PointCache.insert(x, provisional=True), inlined (this
        # runs every iterate)
        entry: dict[str, Any] = {_PROVISIONAL: True}
        cache = problem._cache
        entries = cache._entries
        entries.insert(0, (x, entry))
        del entries[cache._size :]
        objective = problem.objective
        data = entry["data"] = objective.prepare(x)
        value = objective.cost(x, data)
        cost = entry["cost"] = value if type(value) is float else scalar_cost(value)
        return cost, entry

    def euclidean_gradient(self, x: Any) -> Any:
        """∇f(x), counted as a gradient evaluation."""
        self.n_gradient += 1
        return self.problem.euclidean_gradient(x)

    def euclidean_gradient_at(self, x: Any, entry: dict[str, Any]) -> Any:
        """∇f(x) through x's entry from ``new_point_cost``, counted as a gradient evaluation."""
        self.n_gradient += 1
        gradient = entry.get("egrad")
        if gradient is None:  # Problem._euclidean_gradient, inlined: this runs every iterate
            gradient = self.problem.objective.euclidean_gradient(x, entry["data"])
            if not (
                type(gradient) is np.ndarray and type(x) is np.ndarray and gradient.shape == x.shape
            ):
                _check_shapes(gradient, x, "euclidean_gradient", "the point")
            entry["egrad"] = gradient
        return gradient

    def gradients_at(self, x: Any, entry: dict[str, Any]) -> tuple[Any, Any]:
        """(∇f(x), grad f(x)) through x's entry from ``new_point_cost``, counted once.

        ``loop.gradients(self, x, entry)``: grad f(x) formed as ``Problem.riemannian_gradient``
        forms it (``geometry.fast.riemannian_gradient``).
        """
        self.n_gradient += 1
        egrad = entry.get("egrad")
        if egrad is None:  # euclidean_gradient_at, inlined: this runs every iterate
            egrad = self.problem.objective.euclidean_gradient(x, entry["data"])
            if not (type(egrad) is np.ndarray and type(x) is np.ndarray and egrad.shape == x.shape):
                _check_shapes(egrad, x, "euclidean_gradient", "the point")
            entry["egrad"] = egrad
        return egrad, fast_riemannian_gradient(self.manifold, x, egrad)

    def riemannian_gradient(self, x: Any) -> Any:
        """Grad f(x), counted as a gradient evaluation."""
        self.n_gradient += 1
        return self.problem.riemannian_gradient(x)

    def euclidean_hessian(self, x: Any, direction: Any) -> Any:
        """∇²f(x)[direction], counted."""
        self.n_hessian += 1
        return self.problem.euclidean_hessian(x, direction)

    def riemannian_hessian(self, x: Any, tangent_vector: Any) -> Any:
        """Hess f(x)[u], counted."""
        self.n_hessian += 1
        return self.problem.riemannian_hessian(x, tangent_vector)

    def offers_single_hessian(self, x: Any = None) -> bool:
        """Whether the problem computes Hessian-vector products in single precision."""
        return self.problem.offers_single_hessian(x)

    def riemannian_hessian_single(self, x: Any, tangent_vector: Any) -> Any:
        """Hess f(x)[u] in float32, counted as a Hessian evaluation."""
        self.n_hessian += 1
        return self.problem.riemannian_hessian_single(x, tangent_vector)

    def counts(self) -> EvaluationCounts:
        """The counts so far."""
        return EvaluationCounts(self.n_cost, self.n_gradient, self.n_hessian)
