"""Neural collapse with unconstrained features: cross-entropy with weight decay on (W, H, b).

Seed 001 ("Simplification: Unconstrained Features" and "Main Theoretical Results" slides; Zhu,
Ding, Zhou, Li, You, Sulam, Qu, *A geometric analysis of neural collapse with unconstrained
features*, NeurIPS 2021, problem (3)): treat the last-layer features H = [h_{1,1} … h_{K,n}] of a
balanced training set (K classes, n samples each, N = nK) as free variables and solve

    min_{W, H, b}  (1/N) Σ_{k=1}^K Σ_{i=1}^n L_CE(W h_{k,i} + b, y_k)
                   + λ_W/2 ‖W‖_F² + λ_H/2 ‖H‖_F² + λ_b/2 ‖b‖₂²,

W ∈ R^{K×d}, H ∈ R^{d×N}, b ∈ R^K, L_CE(z, y_k) = log Σ_l e^{z_l} − z_k.  The columns of H are
ordered class by class: column j belongs to class ⌊j / n⌋.  The point is the list [W, H, b] on
the product of Euclidean spaces R^{K×d} × R^{d×N} × R^K.

Derivatives, through the logits Z = W H + b 1ᵀ (K × N) and the column-wise softmax P = σ(Z),
computed once per point in ``prepare``; with G = (P − Y)/N (Y the one-hot labels):

    ∇_W f = G Hᵀ + λ_W W,   ∇_H f = Wᵀ G + λ_H H,   ∇_b f = G 1 + λ_b b,

and for a direction (Ẇ, Ḣ, ḃ), with Ż = Ẇ H + W Ḣ + ḃ 1ᵀ and Ġ = (P ⊙ Ż − P diag(1ᵀ(P ⊙ Ż)))/N
(the softmax Jacobian diag(p) − p pᵀ applied column by column),

    ∇²f[·]_W = Ġ Hᵀ + G Ḣᵀ + λ_W Ẇ,   ∇²f[·]_H = Wᵀ Ġ + Ẇᵀ G + λ_H Ḣ,   ∇²f[·]_b = Ġ 1 + λ_b ḃ,

where G Ḣᵀ and Ẇᵀ G are the bilinear cross terms of the product W H.  The log-sum-exp is
evaluated stably (shifted by the column maximum, the maximal term split off into ``log1p``), so
huge logits neither overflow nor lose the small losses of confidently classified samples.

Symmetry: the cost depends on W and H only through W H, ‖W‖_F and ‖H‖_F, so it is invariant
under the rotations of the feature space (W, H, b) ↦ (W Q, Qᵀ H, b), Q ∈ O(d)
(``FeatureRotation``).  At a collapsed point the stacked matrix [Wᵀ, H] has rank K − 1 and the
orbit has dimension d(d−1)/2 − (d−K+1)(d−K)/2; the certificate splits those directions off.

Ground truth: by Zhu et al., Theorem 3.1, every global minimizer is a simplex-ETF configuration
— h_{k,i} = h̄_k, W ∝ H̄ᵀ, W Wᵀ ∝ I − 11ᵀ/K, b = 0 when λ_b > 0 — so W Wᵀ is fixed and the
minimizers form one O(d)-orbit of dimension d(d−1)/2 − (d−K+1)(d−K)/2 when d ≥ K − 1.  The
factory then takes ``collapsed_point`` as the truth, compared modulo the feature rotation
(``truth=None`` otherwise).  Success is also measured by the neural-collapse metrics ``nc1``,
``nc2``, ``nc3`` (Papyan, Han, Donoho, PNAS 2020; Zhu et al. 2021, §4) and ``global_minimum``.
Theorem 3.2 of Zhu et al.: for d > K the landscape is benign (every critical point is a global
minimizer or a strict saddle with negative curvature).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Product

from manifoldscape.boundary.arguments import Seed, as_generator, require_positive_int, seed_as_int
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import SymmetryGroup

logger = logging.getLogger(__name__)

__all__ = [
    "FeatureRotation",
    "NeuralCollapseObjective",
    "collapse_metrics",
    "collapsed_point",
    "global_minimum",
    "nc1",
    "nc2",
    "nc2_classifier",
    "nc2_features",
    "nc3",
    "neural_collapse",
    "simplex_etf",
]

#: 5e-4: the weight decay of Zhu et al.'s (2021) network experiments (their code's default)
DEFAULT_WEIGHT_DECAY = 5e-4


# --------------------------------------------------------------------------- validation
def _decay(value: Any, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        domain = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {domain} number, got {value}")
    return value


def _split(point: Any, name: str = "point") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a point [W, H, b] and return its parts as real float arrays."""
    if not isinstance(point, (list, tuple)) or len(point) not in (2, 3):
        raise ValueError(
            f"{name} must be a list [W, H, b] (or [W, H]) with W of shape K × d, H of shape d × N "
            f"and b of shape (K,), got {type(point).__name__}"
        )
    parts = []
    for label, value in zip(("W", "H", "b"), point, strict=False):
        array = np.asarray(value)
        if array.dtype.kind == "c":
            raise ValueError(f"{name}: {label} must be real, got complex entries")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {label} must be numeric, got dtype {array.dtype}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}: {label} must be finite, got NaN or Inf entries")
        parts.append(array.astype(float))
    w, h = parts[0], parts[1]
    b = parts[2] if len(parts) == 3 else np.zeros(w.shape[0] if w.ndim == 2 else 0)
    if w.ndim != 2 or w.shape[0] < 2:
        raise ValueError(f"{name}: W must be a K × d matrix with K ≥ 2, got shape {w.shape}")
    k, d = w.shape
    if h.ndim != 2 or h.shape[0] != d or h.shape[1] % k or h.shape[1] == 0:
        raise ValueError(
            f"{name}: H must be a {d} × nK matrix (n ≥ 1 samples per class, K = {k}), "
            f"got shape {h.shape}"
        )
    if b.shape != (k,):
        raise ValueError(f"{name}: b must have shape ({k},), got {b.shape}")
    return w, h, b


