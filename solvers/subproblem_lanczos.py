"""A Lanczos trust-region subproblem solver in the spirit of GLTR.

Gould, Lucidi, Roma & Toint, "Solving the trust-region subproblem using the Lanczos method",
SIAM J. Optim. 9 (1999) 504–525; Conn, Gould & Toint, *Trust-Region Methods* (2000), §7.5;
Absil, Mahony & Sepulchre, *Optimization Algorithms on Matrix Manifolds* (2008), §7.3.

The model at x, m(η) = ⟨g, η⟩ + ½⟨Hη, η⟩ with ‖η‖ ≤ Δ on T_xM (g = grad f(x), H = Hess f(x)),
is minimized over the Krylov spaces K_k = span{g, Hg, …, H^{k−1}g}.  Lanczos started from
q₁ = g/‖g‖ (fully re-orthogonalized in the metric, two passes of classical Gram–Schmidt, so that
Q_k stays orthonormal in floating point) gives H Q_k = Q_k T_k + β_k q_{k+1} e_kᵀ with T_k
tridiagonal, and on K_k the problem is

    min_h ‖g‖ h₁ + ½ hᵀ T_k h   subject to ‖h‖ ≤ Δ,      η = Q_k h.

While T_k is positive definite and its Newton point −‖g‖T_k⁻¹e₁ lies inside the region, that
point is the conjugate-gradient iterate (the interior phase, identical in exact arithmetic to
truncated CG).  Once the region is left or T_k is indefinite (once left, always left: the CG
iterates grow in norm, and an indefinite T_k stays indefinite by interlacing), the small problem
is solved exactly with the Moré–Sorensen conditions (Moré & Sorensen, SIAM J. Sci. Stat. Comput.
4 (1983) 553–572; CGT Thm 7.2.1)

    (T_k + λI) h = −‖g‖ e₁,   T_k + λI ⪰ 0,   λ ≥ 0,   λ (‖h‖ − Δ) = 0,

by Newton's method on the secular equation 1/‖h(λ)‖ = 1/Δ from the left of its root (CGT
Alg. 7.3.4), evaluated in the eigenbasis of T_k (``scipy.linalg.eigh_tridiagonal``); where the
right-hand side has (numerically) no component on T_k's lowest eigenvector, the hard case of the
small problem, the missing length is added along that eigenvector.  Unlike truncated CG, which
stops at the boundary or at the first negative curvature, the iteration goes on in the same
Krylov space.  Since (H + λI) η + g = β_k h_k q_{k+1}, it stops when

    β_k |h_k| ≤ ‖g‖ · min(‖g‖^θ, κ)                        (the residual target of tCG),

when K_k is invariant (β_k ≈ 0), or after ``max_iterations`` Lanczos steps.  The exact hard case
of the full problem (g orthogonal to an eigenvector of H's lowest eigenvalue, invisible to every
Krylov space from g) returns the Krylov step, as truncated CG does.  One Hessian-vector product
per Lanczos step; H η = Q_k T_k h + h_k β_k q_{k+1} costs none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

from manifoldscape.geometry import zero_tangent_vector
from manifoldscape.solvers.subproblem_base import (
    InnerStop,
    SubproblemResult,
    has_frobenius_metric,
    inner_operators,
    metric_inner_product,
    validate_inner_options,
    working_dtype,
)

__all__ = [
    "KrylovSpace",
    "LanczosTrustRegion",
    "TridiagonalStep",
    "solve_tridiagonal_trust_region",
]

_NEWTON_ITERATIONS = 100


@dataclass(frozen=True, eq=False)
class TridiagonalStep:
    """The minimizer h of ‖g‖h₁ + ½hᵀTh on ‖h‖ ≤ Δ, its multiplier λ and T's lowest eigenvalue."""

    solution: np.ndarray
    multiplier: float
    lowest_eigenvalue: float
    hard_case: bool


