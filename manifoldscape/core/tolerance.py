"""Tolerances derived from the computation: what a certificate and a stopping rule compare with.

A certificate decides two things at a point x of M: is x critical, and what is the sign of each
Riemannian Hessian eigenvalue off the symmetry orbit.  Each decision compares a computed number
with a threshold made of two parts:

* a *relative accuracy*, measured on quantities that a shift f ↦ f + c (or f ↦ f + c q with q
  constant on M, such as c ‖x‖² on the sphere) does not change — the Riemannian Hessian and
  gradient — and that a scaling f ↦ s f multiplies by s:

      τ_grad = rtol_gradient · ‖Hess f(x)‖ · ℓ,
      τ_eig  = rtol_eigenvalue · ‖Hess f(x)‖ + ‖grad f(x)‖ / ℓ,

  with ℓ = max(‖x‖, 1) the length scale of a relative move of x.  ‖grad f‖ ≤ τ_grad says that a
  critical point lies within a relative distance of about ``rtol_gradient`` of x (when the
  Hessian is well conditioned); the ‖grad f‖/ℓ term in τ_eig is the error the eigenvalues
  inherit from x not being exactly critical;

* a *round-off floor* ρ, the error of the floating-point computation that produced the number.
  The Riemannian gradient P_x ∇f(x) cancels the normal part of ∇f, which a shift can make
  arbitrarily large (c ‖x‖² adds 2cx); the Riemannian Hessian cancels the Euclidean
  Hessian-vector product ∇²f[u] against the Weingarten term W(u, P_x^⊥ ∇f) (on the sphere,
  −2(A + cI)u against (xᵀ∇f) u).  A result of a sum is wrong by a few ε times the size of the
  terms summed, so

      ρ_grad = γ ε (‖∇f(x)‖ + ‖grad f(x)‖) + γ N δ,
      ρ_eig  = max(γ ε max_u (‖∇²f(x)[u]‖ + ‖W_u‖ + ‖Hess f(x)[u]‖) + γ N δ,  2 ‖H − Hᵀ‖₂),

  where the maximum runs over the unit tangent vectors the Hessian was applied to (the basis
  columns of a dense matrix, the Krylov vectors of Lanczos), W_u = Hess f(x)[u] − P_x ∇²f(x)[u]
  is the manifold's correction (the Weingarten term on a submanifold), ε is the unit round-off,
  δ the smallest subnormal number (the absolute precision of underflowed results), N the
  ambient dimension, and ‖H − Hᵀ‖₂ the observed asymmetry of the computed Hessian matrix — a
  direct measurement of its entries' errors.  γ = 32 is a safety factor: on the Rayleigh
  quotient shifted by c = 10⁶ … 10¹⁶ (n = 50 and 300) the observed errors of the gradient norm
  are 2–9 ε ‖∇f‖ and those of the eigenvalues 3–16 ε ‖∇f‖ (here ‖∇²f[u]‖ + ‖W_u‖ ≈ 2 ‖∇f‖),
  so the floors hold them with a margin of 4 to 16.

With the floor, a decision has three outcomes.  A computed value v with true value within ρ of
it is *definitely* below the threshold τ when v ≤ τ − ρ, *definitely* above it when v > τ + ρ,
and *undecided* in between: round-off prevents the decision, and the certificate says
``degenerate`` with a note naming the floor instead of guessing.  An unshifted problem, whose
floor is tiny, decides exactly as it would without one; a shifted or scaled problem either
decides the same way or says that it cannot (``tests/test_certificate_invariance.py`` proves
it over random instances, points, shifts and scalings).  When ρ_eig exceeds the spread of the
eigenvalues — a constant cost, a shift of 10¹⁶, underflow — every eigenvalue is undecided and
the certificate says so.

Norms are computed without overflow or underflow (``safe_norm``): ‖v‖ = s ‖v/s‖ with s the
largest magnitude in v, so a gradient of size 10²⁰⁰ or 10⁻³⁰⁰ has a finite, non-zero norm.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: unit round-off of float64
EPSILON = float(np.finfo(float).eps)
#: the smallest positive subnormal float64: the absolute precision of an underflowed result
SUBNORMAL = float(np.finfo(float).smallest_subnormal)
#: safety factor of the round-off floors (module docstring)
SAFETY = 32.0


def _max_abs(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        return max((_max_abs(v) for v in value), default=0.0)
    array = np.asarray(value)
    return float(np.max(np.abs(array))) if array.size else 0.0


def _divided(value: Any, divisor: float) -> Any:
    if type(value) in (list, tuple):
        return [_divided(v, divisor) for v in value]
    return value / divisor


def safe_norm(value: Any) -> float:
    """Euclidean norm of an array, a list of arrays or a factored matrix, free of over/underflow.

    An array's norm is computed as s ‖value / s‖ with s its largest magnitude, a list's from its
    parts' norms the same way; a factored matrix (``frobenius_norm()``) measures itself.  NaN if
    an entry is NaN, inf if one is infinite.
    """
    if hasattr(value, "frobenius_norm"):
        return float(value.frobenius_norm())
    if isinstance(value, (list, tuple)):
        parts = np.array([safe_norm(v) for v in value], dtype=float)
        return safe_norm(parts) if parts.size else 0.0
    array = np.asarray(value)
    if array.size == 0:
        return 0.0
    scale = float(np.max(np.abs(array)))
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    if 1e-150 < scale < 1e150:
        return float(np.linalg.norm(array))
    return scale * float(np.linalg.norm(array / scale))


def riemannian_norm(manifold: Any, point: Any, tangent_vector: Any) -> float:
    """‖v‖_x in the manifold's metric, without overflow or underflow (the norm is homogeneous)."""
    if hasattr(tangent_vector, "frobenius_norm"):
        return float(manifold.norm(point, tangent_vector))
    scale = _max_abs(tangent_vector)
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    if 1e-150 < scale < 1e150:
        return float(manifold.norm(point, tangent_vector))
    return scale * float(manifold.norm(point, _divided(tangent_vector, scale)))


