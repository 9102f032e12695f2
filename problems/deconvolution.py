"""Sparse blind deconvolution: multichannel, on the sphere (and the helpers short-and-sparse uses).

**Multichannel sparse blind deconvolution** (``blind_deconvolution``; seed 001, "Example V:
Sparse Blind Deconvolution"; seed 003 §3.3, "Multi-channel Sparse Blind Deconvolution").  Given
p circular convolutions y_i = a ⊛ x_i ∈ R^n of one kernel a and sparse x_i ~ Bernoulli(θ)–
Gaussian, recover a and the x_i.  Seed 001 reduces it to complete dictionary learning,
[C_{y_1} … C_{y_p}] = C_a [C_{x_1} … C_{x_p}], preconditions the data so that the dictionary
becomes orthogonal and looks for one column by min_q φ(qᵀȲ) on the sphere.  For circulant
matrices this is the formulation of Qu, Li and Zhu (2019; seed 003 ref. [59]) and, with −ℓ4,
Li and Bresler (2018; ref. [58]):

    P = ( (1/(θ n p)) Σ_i C_{y_i}ᵀ C_{y_i} )^{-1/2},
    min_{q ∈ S^{n−1}} f(q) = (1/(n p)) Σ_i Σ_j h_μ( (C_{y_i} P q)_j ),

with h_μ a sparsity surrogate: "logcosh" μ log cosh(z/μ) (evaluated as
|z| + μ log(1 + e^{−2|z|/μ}) − μ log 2, which never overflows), "huber" (|z| for |z| ≥ μ,
z²/(2μ) + μ/2 otherwise; Qu–Li–Zhu's H_μ), or "l4" −z⁴/4 (Li–Bresler's −‖·‖₄⁴).  Every circulant
matrix is diagonalised by the DFT, so P is the circulant filter with spectrum
P̂_k = ((1/(θnp)) Σ_i |ŷ_ik|²)^{-1/2} and z_i = C_{y_i} P q = IFFT(ŷ_i P̂ q̂): cost, gradient
(1/(np)) Σ_i C_{Py_i}ᵀ h'(z_i) and Hessian-vector product (1/(np)) Σ_i C_{Py_i}ᵀ(h''(z_i) ∘
C_{Py_i} u) cost O(p n log n) with real FFTs; no n × n matrix is ever formed.

*Why q gives the kernel.*  With C_{y_i} = C_{x_i} C_a and (1/(θnp)) Σ C_{x_i}ᵀC_{x_i} ≈ I
(E‖x_i‖² = θn), P ≈ (C_aᵀC_a)^{-1/2} and R = C_a P is nearly orthogonal; C_{y_i}Pq = C_{x_i}Rq
is sparsest when Rq = ±e_k, i.e. when h = Pq is a signed shift of the inverse filter of a
(Li–Bresler: "a filter h on the sphere that produces sparse output y_i ⊛ h").  Hence

    h = P q,   â_hat = 1/ĥ   (a_hat = IFFT(1/FFT(h))),   x_hat_i = h ⊛ y_i = C_{y_i} P q,

so a_hat ⊛ x_hat_i = y_i exactly, and a_hat recovers a modulo signed shift and scale: the
symmetry (a, {x_i}) ↦ (α s_k[a], {α⁻¹ s_{−k}[x_i]}) of seed 001 ("Symmetry of Sparse Blind
Deconvolution") acts on q by signed shifts, ``SignedShift(n)``.  The planted point
q♮ = (C_a P)^{-1} e₀ / ‖·‖ (spectrum 1/(â P̂)) makes z_i = x_i/‖(C_aP)^{-1}e₀‖ exactly sparse;
it is an exact critical point only in the one-spike model (``model="one-sparse"``, the
deconvolution form of seed 003 §3.1's one-sparse example, where C_aP is a scaled orthogonal
matrix), and otherwise the minimizer lies near it (smoothing and finite p).  ``kernel_error``
measures the recovered kernel with ``Scaled(SignedShift(n))``.  Measured (n = 64, p = 50,
θ = 0.1, random-init trust regions): log-cosh and Huber with μ = 1e-2 reach kernel errors of
about 1e-3; the −ℓ4 minimizer is biased (errors about 0.13), as Li–Bresler's analysis of the
ℓ4 objective leaves a refinement step to sharpen it.

The short-and-sparse problem (``sas_deconvolution``, the bilinear lasso on S^{p₀−1} × R^m) is
in ``manifoldscape.problems.sas_deconvolution``; this module has the convolutions and sparsity
surrogates both use.
"""

from __future__ import annotations

