"""One-hidden-layer networks with fixed output weights: the training loss and its expectation.

Seed 000 §4 ("Landscape of neural network training"): a network with k hidden units, weights
X = [x₁ … x_k] ∈ R^{n×k}, activation σ and *fixed* output weights c ∈ R^k is trained on pairs
(a_r, y_r), a_r ~ N(0, I_n) i.i.d., by

    ℓ(X) = 1/(2m) Σ_{r=1}^m (Σ_i c_i σ(a_rᵀx_i) − y_r)²                  (``loss="finite"``)

(the seed writes the sum without 1/(2m); we divide so that ℓ is a sample mean whose
expectation is the population loss below, and minimizers and certificates are unchanged), and
the labels come from a planted teacher X♮ ∈ R^{n×k♮} with output weights c♮ = (c₁, …, c_{k♮}):
y_r = Σ_j c_j σ(a_rᵀx♮_j).  Its expectation over the Gaussian inputs is

    L(X) = E ℓ(X) = ½ E[(Σ_i c_i σ(aᵀx_i) − Σ_j c♮_j σ(aᵀx♮_j))²]        (``loss="population"``)
         = ½ Σ_{i,i'} c_i c_{i'} K(x_i, x_{i'}) − Σ_{i,j} c_i c♮_j K(x_i, x♮_j)
           + ½ Σ_{j,j'} c♮_j c♮_{j'} K(x♮_j, x♮_{j'}),

with the kernel K(x, y) = E[σ(aᵀx) σ(aᵀy)], in closed form for three activations (θ the angle
between x and y, p = xᵀy, s = ‖x‖‖y‖ sin θ):

* ReLU σ(t) = max(t, 0): the arc-cosine kernel of degree 1 (Cho & Saul, "Kernel methods for deep
  learning", NIPS 2009), K = ‖x‖‖y‖ (sin θ + (π − θ) cos θ)/(2π) = (s + (π − θ) p)/(2π);
* σ(t) = |t|: K = E|aᵀx||aᵀy| = (2/π)‖x‖‖y‖ (sin θ + (π/2 − θ) cos θ) — the bivariate normal
  moment E|u||v| = (2/π)(√(1 − ρ²) + ρ arcsin ρ), ρ = cos θ, arcsin ρ = π/2 − θ (equivalently
  |t| = max(t, 0) + max(−t, 0), so K_|·|(θ) = 2 (K_relu(θ) + K_relu(π − θ)));
* σ(t) = t²: K = E[(aᵀx)²(aᵀy)²] = ‖x‖²‖y‖² + 2 (xᵀy)² (Isserlis), so that with M = X C Xᵀ,
  L = ‖M − M♮‖_F² + ½ (tr(M − M♮))²: a low-rank PSD factorization when the c_i are positive.

Both ReLU and |t| have K = α (s + (b − θ) p) (ReLU: α = 1/(2π), b = π; |t|: α = 2/π, b = π/2),
with, writing x̂ = x/‖x‖, t = ‖y_⊥‖ = ‖y‖ sin θ and u = y_⊥/t the unit vector of the part
y_⊥ = y − (x̂ᵀy) x̂ of y orthogonal to x,

    ∇_x K      = α (t x̂ + (b − θ) y),
    ∇²_xx K    = α (t/‖x‖) (I − x̂x̂ᵀ + u uᵀ),
    ∇²_xy K    = α ((b − θ) I + sin θ cos θ (x̂x̂ᵀ − u uᵀ) + sin² θ (x̂uᵀ + u x̂ᵀ)),

derived by hand (the 1/sin θ of ∂θ/∂x cancels: no term is singular at θ ∈ {0, π}, where
the sin θ terms vanish and u is not needed).  The kernel is C² but not C³ across collinear pairs
(K = α(b p + ‖x‖‖y‖ θ³/3 + O(θ⁵)) near θ = 0, and likewise near θ = π), so the population loss
is twice differentiable away from zero columns — including at the truth, where every x_i is
collinear with its teacher unit.  Every pair is computed from the explicit difference y − (x̂ᵀy)x̂
(O(k (k + k♮) n) numbers per point), never from ‖y‖² − (x̂ᵀy)², which would lose half the digits
of sin θ near θ = 0.  At a zero column K(0, ·) = 0 is not differentiable (K is positively
homogeneous of degree 1 in each argument): there we take x̂ = 0 and θ = π/2, the value of
E[σ'(aᵀx) a σ(aᵀy)] with σ'(0) the midpoint of the subdifferential (½ for ReLU, 0 for |t|),
which is also what the finite-sample loss uses; the Hessian of the pair terms is then set to its
θ = π/2 value, α(b − π/2) I for the mixed block and 0 for the pure one.  Close to a zero column
the pure block (Σ_j d_j t_ij)/‖x_i‖ divides a sum that cancels (exactly so at a global minimum,
where E[σ(aᵀx)(network − teacher)] = 0 for every x) by ‖x_i‖: its round-off grows like
ε/‖x_i‖, which the certificate reports as an asymmetric Hessian at over-parametrized minima whose
idle units shrink toward 0.  The loss is not twice differentiable there; no formula can help.

Derivatives of the finite-sample loss, with Z = A X (m × k), e = σ(Z) c − y, Ż = A V:

    ∇ℓ(X)     = (1/m) Aᵀ (e ∘ σ'(Z) diag(c)),
    ∇²ℓ(X)[V] = (1/m) Aᵀ (ė ∘ σ'(Z) diag(c) + e ∘ σ''(Z) ∘ Ż diag(c)),   ė = (σ'(Z) ∘ Ż) c,

batched over directions.  For ReLU and |t| the loss is not differentiable where some a_rᵀx_i = 0
(a union of hyperplanes, measure zero): the gradient returned is the derivative of the smooth
piece (σ'(0) = ½ for ReLU, 0 for |t|, the midpoints of the subdifferentials; this is what the
``subgradient`` solver needs) and the Hessian-vector product, with σ'' = 0, is exact wherever no
kink is crossed, i.e. almost everywhere.  ``smoothed_relu`` is σ_τ(t) = τ log(1 + e^{t/τ})
(the softplus at temperature τ = ``temperature``, → ReLU as τ → 0), computed from one
exponential e = exp(−|t|/τ) ≤ 1: σ = τ (max(t/τ, 0) + log1p(e)), σ' = 1/(1 + e) for t ≥ 0 and
e/(1 + e) otherwise (the logistic function), σ'' = e/(1 + e)²/τ — no overflow for any t.
Its population loss has no closed form and is refused.

Symmetry.  The output is unchanged when hidden units with equal output weight are permuted, and
for an even σ (|t|, t²) when a unit changes sign.  ``SignedPermutation(k, axis=-1)`` acts on the
columns: without signs for ReLU and the smoothed ReLU, and restricted to permutations among
equal c_i (``labels=c``) when the c_i differ.  For σ(t) = t² the loss depends on X only through
X C Xᵀ, so the group is larger: O(k) acting on the right (X ↦ XQ) when all c_i are equal
(``OrthogonalRight(k)``, continuous: the certificate splits its k(k − 1)/2 directions off).  With
unequal c_i that group is {C^{1/2} Q C^{-1/2}}-like and is not declared; the signed permutations
among equal c_i are, so the certificate reports the remaining flat directions as degenerate.
The population loss has more symmetry, which is not declared: X ↦ QX for every orthogonal Q that
permutes the teacher's units (Q X♮ = X♮ P; for X♮ = I and c = 1 the row–column symmetry
S_k × S_k studied by Arjevani & Field) and, when the teacher's span is not all of R^n, any
rotation of its orthogonal complement (continuous).  It maps the orbit of the truth to itself, so
recovery is unaffected, but a census may list critical classes related by it separately.

The seed's claims this family lets one test: ReLU networks have spurious local minima (Safran &
Shamir, "Spurious local minima are common in two-layer ReLU neural networks", ICML 2018: for the
population loss with an orthonormal teacher, c = 1 and k = n ≥ 6, with rates growing in k), while
for polynomial activations the expected loss has none when over-parametrized (Venturi, Bandeira &
Bruna, "Spurious valleys in one-hidden-layer neural network optimization landscapes", 2018;
for t² with k ≥ n and c > 0 this is the Burer–Monteiro argument for the convex function
M ↦ ‖M − M♮‖² + ½ tr(M − M♮)² of M = X C Xᵀ ⪰ 0).  ``benchmarks/study_network_basins.py`` counts
the starts that end in spurious minima.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import OrthogonalRight, SignedPermutation, SymmetryGroup

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "FiniteSampleObjective",
    "PopulationObjective",
    "activation_function",
    "kernel",
    "one_hidden_layer",
]

ACTIVATIONS = ("relu", "abs", "square", "smoothed_relu")
LOSSES = ("finite", "population")
TEACHERS = ("orthonormal", "gaussian")
#: activations whose population loss is in closed form
CLOSED_FORM = ("relu", "abs", "square")
#: (α, b) of K = α (s + (b − θ) p) for the positively homogeneous activations
_ARC_COSINE = {"relu": (1.0 / (2.0 * np.pi), np.pi), "abs": (2.0 / np.pi, np.pi / 2.0)}


# --------------------------------------------------------------------------- activations
def activation_function(
    name: str, z: np.ndarray, temperature: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """σ(z), σ'(z) and σ''(z) (None where σ'' = 0 almost everywhere) for ``name``.

    σ'(0) is ½ for ReLU and 0 for |t| (the midpoints of the subdifferentials).
    """
    if name == "relu":
        return np.maximum(z, 0.0), np.heaviside(z, 0.5), None
    if name == "abs":
        return np.abs(z), np.sign(z), None
    if name == "square":
        return z * z, 2.0 * z, np.full_like(z, 2.0)
    # one exponential e = exp(−|u|) ≤ 1 gives all three without overflow
    u = z / temperature
    e = np.exp(-np.abs(u))
    r = 1.0 / (1.0 + e)
    slope = np.where(u >= 0, r, e * r)
    return temperature * (np.maximum(u, 0.0) + np.log1p(e)), slope, e * r * r / temperature


def _autograd_activation(name: str, z: Any, temperature: float) -> Any:
    if name == "relu":
        return anp.maximum(z, 0.0)
    if name == "abs":
        return anp.abs(z)
    if name == "square":
        return z * z
    return temperature * anp.logaddexp(0.0, z / temperature)


def kernel(name: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """K(x_i, y_j) = E[σ(aᵀx_i) σ(aᵀy_j)], a ~ N(0, I), for the columns of x and y.

    Closed forms of the module docstring (ReLU: Cho & Saul 2009; |t|; t²).  Returns the
    k_x × k_y matrix.
    """
    name = _check_choice(name, "name", CLOSED_FORM)
    x, y = np.atleast_2d(x.T).T, np.atleast_2d(y.T).T
    if name == "square":
        return np.outer(np.sum(x * x, axis=0), np.sum(y * y, axis=0)) + 2.0 * (x.T @ y) ** 2
    alpha, b = _ARC_COSINE[name]
    pairs = _Pairs(x, y, diagonal=False)
    return alpha * (pairs.norm_x[:, None] * pairs.t + (b - pairs.theta) * pairs.p)


class _Pairs:
    """Angles between every column x_i of x and y_j of y, computed from y_j − (x̂_iᵀy_j) x̂_i.

    ``p`` = x_iᵀy_j, ``t`` = ‖y_j‖ sin θ_ij, ``theta`` = θ_ij ∈ [0, π] (π/2 when either column
    is zero), ``unit`` the k_x × k_y × n unit vectors u_ij of y_j's part orthogonal to x_i (zero
    where that part vanishes), ``sin``, ``cos``.  With ``diagonal=True`` (y starts with the
    columns of x) the pairs (x_i, x_i) are set exactly collinear.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, diagonal: bool):
        self.norm_x = np.sqrt(np.sum(x * x, axis=0))
        norm_y = np.sqrt(np.sum(y * y, axis=0))
        zero_x = self.norm_x == 0
        self.hat = np.divide(x, self.norm_x, out=np.zeros_like(x), where=~zero_x)
        self.p = x.T @ y
        along = self.hat.T @ y  # ‖y_j‖ cos θ_ij
        perp = y.T[None, :, :] - along[:, :, None] * self.hat.T[:, None, :]
        t = np.sqrt(np.sum(perp * perp, axis=2))
        kx = x.shape[1]
        if diagonal:
            index = np.arange(kx)
            t[index, index] = 0.0
            along[index, index] = self.norm_x
            perp[index, index] = 0.0
        self.t = t
        self.theta = np.arctan2(t, along)
        undefined = zero_x[:, None] | (norm_y == 0)[None, :]
        if diagonal:
            undefined[np.arange(kx), np.arange(kx)] = False
        self.theta[undefined] = np.pi / 2.0
        safe_y = np.where(norm_y > 0, norm_y, 1.0)
        self.sin = np.where(undefined, 1.0, t / safe_y)
        self.cos = np.where(undefined, 0.0, along / safe_y)
        self.unit = np.divide(perp, t[:, :, None], out=np.zeros_like(perp), where=t[:, :, None] > 0)