def _eigen(diagonal: np.ndarray, off_diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if diagonal.size == 1:
        return diagonal.astype(float), np.ones((1, 1))
    return scipy.linalg.eigh_tridiagonal(diagonal, off_diagonal)


def solve_tridiagonal_trust_region(
    diagonal: np.ndarray, off_diagonal: np.ndarray, b1: float, radius: float
) -> TridiagonalStep:
    """Global minimizer of b₁h₁ + ½hᵀTh subject to ‖h‖ ≤ Δ, T symmetric tridiagonal.

    Moré–Sorensen: h = −(T + λI)⁻¹b₁e₁ with λ ≥ max(0, −λ_min(T)) and λ(‖h‖ − Δ) = 0.
    φ(λ) = 1/‖h(λ)‖ − 1/Δ is concave and increasing on (−λ_min, ∞), so Newton steps

        λ ← λ − φ(λ)/φ′(λ),   φ′(λ) = hᵀ(T + λI)⁻¹h / ‖h‖³,

    from a point left of the root stay left of it and converge monotonically (Moré & Sorensen
    1983; CGT Alg. 7.3.4).  Each step costs one LDLᵀ factorization of the tridiagonal T + λI
    and two solves with it (LAPACK ``dpttrf``/``dpttrs``, O(k)); λ_min comes from bisection
    (``dstebz``, O(k) per digit), and a bisection step guards round-off.  The start is λ_min's
    pole moved right by a relative 1e-10 (or λ = 0 when T is positive definite), which is left
    of the root unless T's lowest eigenvector is (numerically) orthogonal to e₁: that case,
    the hard case of the small problem, and any failure of the iteration are left to
    ``_solve_by_eigendecomposition``.
    """
    diagonal = np.asarray(diagonal, dtype=float)
    off_diagonal = np.asarray(off_diagonal, dtype=float)
    k = diagonal.size
    if k < 4:
        return _solve_by_eigendecomposition(diagonal, off_diagonal, b1, radius)
    lowest = float(
        scipy.linalg.lapack.dstebz(diagonal, off_diagonal, 2, 0.0, 0.0, 1, 1, 0.0, "E")[1][0]
    )
    scale = max(float(np.max(np.abs(diagonal))), float(np.max(np.abs(off_diagonal))), 1e-300)
    rhs = np.zeros(k)
    rhs[0] = -b1
    if lowest > 0:
        factor_d, factor_e, info = scipy.linalg.lapack.dpttrf(diagonal, off_diagonal)
        if info == 0:
            h = scipy.linalg.lapack.dpttrs(factor_d, factor_e, rhs)[0]
            if float(h @ h) <= radius * radius:
                return TridiagonalStep(h, 0.0, lowest, False)
        lam = 0.0
    else:
        lam = -lowest + 1e-10 * scale
    lo, hi = lam, max(lam, -lowest + abs(b1) / radius)  # ‖h(λ)‖ ≤ |b₁|/(λ + λ_min)
    for _ in range(_NEWTON_ITERATIONS):
        factor_d, factor_e, info = scipy.linalg.lapack.dpttrf(diagonal + lam, off_diagonal)
        if info != 0:  # round-off at the pole
            break
        h = scipy.linalg.lapack.dpttrs(factor_d, factor_e, rhs)[0]
        norm = math.sqrt(float(h @ h))
        if abs(norm - radius) <= 1e-13 * radius:
            return TridiagonalStep(h, float(lam), lowest, False)
        value = 1.0 / norm - 1.0 / radius
        if value > 0 and lam == lo:  # the start is right of the root: the (near) hard case
            break
        if value < 0:
            lo = lam
        else:
            hi = lam
        z = scipy.linalg.lapack.dpttrs(factor_d, factor_e, h)[0]
        candidate = lam - value * norm**3 / float(h @ z)
        if not lo <= candidate <= hi:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - lam) <= 4.0 * np.spacing(max(lam, scale)):
            return TridiagonalStep(h, float(lam), lowest, False)
        lam = candidate
    return _solve_by_eigendecomposition(diagonal, off_diagonal, b1, radius)


