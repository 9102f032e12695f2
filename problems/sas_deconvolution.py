"""Short-and-sparse deconvolution: the bilinear lasso on S^{p₀−1} × R^m.

**Short-and-sparse deconvolution** (``sas_deconvolution``; seed 003 §3.3 eqs. 3.13–3.15, Fig. 5;
seed 001, "Short-and-Sparse Deconvolution"; Kuo, Zhang, Lau and Wright 2019, ref. [56]).  A short
kernel a₀ ∈ S^{p₀−1} and a long sparse x₀ ∈ R^m give y = a₀ ⊛ x₀ (cyclic convolution of length
m, a₀ zero-padded; seed 003 footnote 24).  The bilinear lasso of seed 001 / Fig. 5,

    min_{a ∈ S^{p₀−1}, x ∈ R^m} ½‖y − a ⊛ x‖² + λ Σ_j ρ_μ(x_j),

is posed on the product S^{p₀−1} × R^m.  Seed 001 writes λ‖x‖₁; its ℓ1 is not differentiable,
so we use the pseudo-Huber smoothing ρ_μ(t) = √(t² + μ²) − μ (→ |t| as μ → 0), which gives the
gradient and Hessian the trust-region method and the certificate need.  Symmetry: the
shift-and-scale symmetry a₀ ⊛ x₀ = α s_τ[a₀] ⊛ α⁻¹ s_{−τ}[x₀] (eq. 3.14) with the sphere fixing
|α| = 1; on the window {0, …, p₀−1} shifts are truncated (eq. 3.15), so truncated shifts are
local, not global, minimizers.  ``ShiftTruncation`` measures the distance to the closest
truncated signed shift (cross-correlations by FFT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Product, Sphere

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import SymmetryGroup
from manifoldscape.problems.deconvolution import (
    _AUTOGRAD_MAX_LENGTH,
    _bernoulli_gaussian,
    _check_positive,
    _check_theta,
    _objective,
    circular_convolve,
)


# --------------------------------------------------------------------------- short-and-sparse
def _truncated_shift_scores(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For τ = −(p₀−1), …, p₀−1: ⟨a, ι s_τ[b]⟩ and ‖ι s_τ[b]‖² (ι: restriction to the window).

    (ι s_τ[b])_i = b_{i−τ} for 0 ≤ i − τ < p₀; the inner products are the linear
    cross-correlation of a and b, by one FFT of length 2p₀ − 1.
    """
    p0 = a.shape[-1]
    length = 2 * p0 - 1
    corr = np.fft.irfft(np.fft.rfft(a, length) * np.conj(np.fft.rfft(b, length)), length)
    shifts = np.arange(-(p0 - 1), p0)
    inner = corr[shifts % length]
    cumulative = np.concatenate([[0.0], np.cumsum(b * b)])
    # entries of b kept in the window after a shift by τ: indices max(0, −τ) … p0 − 1 − max(0, τ)
    kept = cumulative[p0 - np.maximum(shifts, 0)] - cumulative[np.maximum(-shifts, 0)]
    return inner, kept


def _truncated_shift(b: np.ndarray, tau: int) -> np.ndarray:
    out = np.zeros_like(b)
    p0 = b.shape[-1]
    if tau >= 0:
        out[tau:] = b[: p0 - tau]
    else:
        out[: p0 + tau] = b[-tau:]
    return out


def _truncated_shift_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, int, float]:
    """min_{τ, ±} ‖a ∓ ι s_τ[b]‖ and the optimal (τ, ±)."""
    inner, kept = _truncated_shift_scores(a, b)
    squared = float(a @ a) + kept - 2.0 * np.abs(inner)
    j = int(np.argmin(squared))
    tau, sign = j - (a.shape[-1] - 1), (-1.0 if inner[j] < 0 else 1.0)
    return float(np.linalg.norm(a - sign * _truncated_shift(b, tau))), tau, sign