# --------------------------------------------------------------------------- objective
@dataclass(frozen=True)
class _Logits:
    """What cost, gradient and Hessian share at a point (seed 001, problem (3))."""

    probabilities: np.ndarray  # P = softmax(Z), column-wise, K × N
    residual: np.ndarray  # G = (P − Y)/N
    losses: np.ndarray  # L_CE per sample, length N


class NeuralCollapseObjective(Objective):
    """Cross-entropy over free features with weight decay (seed 001; Zhu et al. 2021, eq. (3)).

    See the module docstring for the formulas of the gradient and the Hessian-vector product.
    """

    def __init__(self, n_classes: int, n_per_class: int, decays: tuple[float, float, float]):
        self.n_classes = n_classes
        self.n_per_class = n_per_class
        self.lambda_w, self.lambda_h, self.lambda_b = decays
        self.labels = np.repeat(np.arange(n_classes), n_per_class)
        self.one_hot = np.zeros((n_classes, n_classes * n_per_class))
        self.one_hot[self.labels, np.arange(self.labels.size)] = 1.0

    def prepare(self, x: list) -> _Logits:  # noqa: D102
        w, h, b = x
        z = w @ h + b[:, None]
        n_samples = z.shape[1]
        columns = np.arange(n_samples)
        top = np.argmax(z, axis=0)
        z_max = z[top, columns]
        e = np.exp(z - z_max)  # entries in (0, 1], the column maximum exactly 1
        total = np.sum(e, axis=0)
        p = e / total
        e[top, columns] = 0.0
        # log Σ_l exp(z_l) − z_y = (z_max − z_y) + log(1 + Σ_{l ≠ argmax} exp(z_l − z_max))
        losses = (z_max - z[self.labels, columns]) + np.log1p(np.sum(e, axis=0))
        return _Logits(p, (p - self.one_hot) / n_samples, losses)

    def cost(self, x: list, data: _Logits) -> float:  # noqa: D102
        w, h, b = x
        return float(
            np.mean(data.losses)
            + 0.5 * self.lambda_w * np.sum(w * w)
            + 0.5 * self.lambda_h * np.sum(h * h)
            + 0.5 * self.lambda_b * np.sum(b * b)
        )

    def euclidean_gradient(self, x: list, data: _Logits) -> list:  # noqa: D102
        w, h, b = x
        g = data.residual
        return [
            g @ h.T + self.lambda_w * w,
            w.T @ g + self.lambda_h * h,
            np.sum(g, axis=1) + self.lambda_b * b,
        ]

    def euclidean_hessian(self, x: list, data: _Logits, direction: list) -> list:  # noqa: D102
        w, h, _ = x
        dw, dh, db = (np.asarray(v, dtype=float) for v in direction)
        p, g = data.probabilities, data.residual
        dz = dw @ h + w @ dh + db[:, None]
        pdz = p * dz
        dg = (pdz - p * np.sum(pdz, axis=0)) / p.shape[1]
        return [
            dg @ h.T + g @ dh.T + self.lambda_w * dw,
            w.T @ dg + dw.T @ g + self.lambda_h * dh,
            np.sum(dg, axis=1) + self.lambda_b * db,
        ]

    def autograd_cost(self, x: list) -> Any:  # noqa: D102
        w, h, b = x
        z = anp.dot(w, h) + anp.reshape(b, (-1, 1))
        z_max = anp.max(z, axis=0)
        lse = z_max + anp.log(anp.sum(anp.exp(z - z_max), axis=0))
        ce = anp.mean(lse - anp.sum(z * self.one_hot, axis=0))
        return (
            ce
            + 0.5 * self.lambda_w * anp.sum(w * w)
            + 0.5 * self.lambda_h * anp.sum(h * h)
            + 0.5 * self.lambda_b * anp.sum(b * b)
        )