def _solve_by_eigendecomposition(
    diagonal: np.ndarray, off_diagonal: np.ndarray, b1: float, radius: float
) -> TridiagonalStep:
    """``solve_tridiagonal_trust_region`` in the eigenbasis of T (small k, and the hard case).

    With T = V Λ Vᵀ and c = b₁ Vᵀe₁, ‖h(λ)‖² = Σ cᵢ²/(Λᵢ + λ)², and the same safeguarded
    Newton iteration starts at λ₀ = max(0, −Λ₁ + |c₁|/Δ), left of the root since
    ‖h(λ₀)‖ ≥ |c₁|/(Λ₁ + λ₀).  When |c₁|/Δ is below round-off relative to T's scale (the hard
    case, up to that round-off) λ = −Λ₁ and the length missing to reach ‖h‖ = Δ is added along
    T's lowest eigenvector.
    """
    diagonal = np.asarray(diagonal, dtype=float)
    off_diagonal = np.asarray(off_diagonal, dtype=float)
    values, vectors = _eigen(diagonal, off_diagonal)
    c = b1 * vectors[0, :]
    lowest = float(values[0])
    scale = max(float(np.max(np.abs(values))), abs(b1) / radius, np.finfo(float).tiny)
    if lowest > 0:
        interior = -c / values
        if float(interior @ interior) <= radius * radius:
            return TridiagonalStep(vectors @ interior, 0.0, lowest, False)
    low = max(0.0, -lowest)
    cluster = values - lowest <= 1e-12 * scale  # T's lowest eigenspace, to round-off
    start = max(low, -lowest + float(np.linalg.norm(c[cluster])) / radius)
    if low > 0 and start - low <= 1e-12 * scale:
        rest = np.where(cluster, 0.0, -c / np.where(cluster, 1.0, values + low))
        missing = radius * radius - float(rest @ rest)
        if missing >= 0:
            rest[0] = math.sqrt(missing)  # the hard case: along T's lowest eigenvector
            return TridiagonalStep(vectors @ rest, low, lowest, True)
    # ‖h(λ)‖ ≤ ‖c‖/(Λ₁ + λ) ≤ Δ from λ = ‖c‖/Δ − Λ₁ on: the root is left of it
    lam, lo, hi = start, low, max(low, -lowest + float(np.linalg.norm(c)) / radius)
    for _ in range(_NEWTON_ITERATIONS):
        shifted = values + lam
        if np.any(shifted <= 0):  # round-off at the pole: step right
            lam = 0.5 * (lam + hi) if lam < hi else lam + 1e-15 * scale
            continue
        terms = c / shifted
        norm = math.sqrt(float(terms @ terms))
        value = 1.0 / norm - 1.0 / radius
        if abs(norm - radius) <= 1e-13 * radius:
            break
        if value < 0:
            lo = lam
        else:
            hi = lam
        slope = float((terms * terms) @ (1.0 / shifted)) / norm**3
        candidate = lam - value / slope
        if not lo <= candidate <= hi:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - lam) <= 4.0 * np.spacing(max(lam, scale)):
            lam = candidate
            break
        lam = candidate
    solution = vectors @ (-c / (values + lam))
    return TridiagonalStep(solution, float(lam), lowest, False)


def _interior_point(
    diagonal: list[float], off_diagonal: list[float], b1: float
) -> np.ndarray | None:
    """−b₁ T⁻¹ e₁ for a positive-definite tridiagonal T (LAPACK ``dptsv``); None if not."""
    rhs = np.zeros(len(diagonal))
    rhs[0] = -b1
    if len(diagonal) == 1:
        return rhs / diagonal[0] if diagonal[0] > 0 else None
    _, _, solution, info = scipy.linalg.lapack.dptsv(
        np.asarray(diagonal), np.asarray(off_diagonal), rhs
    )
    return solution if info == 0 else None


