"""The fixed-point (power-type, MSP) iteration x ← P_M(−∇f(x)).

For the −ℓ4 formulations of seed 001 (dictionary learning: min_{q ∈ S^{n−1}} −‖qᵀȲ‖₄⁴; the whole
dictionary at once on the orthogonal group; tensor decomposition on O(n)) and seed 003 §3.2, the
objective is −g with g convex.  Then the maximizer of the linearisation of g over the manifold,

    x_{k+1} = P_M(∇g(x_k)) = P_M(−∇f(x_k)),      P_M(z) = argmax_{x ∈ M} ⟨z, x⟩,

increases g at every step, since g(x_{k+1}) ≥ g(x_k) + ⟨∇g(x_k), x_{k+1} − x_k⟩ ≥ g(x_k)
(Journée, Nesterov, Richtárik & Sepulchre, "Generalized power method for sparse principal
component analysis", JMLR 2010, Thm. 1 and §3).  For f(A) = −(1/4)‖AY‖₄⁴ on O(n) this is the
"matching, stretching and projection" (MSP) algorithm of Zhai, Yang, Liao, Wright & Ma,
"Complete dictionary learning via ℓ4-norm maximization over the orthogonal group" (JMLR 2020;
seed 003 ref. [128]):

    A ← Polar((AY)^{∘3} Yᵀ),

and on the sphere it is the power method q ← Ȳ(Ȳᵀq)^{∘3}/‖·‖.  For f(x) = −xᵀAx it is the power
method on A.  P_M is

* on the ``Sphere``: z/‖z‖_F;
* on ``Stiefel(n, p)`` (O(n) is ``Stiefel(n, n)``): the polar factor U Vᵀ of the thin SVD
  z = U Σ Vᵀ, the maximizer of ⟨z, X⟩ over XᵀX = I (the orthogonal Procrustes solution, the
  "projection" step of Zhai et al. 2020);
* on ``SpecialOrthogonalGroup(n)``: the polar factor, and if det(U Vᵀ) = −1 the last column of U
  (smallest singular value) flipped, U diag(1, …, 1, −1) Vᵀ: the maximizer of ⟨z, X⟩ over SO(n)
  (the Kabsch–Umeyama rotation; Umeyama, IEEE TPAMI 1991, Lemma).

**Shift and safeguard.** ``shift`` σ ≥ 0 iterates x ← P_M(σx − ∇f(x)) instead: ‖x‖_F is constant
on these manifolds, so adding (σ/2)‖x‖_F² to g changes neither the problem nor its critical
points, and makes g + (σ/2)‖·‖² convex once σ ≥ max ‖∇²f‖ (then every step is monotone as above;
for large σ the step is a projected gradient step of length 1/σ).  MSP is σ = 0.  When f is not
concave the plain iteration may cycle (the power method on an A with eigenvalues ±λ_max, for the
Rayleigh quotient), so with ``adaptive_shift`` (default) a step is accepted only if

    f(x_k) − f(x_{k+1}) ≥ ½ ⟨σx_k − ∇f(x_k), x_{k+1} − x_k⟩ − (round-off of f),

half the gain that convexity guarantees (the right side is ≥ 0 because x_{k+1} maximizes the
linear function); otherwise σ is raised to max(2σ, ‖∇f(x_k)‖/‖x_k‖) and the step recomputed.  For
a concave f (every −ℓ4 objective) the test always passes, σ stays 0 and the iteration is exactly
MSP; ``History.extra['shift']`` records σ per iterate.

**Stopping.** Stop when the iterate stops moving, ‖x_{k+1} − x_k‖_F < ``step_tolerance``
(absolute; points here have ‖x‖_F = 1, √p or √n), or when ‖grad f‖ falls below the gradient
tolerance of every solver, or at ``max_iterations`` / ``max_time``.  Near a fixed point on the
sphere ‖x_{k+1} − x_k‖ ≈ ‖grad f(x_k)‖ / ‖σx_k − ∇f(x_k)‖, a relative gradient norm, so a small
step means a small gradient.  The final point is certified like every solver's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pymanopt.manifolds import SpecialOrthogonalGroup, Sphere, Stiefel

from manifoldscape.core.loop import (
    IterativeSolver,
    SolverState,
    StepSizeBelow,
    StoppingCriterion,
    gradients,
    require_number,
)
from manifoldscape.geometry.fast import determinant, frobenius_norm, thin_svd

SUPPORTED = "Sphere, Stiefel(n, p) (O(n) as Stiefel(n, n)) and SpecialOrthogonalGroup(n)"

_SUFFICIENT_GAIN = 0.5
_MAX_SHIFT_TRIALS = 60
_ROUNDOFF = 16 * float(np.finfo(float).eps)
_add_reduce = np.add.reduce


def _check_supported(manifold: Any) -> None:
    if isinstance(manifold, (Sphere, Stiefel, SpecialOrthogonalGroup)):
        if getattr(manifold, "_k", 1) != 1:
            raise TypeError(f"the msp solver needs k = 1, got {manifold}")
        return
    raise TypeError(
        f"the msp solver needs a manifold with a projection of ambient matrices: {SUPPORTED}; "
        f"got {type(manifold).__name__}"
    )


def project_to_manifold(manifold: Any, z: np.ndarray) -> np.ndarray | None:
    """P_M(z) = argmax_{x ∈ M} ⟨z, x⟩ (module docstring); None if z = 0 on the sphere.

    Raises ``TypeError`` for a manifold other than Sphere, Stiefel and SpecialOrthogonalGroup.
    """
    _check_supported(manifold)
    return _project(_kind(manifold), z)


_KINDS = {Sphere: "sphere", SpecialOrthogonalGroup: "special", Stiefel: "stiefel"}


def _kind(manifold: Any) -> str:
    """'sphere', 'special' (SO(n)) or 'stiefel': which P_M applies (checked once per step)."""
    kind = _KINDS.get(type(manifold))
    if kind is not None:
        return kind
    if isinstance(manifold, Sphere):
        return "sphere"
    return "special" if isinstance(manifold, SpecialOrthogonalGroup) else "stiefel"


def _project(kind: str, z: np.ndarray) -> np.ndarray | None:
    if kind == "sphere":
        norm = frobenius_norm(z)
        return z / norm if norm > 0 else None
    u, _, vt = thin_svd(z)  # numpy.linalg.svd(z, full_matrices=False), bit for bit
    x = u @ vt
    # det(U Vᵀ) = det(U) det(Vᵀ) = ±1 for the orthogonal factors: one determinant, of the
    # product, decides the sign (the product is recomputed only in the rare flipped case)
    if kind == "special" and determinant(x) < 0:
        u = u.copy()
        u[:, -1] = -u[:, -1]  # singular values are sorted: flip the smallest one's direction
        x = u @ vt
    return x


@dataclass(frozen=True, eq=False, kw_only=True)
class FixedPointState(SolverState):
    """The fixed-point state: the shift σ in force and ∇f(x), which the next step projects."""

    shift: float
    euclidean_gradient: Any = None


def _uncounted(problem: Any) -> Any:
    """The Problem behind the loop's EvaluationCounter (for cached look-ups, not new work)."""
    return getattr(problem, "problem", problem)