import logging
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Sphere

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import Scaled, SignedShift

logger = logging.getLogger(__name__)

LOSSES = ("logcosh", "huber", "l4")
MODELS = ("bernoulli-gaussian", "one-sparse")

#: seeded kernels are redrawn until their circulant's condition number max|â|/min|â| is at most
#: max(20, √(n ln n)) (a Gaussian kernel's is about √((n/2) ln(n/2)): the bound rarely binds
#: beyond small n, and keeps small instances away from nearly singular kernels)
KERNEL_CONDITION_MIN_BOUND = 20.0
#: a user kernel whose DFT is smaller than this fraction of its largest value is refused
KERNEL_SINGULAR = 1e-10
#: the autograd twins form circulant matrices; beyond this length they refuse
_AUTOGRAD_MAX_LENGTH = 1024


# --------------------------------------------------------------------------- convolutions
def circular_convolve(a: np.ndarray, x: np.ndarray, n: int | None = None) -> np.ndarray:
    """(a ⊛ x)_j = Σ_k a_k x_{(j−k) mod n}, by real FFTs; a is zero-padded to n = len(x).

    Broadcasts over leading axes of x (and of a).
    """
    n = np.shape(x)[-1] if n is None else n
    return np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(x, n), n)


def circulant_matrix(v: np.ndarray) -> np.ndarray:
    """The n × n circulant C_v with C_v x = v ⊛ x, (C_v)_{jk} = v_{(j−k) mod n} (reference only)."""
    v = np.asarray(v)
    n = v.shape[-1]
    index = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n
    return v[..., index]


# --------------------------------------------------------------------------- sparsity surrogates
def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _surrogate(loss: str, mu: float, z: np.ndarray) -> np.ndarray:
    if loss == "logcosh":
        t = np.abs(z)
        return t + mu * np.log1p(np.exp(-2.0 * t / mu)) - mu * np.log(2.0)
    if loss == "huber":
        t = np.abs(z)
        return np.where(t >= mu, t, z * z / (2.0 * mu) + mu / 2.0)
    return -0.25 * z**4


def _surrogate_first(loss: str, mu: float, z: np.ndarray) -> np.ndarray:
    if loss == "logcosh":
        return np.tanh(z / mu)
    if loss == "huber":
        return np.clip(z / mu, -1.0, 1.0)
    return -(z**3)


def _surrogate_second(loss: str, mu: float, z: np.ndarray) -> np.ndarray:
    if loss == "logcosh":
        return (1.0 - np.tanh(z / mu) ** 2) / mu
    if loss == "huber":
        return (np.abs(z) < mu) / mu
    return -3.0 * z * z


def _autograd_surrogate(loss: str, mu: float, z: Any) -> Any:
    if loss == "logcosh":
        t = anp.abs(z)
        return t + mu * anp.log1p(anp.exp(-2.0 * t / mu)) - mu * np.log(2.0)
    if loss == "huber":
        return anp.where(anp.abs(z) >= mu, anp.abs(z), z * z / (2.0 * mu) + mu / 2.0)
    return -0.25 * z**4


