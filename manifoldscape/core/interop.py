"""An existing ``pymanopt.Problem`` as a manifoldscape ``Objective`` (``Problem.from_pymanopt``).

pymanopt states a problem as a manifold and a cost decorated for a backend (autograd, JAX,
PyTorch, TensorFlow, or plain numpy), with optional ``euclidean_gradient`` and
``euclidean_hessian``.  ``PymanoptObjective`` evaluates them through pymanopt's own wrappers
(which know the argument layout of products and of ``FixedRankEmbedded``'s (u, s, vt)):

* cost: ``problem.cost``;
* Euclidean gradient: the one given, else the backend's automatic one (a numpy cost without a
  gradient is refused: nothing can differentiate it);
* Euclidean Hessian-vector product ∇²f(x)[ξ] for an ambient direction ξ: the one given, else the
  backend's automatic one (autograd, JAX, PyTorch, TensorFlow), else central finite differences
  of the gradient

      ∇²f(x)[ξ] ≈ (∇f(x + tξ) − ∇f(x − tξ)) / 2t,   t = ε^{1/3} max(‖x‖, 1) / ‖ξ‖,

  whose error is O(t² ‖∇³f‖ ‖ξ‖³) + O(ε ‖∇f‖ / t), about ε^{2/3} ≈ 4·10⁻¹¹ relative to the
  scales of ∇f and ∇³f (Nocedal & Wright, *Numerical Optimization*, §8.1).  The gradient is then
  evaluated slightly off the manifold (at x ± tξ), as any ambient derivative is.

The finite-difference error enters certificates: ``hessian_error(problem, x)`` estimates the error
of the Riemannian Hessian-vector products at x (the difference between the products at steps t
and 2t along two seeded unit tangent directions, in the metric norm, plus the round-off
10 ε ‖∇f‖ / t), and ``certify_options(problem, x)`` turns it into the certificate's public
``eigenvalue_tolerance`` argument when it is not negligible against the certificate's own
default (below 10⁻⁸ ‖Hess f‖ it is left to the default, which scales as 10⁻⁶ ‖Hess f‖); the
solvers' run loop passes these options to ``certify``.  A direct call of ``ms.certify`` on such a
problem should pass them too: ``certify(problem, x, **problem.objective.certify_options(problem,
x))``.

Backends other than autograd and numpy are optional: their costs come with pymanopt's decorators,
and pymanopt refuses the decorator when the backend is not installed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pymanopt

from manifoldscape.core.problem import Objective, quiet_constant_derivatives
from manifoldscape.geometry import (
    inner_product,
    point_norm,
    random_tangent_vector,
    to_tangent_space,
)

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem

__all__ = ["PymanoptObjective"]

_EPS = float(np.finfo(float).eps)
#: relative step of the central differences, ε^{1/3}
FINITE_DIFFERENCE_STEP = _EPS ** (1.0 / 3.0)
#: below this fraction of ‖Hess f‖ the finite-difference error is left to the certificate's
#: default tolerance (which is 10⁻⁶ ‖Hess f‖ and more)
NEGLIGIBLE_ERROR = 1e-8


def _backend_name(problem: pymanopt.Problem) -> str:
    function = getattr(problem, "_original_cost", None)
    return str(getattr(function, "_backend", "unknown"))


def _given(function: Any) -> bool:
    """Whether a pymanopt problem's Riemannian derivative was given by its author.

    pymanopt fills ``_riemannian_gradient`` / ``_riemannian_hessian`` lazily, on first use by an
    optimizer, with closures over the Euclidean ones: those are not given.
    """
    if function is None:
        return False
    name = getattr(function, "__qualname__", "")
    generated = name.startswith(("Problem.riemannian_gradient.", "Problem.riemannian_hessian."))
    return not (generated and getattr(function, "__module__", "").startswith("pymanopt."))


def _combine(a: Any, b: Any, alpha: float, beta: float) -> Any:
    """Alpha a + beta b for arrays or (nested) sequences of arrays."""
    if isinstance(a, (list, tuple)):
        return [_combine(p, q, alpha, beta) for p, q in zip(a, b, strict=True)]
    return alpha * np.asarray(a) + beta * np.asarray(b)


def _as_structure(value: Any) -> Any:
    """A backend's return value as numpy arrays (lists for products and factored points)."""
    if isinstance(value, (list, tuple)):
        return [_as_structure(v) for v in value]
    return np.asarray(value)