@dataclass(frozen=True, repr=False)
class ShiftTruncation(SymmetryGroup):
    """Truncated signed shifts (a, x) ↦ (± ι s_τ[a], ± s_{−τ}[x]), |τ| < p₀ (seed 003 eq. 3.15).

    The shift-and-scale symmetry of short-and-sparse deconvolution (eq. 3.14) with the kernel
    confined to the window {0, …, p₀−1} and on the sphere (|α| = 1): only truncations of the
    shifts remain, so this is a family of maps, not a group, and the "distance"

        min_{|τ| < p₀, ±} ( ‖a ∓ ι s_τ[b]‖² + ‖x ∓ s_{−τ}[z]‖² )^{1/2}

    compares (a, x) with the truncated signed shifts of (b, z); the cross-correlations of the
    kernels (linear, length 2p₀ − 1) and of the signals (cyclic, length m) are FFTs.
    """

    p0: int = 1
    m: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name or f"truncated shifts |τ| < {self.p0} × {{±1}}")

    def _pair(self, point: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise ValueError(f"{what} must be a pair [a, x] for {self.name}")
        a, x = (np.asarray(point[0], dtype=float), np.asarray(point[1], dtype=float))
        if a.shape != (self.p0,) or x.shape != (self.m,):
            raise ValueError(
                f"{what} must be [a, x] with a of length {self.p0} and x of length {self.m}, "
                f"got shapes {a.shape} and {x.shape}"
            )
        return a, x

    def _best(self, point: Any, reference: Any) -> tuple[int, float]:
        """(τ, ±) such that (± ι s_τ[b], ± s_{−τ}[z]) is closest to ``point`` = (a, x)."""
        a, x = self._pair(point, "x")
        b, z = self._pair(reference, "y")
        inner_a, kept = _truncated_shift_scores(a, b)
        shifts = np.arange(-(self.p0 - 1), self.p0)
        corr = np.fft.irfft(np.fft.rfft(x) * np.conj(np.fft.rfft(z)), self.m)
        inner_x = corr[(-shifts) % self.m]
        inner = inner_a + inner_x
        squared = kept - 2.0 * np.abs(inner)
        j = int(np.argmin(squared))
        return int(shifts[j]), (-1.0 if inner[j] < 0 else 1.0)

    def act(self, point: Any, tau: int, sign: float = 1.0) -> list[np.ndarray]:
        """(± ι s_τ[a], ± s_{−τ}[x])."""
        a, x = self._pair(point, "x")
        return [sign * _truncated_shift(a, tau), sign * np.roll(x, -tau)]

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        tau, sign = self._best(x, y)
        moved = self.act(y, tau, sign)
        a, s = self._pair(x, "x")
        return float(np.sqrt(np.sum((a - moved[0]) ** 2) + np.sum((s - moved[1]) ** 2)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        tau, sign = self._best(reference, x)
        return self.act(x, tau, sign)


class SaSObjective(Objective):
    """ψ(a, x) = ½‖y − a ⊛ x‖² + λ Σ_j (√(x_j² + μ²) − μ) on S^{p₀−1} × R^m (module docstring).

    With r = a ⊛ x − y (FFT length m, a zero-padded), ∇_a ψ = ι*(x ⋆ r) (first p₀ entries of
    C_xᵀ r), ∇_x ψ = C_aᵀ r + λ ρ'(x), and for a direction (u, v), with s = u ⊛ x + a ⊛ v,
    ∇²ψ[u, v] = (ι*(C_xᵀ s + C_vᵀ r), C_aᵀ s + C_uᵀ r + λ ρ''(x) ∘ v).
    """

    def __init__(
        self,
        y: np.ndarray,
        p0: int,
        lam: float,
        mu: float,
        *,
        kernel: np.ndarray | None = None,
        signal: np.ndarray | None = None,
    ):
        self.y = y
        self.m = y.size
        self.p0 = p0
        self.lam = float(lam)
        self.mu = float(mu)
        self.kernel = kernel
        self.signal = signal
        self._index = None

    def kernel_distance(self, point: Any) -> float:
        """Min over truncated signed shifts τ, ± of ‖a/‖a‖ ∓ ι s_τ[a₀]‖ (``kernel_error``)."""
        if self.kernel is None:
            raise ValueError("problem has no ground-truth kernel")
        a = np.asarray(point[0], dtype=float)
        return _truncated_shift_distance(a / np.linalg.norm(a), self.kernel)[0]

    def prepare(self, point: list[np.ndarray]) -> dict[str, np.ndarray]:  # noqa: D102
        a, x = point
        ah, xh = np.fft.rfft(a, self.m), np.fft.rfft(x)
        r = np.fft.irfft(ah * xh, self.m) - self.y
        return {"ah": ah, "xh": xh, "r": r, "rh": np.fft.rfft(r)}

    def _penalty(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x * x + self.mu**2) - self.mu

    def cost(self, point: list[np.ndarray], data: dict[str, np.ndarray]) -> float:  # noqa: D102
        return 0.5 * float(data["r"] @ data["r"]) + self.lam * float(
            np.sum(self._penalty(point[1]))
        )

    def euclidean_gradient(  # noqa: D102
        self, point: list[np.ndarray], data: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        x = point[1]
        ga = np.fft.irfft(np.conj(data["xh"]) * data["rh"], self.m)[: self.p0]
        gx = np.fft.irfft(np.conj(data["ah"]) * data["rh"], self.m)
        return [ga, gx + self.lam * x / np.sqrt(x * x + self.mu**2)]

    def euclidean_hessian(  # noqa: D102
        self, point: list[np.ndarray], data: dict[str, np.ndarray], direction: list[np.ndarray]
    ) -> list[np.ndarray]:
        x = point[1]
        u, v = direction
        uh, vh = np.fft.rfft(u, self.m), np.fft.rfft(v)
        sh = uh * data["xh"] + data["ah"] * vh
        ha = np.fft.irfft(np.conj(data["xh"]) * sh + np.conj(vh) * data["rh"], self.m)[: self.p0]
        hx = np.fft.irfft(np.conj(data["ah"]) * sh + np.conj(uh) * data["rh"], self.m)
        curvature = self.lam * self.mu**2 / (x * x + self.mu**2) ** 1.5
        return [ha, hx + curvature * v]

    def autograd_cost(self, point: Any) -> Any:  # noqa: D102
        if self.m > _AUTOGRAD_MAX_LENGTH:
            raise NotImplementedError(f"the autograd twin needs m ≤ {_AUTOGRAD_MAX_LENGTH}")
        a, x = point
        index = (np.arange(self.m)[:, None] - np.arange(self.p0)[None, :]) % self.m
        r = anp.dot(x[index], a) - self.y  # (a ⊛ x)_j = Σ_k a_k x_{j−k}, no FFT
        penalty = anp.sum(anp.sqrt(x * x + self.mu**2) - self.mu)
        return 0.5 * anp.sum(r * r) + self.lam * penalty


def sas_deconvolution(
    p0: int | None = None,
    m: int | None = None,
    *,
    theta: float = 0.05,
    lam: float | None = None,
    mu: float = 1e-2,
    kernel: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    y: np.ndarray | None = None,
    seed: Seed = None,
) -> Problem:
    """Short-and-sparse deconvolution, the bilinear lasso on S^{p₀−1} × R^m (seed 003 §3.3, Fig. 5).

    min_{a ∈ S^{p₀−1}, x ∈ R^m} ½‖y − a ⊛ x‖² + λ Σ_j (√(x_j² + μ²) − μ) (seed 001,
    "Short-and-Sparse Deconvolution", with ‖x‖₁ smoothed by the pseudo-Huber function; module
    docstring).  Seeded instance: kernel length ``p0`` (default 8), signal length ``m``
    (default 256), a₀ Gaussian on the sphere, x₀ Bernoulli(θ)–Gaussian (θ default 0.05),
    y = a₀ ⊛ x₀ (cyclic, length m).  User data: ``kernel`` (length p₀ ≤ m; normalized to the
    sphere) and/or ``signal`` (length m) to convolve, or the observation ``y`` (length m;
    kernel and signal, if given, then serve as ground truth).

    ``lam`` defaults to 0.1/√(p₀θ) (our empirical choice), ``mu`` to 1e-2; λ = 0 is allowed
    (plain least squares, where the planted pair is an exact critical point; with λ > 0 the
    minimizer is biased by the shrinkage of x).  Symmetry: ``ShiftTruncation``; the truth is
    [a₀, x₀], ``recovery_tolerance`` 0.25 (the distance includes the shrunk x);
    ``kernel_error`` measures a alone modulo truncated signed shifts.  Random starts may stop at
    truncated-shift local minimizers (seed 003 eq. 3.15): keep the lowest cost of a few starts.
    """
    theta = _check_theta(theta)
    mu = _check_positive(mu, "mu")
    rng = as_generator(seed)
    y_data = None if y is None else as_real_array(y, "y", ndim=1)
    a_true = None if kernel is None else as_real_array(kernel, "kernel", ndim=1)
    x_true = None if signal is None else as_real_array(signal, "signal", ndim=1)
    if m is None:
        sizes = [s.size for s in (y_data, x_true) if s is not None]
        m = sizes[0] if sizes else 256
    m = require_positive_int(m, "m", minimum=2)
    if a_true is not None and a_true.size > m:
        raise ValueError(
            f"kernel must be no longer than the signal (length m = {m}), "
            f"got a kernel of length {a_true.size}"
        )
    if p0 is None:
        p0 = a_true.size if a_true is not None else min(8, m)
    p0 = require_positive_int(p0, "p0")
    if p0 > m:
        raise ValueError(
            f"p0 must be at most m = {m} (a kernel no longer than the signal), got {p0}"
        )
    require_memory(96 * m, f"sas_deconvolution(m={m}): the signal has length m")
    for name, array in (("y", y_data), ("signal", x_true)):
        if array is not None and array.size != m:
            raise ValueError(f"{name} must have length m = {m}, got length {array.size}")
    if a_true is not None:
        if a_true.size != p0:
            raise ValueError(f"kernel must have length p0 = {p0}, got length {a_true.size}")
        norm = np.linalg.norm(a_true)
        if norm == 0:
            raise ValueError("kernel must be nonzero")
        a_true = a_true / norm
    lam = 0.1 / np.sqrt(p0 * theta) if lam is None else _check_positive(lam, "lam", allow_zero=True)

    if y_data is None:
        if a_true is None:
            a_true = rng.standard_normal(p0)
            a_true /= np.linalg.norm(a_true)
        if x_true is None:
            x_true = _bernoulli_gaussian((m,), theta, rng)
        y_data = circular_convolve(a_true, x_true, m)
    truth = None if a_true is None or x_true is None else [a_true, x_true]
    objective = SaSObjective(y_data, p0, lam, mu, kernel=a_true, signal=x_true)
    return Problem(
        Product([Sphere(p0), Euclidean(m)]),
        objective,
        name="sas_deconvolution",
        symmetry=ShiftTruncation(p0, m),
        truth=truth,
        parameters={"p0": p0, "m": m, "theta": theta, "lam": float(lam), "mu": mu},
        seed=seed_as_int(seed),
        recovery_tolerance=0.25,
    )


def sas_initial_point(problem: Problem, seed: Seed = None) -> list[np.ndarray]:
    """A data-driven start: a = a random window of y of length p₀ on the sphere, x = C_aᵀ y.

    (Kuo et al. 2019 start from a normalized window of y, which is a superposition of a few
    shifts of a₀.)
    """
    objective = _objective(problem, SaSObjective)
    rng = as_generator(seed)
    start = int(rng.integers(objective.m))
    window = np.roll(objective.y, -start)[: objective.p0]
    if not np.any(window):
        window = rng.standard_normal(objective.p0)
    a = window / np.linalg.norm(window)
    x = np.fft.irfft(np.conj(np.fft.rfft(a, objective.m)) * np.fft.rfft(objective.y), objective.m)
    return [a, x]