def ambient_size(value: Any) -> int:
    """The number of real entries of a point or vector in the embedding space (factors' sizes)."""
    if hasattr(value, "factors"):
        return sum(ambient_size(f) for f in value.factors)
    if isinstance(value, (list, tuple)):
        return sum(ambient_size(v) for v in value)
    array = np.asarray(value)
    return int(array.size) * (2 if np.iscomplexobj(array) else 1)


def length_scale(point: Any) -> float:
    """ℓ = max(‖x‖, 1): the length of a relative move of x."""
    return max(safe_norm(point), 1.0)


def gradient_floor(euclidean_gradient_norm: float, gradient_norm: float, size: int) -> float:
    """ρ_grad = γ ε (‖∇f‖ + ‖grad f‖) + γ N δ: the round-off of a computed Riemannian gradient."""
    return SAFETY * (EPSILON * (euclidean_gradient_norm + gradient_norm) + max(size, 1) * SUBNORMAL)


def eigenvalue_floor(term_magnitude: float, size: int, asymmetry: float = 0.0) -> float:
    """ρ_eig (module docstring) from the largest term magnitude of the Hessian applications."""
    model = SAFETY * (EPSILON * term_magnitude + max(size, 1) * SUBNORMAL)
    return max(model, 2.0 * asymmetry)


def relative_gradient_tolerance(rtol: float, hessian_norm: float, length: float) -> float:
    """τ_grad = rtol · ‖Hess f(x)‖ · ℓ."""
    return rtol * hessian_norm * length


def relative_eigenvalue_tolerance(
    rtol: float, hessian_norm: float, gradient_norm: float, length: float
) -> float:
    """τ_eig = rtol · ‖Hess f(x)‖ + ‖grad f(x)‖ / ℓ."""
    return rtol * hessian_norm + gradient_norm / length


def decide_below(value: float, threshold: float, floor: float) -> bool | None:
    """Is the true value (within ``floor`` of ``value``) at most ``threshold``? None: undecided."""
    if value <= threshold - floor:
        return True
    if value > threshold + floor:
        return False
    return None