class PymanoptObjective(Objective):
    """Cost, gradient and Hessian-vector product of an existing ``pymanopt.Problem``.

    ``hessian_source`` says where the Hessian-vector product comes from: ``"given"``,
    ``"autodiff"`` (the backend's) or ``"finite-differences"`` (see the module docstring).
    """

    def __init__(self, problem: pymanopt.Problem):
        if not isinstance(problem, pymanopt.Problem):
            raise TypeError(f"problem must be a pymanopt.Problem, got {type(problem).__name__}")
        if _given(problem._riemannian_gradient) or _given(problem._riemannian_hessian):
            raise ValueError(
                "problem gives a riemannian_gradient or riemannian_hessian; from_pymanopt needs "
                "the Euclidean ones (euclidean_gradient, euclidean_hessian) or a cost decorated "
                "for an autodiff backend (autograd, jax, pytorch, tensorflow), because the "
                "Riemannian Hessian of a certificate is built from them"
            )
        self.problem = problem
        self.backend = _backend_name(problem)
        self._cost = problem.cost
        if problem._euclidean_gradient is not None:
            self._gradient = problem._euclidean_gradient
        else:
            try:
                self._gradient = problem.euclidean_gradient
            except NotImplementedError as exc:
                raise ValueError(
                    f"the cost of problem uses pymanopt's {self.backend} backend, which cannot "
                    "differentiate it: give euclidean_gradient= to pymanopt.Problem, or decorate "
                    "the cost for an autodiff backend (pymanopt.function.autograd)"
                ) from exc
        self._hessian: Any = None
        if problem._euclidean_hessian is not None:
            # pymanopt's wrapper embeds tangent vectors first; the Problem passes ambient ones
            self._hessian = getattr(problem._euclidean_hessian, "__wrapped__", None)
            self.hessian_source = "given"
        if self._hessian is None and problem._euclidean_hessian is None:
            try:
                operator = problem._original_cost.get_hessian_operator()
            except NotImplementedError:
                operator = None
            if operator is not None:
                self._hessian = problem._wrap_hessian_operator(
                    operator, embed_tangent_vectors=False
                )
                self.hessian_source = "autodiff"
        if self._hessian is None:
            self.hessian_source = "finite-differences"
        self._step_factor = 1.0

    # ------------------------------------------------------------------ Objective
    def cost(self, x: Any, data: Any) -> float:  # noqa: D102
        return float(np.real(np.asarray(self._cost(x))))

    def euclidean_gradient(self, x: Any, data: Any) -> Any:  # noqa: D102
        return _as_structure(self._gradient(x))

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:  # noqa: D102
        if self._hessian is not None:
            with quiet_constant_derivatives():
                return _as_structure(self._hessian(x, direction))
        size = point_norm(direction)
        if size == 0.0:
            return _combine(direction, direction, 0.0, 0.0)
        t = self._step_factor * FINITE_DIFFERENCE_STEP * max(point_norm(x), 1.0) / size
        forward = self.euclidean_gradient(_combine(x, direction, 1.0, t), None)
        backward = self.euclidean_gradient(_combine(x, direction, 1.0, -t), None)
        return _combine(forward, backward, 0.5 / t, -0.5 / t)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        if self.backend != "Autograd":
            raise NotImplementedError(
                f"the cost uses pymanopt's {self.backend} backend, not autograd: no autograd twin"
            )
        return self._cost(x)

    # ------------------------------------------------------------------ certificates
    def hessian_error(self, problem: Problem, x: Any) -> tuple[float, float]:
        """(error, scale): the estimated error of Hess f(x)[u] for unit u, and max ‖Hess f(x)[u]‖.

        0 error unless the products come from finite differences (module docstring).
        """
        if self.hessian_source != "finite-differences":
            return 0.0, 0.0
        manifold = problem.manifold
        error = scale = 0.0
        for seed in (0, 1):
            u = random_tangent_vector(manifold, x, seed)
            first = problem.riemannian_hessian(x, u)
            self._step_factor = 2.0
            try:
                second = problem.riemannian_hessian(x, u)
            finally:
                self._step_factor = 1.0
            difference = first - second
            error = max(
                error, math.sqrt(max(inner_product(manifold, x, difference, difference), 0))
            )
            scale = max(scale, math.sqrt(max(inner_product(manifold, x, first, first), 0.0)))
        t = FINITE_DIFFERENCE_STEP * max(point_norm(x), 1.0)
        roundoff = 10.0 * _EPS * point_norm(problem.euclidean_gradient(x)) / t
        return error + roundoff, scale

    def certify_options(self, problem: Problem, x: Any) -> dict[str, Any]:
        """Options for ``certify`` at x: an ``eigenvalue_tolerance`` that covers the FD error.

        Empty when the Hessian is exact or the error is below ``NEGLIGIBLE_ERROR`` ‖Hess f‖;
        otherwise 1.5 · 10⁻⁶ ‖Hess f‖ + ‖grad f‖/max(‖x‖, 1) (the certificate's default, with
        ‖Hess f‖ estimated by power iteration) plus 10 × the estimated error.
        """
        error, scale = self.hessian_error(problem, x)
        if error == 0.0:
            return {}
        norm = max(scale, _power_norm(problem, x))
        if error <= NEGLIGIBLE_ERROR * norm:
            return {}
        gradient = problem.gradient_norm(x) / max(point_norm(x), 1.0)
        return {"eigenvalue_tolerance": 1.5e-6 * norm + gradient + 10.0 * error}


def _power_norm(problem: Problem, x: Any, iterations: int = 8) -> float:
    """‖Hess f(x)‖ by a few power iterations (a lower bound close to it)."""
    manifold = problem.manifold
    u = random_tangent_vector(manifold, x, 2)
    estimate = 0.0
    for _ in range(iterations):
        w = to_tangent_space(manifold, x, problem.riemannian_hessian(x, u))
        estimate = math.sqrt(max(inner_product(manifold, x, w, w), 0.0))
        if not estimate > 0:
            return 0.0
        u = w / estimate
    return estimate