# --------------------------------------------------------------------------- multichannel
class BlindDeconvolutionObjective(Objective):
    """f(q) = (1/(np)) Σ_i Σ_j h_μ((C_{y_i} P q)_j) on S^{n−1}, by FFTs (module docstring).

    ``filters`` holds the spectra of P y_i (rfft, shape (p, n//2 + 1)); the ground truth (kernel
    and signals) and the preconditioner's spectrum are kept for recovery.
    """

    batched_hessian = True

    def __init__(
        self,
        observations: np.ndarray,
        theta: float,
        loss: str,
        mu: float,
        *,
        kernel: np.ndarray | None = None,
        signals: np.ndarray | None = None,
    ):
        self.observations = observations
        self.p, self.n = observations.shape
        self.theta = float(theta)
        self.loss = loss
        self.mu = float(mu)
        self.kernel = kernel
        self.signals = signals
        spectra = np.fft.rfft(observations, axis=-1)
        power = np.sum(np.abs(spectra) ** 2, axis=0) / (self.theta * self.n * self.p)
        if np.min(power) <= KERNEL_SINGULAR**2 * np.max(power):
            k = int(np.argmin(power))
            raise ValueError(
                f"Y cannot be preconditioned: its power spectrum vanishes at frequency {k} in "
                "every channel (the convolution with the kernel is not invertible)"
            )
        #: spectrum of the preconditioner P (a circulant filter)
        self.preconditioner = power ** (-0.5)
        self.filters = spectra * self.preconditioner
        self._scale = 1.0 / (self.n * self.p)
        self._dense: np.ndarray | None = None

    # z_i = C_{Py_i} q and its adjoint, batched over leading axes of q / w
    def _forward(self, q: np.ndarray) -> np.ndarray:
        qh = np.fft.rfft(q, axis=-1)[..., None, :]
        return np.fft.irfft(self.filters * qh, self.n, axis=-1)

    def _adjoint(self, w: np.ndarray) -> np.ndarray:
        spectrum = np.sum(np.conj(self.filters) * np.fft.rfft(w, axis=-1), axis=-2)
        return np.fft.irfft(spectrum, self.n, axis=-1)

    def prepare(self, q: np.ndarray) -> dict[str, np.ndarray]:  # noqa: D102
        return {"z": self._forward(q)}

    def cost(self, q: np.ndarray, data: dict[str, np.ndarray]) -> float:  # noqa: D102
        return self._scale * float(np.sum(_surrogate(self.loss, self.mu, data["z"])))

    def euclidean_gradient(self, q: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:  # noqa: D102
        return self._scale * self._adjoint(_surrogate_first(self.loss, self.mu, data["z"]))

    def euclidean_hessian(  # noqa: D102
        self, q: np.ndarray, data: dict[str, np.ndarray], u: np.ndarray
    ) -> np.ndarray:
        if "second" not in data:
            data["second"] = _surrogate_second(self.loss, self.mu, data["z"])
        return self._scale * self._adjoint(data["second"] * self._forward(u))

    # ------------------------------------------------------------------ dense reference
    def dense_operator(self) -> np.ndarray:
        """The stacked matrices C_{y_i} P (shape (p, n, n)), formed without FFTs.

        P = S^{-1/2} with S = (1/(θnp)) Σ C_{y_i}ᵀ C_{y_i} by an eigendecomposition: an
        independent check of the Fourier-domain preconditioner (used by the autograd twin and
        the benchmark; O(p n³), refused beyond n = 1024).
        """
        if self._dense is None:
            if self.n > _AUTOGRAD_MAX_LENGTH:
                raise NotImplementedError(
                    f"the dense circulant form needs n ≤ {_AUTOGRAD_MAX_LENGTH}, got n = {self.n}"
                )
            circulants = circulant_matrix(self.observations)
            s = np.einsum("pji,pjk->ik", circulants, circulants) / (self.theta * self.n * self.p)
            values, vectors = np.linalg.eigh(0.5 * (s + s.T))
            root = (vectors / np.sqrt(values)) @ vectors.T
            self._dense = circulants @ root
        return self._dense

    def autograd_cost(self, q: Any) -> Any:  # noqa: D102
        z = anp.dot(self.dense_operator().reshape(self.p * self.n, self.n), q)
        return self._scale * anp.sum(_autograd_surrogate(self.loss, self.mu, z))


def kernel_condition_bound(n: int) -> float:
    """The largest condition number max|â|/min|â| of a seeded kernel: max(20, √(n ln n))."""
    return max(KERNEL_CONDITION_MIN_BOUND, float(np.sqrt(n * np.log(n))))


def _random_kernel(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian kernel on the sphere whose circulant is well conditioned (redrawn if not)."""
    bound = kernel_condition_bound(n)
    for _ in range(1000):
        a = rng.standard_normal(n)
        magnitude = np.abs(np.fft.rfft(a))
        if np.max(magnitude) <= bound * np.min(magnitude):
            return a / np.linalg.norm(a)
    raise RuntimeError(  # pragma: no cover - acceptance is high for every n
        f"could not draw a kernel of length {n} with condition number ≤ {bound:.3g}"
    )


def _bernoulli_gaussian(shape: tuple[int, ...], theta: float, rng: np.random.Generator) -> Any:
    return (rng.random(shape) < theta) * rng.standard_normal(shape)


def _one_sparse(p: int, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros((p, n))
    x[np.arange(p), rng.integers(n, size=p)] = rng.standard_normal(p)
    return x


def _check_theta(theta: Any) -> float:
    if (
        isinstance(theta, bool)
        or not isinstance(theta, (int, float, np.floating, np.integer))
        or not np.isfinite(theta)
        or not 0 < theta <= 1
    ):
        raise ValueError(f"theta must be a number in (0, 1], got {theta!r}")
    return float(theta)


def _check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.floating, np.integer))
        and np.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} finite number, got {value!r}")
    return float(value)


def _check_kernel_invertible(kernel: np.ndarray, name: str) -> None:
    magnitude = np.abs(np.fft.rfft(kernel))
    if np.max(magnitude) == 0 or np.min(magnitude) <= KERNEL_SINGULAR * np.max(magnitude):
        k = int(np.argmin(magnitude))
        raise ValueError(
            f"{name} is not invertible: its DFT vanishes at frequency {k} "
            f"(|â_k| = {magnitude[k]:.3g}, max |â| = {np.max(magnitude):.3g}), so its circulant "
            "matrix is singular and no inverse filter exists"
        )


def blind_deconvolution(
    n: int | None = None,
    p: int | None = None,
    *,
    theta: float | None = None,
    loss: str = "logcosh",
    mu: float = 1e-2,
    model: str = "bernoulli-gaussian",
    kernel: np.ndarray | None = None,
    signals: np.ndarray | None = None,
    Y: np.ndarray | None = None,
    noise: float = 0.0,
    seed: Seed = None,
) -> Problem:
    """Multichannel sparse blind deconvolution on S^{n−1} (seed 001 Example V; seed 003 §3.3).

    min_{q ∈ S^{n−1}} (1/(np)) Σ_i Σ_j h_μ((C_{y_i} P q)_j), P the circulant preconditioner
    ((1/(θnp)) Σ C_{y_i}ᵀC_{y_i})^{-1/2} (Qu–Li–Zhu 2019; module docstring for the formulas).

    Seeded instance: ``n`` (default 64) and ``p`` channels (default 50), a Gaussian kernel on the
    sphere redrawn until its circulant has condition number ≤ ``kernel_condition_bound(n)``
    (20 for n ≤ 95), x_i i.i.d. Bernoulli(θ)–
    Gaussian (``model="bernoulli-gaussian"``, θ default 0.1) or one spike N(0, 1) at a uniform
    position per channel (``model="one-sparse"``, θ default 1/n); y_i = a ⊛ x_i + σ g_i with
    σ = ``noise`` × RMS(a ⊛ x).  User data: ``kernel`` (length n, invertible) and/or ``signals``
    (shape (p, n)) to convolve, or observations ``Y`` (shape (p, n); the kernel and signals, if
    given, are then the ground truth only).  θ enters only the preconditioner's scale (entries of
    C_{y_i}Pq of order one at the solution, so ``mu`` is measured against 1).

    ``loss``: "logcosh" (default), "huber" or "l4"; ``mu`` > 0 its smoothing (unused by "l4").
    Symmetry: ``SignedShift(n)`` acting on q; the truth is the planted inverse filter
    q♮ ∝ (C_a P)^{-1} e₀ and ``recovery_tolerance`` is 1e-2.  ``recovered_kernel``,
    ``recovered_signals`` and ``kernel_error`` turn a point q into estimates of a and the x_i.
    """
    loss = _check_choice(loss, "loss", LOSSES)
    model = _check_choice(model, "model", MODELS)
    mu = _check_positive(mu, "mu")
    noise = _check_positive(noise, "noise", allow_zero=True)
    rng = as_generator(seed)

    y_data = None if Y is None else as_real_array(Y, "Y", ndim=2)
    a_true = None if kernel is None else as_real_array(kernel, "kernel", ndim=1)
    x_true = None if signals is None else as_real_array(signals, "signals", ndim=2)
    shapes = [s.shape for s in (y_data, x_true) if s is not None]
    if n is None:
        n = shapes[0][1] if shapes else (a_true.size if a_true is not None else 64)
    if p is None:
        p = shapes[0][0] if shapes else 50
    n = require_positive_int(n, "n", minimum=2)
    p = require_positive_int(p, "p")
    require_memory(96 * p * n, f"blind_deconvolution(n={n}, p={p}): the observations are p × n")
    theta = (1.0 / n if model == "one-sparse" else 0.1) if theta is None else _check_theta(theta)
    for name, array in (("Y", y_data), ("signals", x_true)):
        if array is not None and array.shape != (p, n):
            raise ValueError(
                f"{name} must have shape (p, n) = ({p}, {n}) (one row per channel), "
                f"got shape {array.shape}"
            )
    if a_true is not None:
        if a_true.size != n:
            what = "longer than" if a_true.size > n else "shorter than"
            raise ValueError(
                f"kernel must have length n = {n} (circular convolution with signals of length "
                f"{n}), got a kernel of length {a_true.size}, {what} the signals"
            )
        _check_kernel_invertible(a_true, "kernel")

    if y_data is None:
        if a_true is None:
            a_true = _random_kernel(n, rng)
        if x_true is None:
            if model == "one-sparse":
                x_true = _one_sparse(p, n, rng)
            else:
                x_true = _bernoulli_gaussian((p, n), theta, rng)
        clean = circular_convolve(a_true, x_true)
        y_data = clean
        if noise > 0:
            sigma = noise * np.sqrt(np.mean(clean**2))
            y_data = clean + sigma * rng.standard_normal(clean.shape)
    elif noise > 0:
        raise TypeError("noise applies to generated observations; Y was given")

    objective = BlindDeconvolutionObjective(y_data, theta, loss, mu, kernel=a_true, signals=x_true)
    truth = None
    if a_true is not None:
        filt = np.fft.irfft(1.0 / (np.fft.rfft(a_true) * objective.preconditioner), n)
        truth = filt / np.linalg.norm(filt)
    return Problem(
        Sphere(n),
        objective,
        name="blind_deconvolution",
        symmetry=SignedShift(n),
        truth=truth,
        parameters={
            "n": n,
            "p": p,
            "theta": theta,
            "loss": loss,
            "mu": mu,
            "model": model,
            "noise": noise,
        },
        seed=seed_as_int(seed),
        recovery_tolerance=1e-2,
    )


# --------------------------------------------------------------------------- recovery
def _objective(problem: Problem, kind: type) -> Any:
    if not isinstance(problem, Problem) or not isinstance(problem.objective, kind):
        factory = (
            "blind_deconvolution" if kind is BlindDeconvolutionObjective else "sas_deconvolution"
        )
        raise TypeError(f"problem must be a Problem built by {factory}, got {problem!r}")
    return problem.objective


def _sphere_point(problem: Problem, q: Any) -> np.ndarray:
    return np.asarray(problem.check_point(q, "q"), dtype=float)


def inverse_filter(problem: Problem, q: Any) -> np.ndarray:
    """The inverse filter h = P q: h ⊛ y_i is sparse, h a signed shift of a⁻¹ (up to scale)."""
    objective = _objective(problem, BlindDeconvolutionObjective)
    q = _sphere_point(problem, q)
    return np.fft.irfft(objective.preconditioner * np.fft.rfft(q), objective.n)


def recovered_kernel(problem: Problem, q: Any) -> np.ndarray:
    """a_hat = IFFT(1/FFT(P q)): the kernel with a_hat ⊛ x_hat_i = y_i (module docstring)."""
    objective = _objective(problem, BlindDeconvolutionObjective)
    spectrum = np.fft.rfft(inverse_filter(problem, q))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        kernel = np.fft.irfft(1.0 / spectrum, objective.n)
    if not np.all(np.isfinite(kernel)):
        raise ValueError(
            "q gives an inverse filter P q whose DFT vanishes: no kernel estimate (q is far "
            "from any solution)"
        )
    return kernel


def recovered_signals(problem: Problem, q: Any) -> np.ndarray:
    """The signals x_hat_i = (P q) ⊛ y_i = C_{y_i} P q, shape (p, n), of ``recovered_kernel``."""
    objective = _objective(problem, BlindDeconvolutionObjective)
    return objective._forward(_sphere_point(problem, q))


def kernel_error(problem: Problem, point: Any) -> float:
    """Relative error of the recovered kernel modulo signed shift and scale.

    Multichannel (``blind_deconvolution``): ``Scaled(SignedShift(n)).distance(a_hat, a)`` with
    a_hat = ``recovered_kernel(problem, q)``, i.e. min_{k,±} ‖a_hat/‖a_hat‖ ∓ s_k[a]/‖a‖‖.
    Short-and-sparse (``sas_deconvolution``): min over truncated signed shifts τ, ± of
    ‖a/‖a‖ ∓ ι s_τ[a₀]‖ (a₀ on the sphere; seed 003 eq. 3.15).
    """
    distance = getattr(getattr(problem, "objective", None), "kernel_distance", None)
    if isinstance(problem, Problem) and distance is not None:  # short-and-sparse
        return float(distance(point))
    objective = _objective(problem, BlindDeconvolutionObjective)
    if objective.kernel is None:
        raise ValueError("problem has no ground-truth kernel (it was built from Y alone)")
    group = Scaled(SignedShift(objective.n))
    return float(group.distance(recovered_kernel(problem, point), objective.kernel))


def signals_error(problem: Problem, q: Any) -> float:
    """Relative error of the recovered signals (all channels at once) modulo signed shift, scale."""
    objective = _objective(problem, BlindDeconvolutionObjective)
    if objective.signals is None:
        raise ValueError("problem has no ground-truth signals")
    group = Scaled(SignedShift(objective.n))
    return float(group.distance(recovered_signals(problem, q), objective.signals))
