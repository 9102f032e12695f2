"""Generalized phase retrieval: recover x from intensities y_i = |a_iᴴ x|², real or complex.

Problems on R^n (pymanopt ``Euclidean``) or C^n (``ComplexEuclidean``); signals may be vectors
(n,) or images (n1, n2).  The measurement operator 𝒜 (``manifoldscape.problems.measurements``)
is a dense Gaussian matrix or coded diffraction patterns applied by FFT; with w = 𝒜x, u_i = |w_i|²
and s_i = √y_i the losses are (seed 000, "Landscape of intensity / amplitude equation
fitting"):

* ``"intensity"``  f(x) = 1/(2m) Σ (|a_iᴴx|² − y_i)²  (seed 000, the intensity least squares of
  Candès–Li–Soltanolkotabi 2015 and Chen–Candès 2017; seed 001 writes the same loss with
  1/(4m) — half of ours — and seed 003 §2.2 with no 1/m; minimizers and certificates agree);
* ``"amplitude"``  g(x) = 1/(2m) Σ (|a_iᴴx| − √y_i)²  (seed 000, Wang–Giannakis–Eldar 2017).
  g is *not differentiable* where a_iᴴx = 0 for some i with y_i > 0 (a set of measure zero);
  the derivatives returned are those of the smooth piece, with w_i/|w_i| read as 0 at w_i = 0
  (a subgradient).  Derivative tests use random points, where g is smooth;
* ``"activated"``  f̃(x) = 1/(2m) Σ (|a_iᴴx|² − y_i)² h(|a_iᴴx|²/‖x‖²) h(m y_i/‖y‖₁)
  (seed 000, "Activated least squares fitting", Li–Cai–Wei, IEEE TIT 2020), with the C²
  cut-off h(t) = 1 for t ≤ β, −6v⁵ + 15v⁴ − 10v³ + 1 with v = (t − β)/(γ − β) for β < t < γ,
  0 for t ≥ γ (seed 000, "Example of activation functions"); defaults β = 5, γ = 10 (about
  2.5 % of Gaussian measurements exceed β).  Undefined at x = 0;
* ``"smoothed_amplitude"``  g̃(x) = 1/m Σ (y_i/2)(φ(|a_iᴴx|/√y_i) − 1)² (seed 000, "Smoothed
  amplitude equations least squares fitting", Cai–Huang–Li–Wang; the seed has no 1/m, we add
  it so that g̃ = g when φ(t) = |t|), with φ(t) = |t| for |t| > α and φ(t) = a t² + b for
  |t| ≤ α, where a = 1/(2α), b = α/2 make φ C¹ (values α and slopes 1 agree at |t| = α).  g̃ is
  C¹ everywhere and C² away from the spheres |a_iᴴx| = α√y_i.

All four are functions r_i(u_i) of u_i = |w_i|² (plus ‖x‖² for the activated loss), so with the
gradient for the real inner product Re⟨u, v⟩ (∇f = ∂f/∂Re x + i ∂f/∂Im x, the project's
convention, see ``AutogradObjective``):

    ∇f(x)    = (1/m) 𝒜*(2 r'(u) ∘ w)                                   (+ 2 P x, activated)
    ∇²f(x)[ẋ] = (1/m) 𝒜*(2 r'(u) ∘ ẇ + 4 r''(u) ∘ Re(w̄ ∘ ẇ) ∘ w)     (+ the ‖x‖² terms)

with ẇ = 𝒜ẋ: one product 𝒜x per point (``prepare``), one 𝒜 and one 𝒜* per Hessian-vector
product (a batch of directions in one product).  For a real signal measured by a complex 𝒜 (real
CDP) the gradient and Hessian are the real parts of these.  The symmetry group is {±1} (real) or
the phase U(1) (complex): x and e^{iφ}x give the same measurements (seed 003 §2).

``initial_point`` gives the random, spectral (Candès–Li–Soltanolkotabi 2015, Wirtinger flow,
Alg. 1) and truncated spectral (Chen–Candès 2017, truncated Wirtinger flow) starts, computed
matrix-free by Lanczos on v ↦ (1/m) 𝒜*(y ∘ 𝒜v).

``phase_retrieval_one_unknown`` (module ``phase_retrieval_one``) is the minimal example of seed
003 §2.1: one complex unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autograd.numpy as anp
import numpy as np
import scipy.sparse.linalg
from autograd.tracer import getval
from pymanopt.manifolds import ComplexEuclidean, Euclidean

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int, seed_as_int
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import Phase, Sign
from manifoldscape.problems.batch_phase_retrieval import PhaseRetrievalBatch, amplitude_terms
from manifoldscape.problems.measurements import (
    CodedDiffraction,
    GaussianMeasurements,
    MeasurementOperator,
    coded_diffraction,
    gaussian_measurements,
)

__all__ = [
    "PhaseRetrievalObjective",
    "activation",
    "initial_point",
    "phase_retrieval",
]

LOSSES = ("intensity", "amplitude", "activated", "smoothed_amplitude")
MEASUREMENTS = ("gaussian", "cdp")
NOISES = (None, "gaussian", "poisson")
INITS = ("random", "spectral", "truncated_spectral", "optimal_spectral")


# --------------------------------------------------------------------------- the cut-off h
def activation(t: np.ndarray, beta: float, gamma: float) -> tuple[np.ndarray, ...]:
    """h(t), h'(t), h''(t) for the C² cut-off of seed 000 ("Example of activation functions").

    h = 1 on t ≤ β, 0 on t ≥ γ, and −6v⁵ + 15v⁴ − 10v³ + 1 with v = (t − β)/(γ − β) between.
    """
    width = gamma - beta
    v = np.clip((t - beta) / width, 0.0, 1.0)
    h = ((-6.0 * v + 15.0) * v - 10.0) * v**3 + 1.0
    h1 = -30.0 * v**2 * (v - 1.0) ** 2 / width
    h2 = -60.0 * v * (v - 1.0) * (2.0 * v - 1.0) / width**2
    return h, h1, h2


def _autograd_activation(t: Any, beta: float, gamma: float) -> Any:
    v = anp.clip((t - beta) / (gamma - beta), 0.0, 1.0)
    return ((-6.0 * v + 15.0) * v - 10.0) * v**3 + 1.0


# --------------------------------------------------------------------------- objective
class PhaseRetrievalObjective(PhaseRetrievalBatch, Objective):
    """Phase-retrieval losses f(x) = scale · Σ ρ_i(|(𝒜x)_i|², ‖x‖²) with hand-written derivatives.

    ``operator``: a ``MeasurementOperator``; ``y``: intensities of shape ``operator.output_shape``;
    ``loss``: one of ``LOSSES``; ``real``: whether x is real; ``scale``: 1/m by default.  See the
    module docstring for the formulas.  Batched evaluation of many points (real Gaussian
    measurements): ``PhaseRetrievalBatch``.
    """

    batched_hessian = True

    def __init__(
        self,
        operator: MeasurementOperator,
        y: np.ndarray,
        loss: str = "intensity",
        *,
        real: bool = True,
        scale: float | None = None,
        alpha: float = 0.5,
        beta: float = 5.0,
        gamma: float = 10.0,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        self.operator = operator
        self.y = y
        self.s = np.sqrt(y)
        self.loss = loss
        self.real = real
        self.scale = 1.0 / operator.m if scale is None else float(scale)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        if loss == "activated":
            total = float(np.sum(y))
            if not total > 0:
                raise ValueError("y must have a positive sum for the activated loss (‖y‖₁ > 0)")
            self.weights = activation(operator.m * y / total, self.beta, self.gamma)[0]
        self._k = len(operator.signal_shape)
        self._ko = len(operator.output_shape)

    # the real part of a gradient when the signal is real
    def _field(self, v: np.ndarray) -> np.ndarray:
        return np.real(v) if self.real and np.iscomplexobj(v) else v

    def prepare(self, x: np.ndarray) -> dict[str, Any]:  # noqa: D102
        w = self.operator.apply(x)
        # |w|² without the square root of np.abs
        u = w.real**2 + w.imag**2 if np.iscomplexobj(w) else w**2
        y, s = self.y, self.s
        data: dict[str, Any] = {"w": w}
        if self.loss == "intensity":
            e = u - y
            flat = e.ravel()
            # r'' = 1: r2 = None stands for the constant, so no array of ones is formed
            data.update(total=0.5 * float(np.dot(flat, flat)), r1=e, r2=None)
        elif self.loss in ("amplitude", "smoothed_amplitude"):
            rho, r1, r2 = amplitude_terms(u, s, self.loss, self.alpha)
            data.update(rho=rho, r1=r1, r2=r2)
        else:  # activated
            q = float(np.real(np.vdot(x, x)))
            e = u - y
            h, h1, h2 = activation(u / q, self.beta, self.gamma)
            c = self.weights
            data.update(
                q=q,
                rho=0.5 * c * e**2 * h,
                r1=c * (e * h + 0.5 * e**2 * h1 / q),
                r2=c * (h + 2.0 * e * h1 / q + 0.5 * e**2 * h2 / q**2),
                ruq=-c * (e * h1 * u / q**2 + 0.5 * e**2 * (h2 * u / q**3 + h1 / q**2)),
                rq=float(np.sum(-0.5 * c * e**2 * h1 * u / q**2)),
                rqq=float(np.sum(0.5 * c * e**2 * u * (h2 * u / q**4 + 2.0 * h1 / q**3))),
            )
        return data

    def cost(self, x: np.ndarray, data: dict[str, Any]) -> float:  # noqa: D102
        if "total" not in data:
            data["total"] = float(np.sum(data["rho"]))
        return self.scale * data["total"]

    def euclidean_gradient(self, x: np.ndarray, data: dict[str, Any]) -> np.ndarray:  # noqa: D102
        g = self.operator.adjoint(2.0 * data["r1"] * data["w"])
        if self.loss == "activated":
            g = g + 2.0 * data["rq"] * x
        return self.scale * self._field(g)

    def euclidean_hessian(  # noqa: D102
        self, x: np.ndarray, data: dict[str, Any], direction: np.ndarray
    ) -> np.ndarray:
        w = data["w"]
        dw = self.operator.apply(direction)
        if self.loss != "activated":
            return self.scale * self._field(self.operator.adjoint(self._inner(data, dw)))
        re = np.real(np.conj(w) * dw) if np.iscomplexobj(dw) else w * dw
        inner = 2.0 * data["r1"] * dw + 4.0 * data["r2"] * re * w
        batch = direction.ndim > self._k
        sig_axes = tuple(range(-self._k, 0))
        out_axes = tuple(range(-self._ko, 0))
        dq = 2.0 * np.real(np.sum(np.conj(x) * direction, axis=sig_axes))
        du = 2.0 * re
        dq_out = dq.reshape(dq.shape + (1,) * self._ko) if batch else dq
        inner = inner + 2.0 * data["ruq"] * dq_out * w
        coeff = np.sum(data["ruq"] * du, axis=out_axes) + data["rqq"] * dq
        coeff = coeff.reshape(coeff.shape + (1,) * self._k) if batch else coeff
        extra = 2.0 * coeff * x + 2.0 * data["rq"] * direction
        return self.scale * self._field(self.operator.adjoint(inner) + extra)

    @staticmethod
    def _inner(data: dict[str, Any], dw: np.ndarray) -> np.ndarray:
        """2 r'(u) ∘ ẇ + 4 r''(u) ∘ Re(w̄ ∘ ẇ) ∘ w with the per-point factors computed once.

        Real w (a real signal measured by a real operator): one product (2 r' + 4 r'' w²) ∘ ẇ.
        Complex w: c₁ ∘ ẇ + (c₂ ∘ (Re w Re ẇ + Im w Im ẇ)) ∘ w with c₁ = 2 r', c₂ = 4 r'',
        real arithmetic for the real part, and no conjugate array.  The factors are cached in
        ``data`` (one point's prepared data) by the first Hessian-vector product at that point.
        """
        w = data["w"]
        if not np.iscomplexobj(dw) and not np.iscomplexobj(w):
            if "hessian_factor" not in data:
                r2 = 1.0 if data["r2"] is None else data["r2"]
                data["hessian_factor"] = 2.0 * data["r1"] + 4.0 * r2 * w * w
            return data["hessian_factor"] * dw
        return PhaseRetrievalObjective._complex_inner(data, dw, "hessian_factors", None)

    @staticmethod
    def _complex_inner(data: dict[str, Any], dw: np.ndarray, key: str, rounding: Any) -> np.ndarray:
        """c₁ ∘ ẇ + (c₂ ∘ (Re w Re ẇ + Im w Im ẇ)) ∘ w with (c₁, c₂, Re w, Im w, w) cached.

        ``rounding`` (a function, or None for double) is applied once to each factor as it is
        cached under ``key``: single precision rounds them to float32/complex64.
        """
        if key not in data:
            w = data["w"]
            c2 = 4.0 if data["r2"] is None else 4.0 * data["r2"]
            factors = (2.0 * data["r1"], c2, np.real(w), np.imag(w), w)
            data[key] = factors if rounding is None else tuple(map(rounding, factors))
        c1, c2, w_re, w_im, w = data[key]
        re = w_re * dw.real  # Re(w̄ ẇ) = Re w Re ẇ + Im w Im ẇ
        if np.iscomplexobj(w) and np.iscomplexobj(dw):
            re += w_im * dw.imag
        re *= c2
        inner = c1 * dw
        inner += re * w
        return inner

    def euclidean_hessian_single(
        self, x: np.ndarray, data: dict[str, Any], direction: np.ndarray
    ) -> np.ndarray:
        """∇²f(x)[u] in single precision: float32 for a real signal, complex64 for a complex one.

        The Hessian of the module docstring without the activated loss's ‖x‖² terms,
        ∇²f(x)[u] = scale · 𝒜*(c₁ ∘ 𝒜u + c₂ ∘ Re(w̄ ∘ 𝒜u) ∘ w), c₁ = 2 r'(|w|²),
        c₂ = 4 r''(|w|²), w = 𝒜x (the real part for a real signal; seed 003 §2.2), with the
        operator's single-precision kernels (``MeasurementOperator.apply_single``: a complex64
        copy of A, or complex64 masks through ``scipy.fft``) and c₁, c₂, w rounded once per
        point and cached in ``data``.  A real signal with real Gaussian measurements takes the
        batch methods' float32 kernel; the activated loss, or an operator without single
        kernels, the double product rounded.  For trust regions with
        ``inner_precision="single"`` (``Problem.riemannian_hessian_single``).
        """
        if self.real and not self.operator.is_complex:
            return super().euclidean_hessian_single(x, data, direction)
        single = np.complex64 if np.iscomplexobj(direction) else np.float32
        if self.loss == "activated" or not self.operator.computes_single:
            double = np.complex128 if single is np.complex64 else np.float64
            product = self.euclidean_hessian(x, data, direction.astype(double))
            return np.asarray(product).astype(single)
        dw = self.operator.apply_single(direction)
        inner = self._complex_inner(data, dw, "hessian_factors_single", _round_single)
        out = self._field(self.operator.adjoint_single(inner))
        out *= np.float32(self.scale)
        return out

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        w = self.operator.autograd_apply(x)
        complex_w = self.operator.is_complex or not self.real
        u = anp.real(w * anp.conj(w)) if complex_w else w**2
        y, s = self.y, self.s
        if self.loss == "intensity":
            rho = 0.5 * (u - y) ** 2
        elif self.loss == "amplitude":
            rho = 0.5 * (anp.sqrt(u) - s) ** 2
        elif self.loss == "smoothed_amplitude":
            a, b = 0.5 / self.alpha, 0.5 * self.alpha
            absw = anp.sqrt(u)
            plain = np.abs(self.operator.apply(getval(x)))  # the branch, not differentiated
            inside = (plain <= self.alpha * s) & (s > 0)
            s_in = np.where(inside, s, 1.0)
            rho = anp.where(
                inside, 0.5 * (a * u / s_in + (b - 1.0) * s_in) ** 2, 0.5 * (absw - s) ** 2
            )
        else:
            q = anp.real(anp.sum(x * anp.conj(x)))
            h = _autograd_activation(u / q, self.beta, self.gamma)
            rho = 0.5 * self.weights * (u - y) ** 2 * h
        return self.scale * anp.sum(rho)


# --------------------------------------------------------------------------- validation
def _round_single(value: Any) -> np.ndarray:
    """A factor of the Hessian rounded to complex64 (complex) or float32 (real)."""
    value = np.asarray(value)
    return value.astype(np.complex64 if np.iscomplexobj(value) else np.float32)


def _check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    if value not in choices:
        listing = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listing}, got {value!r}")
    return value


def _signal_shape(n: Any) -> tuple[int, ...]:
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        return (require_positive_int(n, "n"),)
    if isinstance(n, (tuple, list)) and len(n) in (1, 2):
        return tuple(require_positive_int(k, "n") for k in n)
    raise TypeError(f"n must be an integer or a pair (n1, n2) of integers, got {n!r}")


def _check_measurements(y: Any, operator: MeasurementOperator) -> np.ndarray:
    try:
        array = np.asarray(y)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"y must be array-like, got {type(y).__name__}") from exc
    if array.dtype.kind == "c":
        raise ValueError("y must be real intensities |a_iᴴx|², got complex entries")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric, got dtype {array.dtype}")
    array = array.astype(float)
    if array.shape != operator.output_shape:
        if array.size == operator.m and array.ndim == 1:
            array = array.reshape(operator.output_shape)
        else:
            raise ValueError(
                f"y must have shape {operator.output_shape} (one intensity per measurement of "
                f"{operator!r}), got shape {array.shape}"
            )
    if not np.all(np.isfinite(array)):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"y must be finite, but {bad} of its entries are NaN or Inf")
    if np.any(array < 0):
        raise ValueError(
            f"y must be non-negative intensities, but {int(np.sum(array < 0))} entries are "
            f"negative (min {array.min():.3g})"
        )
    return array


def _check_truth(truth: Any, operator: MeasurementOperator, field: str) -> np.ndarray:
    try:
        x = np.asarray(truth)
    except Exception as exc:
        raise TypeError(f"truth must be array-like, got {type(truth).__name__}") from exc
    if x.dtype.kind not in "biufc":
        raise TypeError(f"truth must be numeric, got dtype {x.dtype}")
    if x.dtype.kind == "c" and field == "real":
        if np.any(np.imag(x) != 0):
            raise ValueError("truth is complex but field='real'; pass field='complex'")
        x = np.real(x)
    x = x.astype(complex if field == "complex" else float)
    if x.shape != operator.signal_shape:
        raise ValueError(
            f"truth must have the signal shape {operator.signal_shape} of the measurements, "
            f"got shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("truth must be finite, but holds NaN or Inf")
    if not np.any(x != 0):
        raise ValueError("truth must be non-zero")
    return x


def _operator_from_user(
    measurements: Any, masks: Any, field: str, shape: tuple[int, ...] | None
) -> MeasurementOperator:
    if measurements is not None and masks is not None:
        raise TypeError("give either measurements or masks, not both")
    if masks is not None:
        operator: MeasurementOperator = CodedDiffraction(masks)
    elif isinstance(measurements, MeasurementOperator):
        operator = measurements
    else:
        matrix = np.asarray(measurements)
        if matrix.dtype.kind not in "biufc":
            raise TypeError(
                "measurements must be a MeasurementOperator or a numeric m × n matrix, "
                f"got {type(measurements).__name__} of dtype {matrix.dtype}"
            )
        if matrix.ndim != 2:
            raise ValueError(
                f"measurements must be an m × n matrix (rows a_iᴴ), got shape {matrix.shape}"
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError("measurements must be finite, but holds NaN or Inf")
        operator = GaussianMeasurements(matrix)
    if isinstance(operator, GaussianMeasurements) and operator.is_complex and field == "real":
        raise ValueError(
            "measurements is a complex matrix but field='real'; pass field='complex' "
            "(or real measurement vectors)"
        )
    if shape is not None and operator.signal_shape != shape:
        what = "masks" if masks is not None else "measurements"
        raise ValueError(
            f"{what} must act on signals of shape {shape}, got signal shape "
            f"{operator.signal_shape} (masks have shape (L, *signal_shape))"
        )
    return operator


def _random_signal(shape: tuple[int, ...], field: str, rng: np.random.Generator) -> np.ndarray:
    if field == "real":
        return rng.standard_normal(shape)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2.0)


def _add_noise(
    intensities: np.ndarray, noise: str | None, level: float, rng: np.random.Generator
) -> np.ndarray:
    if noise is None:
        return intensities
    if noise == "gaussian":
        sigma = level * np.sqrt(np.mean(intensities**2))
        return np.maximum(intensities + sigma * rng.standard_normal(intensities.shape), 0.0)
    return rng.poisson(intensities / level) * level  # poisson: ``level`` = intensity per count


# --------------------------------------------------------------------------- the factory
def phase_retrieval(
    measurements: MeasurementOperator | np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    truth: np.ndarray | None = None,
    masks: np.ndarray | None = None,
    n: int | Sequence[int] | None = None,
    m: int | None = None,
    n_masks: int | None = None,
    field: str = "real",
    measurement: str = "gaussian",
    loss: str = "intensity",
    noise: str | None = None,
    noise_level: float = 0.0,
    alpha: float = 0.5,
    beta: float = 5.0,
    gamma: float = 10.0,
    seed: Seed = None,
) -> Problem:
    """Generalized phase retrieval min_x f(x) over R^n or C^n (seed 000; seed 001; seed 003 §2.2).

    Seeded instance: ``n`` (an int, or (n1, n2) for an image with ``measurement="cdp"``),
    ``m`` measurements (Gaussian; default 6n) or ``n_masks`` L coded diffraction patterns
    (CDP, m = L n; default 6; ``m`` may be given as a multiple of n), ``field``, truth x ~ N(0, I)
    (complex: (N + iN)/√2), measurement operator from ``seed``; y = |𝒜x|².

    User data: ``measurements`` (an m × n matrix whose rows are a_iᴴ, or any
    ``MeasurementOperator``) or ``masks`` (shape (L, n) or (L, n1, n2)), and ``y`` (intensities,
    non-negative) and/or ``truth``; without y, y = |𝒜 truth|²; without either, a truth is drawn.

    ``noise``: None, "gaussian" (y + σ ε, σ = ``noise_level`` × RMS(y), clipped at 0) or
    "poisson" (y = ``noise_level`` · Poisson(|𝒜x|²/``noise_level``), ``noise_level`` the intensity
    of one count).  ``loss`` and its parameters ``alpha`` (smoothed amplitude), ``beta``,
    ``gamma`` (activated) as in the module docstring.  Symmetry: ``Sign`` (real) or ``Phase``
    (complex); distance to truth modulo that group.
    """
    field = _check_choice(field, "field", ("real", "complex"))
    measurement = _check_choice(measurement, "measurement", MEASUREMENTS)
    loss = _check_choice(loss, "loss", LOSSES)
    noise = _check_choice(noise, "noise", NOISES)
    for name, value, low in (("alpha", alpha, 0.0), ("beta", beta, 0.0)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > low):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (isinstance(gamma, (int, float)) and np.isfinite(gamma) and gamma > beta):
        raise ValueError(f"gamma must be a number larger than beta = {beta}, got {gamma!r}")
    if not (
        isinstance(noise_level, (int, float)) and np.isfinite(noise_level) and noise_level >= 0
    ):
        raise ValueError(f"noise_level must be a non-negative number, got {noise_level!r}")
    if noise is not None and noise_level <= 0:
        raise ValueError(f"noise_level must be positive with noise={noise!r}, got {noise_level!r}")
    rng = as_generator(seed)
    shape = None if n is None else _signal_shape(n)

    if measurements is not None or masks is not None:
        operator = _operator_from_user(measurements, masks, field, shape)
        kind = "cdp" if isinstance(operator, CodedDiffraction) else "user"
    else:
        if y is not None:
            raise TypeError("y was given without measurements (or masks) to explain it")
        shape = shape or (8,)
        if measurement == "gaussian":
            if len(shape) != 1:
                raise ValueError(f"n must be an integer for Gaussian measurements, got {n!r}")
            m_ = 6 * shape[0] if m is None else require_positive_int(m, "m")
            require_memory(
                (32 if field == "complex" else 16) * m_ * shape[0],
                f"phase_retrieval(n={shape[0]}, m={m_}): the measurements are m × n",
            )
            operator = gaussian_measurements(m_, shape[0], field, rng)
        else:
            size = int(np.prod(shape))
            if m is not None:
                m = require_positive_int(m, "m")
                if m % size or (n_masks is not None and m != n_masks * size):
                    raise ValueError(
                        f"m must be n_masks × {size} for coded diffraction of a signal of shape "
                        f"{shape}, got m = {m}"
                    )
                n_masks = m // size
            n_masks = 6 if n_masks is None else require_positive_int(n_masks, "n_masks")
            require_memory(
                64 * n_masks * size,
                f"phase_retrieval(n={n}, n_masks={n_masks}): the masks are n_masks × n",
            )
            operator = coded_diffraction(shape, n_masks, seed=rng)
        kind = measurement

    x_true = None if truth is None else _check_truth(truth, operator, field)
    if y is None:
        if x_true is None:
            x_true = _random_signal(operator.signal_shape, field, rng)
        w = operator.apply(x_true)
        intensities = np.abs(w) ** 2
        y_data = _add_noise(intensities, noise, float(noise_level), rng)
    else:
        if noise is not None:
            raise TypeError("noise applies to generated measurements; y was given")
        y_data = _check_measurements(y, operator)
    objective = PhaseRetrievalObjective(
        operator, y_data, loss, real=field == "real", alpha=alpha, beta=beta, gamma=gamma
    )
    space = (Euclidean if field == "real" else ComplexEuclidean)(*operator.signal_shape)
    params: dict[str, Any] = {
        "n": operator.n if len(operator.signal_shape) == 1 else operator.signal_shape,
        "m": operator.m,
        "field": field,
        "measurement": kind,
        "loss": loss,
        "noise": noise,
        "noise_level": noise_level,
    }
    if isinstance(operator, CodedDiffraction):
        params["n_masks"] = operator.n_masks
    return Problem(
        space,
        objective,
        name="phase_retrieval",
        symmetry=Sign() if field == "real" else Phase(),
        truth=x_true,
        parameters=params,
        seed=seed_as_int(seed),
    )


# --------------------------------------------------------------------------- initialisation
def _norm_estimate(objective: PhaseRetrievalObjective) -> float:
    """‖x‖ estimated as (n Σ y_i / Σ ‖a_i‖²)^{1/2} (Candès–Li–Soltanolkotabi 2015, Alg. 1)."""
    op = objective.operator
    return float(np.sqrt(op.n * np.sum(objective.y) / np.sum(op.row_norms_squared())))


def initial_point(
    problem: Problem,
    method: str = "spectral",
    seed: Seed = None,
    *,
    truncation: float = 3.0,
    floor: float = 50.0,
) -> np.ndarray:
    """A starting point for phase retrieval: "random" or one of three spectral estimates.

    * "random": a Gaussian direction (complex: (N + iN)/√2) scaled to the norm estimate λ;
    * "spectral": λ v₁ with v₁ the top eigenvector of Y = (1/m) Σ y_i a_i a_iᴴ (Candès–Li–
      Soltanolkotabi 2015, Wirtinger flow, Alg. 1);
    * "truncated_spectral": the same with Y restricted to the y_i ≤ ``truncation``² · mean(y)
      (Chen–Candès 2017, truncated Wirtinger flow, α_y = 3);
    * "optimal_spectral": the same with y_i replaced by T(y_i/ȳ), T(t) = max(1 − 1/t, −``floor``),
      ȳ the mean of y: the preprocessing of Luo, Alghamdi and Lu ("Optimal spectral
      initialization for signal recovery with applications to phase retrieval", IEEE TSP 67,
      2019), which maximises the correlation of the top eigenvector with x at every m/n.  The
      floor only bounds the spectrum for Lanczos (T → −∞ as y_i → 0); at −50 the correlation is
      within 1e-3 of the unbounded one in our tests.  It matters for coded diffraction: at
      256 × 256 pixels and L = 6 masks the plain spectral vector is nearly orthogonal to x
      (correlation 0.01), this one has correlation 0.93;

    with λ = (n Σ y_i / Σ ‖a_i‖²)^{1/2}.  Y is applied matrix-free, v ↦ (1/m) 𝒜*(y ∘ 𝒜v) (its
    real part for a real signal), and v₁ is found by Lanczos (``scipy.sparse.linalg.eigsh``,
    starting vector from ``seed``).
    """
    if not isinstance(problem, Problem) or not isinstance(
        problem.objective, PhaseRetrievalObjective
    ):
        raise TypeError("problem must be a phase-retrieval Problem (from phase_retrieval)")
    method = _check_choice(method, "method", INITS)
    if not (isinstance(truncation, (int, float)) and truncation > 0):
        raise ValueError(f"truncation must be a positive number, got {truncation!r}")
    if not (isinstance(floor, (int, float)) and floor > 0):
        raise ValueError(f"floor must be a positive number, got {floor!r}")
    objective = problem.objective
    op = objective.operator
    rng = as_generator(seed)
    field = "real" if objective.real else "complex"
    scale = _norm_estimate(objective)
    if method == "random":
        v = _random_signal(op.signal_shape, field, rng)
        return scale * v / np.linalg.norm(v)
    weights = objective.y
    if method == "truncated_spectral":
        weights = np.where(weights <= truncation**2 * np.mean(weights), weights, 0.0)
    elif method == "optimal_spectral":
        normalised = weights / np.mean(weights)
        weights = np.maximum(1.0 - 1.0 / np.maximum(normalised, 1e-300), -float(floor))
    shape, size = op.signal_shape, op.n

    def matvec(v: np.ndarray) -> np.ndarray:
        out = op.adjoint(weights * op.apply(v.reshape(shape))) / op.m
        return (np.real(out) if objective.real else out).ravel()

    dtype = float if objective.real else complex
    if size <= 2:
        basis = np.eye(size, dtype=dtype)
        dense = np.stack([matvec(b) for b in basis], axis=1)
        _, vectors = np.linalg.eigh(0.5 * (dense + dense.conj().T))
        top = vectors[:, -1]
    else:
        operator = scipy.sparse.linalg.LinearOperator((size, size), matvec=matvec, dtype=dtype)
        start = _random_signal((size,), field, rng)
        _, vectors = scipy.sparse.linalg.eigsh(operator, k=1, which="LA", v0=start, tol=1e-6)
        top = vectors[:, 0]
    return scale * (top / np.linalg.norm(top)).reshape(shape)