# --------------------------------------------------------------------------- objectives
class FiniteSampleObjective(Objective):
    """ℓ(X) = 1/(2m) Σ_r (Σ_i c_i σ(a_rᵀx_i) − y_r)² (seed 000 §4), derivatives by hand.

    ``inputs``: the m × n matrix A of rows a_rᵀ; ``labels``: y (m); ``c``: output weights (k);
    ``activation``: one of ``ACTIVATIONS``.  ``prepare`` caches Z = A X, σ(Z), σ'(Z) c,
    e σ''(Z) c and the residual e; a Hessian-vector product costs two products with A (a batch
    of directions in one).  See the module docstring for the formulas and the kinks.
    """

    batched_hessian = True

    def __init__(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        c: np.ndarray,
        activation: str,
        temperature: float = 0.1,
    ):
        self.inputs = inputs
        self.labels = labels
        self.c = c
        self.activation = activation
        self.temperature = float(temperature)
        self.m = inputs.shape[0]

    def prepare(self, x: np.ndarray) -> dict[str, Any]:  # noqa: D102
        z = self.inputs @ x
        s, d1, d2 = activation_function(self.activation, z, self.temperature)
        e = s @ self.c - self.labels
        return {
            "e": e,
            "d1c": d1 * self.c,
            "d2ec": None if d2 is None else (e[:, None] * d2) * self.c,
        }

    def cost(self, x: np.ndarray, data: dict[str, Any]) -> float:  # noqa: D102
        e = data["e"]
        return 0.5 * float(e @ e) / self.m

    def euclidean_gradient(self, x: np.ndarray, data: dict[str, Any]) -> np.ndarray:  # noqa: D102
        return self.inputs.T @ (data["e"][:, None] * data["d1c"]) / self.m

    def euclidean_hessian(  # noqa: D102
        self, x: np.ndarray, data: dict[str, Any], direction: np.ndarray
    ) -> np.ndarray:
        zdot = np.matmul(self.inputs, direction)  # (…, m, k)
        d1c = data["d1c"]
        edot = np.sum(d1c * zdot, axis=-1, keepdims=True)
        inner = edot * d1c
        if data["d2ec"] is not None:
            inner = inner + data["d2ec"] * zdot
        return np.matmul(self.inputs.T, inner) / self.m

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        z = anp.dot(self.inputs, x)
        e = anp.dot(_autograd_activation(self.activation, z, self.temperature), self.c)
        e = e - self.labels
        return 0.5 * anp.sum(e * e) / self.m