# --------------------------------------------------------------------------- symmetry
@dataclass(frozen=True, repr=False)
class FeatureRotation(SymmetryGroup):
    """O(d) acting on the feature space: (W, H, b) ↦ (W Q, Qᵀ H, b), Q ∈ O(d).

    Leaves W H, ‖W‖_F and ‖H‖_F, hence the neural-collapse cost, invariant (Zhu et al. 2021).
    Written on the stacked d × (K + N) matrix S = [Wᵀ, H] the action is S ↦ Qᵀ S, so the
    distance is an orthogonal Procrustes problem,

        dist(x, y)² = min_{R ∈ O(d)} ‖S_x − R S_y‖_F² + ‖b_x − b_y‖²,
        R = U Vᵀ  with  S_x S_yᵀ = U Σ Vᵀ,

    and the orbit tangents at x are (W Ω, −Ω H, 0) for skew Ω.  With S = U Σ Vᵀ of numerical
    rank r (singular values above ``rank_tolerance`` · σ₁), they are returned for the unit skew
    matrices Ω = (u_i u_jᵀ − u_j u_iᵀ)/√2, i < j, i < r: d(d−1)/2 − (d−r)(d−r−1)/2 directions,
    the dimension of the orbit O(d)/O(d−r) (the certificate orthonormalizes them).  Rotations
    among the last d − r left singular vectors move S only by its negligible singular values;
    at a solver's approximate minimizer (rank K − 1 up to O(‖grad f‖/λ)) the Hessian along them
    is the transverse curvature of the rank-(K−1) stratum, not an orbit direction, so they are
    left out instead of being handed to the certificate as (nearly zero) symmetry vectors.
    """

    d: int = 1
    name: str = ""
    #: singular values of [Wᵀ, H] below ``rank_tolerance`` · σ_max count as zero
    rank_tolerance: float = 1e-4

    def __post_init__(self) -> None:
        if not (0 < self.rank_tolerance < 1):
            raise ValueError(f"rank_tolerance must be in (0, 1), got {self.rank_tolerance!r}")
        if isinstance(self.d, bool) or not isinstance(self.d, (int, np.integer)) or self.d < 1:
            raise ValueError(f"d must be a positive integer, got {self.d!r}")
        object.__setattr__(self, "name", self.name or f"O({self.d}) feature rotation")
        object.__setattr__(self, "dimension", self.d * (self.d - 1) // 2)

    def _parts(self, x: Any, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, h, b = _split(x, what)
        if w.shape[1] != self.d:
            raise ValueError(
                f"{what}: W must have d = {self.d} columns for {self.name}, got shape {w.shape}"
            )
        return w, h, b

    @staticmethod
    def _rotation(s_x: np.ndarray, s_y: np.ndarray) -> np.ndarray:
        """argmin_{R ∈ O(d)} ‖s_x − R s_y‖_F = polar factor of s_x s_yᵀ."""
        u, _, vt = np.linalg.svd(s_x @ s_y.T)
        return u @ vt

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        wx, hx, bx = self._parts(x, "x")
        wy, hy, by = self._parts(y, "y")
        if wx.shape != wy.shape or hx.shape != hy.shape:
            raise ValueError(
                f"x and y must have the same shapes, got W {wx.shape}, H {hx.shape} and "
                f"W {wy.shape}, H {hy.shape}"
            )
        s_x, s_y = np.hstack([wx.T, hx]), np.hstack([wy.T, hy])
        r = self._rotation(s_x, s_y)
        return float(np.sqrt(np.sum((s_x - r @ s_y) ** 2) + np.sum((bx - by) ** 2)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        w, h, b = self._parts(x, "x")
        wr, hr, _ = self._parts(reference, "reference")
        r = self._rotation(np.hstack([wr.T, hr]), np.hstack([w.T, h]))
        return [w @ r.T, r @ h, b.copy()]

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        w, h, b = self._parts(x, "x")
        u, sigma, _ = np.linalg.svd(np.hstack([w.T, h]))
        if sigma.size == 0 or sigma[0] == 0:
            return []
        rank = int(np.sum(sigma > self.rank_tolerance * sigma[0]))
        out = []
        for i, j in zip(*np.triu_indices(self.d, 1), strict=True):
            if i >= rank:  # Ω acts only on the numerically null part of S: not an orbit tangent
                continue
            omega = (np.outer(u[:, i], u[:, j]) - np.outer(u[:, j], u[:, i])) / np.sqrt(2.0)
            out.append([w @ omega, -omega @ h, np.zeros_like(b)])
        return out


# --------------------------------------------------------------------------- metrics
def _class_means(h: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Class means h̄_k as the columns of a d × K matrix, and the global mean μ_G."""
    d, n_samples = h.shape
    means = h.reshape(d, k, n_samples // k).mean(axis=2)
    return means, means.mean(axis=1)


def _etf_gram(k: int) -> np.ndarray:
    """(I − 11ᵀ/K)/√(K−1): the Gram matrix of a simplex ETF, normalised to unit Frobenius norm."""
    return (np.eye(k) - np.full((k, k), 1.0 / k)) / np.sqrt(k - 1)


def _unit(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a)
    return a / norm if norm > 0 else a


def nc1(point: Any) -> float:
    """Within-class variability collapse NC1 = tr(Σ_W Σ_B^†)/K (Papyan et al. 2020; Zhu et al.).

    Σ_W = (1/N) Σ_{k,i} (h_{k,i} − h̄_k)(h_{k,i} − h̄_k)ᵀ and Σ_B = (1/K) Σ_k (h̄_k − μ_G)
    (h̄_k − μ_G)ᵀ; seed 001, "Neural Collapse: Symmetry and Structures", property 1.  Zero
    exactly when every feature equals its class mean (or all class means coincide).
    """
    w, h, _ = _split(point)
    k = w.shape[0]
    means, mu_g = _class_means(h, k)
    within = h - np.repeat(means, h.shape[1] // k, axis=1)
    sigma_w = within @ within.T / h.shape[1]
    centred = means - mu_g[:, None]
    sigma_b = centred @ centred.T / k
    return float(np.trace(sigma_w @ np.linalg.pinv(sigma_b, hermitian=True)) / k)


def nc2_classifier(point: Any) -> float:
    """‖W Wᵀ/‖W Wᵀ‖_F − (I − 11ᵀ/K)/√(K−1)‖_F: the classifier's distance to a simplex ETF.

    Seed 001, property 2 (Zhu et al. 2021, NC2 metric); zero exactly when the rows of W are
    equinorm with pairwise cosines −1/(K−1).
    """
    w, _, _ = _split(point)
    return float(np.linalg.norm(_unit(w @ w.T) - _etf_gram(w.shape[0])))


def nc2_features(point: Any) -> float:
    """‖M̄ᵀM̄/‖M̄ᵀM̄‖_F − (I − 11ᵀ/K)/√(K−1)‖_F, M̄ = [h̄_k − μ_G]: the class means' ETF distance.

    Seed 001, property 2: H̄ᵀH̄ ∼ I_K − 11ᵀ/K (Zhu et al. 2021, NC2 metric).
    """
    w, h, _ = _split(point)
    k = w.shape[0]
    means, mu_g = _class_means(h, k)
    centred = means - mu_g[:, None]
    return float(np.linalg.norm(_unit(centred.T @ centred) - _etf_gram(k)))


def nc2(point: Any) -> float:
    """NC2 of the point: the larger of ``nc2_classifier`` and ``nc2_features``."""
    return max(nc2_classifier(point), nc2_features(point))


def nc3(point: Any) -> float:
    """Self-duality NC3 = ‖W/‖W‖_F − M̄ᵀ/‖M̄‖_F‖_F, M̄ = [h̄_k − μ_G] (Zhu et al. 2021).

    Seed 001, property 3: w^k = β h̄_k.
    """
    w, h, _ = _split(point)
    means, mu_g = _class_means(h, w.shape[0])
    centred = means - mu_g[:, None]
    return float(np.linalg.norm(_unit(w) - _unit(centred.T)))


def collapse_metrics(point: Any) -> dict[str, float]:
    """All neural-collapse metrics of a point: nc1, nc2_classifier, nc2_features, nc3."""
    return {
        "nc1": nc1(point),
        "nc2_classifier": nc2_classifier(point),
        "nc2_features": nc2_features(point),
        "nc3": nc3(point),
    }


# --------------------------------------------------------------------------- closed forms
def simplex_etf(K: int, d: int, seed: Seed = None) -> np.ndarray:
    """A d × K simplex equiangular tight frame: unit columns m_k with m_kᵀ m_l = −1/(K−1).

    M = √(K/(K−1)) U (I − 11ᵀ/K), U ∈ R^{d×K} with orthonormal columns (d ≥ K; Haar-random
    from ``seed``), or, when d = K − 1, the frame expressed in an orthonormal basis of 1^⊥.
    """
    K = require_positive_int(K, "K", minimum=2)
    d = require_positive_int(d, "d")
    if d < K - 1:
        raise ValueError(f"d must be at least K − 1 = {K - 1} for a simplex ETF, got d = {d}")
    rng = as_generator(seed)
    centring = np.eye(K) - np.full((K, K), 1.0 / K)
    if d >= K:
        u, _ = np.linalg.qr(rng.standard_normal((d, K)))
        return np.sqrt(K / (K - 1)) * u @ centring
    # d = K − 1: an orthonormal basis B (K × (K−1)) of 1^⊥, M = √(K/(K−1)) Bᵀ, rotated
    basis = np.linalg.svd(centring)[0][:, : K - 1]
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return np.sqrt(K / (K - 1)) * q @ basis.T


def _optimal_margin(K: int, N: int, lambda_w: float, lambda_h: float) -> float:
    """t* = argmin_{t ≥ 0} log(1 + (K−1) e^{−Kt/(K−1)}) + √(λ_W λ_H K N) t (0 if c ≥ 1)."""
    c = np.sqrt(lambda_w * lambda_h * K * N)
    if c >= 1.0:
        return 0.0
    # stationarity: (K/(K−1)) q/(1 + q) = c with q = (K − 1) e^{−s}, s = K t/(K − 1)
    r = c * (K - 1) / K
    q = r / (1.0 - r)
    return (K - 1) / K * np.log((K - 1) / q)


def global_minimum(
    K: int, n: int, lambda_W: float = DEFAULT_WEIGHT_DECAY, lambda_H: float = DEFAULT_WEIGHT_DECAY
) -> float:
    """The global minimum value of the problem (Zhu et al. 2021, Thm 3.1, d ≥ K − 1, λ_b > 0).

    On a collapsed configuration W = a Mᵀ, h_{k,i} = c m_k, b = 0 (M a simplex ETF) every sample
    has loss log(1 + (K−1) e^{−K t/(K−1)}) with t = a c, and the weight decay is at least
    √(λ_W λ_H K N) t (AM–GM, equality when λ_W K a² = λ_H N c²), so the minimum is that of a
    convex function of t ≥ 0: t* = (K−1)/K · log((K − (K−1)c)/c), c = √(λ_W λ_H K N) < 1, and
    t* = 0 (the minimizer W = 0, H = 0) when c ≥ 1.
    """
    K = require_positive_int(K, "K", minimum=2)
    n = require_positive_int(n, "n")
    lambda_w = _decay(lambda_W, "lambda_W", allow_zero=False)
    lambda_h = _decay(lambda_H, "lambda_H", allow_zero=False)
    N = K * n
    t = _optimal_margin(K, N, lambda_w, lambda_h)
    c = np.sqrt(lambda_w * lambda_h * K * N)
    return float(np.log1p((K - 1) * np.exp(-K * t / (K - 1))) + c * t)


def collapsed_point(
    K: int,
    d: int,
    n: int,
    lambda_W: float = DEFAULT_WEIGHT_DECAY,
    lambda_H: float = DEFAULT_WEIGHT_DECAY,
    seed: Seed = None,
) -> list[np.ndarray]:
    """A global minimizer [W, H, b] in closed form (Zhu et al. 2021, Thm 3.1; d ≥ K − 1).

    W = a Mᵀ, h_{k,i} = c m_k, b = 0 with M = ``simplex_etf(K, d, seed)``, a c = t* (see
    ``global_minimum``) and λ_W K a² = λ_H N c².  Every O(d) rotation of it is another one.
    """
    K = require_positive_int(K, "K", minimum=2)
    d = require_positive_int(d, "d")
    n = require_positive_int(n, "n")
    lambda_w = _decay(lambda_W, "lambda_W", allow_zero=False)
    lambda_h = _decay(lambda_H, "lambda_H", allow_zero=False)
    m = simplex_etf(K, d, seed)
    N = K * n
    t = _optimal_margin(K, N, lambda_w, lambda_h)
    ratio = np.sqrt(lambda_h * N / (lambda_w * K))  # a / c
    a, c = np.sqrt(t * ratio), np.sqrt(t / ratio)
    return [a * m.T, c * np.repeat(m, n, axis=1), np.zeros(K)]


# --------------------------------------------------------------------------- factory
def neural_collapse(
    K: int = 4,
    d: int = 6,
    n: int = 5,
    *,
    lambda_W: float = DEFAULT_WEIGHT_DECAY,
    lambda_H: float = DEFAULT_WEIGHT_DECAY,
    lambda_b: float = DEFAULT_WEIGHT_DECAY,
    seed: Seed = None,
) -> Problem:
    """Neural collapse with unconstrained features (seed 001; Zhu et al. 2021, problem (3)).

    K classes of n samples each (balanced), features of dimension d; the point is [W, H, b] on
    R^{K×d} × R^{d×Kn} × R^K and the cost is the mean cross-entropy of the logits W H + b 1ᵀ
    plus λ_W/2 ‖W‖² + λ_H/2 ‖H‖² + λ_b/2 ‖b‖² (module docstring).  The default weight decays
    5e-4 are the weight decay of Zhu et al.'s network experiments; any λ_W, λ_H > 0 with
    √(λ_W λ_H K N) < 1 gives collapsed minimizers (else W = 0, H = 0 wins).  λ_b = 0 is
    allowed but leaves the direction b ↦ b + s1 flat (the cross-entropy ignores a common shift
    of the logits), so the certificate of a minimizer is then degenerate.  The symmetry is
    ``FeatureRotation(d)``.

    The global minimizers are the simplex-ETF configurations of Zhu et al., Theorem 3.1 — a single
    O(d)-orbit when d ≥ K − 1, λ_b > 0 and λ_W λ_H K N < 1 — so ``truth`` is ``collapsed_point``
    and ``distance_to_truth`` is measured modulo the feature rotation; otherwise ``truth`` is None.
    Judge a solution also by ``nc1``, ``nc2``, ``nc3`` and its cost.  The
    instance has no randomness; ``seed`` is recorded for uniformity with the other factories.
    """
    K = require_positive_int(K, "K", minimum=2)
    d = require_positive_int(d, "d")
    n = require_positive_int(n, "n")
    decays = (
        _decay(lambda_W, "lambda_W", allow_zero=False),
        _decay(lambda_H, "lambda_H", allow_zero=False),
        _decay(lambda_b, "lambda_b", allow_zero=True),
    )
    as_generator(seed)  # validates the seed
    N = K * n
    require_memory(
        16 * (K * d + d * N + 4 * K * N), f"neural_collapse(K={K}, d={d}, n={n}): H is d × Kn"
    )
    if decays[0] * decays[1] * K * N >= 1.0:
        logger.warning(
            "λ_W λ_H K N = %.3g ≥ 1: the global minimizer is W = 0, H = 0 (no collapse to an ETF)",
            decays[0] * decays[1] * K * N,
        )
    if d < K - 1:
        logger.info("d = %d < K − 1 = %d: no simplex ETF fits in the feature space", d, K - 1)
    manifold = Product([Euclidean(K, d), Euclidean(d, N), Euclidean(K)])
    # the global minimizers form a single feature-rotation orbit when d ≥ K − 1, λ_b > 0 and the
    # trivial point is not optimal (Zhu et al., Thm 3.1): one of them serves as the truth
    unique_orbit = d >= K - 1 and decays[2] > 0 and decays[0] * decays[1] * K * N < 1.0
    truth = collapsed_point(K, d, n, decays[0], decays[1], seed=0) if unique_orbit else None
    return Problem(
        manifold,
        NeuralCollapseObjective(K, n, decays),
        name="neural_collapse",
        symmetry=FeatureRotation(d),
        truth=truth,
        parameters={
            "K": K,
            "d": d,
            "n": n,
            "lambda_W": decays[0],
            "lambda_H": decays[1],
            "lambda_b": decays[2],
        },
        seed=seed_as_int(seed),
    )
