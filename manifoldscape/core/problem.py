"""The ``Problem``: a cost on a pymanopt manifold, with what landscape analysis needs.

A problem author writes an ``Objective``: cost, Euclidean gradient and Euclidean
Hessian-vector product by hand, sharing intermediate results through ``prepare`` (computed once
per point and cached), plus an autograd version of the cost that the tests use as reference.
The ``Problem`` adds the manifold, the symmetry group, the ground truth, the instance parameters
and seed, and turns Euclidean derivatives into Riemannian ones through the manifold:

    grad f(x) = P_x(∇f(x)),   Hess f(x)[u] = P_x(∇²f(x)[u]) + W_x(u, P_x^⊥ ∇f(x))

(pymanopt's ``euclidean_to_riemannian_gradient`` / ``_hessian``; Boumal, *An Introduction to
Optimization on Smooth Manifolds*, Cor. 5.16), the Weingarten term W being what makes the
Riemannian Hessian of the Rayleigh quotient −2(A − λI) on x^⊥ (seed 001, "A classical example").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymanopt
from pymanopt.manifolds import ComplexEuclidean, Euclidean, Product, Sphere
from pymanopt.manifolds.manifold import Manifold, RiemannianSubmanifold

from manifoldscape.core.evaluation import EvaluationCounter, _PointCache
from manifoldscape.core.objective import (
    AutogradObjective,
    Objective,
    _check_shapes,
    _contiguous,
    _embedding,
    _flatten,
    _regroup,
    quiet_constant_derivatives,
    scalar_cost,
)
from manifoldscape.core.symmetry import SymmetryGroup, natural_symmetry
from manifoldscape.core.tolerance import riemannian_norm, safe_norm
from manifoldscape.geometry import (
    as_tangent,
    batch_item,
    check_point,
    corrects_hessian,
    embedding_stack,
    euclidean_to_riemannian_gradient,
    euclidean_to_riemannian_hessian,
    euclidean_to_riemannian_hessian_stack,
    point_norm,
    pymanopt_compatible,
    require_second_order,
    stack_batch,
    stacks_hessian,
)
from manifoldscape.geometry.fast import riemannian_gradient as fast_riemannian_gradient

__all__ = [
    "AutogradObjective",
    "EvaluationCounter",
    "Objective",
    "Problem",
    "quiet_constant_derivatives",
    "scalar_cost",
]


@dataclass(frozen=True, eq=False)
class Problem:
    """A cost on a manifold, with its symmetry group, ground truth and instance parameters.

    Construct one from an ``Objective`` (hand-written derivatives), with
    ``Problem.from_autograd`` (derivatives by autograd), ``Problem.from_pymanopt`` (an existing
    ``pymanopt.Problem``), or from a factory of ``manifoldscape.problems``.  Without a
    ``symmetry``, the manifold's natural one is used (``symmetry.natural_symmetry``: O(p) on the
    Grassmann manifold, O(k) on ``PSDFixedRank`` and ``Elliptope``, U(·) on their complex
    versions, the trivial group elsewhere).
    """

    manifold: Manifold
    objective: Objective
    name: str = "custom"
    symmetry: SymmetryGroup | None = None
    truth: Any = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    #: distance to truth (modulo symmetry, relative to ‖truth‖) below which x counts as recovered
    recovery_tolerance: float = 1e-5
    _cache: _PointCache = field(default_factory=_PointCache, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.manifold, Manifold):
            raise TypeError(
                f"manifold must be a pymanopt Manifold, got {type(self.manifold).__name__}"
            )
        if not isinstance(self.objective, Objective):
            raise TypeError(
                f"objective must be a manifoldscape Objective, got {type(self.objective).__name__}"
            )
        if self.symmetry is None:
            object.__setattr__(self, "symmetry", natural_symmetry(self.manifold))
        if not isinstance(self.symmetry, SymmetryGroup):
            raise TypeError(
                "symmetry must be a manifoldscape SymmetryGroup, "
                f"got {type(self.symmetry).__name__}"
            )
        if self.truth is not None:
            object.__setattr__(self, "truth", check_point(self.manifold, self.truth, "truth", 1e-6))
        if not (self.recovery_tolerance > 0):
            raise ValueError(f"recovery_tolerance must be positive, got {self.recovery_tolerance}")
        object.__setattr__(self, "parameters", dict(self.parameters))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_autograd(
        cls,
        manifold: Manifold,
        cost: Callable[[Any], Any],
        *,
        symmetry: SymmetryGroup | None = None,
        truth: Any = None,
        name: str = "custom",
        parameters: Mapping[str, Any] | None = None,
    ) -> Problem:
        """A problem whose gradient and Hessian-vector product come from autograd.

        ``cost`` takes a point (a list of arrays on a ``Product``) and is written with
        ``autograd.numpy``.  ``symmetry`` defaults to the manifold's natural symmetry.
        """
        return cls(
            manifold,
            AutogradObjective(cost),
            name=name,
            symmetry=symmetry,
            truth=truth,
            parameters=parameters or {},
        )

    @classmethod
    def from_pymanopt(
        cls,
        problem: pymanopt.Problem,
        *,
        symmetry: SymmetryGroup | None = None,
        truth: Any = None,
        name: str = "pymanopt",
        parameters: Mapping[str, Any] | None = None,
    ) -> Problem:
        """An existing ``pymanopt.Problem``, as it is, as a manifoldscape problem.

        Any backend (autograd, numpy callables; JAX, PyTorch, TensorFlow when installed), with or
        without ``euclidean_gradient`` / ``euclidean_hessian``.  Without a Hessian, the
        Hessian-vector product comes from the backend's automatic differentiation, or for a
        numpy cost from central differences of the gradient, whose estimated error the solvers'
        certificates account for (``manifoldscape.core.interop``).  ``symmetry`` defaults to
        the manifold's natural symmetry.
        """
        from manifoldscape.core.interop import PymanoptObjective

        objective = PymanoptObjective(problem)
        return cls(
            problem.manifold,
            objective,
            name=name,
            symmetry=symmetry,
            truth=truth,
            parameters=parameters or {},
        )

    def autograd_twin(self) -> Problem:
        """The same problem with autograd derivatives of ``objective.autograd_cost``."""
        return Problem(
            self.manifold,
            AutogradObjective(self.objective.autograd_cost),
            name=f"{self.name} (autograd)",
            symmetry=self.symmetry,
            truth=self.truth,
            parameters=self.parameters,
            seed=self.seed,
            recovery_tolerance=self.recovery_tolerance,
        )

    # ------------------------------------------------------------------ evaluations
    def _entry(self, x: Any) -> dict[str, Any]:
        entry = self._cache.entry(x)
        if "data" not in entry:
            entry["data"] = self.objective.prepare(x)
        return entry

    def cost(self, x: Any) -> float:
        """f(x)."""
        entry = self._entry(x)
        cost = entry.get("cost")
        if cost is None:
            value = self.objective.cost(x, entry["data"])
            cost = entry["cost"] = value if type(value) is float else scalar_cost(value)
        return cost

    def new_point_cost(self, x: Any) -> tuple[float, dict[str, Any]]:
        """f(x) at a point the caller has just computed, and x's cache entry.

        The solvers' fast path (issue 14 item 6): x is not looked up in the cache (a fresh
        array; see ``_PointCache.insert``) and the entry returned lets the caller ask for
        ∇f(x) at the same, unmodified x without a second look-up
        (``euclidean_gradient_at``).  The values are those of ``cost`` bit for bit (as
        everywhere, the objective's methods must not modify x).
        """
        entry = self._cache.insert(x)
        data = entry["data"] = self.objective.prepare(x)
        value = self.objective.cost(x, data)
        cost = entry["cost"] = value if type(value) is float else scalar_cost(value)
        return cost, entry

    def euclidean_gradient(self, x: Any) -> Any:
        """∇f(x) in the embedding space."""
        return self._euclidean_gradient(x, self._entry(x))

    def euclidean_gradient_at(self, x: Any, entry: dict[str, Any]) -> Any:
        """∇f(x) through the entry ``new_point_cost`` returned for this x (not modified since)."""
        return self._euclidean_gradient(x, entry)

    def gradients_at(self, x: Any, entry: dict[str, Any]) -> tuple[Any, Any]:
        """(∇f(x), grad f(x)) through x's entry from ``new_point_cost`` (``loop.gradients``)."""
        egrad = self._euclidean_gradient(x, entry)
        return egrad, fast_riemannian_gradient(self.manifold, x, egrad)

    def _euclidean_gradient(self, x: Any, entry: dict[str, Any]) -> Any:
        """∇f(x) through x's cache entry, already looked up."""
        gradient = entry.get("egrad")
        if gradient is None:
            gradient = self.objective.euclidean_gradient(x, entry["data"])
            _check_shapes(gradient, x, "euclidean_gradient", "the point")
            entry["egrad"] = gradient
        return gradient

    def riemannian_gradient(self, x: Any) -> Any:
        """Grad f(x) = P_x ∇f(x)."""
        entry = self._entry(x)
        gradient = entry.get("rgrad")
        if gradient is None:
            egrad = self._euclidean_gradient(x, entry)
            g = euclidean_to_riemannian_gradient(self.manifold, x, egrad)
            gradient = entry["rgrad"] = as_tangent(self.manifold, g)
        return gradient

    def gradient_norm(self, x: Any) -> float:
        """‖grad f(x)‖ in the Riemannian metric (computed without overflow or underflow)."""
        return riemannian_norm(self.manifold, x, self.riemannian_gradient(x))

    def euclidean_hessian(self, x: Any, direction: Any) -> Any:
        """∇²f(x)[direction] for an ambient direction."""
        product = self.objective.euclidean_hessian(x, self._entry(x)["data"], direction)
        _check_shapes(product, direction, "euclidean_hessian", "the direction")
        return product

    def riemannian_hessian(
        self, x: Any, tangent_vector: Any, terms: list[float] | None = None
    ) -> Any:
        """Hess f(x)[u] from the Euclidean gradient (cached) and Hessian-vector product.

        With a list ``terms``, appends ‖∇²f(x)[u]‖ + ‖W_u‖ + ‖Hess f(x)[u]‖, the size of the
        terms the conversion cancels (W_u = Hess f(x)[u] − P_x ∇²f(x)[u]): the scale of its
        round-off (``manifoldscape.core.tolerance``).
        """
        m = self.manifold
        require_second_order(m)
        direction = _embedding(m, x, tangent_vector)
        entry = self._entry(x)
        ehess = self.objective.euclidean_hessian(x, entry["data"], direction)
        _check_shapes(ehess, direction, "euclidean_hessian", "the direction")
        return self._to_riemannian_hessian(x, ehess, tangent_vector, terms, entry)

    def _to_riemannian_hessian(
        self,
        x: Any,
        ehess: Any,
        tangent_vector: Any,
        terms: list[float] | None = None,
        entry: dict[str, Any] | None = None,
    ) -> Any:
        """Hess f(x)[u] from ∇²f(x)[u]; ``entry``: x's cache entry, if already looked up."""
        m = self.manifold
        if stacks_hessian(m) and _contiguous(x, ehess, tangent_vector):
            # the stacked formulas on a stack of one: pymanopt's arithmetic without its calls
            if entry is None:
                entry = self._entry(x)
            egrad, asked = self._euclidean_gradient(x, entry), terms is not None
            images, sizes = euclidean_to_riemannian_hessian_stack(
                m, x, egrad, ehess[None], tangent_vector[None], asked, entry
            )
            if terms is not None:
                terms.append(float(sizes[0]))
            return images[0]
        if corrects_hessian(m):  # pymanopt's conversion is missing or wrong (geometry.generic)
            out = as_tangent(
                m,
                euclidean_to_riemannian_hessian(
                    m, x, self.euclidean_gradient(x), ehess, tangent_vector
                ),
            )
            if terms is not None:
                terms.append(self._term_size(x, ehess, out))
            return out
        if (
            type(m).euclidean_to_riemannian_hessian
            is RiemannianSubmanifold.euclidean_to_riemannian_hessian
        ):
            # pymanopt's formula P(∇²f[u]) + W(u, ∇f − P ∇f), with the normal part of the
            # gradient computed once per point instead of once per product
            entry = self._entry(x)
            if "normal_gradient" not in entry:
                egrad = self.euclidean_gradient(x)
                entry["normal_gradient"] = egrad - m.projection(x, egrad)
            correction = m.weingarten(x, tangent_vector, entry["normal_gradient"])
            out = as_tangent(m, m.projection(x, ehess) + correction)
            if terms is not None:
                terms.append(safe_norm(ehess) + safe_norm(correction) + safe_norm(out))
            return out
        out = as_tangent(
            m,
            m.euclidean_to_riemannian_hessian(x, self.euclidean_gradient(x), ehess, tangent_vector),
        )
        if terms is not None:
            terms.append(self._term_size(x, ehess, out))
        return out

    def _term_size(self, x: Any, ehess: Any, out: Any) -> float:
        """‖∇²f[u]‖ + ‖Hess f[u] − P ∇²f[u]‖ + ‖Hess f[u]‖ (‖∇f‖ for the correction if P fails)."""
        size = safe_norm(ehess) + safe_norm(out)
        try:
            correction = out - as_tangent(self.manifold, self.manifold.projection(x, ehess))
            return size + safe_norm(correction)
        except Exception:  # a manifold whose projection does not take this ambient form
            return size + safe_norm(self.euclidean_gradient(x))

    def offers_single_hessian(self, x: Any = None) -> bool:
        """Whether ``riemannian_hessian_single`` computes in single precision (at ``x``, if given).

        It does when the objective has a method ``euclidean_hessian_single(x, data, direction)``
        taking and returning single-precision directions (float32, or complex64 on ℂⁿ), the
        manifold is pymanopt's real ``Sphere`` or ``Euclidean`` (the conversion is a projection
        and a scalar Weingarten term) or ``ComplexEuclidean`` (none), and x (if given) is a
        float64 array (complex128 on ``ComplexEuclidean``).
        """
        kind = type(self.manifold)
        if kind not in (Sphere, Euclidean, ComplexEuclidean):
            return False
        if not callable(getattr(self.objective, "euclidean_hessian_single", None)):
            return False
        dtype = np.complex128 if kind is ComplexEuclidean else np.float64
        return x is None or (type(x) is np.ndarray and x.dtype == dtype)

    def riemannian_hessian_single(self, x: Any, tangent_vector: np.ndarray) -> np.ndarray:
        """Hess f(x)[u] in single precision from the objective's single-precision product.

        On the sphere Hess f(x)[u] = P_x(∇²f(x)[u]) − ⟨x, ∇f(x)⟩ u with P_x z = z − ⟨x, z⟩ x
        (Absil, Mahony & Trumpler, GSI 2013; ``geometry.batched``), on ``Euclidean`` and
        ``ComplexEuclidean`` ∇²f(x)[u] (float32, complex64 on ℂⁿ).  x rounded to float32 and the
        Weingarten weight −⟨x, ∇f(x)⟩ (computed in double, then rounded) are kept in x's cache
        entry, so each call costs the objective's single-precision product and a few float32
        vector operations.  The result agrees with ``riemannian_hessian`` to float32 round-off
        (relative to ‖∇²f(x)‖ ‖u‖); use it only where that suffices (the inner iteration of
        trust regions with ``inner_precision="single"``).  Requires ``offers_single_hessian(x)``.
        """
        entry = self._entry(x)
        single_dtype = np.complex64 if type(self.manifold) is ComplexEuclidean else np.float32
        u = np.asarray(tangent_vector, dtype=single_dtype)
        ehess = np.asarray(
            self.objective.euclidean_hessian_single(x, entry["data"], u), dtype=single_dtype
        )
        _check_shapes(ehess, u, "euclidean_hessian_single", "the direction")
        if type(self.manifold) is not Sphere:
            return ehess
        single = entry.get("single")
        if single is None:
            egrad = self._euclidean_gradient(x, entry)
            weight = -float(np.dot(x.ravel(), np.asarray(egrad).ravel()))
            single = entry["single"] = (x.astype(np.float32), np.float32(weight))
        x32, weight32 = single
        return ehess - np.float32(np.dot(x32.ravel(), ehess.ravel())) * x32 + weight32 * u

    def riemannian_hessian_batch(
        self, x: Any, tangent_vectors: Any, count: int, terms: list[float] | None = None
    ) -> list[Any]:
        """Hess f(x)[u_k] for a batch of ``count`` tangent vectors (one product if batched).

        ``terms`` as in ``riemannian_hessian``, one entry per vector.
        """
        if self.stacks_hessian(tangent_vectors):
            return list(self.riemannian_hessian_stack(x, tangent_vectors, count, terms))
        return self._riemannian_hessian_list(x, tangent_vectors, count, terms)

    def stacks_hessian(self, tangent_vectors: Any = None) -> bool:
        """Whether a batch of tangent vectors (arrays) is converted at once (``geometry``)."""
        return stacks_hessian(self.manifold) and (
            tangent_vectors is None or type(tangent_vectors) is np.ndarray
        )

    def riemannian_hessian_stack(
        self, x: Any, tangent_vectors: Any, count: int, terms: list[float] | None = None
    ) -> Any:
        """Hess f(x)[u_k] for the first ``count`` vectors of a batch, as a batch (leading axis).

        Where ``stacks_hessian`` holds, the Euclidean products (one call if the objective is
        batched) are converted for the whole stack at once by
        ``geometry.euclidean_to_riemannian_hessian_stack``; elsewhere vector by vector.
        ``terms`` as in ``riemannian_hessian``, one entry per vector.
        """
        if not self.stacks_hessian(tangent_vectors):
            return stack_batch(self._riemannian_hessian_list(x, tangent_vectors, count, terms))
        m = self.manifold
        # contiguous, as a stack of separate vectors would be: the products round off the same
        vectors = np.ascontiguousarray(tangent_vectors[:count])
        embedded = embedding_stack(m, x, vectors)
        entry = self._entry(x)
        if self.objective.batched_hessian:
            ehess = self.objective.euclidean_hessian(x, entry["data"], embedded)
            _check_shapes(ehess, embedded, "euclidean_hessian", "the batch of directions")
        else:
            ehess = np.stack([self.euclidean_hessian(x, e) for e in embedded])
            entry = self._entry(x)  # the products may have evaluated at other points
        images, sizes = euclidean_to_riemannian_hessian_stack(
            m, x, self._euclidean_gradient(x, entry), ehess, vectors, terms is not None, entry
        )
        if terms is not None:
            terms.extend(sizes.tolist())
        return images

    def _riemannian_hessian_list(
        self, x: Any, tangent_vectors: Any, count: int, terms: list[float] | None
    ) -> list[Any]:
        m = self.manifold
        vectors = [batch_item(tangent_vectors, k) for k in range(count)]
        if not self.objective.batched_hessian or isinstance(m, Product):
            return [self.riemannian_hessian(x, u, terms) for u in vectors]
        embedded = np.stack([m.embedding(x, u) for u in vectors])
        ehess = self.objective.euclidean_hessian(x, self._entry(x)["data"], embedded)
        return [self._to_riemannian_hessian(x, ehess[k], u, terms) for k, u in enumerate(vectors)]

    # ------------------------------------------------------------------ ground truth
    def distance_to_truth(self, x: Any) -> float:
        """dist_G(x, x♮) / ‖x♮‖: distance modulo the symmetry group, relative to ‖x♮‖."""
        if self.truth is None:
            raise ValueError(f"problem {self.name!r} has no ground truth")
        return self.symmetry.distance(x, self.truth) / max(point_norm(self.truth), 1e-300)

    def recovered(self, x: Any) -> bool | None:
        """Whether dist_G(x, x♮)/‖x♮‖ ≤ ``recovery_tolerance`` (None without a truth)."""
        if self.truth is None:
            return None
        return self.distance_to_truth(x) <= self.recovery_tolerance

    def check_point(self, x: Any, name: str = "x0") -> Any:
        """Validate a point for this problem (shape, dtype, finiteness, on the manifold)."""
        return check_point(self.manifold, x, name)

    # ------------------------------------------------------------------ interop
    def to_pymanopt(self, counter: EvaluationCounter | None = None) -> pymanopt.Problem:
        """A ``pymanopt.Problem`` calling this problem's (cached) functions.

        It hands pymanopt the Riemannian gradient and Hessian-vector product computed here (so
        pymanopt's optimizers see this project's corrections of its geometry, see
        ``manifoldscape.geometry.generic``), in pymanopt's argument layout (products and
        ``FixedRankEmbedded``'s (u, s, vt) flattened).  With a ``counter``, every cost,
        gradient and Hessian-vector call is counted.
        """
        m = self.manifold
        layout = m.point_layout
        n_values = m.num_values
        source = counter if counter is not None else self

        @pymanopt.function.numpy(m)
        def cost(*args: Any) -> float:
            return source.cost(_regroup(layout, args))

        @pymanopt.function.numpy(m)
        def rgrad(*args: Any) -> Any:
            return _flatten(layout, source.riemannian_gradient(_regroup(layout, args)))

        @pymanopt.function.numpy(m)
        def rhess(*args: Any) -> Any:
            x = _regroup(layout, args[:n_values])
            u = as_tangent(m, _regroup(layout, args[n_values:]))
            return _flatten(layout, source.riemannian_hessian(x, u))

        problem = pymanopt.Problem(
            pymanopt_compatible(m), cost, riemannian_gradient=rgrad, riemannian_hessian=rhess
        )
        if isinstance(layout, (list, tuple)):  # pymanopt regroups into plain lists: give back
            grouped_gradient = problem.riemannian_gradient  # tangent vectors with + − *
            grouped_hessian = problem.riemannian_hessian
            problem._riemannian_gradient = lambda x: as_tangent(m, grouped_gradient(x))
            problem._riemannian_hessian = lambda x, u: as_tangent(m, grouped_hessian(x, u))
        return problem

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items() if np.ndim(v) == 0)
        return f"Problem({self.name}({params}) on {self.manifold}, symmetry {self.symmetry})"