class _Basis:
    """An orthonormal Krylov basis of T_xM: flat rows of one matrix for the Frobenius metric."""

    def __init__(self, problem: Any, x: Any, reference: Any):
        manifold = problem.manifold
        self.inner = metric_inner_product(manifold)
        self.x = x
        self.flat = has_frobenius_metric(manifold) and isinstance(reference, np.ndarray)
        self.shape = np.shape(reference)
        self.vectors: list[Any] = []
        self.rows = np.empty((8, reference.size), dtype=reference.dtype) if self.flat else None
        self.count = 0

    def append(self, vector: Any) -> None:
        if self.flat:
            if self.count == self.rows.shape[0]:
                self.rows = np.concatenate([self.rows, np.empty_like(self.rows)])
            self.rows[self.count] = vector.ravel()
        else:
            self.vectors.append(vector)
        self.count += 1

    def orthogonalize(self, w: Any) -> Any:
        """The part of w orthogonal to the basis (classical Gram–Schmidt, twice)."""
        if self.flat:
            rows = self.rows[: self.count]
            flat = w.ravel()
            for _ in range(2):
                if np.iscomplexobj(rows):
                    coefficients = np.real(rows.conj() @ flat).astype(rows.real.dtype)
                else:
                    coefficients = rows @ flat
                flat = flat - coefficients @ rows
            return flat.reshape(self.shape)
        for _ in range(2):
            coefficients = [self.inner(self.x, q, w) for q in self.vectors]
            for coefficient, q in zip(coefficients, self.vectors, strict=True):
                w = w - coefficient * q
        return w

    def combine(self, coefficients: np.ndarray) -> Any:
        """Σ cᵢ qᵢ."""
        if self.flat:
            c = coefficients.astype(self.rows.real.dtype)
            return (c @ self.rows[: self.count]).reshape(self.shape)
        out = coefficients[0] * self.vectors[0]
        for coefficient, q in zip(coefficients[1:], self.vectors[1:], strict=True):
            out = out + coefficient * q
        return out


@dataclass(eq=False)
class KrylovSpace:
    """The Lanczos process at one point: basis Q_k, T_k, q_k, w = β_k q_{k+1}, kept for reuse."""

    point: Any
    gradient: Any
    precision: str
    basis: _Basis
    q: Any
    w: Any = None
    beta: float = 0.0
    scale: float = 0.0
    pivot: float = 0.0
    positive_definite: bool = True
    alphas: list[float] = field(default_factory=list)
    betas: list[float] = field(default_factory=list)

    def belongs_to(self, x: Any, gradient: Any, precision: str) -> bool:
        """Whether this space was built at this very point and gradient, in this precision."""
        return self.point is x and self.gradient is gradient and self.precision == precision


