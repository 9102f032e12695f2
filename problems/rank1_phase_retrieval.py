"""Phase retrieval as rank-1 matrix fitting on the fixed-rank manifold (seed 000, Cai and Wei).

The intensity equations |a_iᴴ x|² = y_i are linear in the rank-1 matrix x xᴴ (seed 000, "Convex
solvers": ⟨a_i a_iᴴ, x xᴴ⟩ = y_i), so one may fit them on the manifold M₁ of rank-1 matrices
(seed 000, "rank-1 fitting on the fixed-rank manifold", Cai and Wei 2018):

    min_{Z ∈ M₁} F(Z),   F(Z) = 1/(2m) Σ_i (⟨a_i a_iᴴ, Z⟩ − y_i)²,

over real symmetric (real field) or complex Hermitian (complex field) Z.  We take M₁ to be the
positive semidefinite rank-1 matrices Z = λ u uᴴ, λ > 0 (``SymmetricFixedRank(n, 1, field,
psd=True)``): the real symmetric rank-1 matrices form two connected components (λ > 0, λ < 0),
only the first contains the truth x xᴴ, and a solver cannot leave the component it starts in.
Seed 000 ("Landscape of the least square fitting on M₁"): there are no equivalent critical
points of F on M₁ — the global minimizer x xᴴ is unique (no phase or sign symmetry), so the
certificate at the truth reports a local minimizer with *no* symmetry direction, unlike the
factored loss over x ∈ ℂⁿ whose minimizers form a circle.

Derivatives, matrix-free in the measurement operator 𝒜 (rows a_iᴴ, ``problems.measurements``;
Gaussian or coded diffraction), with Z = U diag(λ) Uᴴ kept in factors:

    ⟨a_i a_iᴴ, Z⟩ = Σ_k λ_k |(𝒜 u_k)_i|²,     ρ_i = ⟨a_i a_iᴴ, Z⟩ − y_i,
    ∇F(Z) = (1/m) Σ_i ρ_i a_i a_iᴴ:  B ↦ (1/m) 𝒜*(ρ ∘ 𝒜B)   (never formed),
    ∇²F(Z)[Ξ] = (1/m) Σ_i ⟨a_i a_iᴴ, Ξ⟩ a_i a_iᴴ.

The gradient and Hessian products are returned as ``MeasurementFrame`` operators (``@``, ``.H``,
and ``np.asarray`` for a dense copy at small sizes), which the fixed-rank manifold projects
through 𝒜 applied to r (or 2r) vectors only.  The Hessian-vector product receives a dense
direction Ξ from ``Problem`` (the embedded tangent vector, rank ≤ 2); its Hermitian part is
factored by an eigendecomposition so that ⟨a_i a_iᴴ, Ξ⟩ = Σ_k μ_k |(𝒜 v_k)_i|² needs 𝒜 on at
most two vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse.linalg

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int, seed_as_int
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.geometry.fixed_rank import SymmetricFixedRank, SymmetricFixedRankPoint
from manifoldscape.problems.measurements import (
    CodedDiffraction,
    GaussianMeasurements,
    MeasurementOperator,
    coded_diffraction,
    gaussian_measurements,
)

__all__ = [
    "MeasurementFrame",
    "Rank1PhaseRetrievalObjective",
    "rank1_initial_point",
    "rank1_phase_retrieval",
]

MEASUREMENTS = ("gaussian", "cdp")
INITS = ("random", "spectral")


class MeasurementFrame:
    """The n×n Hermitian matrix (1/m) Σ_i w_i a_i a_iᴴ, applied as B ↦ (1/m) 𝒜*(w ∘ 𝒜B).

    ``real=True`` keeps the real part (the gradient in the space of real symmetric matrices).
    """

    __array_priority__ = 1000

    def __init__(self, operator: MeasurementOperator, weights: np.ndarray, real: bool):
        self.operator = operator
        self.weights = weights
        self.real = real
        self.shape = (operator.n, operator.n)

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        op = self.operator
        b = np.asarray(b)
        cols = b.T.reshape(b.shape[1], *op.signal_shape)
        out = op.adjoint(self.weights * op.apply(cols)) / op.m
        out = out.reshape(b.shape[1], op.n).T
        return np.real(out) if self.real else out

    @property
    def H(self) -> MeasurementFrame:
        """Hermitian: itself."""
        return self

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self @ np.eye(self.operator.n)
        return out if dtype is None else out.astype(dtype)


def _measure(operator: MeasurementOperator, vectors: np.ndarray, weights: np.ndarray) -> Any:
    """Σ_k w_k |(𝒜 v_k)_i|² for the columns v_k of ``vectors`` (n × k)."""
    cols = vectors.T.reshape(vectors.shape[1], *operator.signal_shape)
    images = operator.apply(cols)
    return np.tensordot(weights, np.abs(images) ** 2, axes=1), images


class Rank1PhaseRetrievalObjective(Objective):
    """F(Z) = 1/(2m) Σ (⟨a_i a_iᴴ, Z⟩ − y_i)² on Z = U diag(λ) Uᴴ (module docstring)."""

    def __init__(self, operator: MeasurementOperator, y: np.ndarray, real: bool):
        self.operator = operator
        self.y = y
        self.real = real

    def prepare(self, x: Any) -> dict[str, Any]:
        """ρ = 𝒜(Z) − y from the factors (𝒜 applied to the r columns of U)."""
        measured, images = _measure(self.operator, np.asarray(x.u), np.asarray(x.lam))
        return {"residual": measured - self.y, "images": images}

    def cost(self, x: Any, data: Any) -> float:  # noqa: D102
        return float(np.sum(data["residual"] ** 2) / (2 * self.operator.m))

    def euclidean_gradient(self, x: Any, data: Any) -> MeasurementFrame:  # noqa: D102
        return MeasurementFrame(self.operator, data["residual"], self.real)

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> MeasurementFrame:
        """∇²F(Z)[Ξ] = (1/m) Σ ⟨a_i a_iᴴ, Ξ⟩ a_i a_iᴴ, as a ``MeasurementFrame``.

        For a tangent Ξ = U M Uᴴ + U_p Uᴴ + U U_pᴴ (recovered from Ξ_h U in O(n² r) and checked),
        ⟨a_i a_iᴴ, Ξ⟩ = Re(p_i M p_iᴴ) + 2 Re(q_i p_iᴴ) with p_i = a_iᴴ U (cached by ``prepare``)
        and q_i = a_iᴴ U_p: 𝒜 on r vectors.  Any other Ξ_h is factored by an eigendecomposition.
        """
        xi = np.asarray(direction)
        hermitian = 0.5 * (xi + xi.conj().T)
        u = np.asarray(x.u)
        w = hermitian @ u
        m = u.conj().T @ w
        up = w - u @ m
        tangent = (u @ m + up) @ u.conj().T + u @ up.conj().T
        size = float(np.linalg.norm(hermitian))
        if np.linalg.norm(hermitian - tangent) <= 1e-11 * size:
            op = self.operator
            p = data["images"]
            q = op.apply(up.T.reshape(up.shape[1], *op.signal_shape))
            measured = np.real(np.einsum("k...,kl,l...->...", p, m, p.conj()))
            measured = measured + 2.0 * np.real(np.sum(q * p.conj(), axis=0))
            return MeasurementFrame(op, measured, self.real)
        mu, v = np.linalg.eigh(hermitian)
        keep = np.abs(mu) > 1e-13 * max(float(np.max(np.abs(mu))), 1e-300)
        if not np.any(keep):
            return MeasurementFrame(self.operator, np.zeros(self.operator.output_shape), self.real)
        measured, _ = _measure(self.operator, v[:, keep], mu[keep])
        return MeasurementFrame(self.operator, measured, self.real)

    def autograd_cost(self, x: Any) -> Any:
        """F on the dense matrix Z with autograd.numpy (dense 𝒜: small sizes only)."""
        import autograd.numpy as anp

        if hasattr(x, "factors"):
            x = np.asarray(x)
        a = self.operator.dense()  # rows a_iᴴ
        measured = anp.real(anp.sum((a @ x) * anp.conj(a), axis=1))
        residual = measured - self.y.reshape(-1)
        return anp.sum(residual**2) / (2 * self.operator.m)


# --------------------------------------------------------------------------- factory
def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _as_operator(measurements: Any, masks: Any) -> MeasurementOperator | None:
    if measurements is not None and masks is not None:
        raise TypeError("give either measurements or masks, not both")
    if masks is not None:
        return CodedDiffraction(masks)
    if measurements is None or isinstance(measurements, MeasurementOperator):
        return measurements
    return GaussianMeasurements(measurements)


def _check_truth(truth: Any, operator: MeasurementOperator, field: str) -> np.ndarray:
    x = np.asarray(truth)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"truth must be numeric, got dtype {x.dtype}")
    if x.shape != operator.signal_shape:
        raise ValueError(
            f"truth must have the signal shape {operator.signal_shape}, got shape {x.shape}"
        )
    if x.dtype.kind == "c" and field == "real":
        raise ValueError("truth must be real for field='real', got complex entries")
    x = x.astype(complex if field == "complex" else float)
    if not np.all(np.isfinite(x)):
        raise ValueError("truth must be finite, got NaN or Inf entries")
    if not np.linalg.norm(x) > 0:
        raise ValueError("truth must be non-zero (x xᴴ must have rank 1)")
    return x.reshape(-1)


def _check_y(y: Any, operator: MeasurementOperator) -> np.ndarray:
    values = np.asarray(y)
    if values.dtype.kind == "c":
        raise ValueError("y must be real intensities, got complex entries")
    if values.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric, got dtype {values.dtype}")
    if values.shape != operator.output_shape:
        raise ValueError(
            f"y must have the measurement shape {operator.output_shape}, got shape {values.shape}"
        )
    values = values.astype(float)
    if not np.all(np.isfinite(values)):
        raise ValueError("y must be finite, got NaN or Inf entries")
    if np.any(values < 0):
        raise ValueError(f"y must be non-negative intensities, got minimum {values.min():.3g}")
    return values


def rank1_phase_retrieval(
    measurements: MeasurementOperator | np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    truth: np.ndarray | None = None,
    masks: np.ndarray | None = None,
    n: int = 8,
    m: int | None = None,
    n_masks: int = 6,
    field: str = "real",
    measurement: str = "gaussian",
    seed: Seed = None,
) -> Problem:
    """Phase retrieval as rank-1 fitting on PSD rank-1 matrices (seed 000, Cai and Wei).

    F(Z) = 1/(2m) Σ (⟨a_i a_iᴴ, Z⟩ − y_i)² over Z = λ u uᴴ, λ > 0 (module docstring), real
    symmetric or complex Hermitian by ``field``.

    Seeded instance: signal length ``n`` (1-D), ``measurement`` "gaussian" (``m`` rows, default
    6n; real N(0, 1) or complex (N + iN)/√2 entries) or "cdp" (``n_masks`` coded diffraction
    patterns, m = L n), truth x ~ N(0, I) (complex: (N + iN)/√2), y = |𝒜x|².  User data:
    ``measurements`` (an m × n matrix with rows a_iᴴ, or any ``MeasurementOperator``) or
    ``masks`` (shape (L, n)), with ``y`` (non-negative intensities) and/or ``truth``.  The
    problem's truth is the point x xᴴ and its distance to truth ‖Z − x xᴴ‖_F / ‖x xᴴ‖_F.
    """
    field = _choice(field, "field", ("real", "complex"))
    measurement = _choice(measurement, "measurement", MEASUREMENTS)
    rng = as_generator(seed)
    operator = _as_operator(measurements, masks)
    if operator is None:
        if y is not None:
            raise TypeError("y was given without measurements or masks")
        n = require_positive_int(n, "n")
        rows = n * n_masks if measurement == "cdp" and isinstance(n_masks, int) else m or 6 * n
        require_memory(
            32 * rows * n if isinstance(rows, int) else 0,
            f"rank1_phase_retrieval(n={n}): the measurements are m × n",
        )
        if measurement == "cdp":
            operator = coded_diffraction(n, require_positive_int(n_masks, "n_masks"), seed=rng)
        else:
            m = 6 * n if m is None else require_positive_int(m, "m")
            operator = gaussian_measurements(m, n, field, seed=rng)
    if len(operator.signal_shape) != 1:
        raise ValueError(
            f"measurements must act on 1-D signals, got signal shape {operator.signal_shape}"
        )
    if operator.is_complex and field == "real" and isinstance(operator, GaussianMeasurements):
        raise ValueError("measurements must be real for field='real', got a complex matrix")
    x_true = None if truth is None else _check_truth(truth, operator, field)
    if y is None:
        if x_true is None:
            x_true = rng.standard_normal(operator.n)
            if field == "complex":
                x_true = (x_true + 1j * rng.standard_normal(operator.n)) / np.sqrt(2.0)
        values = np.abs(operator.apply(x_true)) ** 2
    else:
        values = _check_y(y, operator)
    manifold = SymmetricFixedRank(operator.n, 1, field, psd=True)
    point = None
    if x_true is not None:
        size = np.linalg.norm(x_true)
        point = SymmetricFixedRankPoint((x_true / size)[:, None], np.array([size**2]))
    objective = Rank1PhaseRetrievalObjective(operator, values, field == "real")
    return Problem(
        manifold,
        objective,
        name="rank1_phase_retrieval",
        truth=point,
        parameters={
            "n": operator.n,
            "m": operator.m,
            "field": field,
            "measurement": "cdp" if isinstance(operator, CodedDiffraction) else "gaussian",
            "seed": seed_as_int(seed),
        },
        seed=seed_as_int(seed),
    )


def rank1_initial_point(
    problem: Problem, method: str = "spectral", seed: Seed = None
) -> SymmetricFixedRankPoint:
    """A start on M₁ = {λ u uᴴ}: "random" or "spectral", with λ the estimate of ‖x‖².

    "random": u uniform on the sphere; "spectral": u the top eigenvector of
    Y = (1/m) Σ y_i a_i a_iᴴ, by Lanczos on B ↦ (1/m) 𝒜*(y ∘ 𝒜B)); λ = n Σ y_i / Σ ‖a_i‖²,
    the estimate of ‖x‖² (Candès–Li–Soltanolkotabi, Wirtinger flow, Alg. 1; seed 000: "Usually
    in two stages: Initialization (by spectral initialization) + Refinement").
    """
    if not isinstance(problem, Problem) or not isinstance(
        problem.objective, Rank1PhaseRetrievalObjective
    ):
        raise TypeError("problem must be a Problem from rank1_phase_retrieval")
    method = _choice(method, "method", INITS)
    objective = problem.objective
    op = objective.operator
    rng = as_generator(seed)
    scale = float(op.n * np.sum(objective.y) / np.sum(op.row_norms_squared()))
    dtype = float if objective.real else complex
    start = rng.standard_normal(op.n)
    if not objective.real:
        start = start + 1j * rng.standard_normal(op.n)
    if method == "random" or op.n == 1:
        top = start
    else:
        frame = MeasurementFrame(op, objective.y, objective.real)
        if op.n <= 3:
            _, vectors = np.linalg.eigh(np.asarray(frame))
            top = vectors[:, -1]
        else:
            linear = scipy.sparse.linalg.LinearOperator(
                (op.n, op.n), matvec=lambda v: (frame @ v.reshape(-1, 1)).ravel(), dtype=dtype
            )
            _, vectors = scipy.sparse.linalg.eigsh(linear, k=1, which="LA", v0=start, tol=1e-8)
            top = vectors[:, 0]
    u = (top / np.linalg.norm(top)).astype(dtype)
    return SymmetricFixedRankPoint(u[:, None], np.array([scale]))