@dataclass(frozen=True, kw_only=True)
class FixedPointIteration(IterativeSolver):
    """MSP / power-type iteration x ← P_M(σx − ∇f(x)) with a monotone safeguard (module doc).

    Options (besides those of every solver):

    * ``shift`` σ ≥ 0 (default 0: MSP, Zhai et al. 2020);
    * ``adaptive_shift``: raise σ when a step does not decrease f enough (default True);
    * ``step_tolerance``: stop when ‖x_{k+1} − x_k‖_F < step_tolerance (default 1e-10).

    Supported manifolds: Sphere, Stiefel (O(n) = Stiefel(n, n)), SpecialOrthogonalGroup; any
    other raises ``TypeError`` naming them.  Counts: one gradient per iterate (the Euclidean
    gradient is the one cached with the Riemannian gradient), one cost per trial step.
    ``History.extra`` holds ``shift`` (σ used for the step to each iterate) and ``trials`` (steps
    computed, 1 unless the safeguard raised σ).
    """

    name: ClassVar[str] = "msp"

    shift: float = 0.0
    adaptive_shift: bool = True
    step_tolerance: float = 1e-10

    def validate(self) -> None:  # noqa: D102
        super().validate()
        require_number(self.shift, "shift", minimum=0.0, maximum=math.inf, open_maximum=True)
        if not isinstance(self.adaptive_shift, (bool, np.bool_)):
            raise TypeError(f"adaptive_shift must be True or False, got {self.adaptive_shift!r}")
        require_number(self.step_tolerance, "step_tolerance", minimum=0.0)

    def default_stopping_criterion(self) -> StoppingCriterion:
        """The loop's default rule, plus the step falling below ``step_tolerance``."""
        return super().default_stopping_criterion() | StepSizeBelow(self.step_tolerance)

    def init_state(self, problem: Any, x: Any) -> FixedPointState:
        """f(x₀), grad f(x₀) and σ = ``shift``; refuses unsupported manifolds."""
        manifold = problem.manifold
        _check_supported(manifold)
        egrad, gradient = gradients(problem, x)
        return FixedPointState(
            problem=problem,
            point=x,
            cost=problem.cost(x),
            gradient=gradient,
            gradient_norm=float(manifold.norm(x, gradient)),
            shift=float(self.shift),
            extra={"shift": float(self.shift), "trials": 0},
            euclidean_gradient=egrad,
        )

    def step(self, state: FixedPointState) -> FixedPointState:  # type: ignore[override]
        """x⁺ = P_M(σx − ∇f(x)), σ raised until the safeguard accepts the step.

        The norms ‖x‖ and ‖∇f(x)‖ enter only the round-off allowance and the raised shift, so
        they are computed only when a step fails the test without the allowance.
        """
        problem = state.problem
        x, cost = state.point, state.cost
        egrad = state.euclidean_gradient
        if egrad is None:  # a state built elsewhere: the gradient is cached, not recomputed
            egrad = _uncounted(problem).euclidean_gradient(x)
        if type(egrad) is not np.ndarray:
            egrad = np.asarray(egrad)
        shift = state.shift
        manifold = problem.manifold
        kind = _KINDS.get(type(manifold)) or _kind(manifold)
        norms: tuple[float, float] | None = None  # (‖x‖, ‖∇f(x)‖), when first needed
        x_new, cost_new, trials, step, entry = x, cost, 0, None, None
        for _ in range(_MAX_SHIFT_TRIALS):
            trials += 1
            z = shift * x - egrad if shift else -egrad
            candidate = _project(kind, z)
            if candidate is None:  # σx = ∇f(x): x is critical for the shifted linearisation
                break
            candidate_cost, candidate_entry = problem.new_point_cost(candidate)
            if not math.isfinite(candidate_cost):
                x_new, cost_new = candidate, candidate_cost
                break
            move = candidate - x
            if not self.adaptive_shift:
                x_new, cost_new, step, entry = candidate, candidate_cost, move, candidate_entry
                break
            decrease = cost - candidate_cost
            # ⟨z, move⟩ as ndarray.sum computes it (the same reduction, without its wrapper)
            threshold = _SUFFICIENT_GAIN * float(_add_reduce(z * move, None))
            if decrease < threshold:  # only then can the round-off allowance matter
                if norms is None:
                    norms = (frobenius_norm(x), frobenius_norm(egrad))
                x_norm, egrad_norm = norms
                scale = abs(cost) + abs(candidate_cost) + egrad_norm * x_norm
                threshold -= _ROUNDOFF * scale
            if decrease >= threshold:
                x_new, cost_new, step, entry = candidate, candidate_cost, move, candidate_entry
                break
            if norms is None:
                norms = (frobenius_norm(x), frobenius_norm(egrad))
            x_norm, egrad_norm = norms
            floor_shift = egrad_norm / x_norm if x_norm > 0 else 1.0
            shift = max(2.0 * shift, floor_shift if floor_shift > 0 else 1.0)
        egrad_new = egrad
        if not math.isfinite(cost_new):  # the loop stops here and returns the previous iterate
            gradient, gradient_norm, egrad_new = state.gradient, math.nan, None
        elif x_new is x:
            gradient, gradient_norm = state.gradient, state.gradient_norm
        else:
            egrad_new, gradient = problem.gradients_at(x_new, entry)  # loop.gradients, directly
            gradient_norm = frobenius_norm(gradient)
        return FixedPointState.fast(
            problem=problem,
            point=x_new,
            cost=cost_new,
            gradient=gradient,
            gradient_norm=gradient_norm,
            step_size=frobenius_norm(x_new - x) if step is None else frobenius_norm(step),
            shift=shift,
            extra={"shift": shift, "trials": trials},
            euclidean_gradient=egrad_new,
        )
