"""Dictionary learning: one column on the sphere, the whole dictionary on O(n), one-sparse data.

Data model (seed 001, "Dictionary Learning – Complete Case"; seed 003 §3.2, eq. 3.11)

    Y = A₀ X₀ ∈ R^{n×p},   X₀ ∈ R^{k×p} Bernoulli(θ)–Gaussian: (X₀)_{ij} = b_{ij} g_{ij},
    b_{ij} ~ Bernoulli(θ), g_{ij} ~ N(0, 1),

with A₀ orthogonal (k = n), invertible (k = n) or overcomplete (k > n: a unit-norm tight frame,
(n/k) A₀A₀ᵀ = I and ‖a_i‖ = 1, with incoherent columns; seed 001, "From Complete Case to
Overcomplete Case").  ``coefficients="one_sparse"`` draws X₀ with exactly one N(0, 1) entry per
column instead (the one-sparse model of seed 003 §3.1, eq. 3.1).

**Preconditioning** (seed 001; seed 003 §3.2): Ȳ = P Y with

    P = (YYᵀ / (pθ))^{-1/2},

computed from the eigendecomposition YYᵀ/(pθ) = V diag(d) Vᵀ as P = V diag(d^{-1/2}) Vᵀ.  The
seeds write (YYᵀ)^{-1/2} Y "∝ Ā₀X₀"; we keep the factor √(pθ) of Sun, Qu & Wright ("Complete
dictionary recovery over the sphere I", IEEE TIT 63(2), 2017, the preconditioned data
Ȳ = √(pθ) (YYᵀ)^{-1/2} Y of their §I), because E[X₀X₀ᵀ] = pθ I makes YYᵀ/(pθ) ≈ A₀A₀ᵀ, so
Ȳ ≈ Ā₀X₀ with Ā₀ = (A₀A₀ᵀ)^{-1/2} A₀ ∈ O(n) and the entries of qᵀȲ keep the scale of those of
X₀ (what μ is measured against).  It is on by default unless the dictionary is orthogonal.

**One column** (seed 001, the boxed problem; seed 003 eq. 3.12):

    min_{q ∈ S^{n−1}} f(q) = (1/p) Σ_k φ(qᵀȳ_k),   t = Ȳᵀq,
    ∇f(q) = (1/p) Ȳ φ'(t),   ∇²f(q)[v] = (1/p) Ȳ (φ''(t) ∘ Ȳᵀv),

with Ȳᵀq computed once per point (``prepare``) and no n × n matrix formed.  The losses φ:

* ``"l1"``       |t| (seed 001, φ = ‖·‖₁).  Not differentiable where some qᵀȳ_k = 0; the
  "gradient" returned is the Riemannian subgradient (1/p) Ȳ sign(t) (sign(0) = 0), equal to the
  gradient wherever f is differentiable.  f has no Hessian where it matters: ``euclidean_hessian``
  returns its a.e. value 0, so the Riemannian "Hessian" is only the sphere's term −⟨∇f(q), q⟩ on
  q^⊥ and certificates say nothing about ℓ1 minimizers (at ±a_i the subgradient does not vanish:
  the verdict there is ``not_critical``).  Use it with the Riemannian subgradient method and judge
  by the distance to the truth; for trust regions and certificates use a smooth surrogate.
* ``"logcosh"``  μ log cosh(t/μ), written |t| + μ log1p(exp(−2|t|/μ)) − μ log 2 (no overflow;
  the naive log(cosh(t/μ)) overflows for t/μ ≳ 710); φ' = tanh(t/μ), φ'' = (1/μ)(1 − tanh²(t/μ))
  (Sun, Qu & Wright 2017, the surrogate h_μ of their eq. (I.5); a smooth ℓ1).
* ``"huber"``    the Huber function of seed 003 eq. 3.3, verbatim with λ = μ:
  h_μ(t) = t²/2 for |t| ≤ μ, μ|t| − μ²/2 beyond; h' = clip(t, −μ, μ) (eq. 3.8), h'' = 1_{|t|≤μ}
  (C¹, piecewise C²; the Hessian is the a.e. value, as in seed 003 eq. 3.10).
* ``"l4"``       −t⁴/4 (seed 001, φ = −‖·‖₄⁴; the ¼ of Zhai et al. 2020 so that φ' = −t³).

Positive multiples of φ have the same landscape, so these normalisations only scale f.

**Truth.**  With M = P A₀ (= A₀ without preconditioning) we have Ȳ = M X₀ exactly, so qᵀȲ is a
multiple of the i-th row of X₀ — the sparsest vectors in row(Y) (seed 001, "Finding the sparsest
vector in a subspace") — exactly when q ∝ M^{-T} e_i.  The *truth dictionary* W is M^{-T} with
unit-norm columns (complete case).  For orthogonal A₀ without preconditioning W = A₀ and the
symmetry group is ``SignedPermutation(n, basis=A₀)``.  With preconditioning, M (X₀X₀ᵀ/(pθ)) Mᵀ = I,
so W is only approximately orthogonal (W → Ā₀ as p → ∞); its columns are the exact targets and
the symmetry is the signed set {±w_i} of those columns (``ColumnOrbit``).  Overcomplete: W = the
columns of M = P A₀, normalised (the atoms as seen in the preconditioned data).  The problem's
``truth`` is w₁; ``dictionary_column_correlation`` and ``dictionary_error`` measure recovery of
any column / the whole dictionary modulo SP(n).

``dictionary_learning_one_sparse`` is the minimal example of seed 003 §3.1 (eq. 3.5): Y = A₀
(X₀ = I), f(a) = Σ_i φ(a_iᵀq) — with A₀ = I and the Huber loss, φ(a) = Σ_i h_λ(a_i), whose
critical points are the balanced points a_{I,σ} = |I|^{-1/2} Σ_{i∈I} σ_i e_i with |I| − 1
negative Hessian eigenvalues (eqs. 3.9–3.10).

``dictionary_learning_orthogonal`` learns the whole orthogonal dictionary at once (seed 003
eq. 3.2; Zhai, Yang, Liao, Wright & Ma, "Complete dictionary learning via ℓ⁴-norm maximization
over the orthogonal group", JMLR 2020):

    min_{A ∈ O(n)} f(A) = −(1/(4p)) ‖AY‖₄⁴,   ∇f(A) = −(1/p) (AY)^{∘3} Yᵀ,
    ∇²f(A)[V] = −(3/p) ((AY)^{∘2} ∘ (VY)) Yᵀ,

on pymanopt's ``Stiefel(n, n)`` (= O(n)); the truth is A₀ᵀ modulo signed permutations of its rows
(``SignedPermutation(n, axis=0)``), and ``orthogonal_dictionary_gap`` is |1 − ‖A A₀‖₄⁴/n| (zero
exactly at a signed permutation).  Their MSP iteration is A ← Polar((AY)^{∘3} Yᵀ).
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Sphere, Stiefel

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import Sign, SignedPermutation, SymmetryGroup
from manifoldscape.problems.dictionary_data import (
    bernoulli_gaussian,
    check_choice,
    check_dictionary,
    check_mu,
    check_theta,
    dictionary_column_correlation,
    dictionary_error,
    haar,
    one_sparse,
    orthogonal_dictionary_gap,
    orthogonality_error,
    precondition_data,
    unit_columns,
    unit_norm_tight_frame,
)

__all__ = [
    "ColumnOrbit",
    "OrthogonalDictionaryObjective",
    "SparsityObjective",
    "dictionary_column_correlation",
    "dictionary_error",
    "dictionary_learning",
    "dictionary_learning_one_sparse",
    "dictionary_learning_orthogonal",
    "orthogonal_dictionary_gap",
    "precondition_data",
    "sparsity_loss",
    "unit_norm_tight_frame",
]

LOSSES = ("logcosh", "huber", "l1", "l4")
DICTIONARIES = ("orthogonal", "invertible", "overcomplete")
COEFFICIENTS = ("bernoulli_gaussian", "one_sparse")
_LOG2 = float(np.log(2.0))


# --------------------------------------------------------------------------- the losses φ
def sparsity_loss(t: np.ndarray, loss: str, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """φ(t) and φ'(t) elementwise for a loss of ``LOSSES`` (see the module docstring).

    For ``"l1"`` φ' is sign(t), a subgradient (0 at t = 0).
    """
    if loss == "logcosh":
        # one transcendental pair for both: with e = exp(−2|t|/μ) − 1 (expm1, exact near 0),
        # μ log cosh(t/μ) = |t| + μ log(1 + e/2) and tanh(t/μ) = sign(t) · (−e)/(2 + e)
        e = np.expm1(-2.0 / mu * np.abs(t))
        return np.abs(t) + mu * np.log1p(0.5 * e), np.copysign(-e / (2.0 + e), t)
    if loss == "huber":
        a = np.abs(t)
        inside = a <= mu
        return np.where(inside, 0.5 * t * t, mu * a - 0.5 * mu * mu), np.clip(t, -mu, mu)
    if loss == "l1":
        return np.abs(t), np.sign(t)
    if loss == "l4":
        t2 = t * t
        return -0.25 * t2 * t2, -t2 * t
    raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}")


def _second_derivative(t: np.ndarray, dphi: np.ndarray, loss: str, mu: float) -> np.ndarray:
    """φ''(t) (the a.e. value for Huber and ℓ1); ``dphi`` = φ'(t) is reused where it helps."""
    if loss == "logcosh":
        return (1.0 - dphi * dphi) / mu  # (1/μ) sech²(t/μ), never overflows
    if loss == "huber":
        return (np.abs(t) <= mu).astype(float)
    if loss == "l4":
        return -3.0 * t * t
    return np.zeros_like(t)  # l1: the a.e. value (see the module docstring)