class PopulationObjective(Objective):
    """L(X) = ½ E_a[(Σ_i c_i σ(aᵀx_i) − Σ_j c♮_j σ(aᵀx♮_j))²] in closed form (seed 000 §4).

    ``teacher``: X♮ (n × k♮); ``c``: the student's output weights (k); ``c_teacher``: c♮ (k♮);
    ``activation``: "relu", "abs" or "square".  With Y = [X, X♮] and d = [c, −c♮]:

        L       = Σ_i Σ_j c_i e_j K(x_i, y_j) + ½ c♮ᵀ K(X♮, X♮) c♮,   e = [c/2, −c♮],
        ∇_{x_i} L = c_i Σ_j d_j ∇_x K(x_i, y_j),
        ∇²L[V]_i = c_i (Σ_j d_j ∇²_xx K(x_i, y_j) v_i + Σ_{i'} c_{i'} ∇²_xy K(x_i, x_{i'}) v_{i'}),

    (the pair (x_i, x_i) gives the derivatives of ½ c_i² K(x_i, x_i) through these formulas, as
    ∇²_xx K(x, x) = 0 and ∇²_xy K(x, x) = K(x̂, x̂) I for the arc-cosine kernels).  ``prepare``
    caches the pair quantities; each product costs O(k (k + k♮) n).  The constant is computed
    once.
    """

    batched_hessian = True

    def __init__(self, teacher: np.ndarray, c: np.ndarray, c_teacher: np.ndarray, activation: str):
        if activation not in CLOSED_FORM:
            raise ValueError(
                f"activation must be one of {', '.join(CLOSED_FORM)} for the population loss "
                f"(closed forms), got {activation!r}"
            )
        self.teacher = teacher
        self.c = c
        self.c_teacher = c_teacher
        self.activation = activation
        self.d = np.concatenate([c, -c_teacher])
        self.e = np.concatenate([0.5 * c, -c_teacher])
        self.constant = 0.5 * float(c_teacher @ kernel(activation, teacher, teacher) @ c_teacher)

    # -- shared per point
    def prepare(self, x: np.ndarray) -> dict[str, Any]:  # noqa: D102
        y = np.concatenate([x, self.teacher], axis=1)
        if self.activation == "square":
            sq_x = np.sum(x * x, axis=0)
            sq_y = np.sum(y * y, axis=0)
            p = x.T @ y
            return {"y": y, "p": p, "sq_x": sq_x, "sq_y": sq_y}
        return {"y": y, "pairs": _Pairs(x, y, diagonal=True)}

    def cost(self, x: np.ndarray, data: dict[str, Any]) -> float:  # noqa: D102
        if self.activation == "square":
            k = np.outer(data["sq_x"], data["sq_y"]) + 2.0 * data["p"] ** 2
        else:
            alpha, b = _ARC_COSINE[self.activation]
            pairs = data["pairs"]
            k = alpha * (pairs.norm_x[:, None] * pairs.t + (b - pairs.theta) * pairs.p)
        return float(self.c @ k @ self.e) + self.constant

    def euclidean_gradient(self, x: np.ndarray, data: dict[str, Any]) -> np.ndarray:  # noqa: D102
        y, d = data["y"], self.d
        if self.activation == "square":
            # Σ_j d_j (2‖y_j‖² x_i + 4 p_ij y_j)
            g = 2.0 * float(d @ data["sq_y"]) * x + 4.0 * y @ (d[:, None] * data["p"].T)
            return g * self.c
        alpha, b = _ARC_COSINE[self.activation]
        pairs = data["pairs"]
        # Σ_j d_j (t_ij x̂_i + (b − θ_ij) y_j)
        g = pairs.hat * (pairs.t @ d) + y @ ((b - pairs.theta) * d).T
        return alpha * g * self.c

    def euclidean_hessian(  # noqa: D102
        self, x: np.ndarray, data: dict[str, Any], direction: np.ndarray
    ) -> np.ndarray:
        v = np.swapaxes(direction, -1, -2)  # (…, k, n): rows v_i
        k = x.shape[1]
        c, d, y = self.c, self.d, data["y"]
        if self.activation == "square":
            xs = x.T
            ys = y.T
            p_ss = data["p"][:, :k]
            # Σ_j d_j ∇²_xx K(x_i, y_j) v_i = 2 (Σ_j d_j ‖y_j‖²) v_i + 4 Σ_j d_j y_j (y_jᵀ v_i)
            pure = 2.0 * float(d @ data["sq_y"]) * v + 4.0 * (v @ ys.T * d) @ ys
            # Σ_i' c_i' 4 (x_i (x_i'ᵀv_i') + x_i' (x_iᵀv_i') + p_ii' v_i')
            along = np.sum(xs * v, axis=-1) @ c  # Σ_i' c_i' x_i'ᵀ v_i'
            cross = (v @ xs.T).swapaxes(-1, -2) * c  # [i, i'] = c_i' x_iᵀ v_i'
            mixed = 4.0 * (np.asarray(along)[..., None, None] * xs + cross @ xs + (p_ss * c) @ v)
            return np.swapaxes((pure + mixed) * c[:, None], -1, -2)
        alpha, b = _ARC_COSINE[self.activation]
        pairs = data["pairs"]
        hat, unit, t = pairs.hat.T, pairs.unit, pairs.t  # hat: (k, n)
        safe = np.where(pairs.norm_x > 0, pairs.norm_x, 1.0)
        scale = np.where(pairs.norm_x > 0, 1.0 / safe, 0.0)
        # Σ_j d_j ∇²_xx K(x_i, y_j) v_i
        #   = (1/‖x_i‖) ((Σ_j d_j t_ij) (v_i − x̂_i x̂_iᵀ v_i) + Σ_j d_j t_ij u_ij u_ijᵀ v_i)
        hat_v = np.sum(hat * v, axis=-1)  # x̂_iᵀ v_i
        u_v = np.einsum("ijn,...in->...ij", unit, v)  # u_ijᵀ v_i
        weights = t * d
        pure = (weights.sum(axis=1))[:, None] * (v - hat_v[..., None] * hat)
        pure = pure + np.einsum("...ij,ijn->...in", weights * u_v, unit)
        pure = pure * scale[:, None]
        # Σ_i' c_i' ∇²_xy K(x_i, x_i') v_i'
        unit_s = unit[:, :k]
        sin, cos = pairs.sin[:, :k], pairs.cos[:, :k]
        hat_w = v @ hat.T  # [.., i', i] = x̂_iᵀ v_i'
        hat_w = np.swapaxes(hat_w, -1, -2)  # [.., i, i']
        u_w = np.einsum("ijn,...jn->...ij", unit_s, v)  # u_ii'ᵀ v_i'
        sc, s2 = sin * cos * c, sin * sin * c
        mixed = ((b - pairs.theta[:, :k]) * c) @ v
        mixed = mixed + np.sum(sc * hat_w + s2 * u_w, axis=-1)[..., None] * hat
        mixed = mixed + np.einsum("...ij,ijn->...in", s2 * hat_w - sc * u_w, unit_s)
        return np.swapaxes(alpha * (pure + mixed) * c[:, None], -1, -2)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        y = anp.concatenate([x, self.teacher], axis=1)
        if self.activation == "square":
            k = anp.outer(anp.sum(x * x, axis=0), anp.sum(y * y, axis=0))
            k = k + 2.0 * anp.dot(x.T, y) ** 2
        else:
            alpha, b = _ARC_COSINE[self.activation]
            kx = x.shape[1]
            norm_x = anp.sqrt(anp.sum(x * x, axis=0))
            hat = x / norm_x
            along = anp.dot(hat.T, y)
            perp = anp.transpose(y)[None, :, :] - along[:, :, None] * anp.transpose(hat)[:, None, :]
            # the diagonal pairs are exactly collinear: their θ is 0, and sqrt is not
            # differentiable at 0, so the diagonal of t is masked out before the square root
            mask = np.ones((kx, y.shape[1]))
            mask[np.arange(kx), np.arange(kx)] = 0.0
            t = anp.sqrt(anp.sum(perp * perp, axis=2) * mask + (1.0 - mask)) * mask
            theta = anp.arctan2(t, along)
            p = anp.dot(x.T, y)
            k = alpha * (norm_x[:, None] * t + (b - theta) * p)
        return anp.dot(anp.dot(self.c, k), self.e) + self.constant