@dataclass(frozen=True, kw_only=True)
class LanczosTrustRegion:
    """GLTR-type Lanczos solver for min ⟨g, η⟩ + ½⟨Hη, η⟩ s.t. ‖η‖ ≤ Δ (see module docstring).

    ``kappa``, ``theta``, ``min_iterations`` as for truncated CG: stop when the residual of the
    Moré–Sorensen system, β_k|h_k|, is ≤ ‖g‖ min(‖g‖^θ, κ), tested after ``min_iterations``
    steps.  ``precision``: "double", or "single" for the Lanczos vectors and their inner products
    in float32/complex64 (Hessian-vector products in float32 where the problem offers them,
    ``Problem.riemannian_hessian_single``, else in double and rounded; the small problem in
    double; the residual target floored at 10 ε_single ‖g‖).  ``iterations`` of the result
    equals the number of Hessian-vector products.
    """

    kappa: float = 0.1
    theta: float = 1.0
    min_iterations: int = 1
    precision: str = "double"

    def __post_init__(self) -> None:
        validate_inner_options(self)

    def solve(
        self,
        problem: Any,
        x: Any,
        gradient: Any,
        radius: float,
        max_iterations: int,
        *,
        target_floor: float = 0.0,
        krylov: KrylovSpace | None = None,
    ) -> SubproblemResult:
        """Approximately minimize the model at ``x`` within ``radius`` in ≤ ``max_iterations``.

        ``target_floor``: the residual target is never below it (the outer iteration's absolute
        gradient tolerance asks for no more).  ``krylov``: the ``KrylovSpace`` of an earlier
        call (``SubproblemResult.krylov``); if it was built at this very ``x`` and ``gradient``
        (the same objects: a rejected step), its Lanczos steps are reused and only the
        tridiagonal problem is solved again with the new radius, Lanczos going on from there if
        needed.  ``iterations`` of the result counts the new Hessian-vector products only.
        """
        manifold = problem.manifold
        inner = metric_inner_product(manifold)
        g_norm = math.sqrt(max(inner(x, gradient, gradient), 0.0))
        if g_norm == 0.0:
            zero = zero_tangent_vector(manifold, x)
            return SubproblemResult(zero, zero, 0, InnerStop.ZERO_GRADIENT)
        dtype = working_dtype(gradient, self.precision)
        ops = inner_operators(problem, x, dtype)
        target = max(g_norm * min(g_norm**self.theta, self.kappa), target_floor)
        if dtype is not None:
            target = max(target, 10.0 * float(np.finfo(dtype).eps) * g_norm)
        limit = max(1, min(max_iterations, int(manifold.dim)))

        space = krylov
        if space is None or not space.belongs_to(x, gradient, self.precision):
            q = ops.cast(gradient / g_norm)
            basis = _Basis(problem, x, q)
            basis.append(q)
            space = KrylovSpace(x, gradient, self.precision, basis, q)
        alphas, betas = space.alphas, space.betas
        h = np.zeros(1)
        products, lowest, interior = 0, math.inf, True
        stop = InnerStop.MAX_INNER_ITERATIONS
        while True:
            k = len(alphas)
            if k > 0:
                interior = space.positive_definite
                if interior:
                    newton = _interior_point(alphas, betas, g_norm)
                    interior = newton is not None and float(newton @ newton) < radius * radius
                    if interior:
                        h = newton
                if not interior:
                    small = solve_tridiagonal_trust_region(
                        np.asarray(alphas), np.asarray(betas), g_norm, radius
                    )
                    h, lowest = small.solution, small.lowest_eigenvalue
                residual = space.beta * abs(float(h[-1]))
                invariant = space.beta <= 1e-12 * space.scale
                # on the boundary the step is no Newton step: the linear target κ‖g‖ is enough
                goal = target if interior else max(target, self.kappa * g_norm)
                if (k >= self.min_iterations and residual <= goal) or invariant:
                    if not interior and lowest <= 0:
                        stop = InnerStop.NEGATIVE_CURVATURE
                    elif not interior:
                        stop = InnerStop.EXCEEDED_RADIUS
                    elif self.kappa < g_norm**self.theta:
                        stop = InnerStop.REACHED_TARGET_LINEAR
                    else:
                        stop = InnerStop.REACHED_TARGET_SUPERLINEAR
                    break
                if k >= limit:
                    break
                betas.append(space.beta)
                space.q = space.w / space.beta
                space.basis.append(space.q)
            w = ops.hessian(space.q)
            products += 1
            alpha = inner(x, w, space.q)
            alphas.append(alpha)
            w = space.basis.orthogonalize(w)  # tangent: H q was projected, the basis is
            space.w, space.beta = w, math.sqrt(max(inner(x, w, w), 0.0))
            space.scale = max(space.scale, abs(alpha), space.beta)
            if space.positive_definite:  # T_k = L D Lᵀ: positive definite while the pivots are
                space.pivot = alpha if k == 0 else alpha - betas[-1] ** 2 / space.pivot
                space.positive_definite = space.pivot > 0
        basis, w = space.basis, space.w
        step = basis.combine(h)
        t_h = np.asarray(alphas) * h
        if h.size > 1:
            off = np.asarray(betas[: h.size - 1])
            t_h[:-1] += off * h[1:]
            t_h[1:] += off * h[:-1]
        h_step = basis.combine(t_h) + float(h[-1]) * w  # β_k q_{k+1} = w
        if dtype is not None:
            double = np.complex128 if dtype.kind == "c" else np.float64
            step, h_step = step.astype(double), h_step.astype(double)
        return SubproblemResult(step, h_step, products, stop, space)