def _autograd_loss(t: Any, loss: str, mu: float) -> Any:
    # |t| as t·sign(t): autograd differentiates sign to exactly 0, while its rule for abs
    # (t/|t|) leaves a round-off second derivative where the true one is exactly 0
    if loss == "logcosh":
        a = t * anp.sign(t)
        return a + mu * anp.log1p(anp.exp(-2.0 * a / mu)) - mu * _LOG2
    if loss == "huber":
        a = t * anp.sign(t)
        return anp.where(a <= mu, 0.5 * t * t, mu * a - 0.5 * mu * mu)
    if loss == "l1":
        return t * anp.sign(t)
    return -0.25 * t**4


# --------------------------------------------------------------------------- one column
class SparsityObjective(Objective):
    """f(q) = scale · Σ_k φ(qᵀȳ_k) on the sphere, hand-written derivatives (module docstring).

    ``data`` is Ȳ (n × p), ``scale`` 1/p by default.  ``prepare`` computes t = Ȳᵀq, φ(t) and
    φ'(t) once per point; φ''(t) is formed by the first Hessian-vector product at the point.
    Directions may come in a batch (b, n): one product Ȳᵀ V and one Ȳ (·) for all of them.
    """

    batched_hessian = True

    def __init__(
        self,
        data: np.ndarray,
        loss: str = "logcosh",
        mu: float = 1e-2,
        scale: float | None = None,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}")
        self.data = data
        self.loss = loss
        self.mu = float(mu)
        self.scale = 1.0 / data.shape[1] if scale is None else float(scale)
        # Ȳ as a C-contiguous n × p array and its transpose view for the two products
        self._yt = data.T

    def prepare(self, q: np.ndarray) -> dict[str, Any]:  # noqa: D102
        t = self._yt @ q
        phi, dphi = sparsity_loss(t, self.loss, self.mu)
        return {"t": t, "phi": phi, "dphi": dphi}

    def cost(self, q: np.ndarray, d: dict[str, Any]) -> float:  # noqa: D102
        return self.scale * float(np.sum(d["phi"]))

    def euclidean_gradient(self, q: np.ndarray, d: dict[str, Any]) -> np.ndarray:  # noqa: D102
        return self.scale * (self.data @ d["dphi"])

    def euclidean_hessian(  # noqa: D102
        self, q: np.ndarray, d: dict[str, Any], v: np.ndarray
    ) -> np.ndarray:
        if "d2phi" not in d:
            d["d2phi"] = self.scale * _second_derivative(d["t"], d["dphi"], self.loss, self.mu)
        w = d["d2phi"]
        if v.ndim == 2:  # a batch of directions, one per row
            return (self.data @ (w[:, None] * (self._yt @ v.T))).T
        return self.data @ (w * (self._yt @ v))

    def autograd_cost(self, q: Any) -> Any:  # noqa: D102
        return self.scale * anp.sum(_autograd_loss(anp.dot(q, self.data), self.loss, self.mu))