# --------------------------------------------------------------------------- validation
def _check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        listing = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listing}, got {value!r}")
    return value


def _check_positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def _check_output_weights(c: Any, k: int) -> np.ndarray:
    if c is None:
        return np.ones(k)
    weights = as_real_array(c, "c")
    if weights.ndim != 1 or weights.size != k:
        raise ValueError(f"c must be a vector of k = {k} output weights, got shape {weights.shape}")
    if np.any(weights == 0):
        raise ValueError(
            "c must have non-zero entries (a unit with c_i = 0 does not change the output), got "
            f"{weights.tolist()}"
        )
    return weights


def _check_teacher(
    teacher: Any, n: int, k: int, teacher_units: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    if teacher is None or isinstance(teacher, str):
        kind = "orthonormal" if teacher is None else _check_choice(teacher, "teacher", TEACHERS)
        units = k if teacher_units is None else teacher_units
        if teacher is None and units > n:
            kind = "gaussian"
        if kind == "orthonormal":
            if units > n:
                raise ValueError(
                    f"teacher='orthonormal' needs at most n = {n} units, got {units}; pass "
                    "teacher='gaussian'"
                )
            q, r = np.linalg.qr(rng.standard_normal((n, units)))
            return q * np.sign(np.diag(r)), kind
        w = rng.standard_normal((n, units))
        return w / np.linalg.norm(w, axis=0), kind
    w = as_real_array(teacher, "teacher")
    if w.ndim != 2 or w.shape[0] != n:
        raise ValueError(
            f"teacher must be an n × k♮ matrix with n = {n} rows (one column per teacher unit), "
            f"got shape {w.shape}"
        )
    if teacher_units is not None and w.shape[1] != teacher_units:
        raise ValueError(
            f"teacher has {w.shape[1]} columns but teacher_units = {teacher_units}; give one"
        )
    if not 1 <= w.shape[1] <= k:
        raise ValueError(
            f"teacher must have between 1 and k = {k} columns (the student must be able to "
            f"represent it), got {w.shape[1]}"
        )
    return w, "user"


def _symmetry(activation: str, c: np.ndarray) -> SymmetryGroup:
    k = c.size
    equal = bool(np.all(c == c[0]))
    if activation == "square" and equal:
        return OrthogonalRight(k)
    labels = None if equal else c.tolist()
    return SignedPermutation(k, axis=-1, signed=activation in ("abs", "square"), labels=labels)


# --------------------------------------------------------------------------- the factory
def one_hidden_layer(
    n: int = 4,
    k: int | None = None,
    m: int | None = None,
    *,
    activation: str = "relu",
    loss: str = "population",
    c: Any = None,
    teacher: Any = None,
    teacher_units: int | None = None,
    inputs: Any = None,
    labels: Any = None,
    temperature: float = 0.1,
    seed: Seed = None,
) -> Problem:
    """A one-hidden-layer network with fixed output weights, min over X ∈ R^{n×k} (seed 000 §4).

    ``loss="population"``: the expected loss L(X) in closed form (``activation`` "relu", "abs"
    or "square"); ``loss="finite"``: ℓ(X) on m Gaussian inputs a_r ~ N(0, I_n) (default
    m = 10 n k) drawn from ``seed``, or on the user's ``inputs`` (m × n) and ``labels`` (m;
    without them, the teacher's outputs; with both, the labels are used and the teacher is
    only the truth).
    ``k`` hidden units (default n), output weights ``c`` (default all ones; non-zero).

    The teacher X♮ (n × k♮, k♮ = ``teacher_units`` ≤ k, default k) uses the output weights
    c♮ = c[:k♮].  ``teacher``: None (default: Haar-random orthonormal columns when k♮ ≤ n —
    the setting of Safran & Shamir 2018; the population loss is invariant under X ↦ QX, X♮ ↦ QX♮
    for orthogonal Q, so this is the identity teacher in a random basis — and unit-norm Gaussian
    columns when k♮ > n), "orthonormal", "gaussian", or an n × k♮ matrix.  The truth is X♮
    padded with k − k♮ zero columns (cost 0: the extra units are idle since σ(0) = 0); it is
    None when the user gives labels without a teacher, or for the smoothed ReLU with k♮ < k
    (σ_τ(0) = τ log 2 ≠ 0).

    ``activation``: "relu", "abs", "square" (σ(t) = t²) or "smoothed_relu" (softplus at
    ``temperature`` τ, finite loss only).  Symmetry and formulas: see the module docstring;
    recovery is measured modulo that group, relative to ‖X♮‖, with tolerance 1e-6.  With
    k♮ < k and ReLU the global minima also include split units (x_i + x_{i'} = x♮_j with
    x_i, x_{i'} positively collinear), which are off the orbit of the truth: judge those by cost.
    """
    activation = _check_choice(activation, "activation", ACTIVATIONS)
    loss = _check_choice(loss, "loss", LOSSES)
    if loss == "population" and activation not in CLOSED_FORM:
        raise ValueError(
            f"loss='population' has a closed form for activation {', '.join(CLOSED_FORM)} only, "
            f"got activation={activation!r}; use loss='finite'"
        )
    temperature = _check_positive_number(temperature, "temperature")
    n = require_positive_int(n, "n")
    k = n if k is None else require_positive_int(k, "k")
    if teacher_units is not None:
        teacher_units = require_positive_int(teacher_units, "teacher_units")
        if teacher_units > k:
            raise ValueError(
                f"teacher_units must be at most k = {k} (the student must be able to represent "
                f"the teacher), got {teacher_units}"
            )
    c_vec = _check_output_weights(c, k)
    rng = as_generator(seed)

    a_mat = None
    if inputs is not None:
        if loss != "finite":
            raise ValueError("inputs are data of the finite-sample loss; pass loss='finite'")
        a_mat = as_real_array(inputs, "inputs")
        if a_mat.ndim != 2 or a_mat.shape[1] != n:
            raise ValueError(
                f"inputs must be an m × n matrix with n = {n} columns (one row a_rᵀ per sample), "
                f"got shape {a_mat.shape}"
            )
        if m is not None and require_positive_int(m, "m") != a_mat.shape[0]:
            raise ValueError(f"m = {m} disagrees with the {a_mat.shape[0]} rows of inputs")
    elif labels is not None:
        raise ValueError("labels were given without the inputs they belong to")
    if loss == "population" and m is not None:
        raise ValueError("m is the number of samples of loss='finite'; the population has none")

    y_vec = None
    if labels is not None:
        y_vec = as_real_array(labels, "labels")
        if y_vec.ndim != 1 or y_vec.size != a_mat.shape[0]:
            raise ValueError(
                f"labels must be a vector of m = {a_mat.shape[0]} values (one per row of inputs), "
                f"got shape {y_vec.shape}"
            )

    w = None
    teacher_kind = "none"
    if y_vec is None or teacher is not None:
        w, teacher_kind = _check_teacher(teacher, n, k, teacher_units, rng)
    units = None if w is None else w.shape[1]
    c_teacher = None if w is None else c_vec[:units]

    if loss == "population":
        objective: Objective = PopulationObjective(w, c_vec, c_teacher, activation)
    else:
        if a_mat is None:
            m_ = 10 * n * k if m is None else require_positive_int(m, "m")
            a_mat = rng.standard_normal((m_, n))
        if y_vec is None:
            y_vec = activation_function(activation, a_mat @ w, temperature)[0] @ c_teacher
        objective = FiniteSampleObjective(a_mat, y_vec, c_vec, activation, temperature)

    truth = None
    if w is not None and not (activation == "smoothed_relu" and units < k):
        truth = np.concatenate([w, np.zeros((n, k - units))], axis=1)
    params: dict[str, Any] = {
        "n": n,
        "k": k,
        "m": None if loss == "population" else a_mat.shape[0],
        "activation": activation,
        "loss": loss,
        "teacher": teacher_kind,
        "teacher_units": units,
    }
    if activation == "smoothed_relu":
        params["temperature"] = temperature
    if not np.all(c_vec == 1):
        params["c"] = c_vec.tolist()
    return Problem(
        Euclidean(n, k),
        objective,
        name="one_hidden_layer",
        symmetry=_symmetry(activation, c_vec),
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
        recovery_tolerance=1e-6,
    )
