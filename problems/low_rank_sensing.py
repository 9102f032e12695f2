"""Matrix sensing: symmetric, asymmetric (factored) and fixed-rank formulations.

The models, formulas and sources are in the docstring of ``manifoldscape.problems.low_rank``.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import Euclidean, Product

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import GeneralLinear, Identity, OrthogonalRight
from manifoldscape.geometry.fixed_rank import (
    FixedRank,
    SymmetricFixedRank,
)
from manifoldscape.problems.low_rank_common import (
    BALANCING_DEFAULT,
    _balanced_factors,
    _check_order,
    _manifold_truth,
    _nonnegative,
    _psd_factor,
    _rank,
    _sensing_matrices,
    _symmetric_matrix,
)


# --------------------------------------------------------------------------- sensing
class _SensingLoss:
    """Σ_i φ(s_i), φ(s) = ½s² + (λ/l)s^l, s = (A vec(M) − b)/√m (see the module docstring)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, order: int, weight: float):
        m = a.shape[0]
        self.shape = a.shape[1:]
        self.flat = a.reshape(m, -1)  # (m, n₁n₂): 𝒜(M) = flat @ vec(M)
        self.scale = 1.0 / np.sqrt(m)
        self.b = b
        self.order, self.weight = order, weight

    def residual(self, product: np.ndarray) -> np.ndarray:
        return (self.flat @ product.reshape(-1) - self.b) * self.scale

    def sense(self, products: np.ndarray) -> np.ndarray:
        """𝒜(Ṁ)/√m for one (n₁, n₂) or a batch (k, n₁, n₂) of matrices."""
        lead = products.shape[:-2]
        return (products.reshape(*lead, -1) @ self.flat.T) * self.scale

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        """𝒜*(w)/√m = reshape(Aᵀ w)/√m for w of shape (m,) or (k, m)."""
        lead = w.shape[:-1]
        return (w @ self.flat).reshape(*lead, *self.shape) * self.scale

    def normal(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ))/m for one (n₁, n₂) Ṁ (c = 1 if ``curvature`` is None), fused."""
        w = self.flat @ product.reshape(-1)
        w *= self.scale * self.scale
        if curvature is not None:
            w *= curvature
        return (w @ self.flat).reshape(self.shape)

    def phi(self, s: np.ndarray) -> float:
        value = 0.5 * float(s @ s)
        if self.weight:
            value += self.weight / self.order * float(np.sum(s**self.order))
        return value

    def dphi(self, s: np.ndarray) -> np.ndarray:
        return s + self.weight * s ** (self.order - 1) if self.weight else s

    def ddphi(self, s: np.ndarray) -> np.ndarray:
        if not self.weight:
            return np.ones_like(s)
        return 1.0 + self.weight * (self.order - 1) * s ** (self.order - 2)

    def autograd_phi(self, product: Any) -> Any:
        s = (anp.dot(self.flat, anp.reshape(product, (-1,))) - self.b) * self.scale
        value = 0.5 * anp.sum(s * s)
        if self.weight:
            value = value + self.weight / self.order * anp.sum(s**self.order)
        return value


class _SymmetricSensingLoss(_SensingLoss):
    """The same loss for symmetric A_i, stored as their upper triangles (half the memory traffic).

    For symmetric A and M, ⟨A, M⟩ = Σ_{k≤l} c_kl A_kl M_kl with c = 1 on the diagonal and 2 off
    it, so 𝒜 is one product with the m × n(n+1)/2 matrix of the weighted triangles, and 𝒜*(w) is
    the symmetric matrix whose upper triangle is Σ_i w_i A_i (one product, then a mirror).
    ``sense`` must only be given symmetric matrices.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, order: int, weight: float):
        m, n, _ = a.shape
        self.shape = (n, n)
        self.rows, self.cols = np.triu_indices(n)
        self.weights = np.where(self.rows == self.cols, 1.0, 2.0)
        self.packed = a[:, self.rows, self.cols] * self.weights  # (m, n(n+1)/2)
        self.scale = 1.0 / np.sqrt(m)
        self.b = b
        self.order, self.weight = order, weight
        # flat indices of the upper triangle and of its mirror in a C-ordered n × n matrix, and
        # the factor of 𝒜*: gathering and scattering by one index array is ~4× cheaper than by
        # (rows, cols) pairs, which matters next to the two matrix-vector products of a Hess·v
        self._upper = self.rows * n + self.cols
        self._lower = self.cols * n + self.rows
        self._unpack = self.scale / self.weights

    @property
    def flat(self) -> np.ndarray:  # type: ignore[override]
        """The full (m, n²) matrix of the vectorised A_i (formed on request: autograd, tests)."""
        if getattr(self, "_flat", None) is None:
            m = self.b.shape[0]
            self._flat = self.adjoint(np.eye(m) / self.scale).reshape(m, -1)
        return self._flat

    def _triangle(self, products: np.ndarray) -> np.ndarray:
        """The upper triangles (packed) of one (n, n) or a batch (k, n, n) of matrices."""
        lead = products.shape[:-2]
        return np.reshape(products, (*lead, -1))[..., self._upper]

    def residual(self, product: np.ndarray) -> np.ndarray:
        return (self.packed @ self._triangle(product) - self.b) * self.scale

    def sense(self, products: np.ndarray) -> np.ndarray:
        return (self._triangle(products) @ self.packed.T) * self.scale

    def sense_symmetrized(self, products: np.ndarray) -> np.ndarray:
        """𝒜(Ṁ + Ṁᵀ)/√m for any (non-symmetric) Ṁ, one or a batch, without forming Ṁ + Ṁᵀ."""
        lead = products.shape[:-2]
        flat = np.reshape(products, (*lead, -1))
        return ((flat[..., self._upper] + flat[..., self._lower]) @ self.packed.T) * self.scale

    def normal_symmetrized(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ + Ṁᵀ))/m for one (n, n) Ṁ (c = 1 if ``curvature`` is None), fused.

        The Hessian-vector product's two passes over the packed operator, with the scalings
        folded into one multiplication of an m-vector and no batch bookkeeping.
        """
        flat = product.reshape(-1)
        w = self.packed @ (flat[self._upper] + flat[self._lower])
        w *= self.scale * self.scale
        if curvature is not None:
            w *= curvature
        upper = (w @ self.packed) / self.weights
        out = np.empty(self.shape[0] * self.shape[1])
        out[self._upper] = upper
        out[self._lower] = upper
        return out.reshape(self.shape)

    def normal(self, product: np.ndarray, curvature: np.ndarray | None) -> np.ndarray:
        """𝒜*(c ∘ 𝒜(Ṁ))/m for one symmetric (n, n) Ṁ, fused (``normal_symmetrized`` of Ṁ/2)."""
        return self.normal_symmetrized(0.5 * product, curvature)

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        upper = (w @ self.packed) * self._unpack
        lead = w.shape[:-1]
        out = np.empty((*lead, self.shape[0] * self.shape[1]))
        out[..., self._upper] = upper
        out[..., self._lower] = upper
        return out.reshape(*lead, *self.shape)


class SymmetricSensingObjective(Objective):
    """f(X) = Σ_i φ(s_i), s_i = (⟨A_i, XXᵀ⟩ − b_i)/√m, A_i symmetric (seed 002, eqs. 1, 8).

    With S = Σ_i φ'(s_i) A_i / √m: ∇f = 2 S X (seed 002, Lemma 2, eq. 2) and
    ∇²f[Ẋ] = 2 S Ẋ + 2 (Σ_i φ''(s_i) ṡ_i A_i / √m) X with ṡ_i = 2⟨A_i, Ẋ Xᵀ⟩/√m (eq. 3).
    """

    batched_hessian = True

    def __init__(self, loss: _SymmetricSensingLoss, target: np.ndarray | None):
        self.loss = loss
        self.target = target

    def prepare(self, x: np.ndarray) -> dict[str, np.ndarray]:  # noqa: D102
        # the residual now; S = 𝒜*(φ'(s)) on the first gradient or Hessian (not for costs alone)
        return {"s": self.loss.residual(x @ x.T)}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "S" not in data:
            data["S"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["S"]

    def cost(self, x: np.ndarray, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"])

    def euclidean_gradient(self, x: np.ndarray, data: dict) -> np.ndarray:  # noqa: D102
        return 2.0 * self._adjoint_gradient(data) @ x

    def euclidean_hessian(self, x: np.ndarray, data: dict, w: np.ndarray) -> np.ndarray:  # noqa: D102
        s_matrix = self._adjoint_gradient(data)
        if w.ndim == 2:  # one direction: the fused product
            curvature = data["curvature"] if self.loss.weight else None
            return 2.0 * (s_matrix @ w + self.loss.normal_symmetrized(w @ x.T, curvature) @ x)
        ds = self.loss.sense_symmetrized(w @ x.T)  # ⟨A_i, ẊXᵀ + XẊᵀ⟩/√m
        return 2.0 * (s_matrix @ w + self.loss.adjoint(data["curvature"] * ds) @ x)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return self.loss.autograd_phi(anp.dot(x, x.T))


class AsymmetricSensingObjective(Objective):
    """f(U, V) = Σ_i φ(s_i) + μ‖UᵀU − VᵀV‖_F², s_i = (⟨A_i, UVᵀ⟩ − b_i)/√m (seed 003, eq. 2.20).

    With G = Σ_i φ'(s_i) A_i/√m and D = UᵀU − VᵀV: ∇_U f = G V + 4μ U D, ∇_V f = Gᵀ U − 4μ V D;
    the Hessian adds Ġ = Σ_i φ''(s_i) ṡ_i A_i/√m, ṡ_i = ⟨A_i, U̇Vᵀ + UV̇ᵀ⟩/√m, and
    Ḋ = U̇ᵀU + UᵀU̇ − V̇ᵀV − VᵀV̇:  (Ġ V + G V̇ + 4μ(U̇D + UḊ), Ġᵀ U + Gᵀ U̇ − 4μ(V̇D + VḊ)).
    """

    def __init__(self, loss: _SensingLoss, balancing: float, target: np.ndarray | None):
        self.loss = loss
        self.balancing = balancing
        self.target = target

    def prepare(self, x: list) -> dict[str, np.ndarray]:  # noqa: D102
        u, v = x
        return {"s": self.loss.residual(u @ v.T), "D": u.T @ u - v.T @ v}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "G" not in data:
            data["G"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["G"]

    def cost(self, x: list, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"]) + self.balancing * float(np.sum(data["D"] ** 2))

    def euclidean_gradient(self, x: list, data: dict) -> list:  # noqa: D102
        u, v = x
        g, d = self._adjoint_gradient(data), data["D"]
        mu4 = 4.0 * self.balancing
        return [g @ v + mu4 * (u @ d), g.T @ u - mu4 * (v @ d)]

    def euclidean_hessian(self, x: list, data: dict, direction: list) -> list:  # noqa: D102
        u, v = x
        du, dv = direction
        g, d = self._adjoint_gradient(data), data["D"]
        ds = self.loss.sense(du @ v.T + u @ dv.T)
        dg = self.loss.adjoint(data["curvature"] * ds)
        mu4 = 4.0 * self.balancing
        utdu, vtdv = u.T @ du, v.T @ dv
        dd = utdu + utdu.T - vtdv - vtdv.T
        return [
            dg @ v + g @ dv + mu4 * (du @ d + u @ dd),
            dg.T @ u + g.T @ du - mu4 * (dv @ d + v @ dd),
        ]

    def autograd_cost(self, x: list) -> Any:  # noqa: D102
        u, v = x
        d = anp.dot(u.T, u) - anp.dot(v.T, v)
        return self.loss.autograd_phi(anp.dot(u, v.T)) + self.balancing * anp.sum(d * d)


class FixedRankSensingObjective(Objective):
    """f(X) = Σ_i φ(s_i), s_i = (⟨A_i, X⟩ − b_i)/√m, on the manifold of rank-r matrices X.

    The loss is linear-quadratic in X itself, so in the embedding space ℝ^{n₁×n₂}
    (Vandereycken 2013; seed 000, "rank-1 fitting on the fixed-rank manifold", for r = 1):

        ∇f(X) = Σ_i φ'(s_i) A_i/√m = 𝒜*(φ'(s))/√m,   ∇²f(X)[ξ] = 𝒜*(φ''(s) ∘ 𝒜(ξ)/√m)/√m,

    the Riemannian ones following from the manifold (projection and Weingarten term).  The point
    arrives factored, X = U diag(σ) Vᵀ; 𝒜(X) is computed as one product of the m × n₁n₂ sensing
    matrix with vec(X), X formed from the factors in O(n₁n₂r): contracting each A_i with the
    factors instead (Σ_k σ_k u_kᵀ A_i v_k) costs r times more flops, m n₁n₂ r against m n₁n₂, and
    the operator already holds m n₁n₂ numbers, so the n₁n₂ of X add nothing at any scale where A is
    stored.  ∇f is returned dense (n₁ × n₂, one product Aᵀw; the projection needs only ∇f V and
    ∇fᵀU), and the Hessian direction ξ = embedding(X, u) is dense as the ``Problem`` passes it (a
    batch (k, n₁, n₂) is one product).
    """

    batched_hessian = True

    def __init__(self, loss: _SensingLoss, target: np.ndarray | None):
        self.loss = loss
        self.target = target

    def prepare(self, x: Any) -> dict[str, np.ndarray]:  # noqa: D102
        return {"s": self.loss.residual(np.asarray(x))}

    def _adjoint_gradient(self, data: dict[str, np.ndarray]) -> np.ndarray:
        if "G" not in data:
            data["G"] = self.loss.adjoint(self.loss.dphi(data["s"]))
            data["curvature"] = self.loss.ddphi(data["s"])
        return data["G"]

    def cost(self, x: Any, data: dict) -> float:  # noqa: D102
        return self.loss.phi(data["s"])

    def euclidean_gradient(self, x: Any, data: dict) -> np.ndarray:  # noqa: D102
        return self._adjoint_gradient(data)

    def euclidean_hessian(self, x: Any, data: dict, direction: Any) -> np.ndarray:  # noqa: D102
        self._adjoint_gradient(data)
        direction = np.asarray(direction)
        if direction.ndim == 2:  # one direction: the fused product
            return self.loss.normal(direction, data["curvature"] if self.loss.weight else None)
        ds = self.loss.sense(direction)  # ⟨A_i, ξ⟩/√m for a batch
        return self.loss.adjoint(data["curvature"] * ds)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        if hasattr(x, "factors"):  # a factored point: its dense matrix (small sizes only)
            x = np.asarray(x)
        return self.loss.autograd_phi(x)


def matrix_sensing(
    A: Any = None,
    *,
    M: Any = None,
    b: Any = None,
    n: int = 6,
    n2: int | None = None,
    r: int = 2,
    m: int | None = None,
    form: str = "symmetric",
    order: int = 2,
    weight: float = 0.0,
    balancing: float = BALANCING_DEFAULT,
    seed: Seed = None,
) -> Problem:
    """Low-rank matrix sensing b = 𝒜(M*) in Burer–Monteiro form (seed 002, eq. 1; seed 003, 2.20).

    ``form="symmetric"``: f(X) = 1/(2m) Σ_i (⟨A_i, XXᵀ⟩ − b_i)² on X ∈ R^{n×r}, symmetry O(r)
    (seed 003, eq. 2.14); the A_i are symmetrised, (A_i + A_iᵀ)/2, which changes no ⟨A_i, XXᵀ⟩.
    ``form="asymmetric"``: f(U, V) = 1/(2m) Σ_i (⟨A_i, UVᵀ⟩ − b_i)² + μ‖UᵀU − VᵀV‖_F² on
    R^{n×r} × R^{n₂×r} with μ = ``balancing`` (default 1/8, the ratio of Tu et al. 2016, see
    ``BALANCING_DEFAULT``); symmetry O(r) acting as (U, V) ↦ (UR, VR) (seed 003, eq. 2.15), or
    GL(r), (U, V) ↦ (UΓ, VΓ^{-T}) (eq. 2.13), when μ = 0.
    ``form="fixed_rank"``: the same loss f(X) = 1/(2m) Σ_i (⟨A_i, X⟩ − b_i)² on the manifold
    ``FixedRank(n, n₂, r)`` of rank-r matrices itself (seed 001, low-rank recovery; seed 000,
    "rank-1 fitting on the fixed-rank manifold", here for rank r), the same data model as the
    asymmetric form (the same ``seed`` draws the same A_i and M*); ``form="psd_fixed_rank"``: on
    ``SymmetricFixedRank(n, r, psd=True)``, the PSD matrices of rank r, with the data model of the
    symmetric form.  Points are factored (``FixedRankPoint`` / ``SymmetricFixedRankPoint``) and
    the truth is M* itself as a point of the manifold, so M* must have rank exactly r; there is no
    symmetry left (``Identity``: the parametrisation ambiguity of the factored forms is gone),
    and ``distance_to_truth`` equals ``relative_matrix_error``, ‖X − M*‖_F/‖M*‖_F
    (``FixedRankSensingObjective`` for the derivatives).
    ``order`` = l (even) and ``weight`` = λ add the high-order loss λ f^l (seed 002, eqs. 8–9a;
    normalisation in the module docstring), in every form.

    Data: ``A`` of shape (m, n, n₂) (any real matrices), or m Gaussian matrices with i.i.d.
    N(0, 1) entries drawn from ``seed`` (default m = 5 n r); and either the truth ``M`` (PSD of
    rank ≤ r for the symmetric form, rank ≤ r for the asymmetric one; then b = 𝒜(M) unless ``b``
    is also given, e.g. noisy) or the measurements ``b`` alone (no ground truth).  Seeded
    instances plant M* = X*X*ᵀ (symmetric) or U*V*ᵀ with i.i.d. N(0, 1) factors.  The ground truth
    point is the PSD factor of M* (symmetric) or its balanced factors (P Σ^{1/2}, Q Σ^{1/2});
    ``distance_to_truth`` is the Procrustes distance of the factors modulo O(r) (modulo GL(r)
    through balanced representatives when μ = 0), relative to the truth's norm, and
    ``relative_matrix_error`` is ‖X̂ − M*‖_F/‖M*‖_F.
    """
    forms = ("symmetric", "asymmetric", "fixed_rank", "psd_fixed_rank")
    if form not in forms:
        raise ValueError(f"form must be one of {', '.join(map(repr, forms))}, got {form!r}")
    order, weight = _check_order(order, weight)
    balancing = _nonnegative(balancing, "balancing")
    symmetric = form in ("symmetric", "psd_fixed_rank")
    manifold_form = form.endswith("fixed_rank")
    rng = as_generator(seed)
    if A is None:
        n = require_positive_int(n, "n", minimum=2)
        n2 = n if (symmetric or n2 is None) else require_positive_int(n2, "n2", minimum=2)
        r = _rank(r, min(n, n2), "min(n, n2)")
        m = 5 * max(n, n2) * r if m is None else require_positive_int(m, "m")
        require_memory(
            16 * m * n * n2, f"matrix_sensing(n={n}, n2={n2}, m={m}): m sensing matrices n × n2"
        )
        a = rng.standard_normal((m, n, n2))
        data_kind = "gaussian"
    else:
        a = _sensing_matrices(A, "A", square=symmetric, form=form)
        if m is not None and require_positive_int(m, "m") != a.shape[0]:
            raise ValueError(f"m = {m} does not match the {a.shape[0]} matrices in A")
        m, n, n2 = a.shape
        r = _rank(r, min(n, n2), "min(n, n2)")
        data_kind = "user"
    if symmetric:
        a = 0.5 * (a + np.swapaxes(a, 1, 2))
    if A is None and M is None and b is None:
        if symmetric:
            x_star = rng.standard_normal((n, r))
            target = x_star @ x_star.T
        else:
            u_star, v_star = rng.standard_normal((n, r)), rng.standard_normal((n2, r))
            target = u_star @ v_star.T
    elif M is not None:
        target = as_real_array(M, "M", ndim=2)
        if target.shape != (n, n2):
            raise ValueError(f"M must have shape {(n, n2)} to match A, got {target.shape}")
        if symmetric:
            target = _symmetric_matrix(target, "M")
    else:
        target = None
    if target is not None:
        truth: Any = _psd_factor(target, r, "M") if symmetric else _balanced_factors(target, r, "M")
        if manifold_form:
            truth = _manifold_truth(truth, symmetric)
    else:
        truth = None
    flat = a.reshape(m, -1)
    if b is not None:
        data = as_real_array(b, "b", ndim=1)
        if data.shape != (m,):
            raise ValueError(f"b must hold m = {m} measurements, got shape {data.shape}")
    elif target is not None:
        data = flat @ target.reshape(-1)
    else:
        raise ValueError("give the truth M or the measurements b with user sensing matrices A")
    loss = (_SymmetricSensingLoss if symmetric else _SensingLoss)(a, data, order, weight)
    params = {"n": n, "r": r, "m": m, "form": form, "order": order, "weight": weight}
    if manifold_form:
        if not symmetric:
            params["n2"] = n2
        objective: Objective = FixedRankSensingObjective(loss, target)
        manifold: Any = SymmetricFixedRank(n, r, psd=True) if symmetric else FixedRank(n, n2, r)
        symmetry: Any = Identity()
    elif symmetric:
        objective = SymmetricSensingObjective(loss, target)
        manifold = Euclidean(n, r)
        symmetry = OrthogonalRight(r)
    else:
        params.update(n2=n2, balancing=balancing)
        objective = AsymmetricSensingObjective(loss, balancing, target)
        manifold = Product([Euclidean(n, r), Euclidean(n2, r)])
        symmetry = OrthogonalRight(r) if balancing > 0 else GeneralLinear(r)
    params["data"] = data_kind
    return Problem(
        manifold,
        objective,
        name="matrix_sensing",
        symmetry=symmetry,
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
    )