class ColumnOrbit(SymmetryGroup):
    """The signed columns {±w_i} of a (non-orthogonal or overcomplete) dictionary W as an orbit.

    The cost of ``dictionary_learning`` is even, f(−q) = f(q), for every instance; the signed
    permutations of the columns are a symmetry of the *model* (seed 001: (A₀, X₀) ↦ (A₀Γ, ΓᵀX₀))
    that maps the target w_j to every ±w_i.  When W is not orthogonal no isometry of the sphere
    realises it, so this "group" is defined through its orbit: for y = c·w_j (a multiple of a
    column, such as the truth)

        dist(x, y) = min_i min_± ‖x ∓ c w_i‖,

    and for any other y the distance modulo the exact symmetry {±1}, min_± ‖x ∓ y‖.
    """

    dimension = 0

    def __init__(self, columns: np.ndarray):
        self.columns = np.asarray(columns, dtype=float)
        self.name = f"signed columns of a {self.columns.shape[0]} × {self.columns.shape[1]} W"
        norms = np.linalg.norm(self.columns, axis=0)
        self._unit = self.columns / norms

    def _column_multiple(self, y: np.ndarray) -> float | None:
        """The factor c when y = c·w_j for some column (to 1e-8 relative), else None."""
        ny = float(np.linalg.norm(y))
        if ny == 0:
            return None
        inner = self._unit.T @ y
        j = int(np.argmax(np.abs(inner)))
        residual = np.linalg.norm(y - inner[j] * self._unit[:, j])
        if residual > 1e-8 * ny:
            return None
        return float(inner[j] / np.linalg.norm(self.columns[:, j]))

    def _candidates(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        c = self._column_multiple(y)
        if c is None:
            return np.stack([y, -y], axis=1)
        scaled = c * self.columns
        return np.concatenate([scaled, -scaled], axis=1)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = np.ravel(np.asarray(x, float)), np.ravel(np.asarray(y, float))
        cand = self._candidates(a, b)
        return float(np.min(np.linalg.norm(cand - a[:, None], axis=0)))

    def align(self, x: Any, reference: Any) -> Any:
        """The point of the orbit of x closest to ``reference``."""
        a, b = np.ravel(np.asarray(x, float)), np.ravel(np.asarray(reference, float))
        cand = self._candidates(b, a)
        return cand[:, int(np.argmin(np.linalg.norm(cand - b[:, None], axis=0)))]

    def __repr__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- factories
def dictionary_learning(
    n: int | None = None,
    p: int | None = None,
    *,
    theta: float = 0.3,
    loss: str = "logcosh",
    mu: float = 1e-2,
    dictionary: str | None = None,
    columns: int | None = None,
    coefficients: str = "bernoulli_gaussian",
    Y: Any = None,
    A: Any = None,
    X: Any = None,
    precondition: bool | None = None,
    seed: Seed = None,
) -> Problem:
    """One dictionary column on the sphere: min_{q∈S^{n−1}} (1/p) Σ_k φ(qᵀȳ_k) (seed 001).

    A seeded instance draws Y = A₀X₀ (module docstring): A₀ Haar-orthogonal
    (``dictionary="orthogonal"``, the default; a given ``A`` sets n, k and the kind, and a given
    ``dictionary`` must agree), Gaussian (``"invertible"``) or a random unit-norm tight frame with
    ``columns`` = k > n atoms (``"overcomplete"``, default k = 2n); n = 8 and p = 400 unless given
    (or set by ``A``, ``X`` or ``Y``).  X₀ is Bernoulli(``theta``)–Gaussian
    (``coefficients="bernoulli_gaussian"``) or one-sparse (``"one_sparse"``, seed 003 eq. 3.1).
    Give ``A`` (and optionally ``X``) to fix the dictionary (and the codes), or ``Y``
    alone for user data without a truth (``Y`` with ``A`` gives a truth from ``A``).

    ``loss``: ``"logcosh"`` (default), ``"huber"``, ``"l1"`` (a subgradient; Hessian 0 a.e.) or
    ``"l4"``, with smoothing parameter ``mu``.  ``precondition`` (default: unless the dictionary
    is orthogonal) replaces Y by Ȳ = (YYᵀ/(pθ))^{-1/2} Y.  The truth is the first column of the
    truth dictionary W (``problem.objective.truth_dictionary``), the symmetry SP(n) acting through
    W (see the module docstring).
    """
    rng = as_generator(seed)
    theta = check_theta(theta)
    mu = check_mu(mu)
    loss = check_choice(loss, "loss", LOSSES)
    coefficients = check_choice(coefficients, "coefficients", COEFFICIENTS)
    if dictionary is not None:
        dictionary = check_choice(dictionary, "dictionary", DICTIONARIES)
    if precondition is not None and not isinstance(precondition, (bool, np.bool_)):
        raise TypeError(f"precondition must be True, False or None, got {precondition!r}")

    a0 = x0 = None
    if Y is not None:
        y = as_real_array(Y, "Y", ndim=2)
        n, p = y.shape
        if n < 2:
            raise ValueError(f"Y must have at least 2 rows (n ≥ 2), got shape {y.shape}")
        if A is not None:
            a0, dictionary = check_dictionary(A, n, dictionary)
        if X is not None:
            raise TypeError("give X together with A (Y = A X is then formed), not with Y")
        user_kind = "user"
    else:
        n = None if n is None else require_positive_int(n, "n", minimum=2)
        p = None if p is None else require_positive_int(p, "p", minimum=1)
        sizes = (n or 8, p or 400, columns if isinstance(columns, int) else 2 * (n or 8))
        require_memory(
            8 * (3 * sizes[0] * sizes[1] + sizes[0] * sizes[2] + 3 * sizes[2] * sizes[1]),
            f"dictionary_learning(n={sizes[0]}, p={sizes[1]}): Y is n × p, X is k × p",
        )
        if A is not None:
            a0, dictionary = check_dictionary(A, n, dictionary)
            n = a0.shape[0]
        else:
            n = 8 if n is None else n
            dictionary = dictionary or "orthogonal"
            if dictionary == "orthogonal":
                a0 = haar(n, rng)
            elif dictionary == "invertible":
                a0 = rng.standard_normal((n, n)) / np.sqrt(n)
            else:
                k = 2 * n if columns is None else require_positive_int(columns, "columns")
                if k <= n:
                    raise ValueError(
                        f"columns must exceed n = {n} for an overcomplete dictionary, got {k}"
                    )
                a0 = unit_norm_tight_frame(n, k, rng)
        k = a0.shape[1]
        if X is not None:
            x0 = as_real_array(X, "X", ndim=2)
            if x0.shape[0] != k:
                raise ValueError(f"X must have {k} rows (one per atom of A), got shape {x0.shape}")
            if p is not None and x0.shape[1] != p:
                raise ValueError(f"X must have p = {p} columns (samples), got shape {x0.shape}")
            p = x0.shape[1]
        else:
            p = 400 if p is None else p
            if coefficients == "one_sparse":
                x0 = one_sparse(k, p, rng)
            else:
                x0 = bernoulli_gaussian(k, p, theta, rng)
        y = a0 @ x0
        user_kind = "seeded" if A is None else "user dictionary"
    if columns is not None and dictionary != "overcomplete":
        raise ValueError(
            "columns is the number of atoms of an overcomplete dictionary; pass "
            "dictionary='overcomplete' (or leave columns=None)"
        )

    if precondition is None:
        precondition = dictionary != "orthogonal"
    if precondition:
        ybar, root = precondition_data(y, theta)
    else:
        ybar, root = y, None

    truth_dictionary = None
    symmetry: SymmetryGroup = Sign()
    if a0 is not None:
        m = a0 if root is None else root @ a0
        if a0.shape[1] == n:
            if root is None and dictionary == "orthogonal":
                truth_dictionary = a0.copy()
                symmetry = SignedPermutation(n, basis=a0)
            else:
                truth_dictionary = unit_columns(np.linalg.inv(m).T)
                symmetry = ColumnOrbit(truth_dictionary)
        else:
            truth_dictionary = unit_columns(m)
            symmetry = ColumnOrbit(truth_dictionary)
    objective = SparsityObjective(np.ascontiguousarray(ybar), loss, mu)
    objective.truth_dictionary = truth_dictionary
    objective.dictionary, objective.coefficients, objective.preconditioner = a0, x0, root
    params = {
        "n": n,
        "p": p,
        "theta": theta,
        "loss": loss,
        "mu": mu,
        "dictionary": dictionary,
        "columns": None if a0 is None else a0.shape[1],
        "coefficients": coefficients if user_kind != "user" else "user",
        "precondition": bool(precondition),
        "data": user_kind,
    }
    return Problem(
        Sphere(n),
        objective,
        name="dictionary_learning",
        symmetry=symmetry,
        truth=None if truth_dictionary is None else truth_dictionary[:, 0],
        parameters=params,
        seed=seed_as_int(seed),
        recovery_tolerance=1e-2,
    )


def dictionary_learning_one_sparse(
    n: int = 3,
    *,
    loss: str = "huber",
    mu: float = 0.2,
    A: Any = None,
    seed: Seed = None,
) -> Problem:
    """The minimal example of seed 003 §3.1: min_{a∈S^{n−1}} φ(a) = Σ_i φ(a_iᵀ q) (eq. 3.5).

    One-sparse data with X₀ = I, so Y = A₀ (eq. 3.1 with the seed's idealisation X₀ = I); A₀ = I
    by default (the seed's "to further simplify matters"), or a given orthogonal ``A``, or a
    Haar-random one when ``A="random"`` (from ``seed``).  With the Huber loss (default, λ = ``mu``,
    eq. 3.3) and λ < 1/√n the critical points are exactly the balanced points
    a_{I,σ} = |I|^{-1/2} Σ_{i∈I} σ_i a_i (eq. 3.9), with Riemannian Hessian eigenvalues
    −λ√|I| (|I| − 1 times, along span{a_i : i ∈ I} ∩ a^⊥) and 1 − λ√|I| (n − |I| times): index
    |I| − 1 (eq. 3.10; the seed prints λ|I| for ⟨∇φ(a), a⟩ = λ‖a‖₁ = λ√|I|).  The minimizers are
    ±a_i; for n = 3 there are 12 saddles (|I| = 2) and 8 maximizers (|I| = 3).  No 1/p factor.
    """
    n = require_positive_int(n, "n", minimum=2)
    loss = check_choice(loss, "loss", LOSSES)
    mu = check_mu(mu)
    rng = as_generator(seed)
    require_memory(24 * n * n, f"dictionary_learning_one_sparse(n={n}): A is n × n")
    if A is None:
        a0 = np.eye(n)
    elif isinstance(A, str):
        if A != "random":
            raise ValueError(f"A must be an orthogonal n × n matrix, 'random' or None, got {A!r}")
        a0 = haar(n, rng)
    else:
        a0 = as_real_array(A, "A", ndim=2)
        if a0.shape != (n, n):
            raise ValueError(f"A must be an n × n = {n} × {n} orthogonal matrix, got {a0.shape}")
        if orthogonality_error(a0) > 1e-8:
            raise ValueError(
                f"A must be orthogonal, but max |AᵀA − I| = {orthogonality_error(a0):.3g}"
            )
    objective = SparsityObjective(np.ascontiguousarray(a0), loss, mu, scale=1.0)
    objective.truth_dictionary = a0.copy()
    objective.dictionary, objective.coefficients, objective.preconditioner = a0, np.eye(n), None
    return Problem(
        Sphere(n),
        objective,
        name="dictionary_learning_one_sparse",
        symmetry=SignedPermutation(n, basis=a0),
        truth=a0[:, 0].copy(),
        parameters={"n": n, "loss": loss, "mu": mu},
        seed=seed_as_int(seed),
    )


class OrthogonalDictionaryObjective(Objective):
    """f(A) = −(1/(4p)) ‖AY‖₄⁴ on O(n) (Zhai et al. 2020; seed 003 eq. 3.2 with h = −‖·‖₄⁴).

    ``prepare`` forms Z = AY and Z^{∘2} once per point; ∇f = −(1/p) (Z^{∘2} ∘ Z) Yᵀ and
    ∇²f[V] = −(3/p) (Z^{∘2} ∘ VY) Yᵀ.
    """

    batched_hessian = True

    def __init__(self, y: np.ndarray):
        self.y = y
        self.scale = 1.0 / y.shape[1]

    def prepare(self, a: np.ndarray) -> dict[str, Any]:  # noqa: D102
        z = a @ self.y
        z2 = z * z
        return {"z": z, "z2": z2}

    def cost(self, a: np.ndarray, d: dict[str, Any]) -> float:  # noqa: D102
        return -0.25 * self.scale * float(np.sum(d["z2"] * d["z2"]))

    def euclidean_gradient(self, a: np.ndarray, d: dict[str, Any]) -> np.ndarray:  # noqa: D102
        return -self.scale * ((d["z2"] * d["z"]) @ self.y.T)

    def euclidean_hessian(  # noqa: D102
        self, a: np.ndarray, d: dict[str, Any], v: np.ndarray
    ) -> np.ndarray:
        return -3.0 * self.scale * ((d["z2"] * (v @ self.y)) @ self.y.T)

    def autograd_cost(self, a: Any) -> Any:  # noqa: D102
        return -0.25 * self.scale * anp.sum(anp.dot(a, self.y) ** 4)


def dictionary_learning_orthogonal(
    n: int = 6,
    p: int = 5000,
    *,
    theta: float = 0.3,
    coefficients: str = "bernoulli_gaussian",
    Y: Any = None,
    A: Any = None,
    X: Any = None,
    seed: Seed = None,
) -> Problem:
    """The whole orthogonal dictionary: min_{A∈O(n)} −(1/(4p)) ‖AY‖₄⁴ (Zhai et al. 2020).

    Seed 003 eq. 3.2 with the ℓ⁴ objective of seed 001 / seed 003 ref. [128], on pymanopt's
    ``Stiefel(n, n)`` = O(n).  Y = A₀X₀ with A₀ Haar-orthogonal (or a given orthogonal ``A``) and
    X₀ Bernoulli(θ)–Gaussian (or one-sparse, or a given ``X``); ``Y`` alone is user data without
    truth.  The truth is A₀ᵀ (then A Y = X₀), modulo signed permutations of the rows.

    At finite p the maximizer of the empirical objective is not A₀ᵀ itself but near it (the
    truth is exactly critical only for one-sparse codes): at n = 6, θ = 0.3 the relative distance
    modulo SP(n) of the solution found is ≈ 0.18 at p = 300, 0.06 at p = 1000 and 0.02 at
    p = 5000 (the default).  A point counts as recovered within 5e-2 of the truth; the measure of
    Zhai et al., |1 − ‖A A₀‖₄⁴/n|, is ``orthogonal_dictionary_gap``.
    """
    rng = as_generator(seed)
    theta = check_theta(theta)
    coefficients = check_choice(coefficients, "coefficients", COEFFICIENTS)
    a0 = None
    if Y is not None:
        if A is not None or X is not None:
            raise TypeError("give either Y (user data, no truth) or A and/or X, not both")
        y = as_real_array(Y, "Y", ndim=2)
        n, p = y.shape
        if n < 2:
            raise ValueError(f"Y must have at least 2 rows (n ≥ 2), got shape {y.shape}")
    else:
        n = require_positive_int(n, "n", minimum=2)
        p = require_positive_int(p, "p", minimum=1)
        require_memory(
            8 * (4 * n * p + 4 * n * n), f"dictionary_learning_orthogonal(n={n}, p={p}): Y is n × p"
        )
        if A is None:
            a0 = haar(n, rng)
        else:
            a0 = as_real_array(A, "A", ndim=2)
            if a0.shape[0] != a0.shape[1]:
                raise ValueError(f"A must be a square orthogonal matrix, got shape {a0.shape}")
            if orthogonality_error(a0) > 1e-8:
                raise ValueError(
                    f"A must be orthogonal, but max |AᵀA − I| = {orthogonality_error(a0):.3g}"
                )
            n = a0.shape[0]
        if X is not None:
            x0 = as_real_array(X, "X", ndim=2)
            if x0.shape[0] != n:
                raise ValueError(f"X must have n = {n} rows, got shape {x0.shape}")
            p = x0.shape[1]
        elif coefficients == "one_sparse":
            x0 = one_sparse(n, p, rng)
        else:
            x0 = bernoulli_gaussian(n, p, theta, rng)
        y = a0 @ x0
    objective = OrthogonalDictionaryObjective(np.ascontiguousarray(y))
    objective.dictionary = a0
    return Problem(
        Stiefel(n, n),
        objective,
        name="dictionary_learning_orthogonal",
        symmetry=SignedPermutation(n, axis=0),
        truth=None if a0 is None else a0.T.copy(),
        parameters={
            "n": n,
            "p": p,
            "theta": theta,
            "coefficients": coefficients if a0 is not None else "user",
        },
        seed=seed_as_int(seed),
        recovery_tolerance=5e-2,
    )
