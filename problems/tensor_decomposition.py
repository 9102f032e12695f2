"""Orthogonal tensor decomposition: recover the components of T = Σ_k a_k⊗a_k⊗a_k⊗a_k.

With orthonormal components a₁, …, a_r (r ≤ n) the symmetric fourth-order tensor

    T = Σ_{k=1}^r a_k^{⊗4},      T(x, x, x, x) = Σ_k ⟨a_k, x⟩⁴ = ‖Aᵀx‖₄⁴

(seed 003 eqs. 3.16–3.17, p = 4) is decomposed by maximizing T over orthonormal frames:

* all components at once on the orthogonal group (seed 001, "tensor decomposition on O(n)"):

      min_{X ∈ SO(n) or O(n)}  f(X) = −Σ_i T(x_i, x_i, x_i, x_i),   x_i the columns of X,

  whose global minimizers are the signed permutations of A (Σ_i Σ_k ⟨a_k, x_i⟩⁴ ≤ Σ_i ‖x_i‖² with
  equality iff every x_i is some ±a_k), so recovery is measured modulo SP(n);
* one component on the sphere (seed 003 eq. 3.17): min_{‖x‖=1} −T(x, x, x, x), minimizers ±a_k.

Derivatives, batched over the columns (T symmetric):

    ∇f(X)      = −4 [T(·, x_i, x_i, x_i)]_i,
    ∇²f(X)[V]  = −12 [T(·, ·, x_i, x_i) v_i]_i.

Two contractions, neither forming more than the tensor itself:

* factored (the components A are known, e.g. a seeded instance): with Y = AᵀX,
  f = −Σ Y⁴, ∇f = −4 A Y³, ∇²f[V] = −12 A (Y² ∘ AᵀV): O(n r p) per evaluation;
* dense (a user tensor of shape n × n × n × n): T reshaped to the n² × n² matrix T₂ and
  z_i = x_i ⊗ x_i, so T(x_i, x_i, x_i, x_i) = z_iᵀ T₂ z_i; M = T₂ Z (n² × p, cached per point)
  holds the matrices T(·, ·, x_i, x_i), from which the gradient is M_i x_i and each
  Hessian-vector product M_i v_i costs O(n² p).
"""

from __future__ import annotations

import itertools
from typing import Any

import autograd.numpy as anp
import numpy as np
from pymanopt.manifolds import SpecialOrthogonalGroup, Sphere, Stiefel

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_positive_int,
    seed_as_int,
)
from manifoldscape.boundary.budgets import require_memory
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.symmetry import Sign, SignedPermutation

MANIFOLDS = ("special_orthogonal", "orthogonal", "sphere")

#: relative tolerance of the symmetry check of a user tensor
_SYMMETRY_RTOL = 1e-10


def _columns(x: np.ndarray) -> np.ndarray:
    """A point as an n × p matrix of columns (a sphere point is one column)."""
    return x[:, None] if x.ndim == 1 else x


def _directions(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, bool]:
    """Directions as a batch (b, n, p) and whether the input was a batch."""
    batch = v.ndim > x.ndim
    v = v if batch else v[None]
    return (v[..., None] if x.ndim == 1 else v), batch


def _shape_like(out: np.ndarray, x: np.ndarray, batch: bool) -> np.ndarray:
    out = out[..., 0] if x.ndim == 1 else out
    return out if batch else out[0]


class FactoredTensorObjective(Objective):
    """f(X) = −Σ_i Σ_k ⟨a_k, x_i⟩⁴ = −‖AᵀX‖₄⁴ from the components A (seed 003 eq. 3.17).

    With Y = AᵀX: ∇f = −4 A Y³ and ∇²f[V] = −12 A (Y² ∘ AᵀV) (entrywise powers), O(n r p).
    """

    batched_hessian = True

    def __init__(self, components: np.ndarray):
        self.components = components

    def prepare(self, x: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.components.T @ _columns(x)

    def cost(self, x: np.ndarray, y: np.ndarray) -> float:  # noqa: D102
        y2 = y * y  # products, not y**4: np.power is several times slower
        return -float(np.sum(y2 * y2))

    def euclidean_gradient(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:  # noqa: D102
        g = -4.0 * (self.components @ (y * y * y))
        return g[:, 0] if x.ndim == 1 else g

    def euclidean_hessian(self, x: np.ndarray, y: np.ndarray, direction: np.ndarray) -> np.ndarray:  # noqa: D102
        v, batch = _directions(x, direction)
        a = self.components
        out = -12.0 * (a @ ((y**2) * (a.T @ v)))
        return _shape_like(out, x, batch)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        return -anp.sum(anp.dot(self.components.T, x) ** 4)


class DenseTensorObjective(Objective):
    """f(X) = −Σ_i T(x_i, x_i, x_i, x_i) for a dense symmetric T ∈ R^{n×n×n×n} (seed 001).

    With T₂ the n² × n² unfolding, z_i = x_i ⊗ x_i and M = T₂ Z (the matrices T(·, ·, x_i, x_i),
    cached per point): f = −Σ_i z_iᵀ m_i, ∇f = −4 [M_i x_i]_i, ∇²f[V] = −12 [M_i v_i]_i.
    """

    batched_hessian = True

    def __init__(self, tensor: np.ndarray):
        self.tensor = tensor
        n = tensor.shape[0]
        self.unfolded = tensor.reshape(n * n, n * n)

    def prepare(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: D102
        columns = _columns(x)
        n, p = columns.shape
        z = (columns[:, None, :] * columns[None, :, :]).reshape(n * n, p)
        m = self.unfolded @ z
        return z, m.reshape(n, n, p)

    def cost(self, x: np.ndarray, data: tuple) -> float:  # noqa: D102
        z, m = data
        return -float(np.sum(z * m.reshape(z.shape)))

    def euclidean_gradient(self, x: np.ndarray, data: tuple) -> np.ndarray:  # noqa: D102
        g = -4.0 * np.einsum("abi,bi->ai", data[1], _columns(x))
        return g[:, 0] if x.ndim == 1 else g

    def euclidean_hessian(self, x: np.ndarray, data: tuple, direction: np.ndarray) -> np.ndarray:  # noqa: D102
        v, batch = _directions(x, direction)
        out = -12.0 * np.einsum("abi,kbi->kai", data[1], v)
        return _shape_like(out, x, batch)

    def autograd_cost(self, x: Any) -> Any:  # noqa: D102
        n = self.tensor.shape[0]
        columns = anp.reshape(x, (n, -1))
        z = anp.reshape(columns[:, None, :] * columns[None, :, :], (n * n, -1))
        return -anp.sum(z * anp.dot(self.unfolded, z))


def symmetric_tensor(components: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The dense tensor Σ_k w_k a_k^{⊗4} (n⁴ entries) from the columns a_k of ``components``."""
    a = as_real_array(components, "components", ndim=2)
    w = np.ones(a.shape[1]) if weights is None else as_real_array(weights, "weights", ndim=1)
    return np.einsum("k,ak,bk,ck,dk->abcd", w, a, a, a, a)


def _symmetrize(tensor: np.ndarray) -> np.ndarray:
    """The average of T over the 24 permutations of its four indices."""
    return sum(np.transpose(tensor, p) for p in itertools.permutations(range(4))) / 24.0


def _check_tensor(tensor: Any) -> np.ndarray:
    t = as_real_array(tensor, "T")
    if t.ndim != 4 or len(set(t.shape)) != 1:
        raise ValueError(f"T must be an n × n × n × n array, got shape {t.shape}")
    if t.shape[0] < 2:
        raise ValueError(f"T must have n ≥ 2, got shape {t.shape}")
    scale = max(float(np.max(np.abs(t))), 1e-300)
    # the transpositions (01), (12), (23) generate all 24 permutations of the indices
    for axes in ((1, 0, 2, 3), (0, 2, 1, 3), (0, 1, 3, 2)):
        gap = float(np.max(np.abs(t - np.transpose(t, axes))))
        if gap > _SYMMETRY_RTOL * scale:
            raise ValueError(
                f"T must be a symmetric tensor, but max |T − T^σ| = {gap:.3g} for the index "
                f"permutation {axes}"
            )
    return t


def _haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def tensor_decomposition(
    n: int = 5,
    *,
    manifold: str = "special_orthogonal",
    components: int | None = None,
    T: Any = None,
    noise: float = 0.0,
    seed: Seed = None,
) -> Problem:
    """Orthogonal decomposition of a symmetric fourth-order tensor (seed 001; seed 003 §3.4).

    Seeded instance (``T=None``): T = Σ_{k=1}^r a_k^{⊗4} with A = [a₁, …, a_r] the first r
    columns of a Haar-random orthogonal matrix, r = ``components`` (default n); with
    ``noise`` = σ > 0 the tensor σ·Sym(G) is added (G with i.i.d. N(0, 1) entries, Sym the
    average over the 24 index permutations) and the dense contraction is used, otherwise the
    factored one.  User data: a dense symmetric ``T`` of shape n × n × n × n (n is read from it;
    no ground truth is known).

    ``manifold``:

    * "special_orthogonal": X ∈ SO(n), all n components at once (needs r = n); the truth is A
      with one column negated if det A = −1;
    * "orthogonal": X with orthonormal columns, Stiefel(n, r) (the orthogonal group O(n) when
      r = n), truth A;
    * "sphere": one component, x ∈ S^{n−1}, truth a₁ and every ±a_k a global minimizer.

    Recovery is modulo signed permutations: of the columns on SO(n)/O(n) (``SignedPermutation(r,
    axis=-1)``, a symmetry of any T), of {±a_k} on the sphere (``SignedPermutation(n, basis=A)``)
    for a noiseless seeded T; on the sphere a user's or a noisy T is only symmetric under x ↦ −x
    (``Sign``), so only ±a₁ counts as recovered there.  All objectives have f ≥ −r, with equality
    exactly at the truth's orbit; ``problem.objective.components`` holds A for a seeded instance.
    """
    if manifold not in MANIFOLDS:
        raise ValueError(f"manifold must be one of {', '.join(MANIFOLDS)}, got {manifold!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating, np.integer)):
        raise TypeError(f"noise must be a non-negative number, got {noise!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite non-negative number, got {noise}")
    rng = as_generator(seed)
    truth_components = None
    if T is None:
        n = require_positive_int(n, "n", minimum=2)
        r = n if components is None else require_positive_int(components, "components")
        if r > n:
            raise ValueError(f"components must be at most n = {n} (orthonormal), got {r}")
        require_memory(
            8 * (4 * n**4 if noise > 0 else 4 * n * n),
            f"tensor_decomposition(n={n}): " + ("T is n⁴ dense" if noise > 0 else "A is n × n"),
        )
        a = _haar_orthogonal(n, rng)[:, :r]
        truth_components = a
        if noise > 0:
            dense = symmetric_tensor(a) + noise * _symmetrize(rng.standard_normal((n,) * 4))
            objective: Objective = DenseTensorObjective(dense)
        else:
            objective = FactoredTensorObjective(a)
        objective.components = a
        params: dict[str, Any] = {
            "n": n,
            "manifold": manifold,
            "components": r,
            "noise": float(noise),
        }
    else:
        if components is not None:
            raise ValueError("components must be None when T is given (the rank is unknown)")
        if noise:
            raise ValueError("noise must be 0 when T is given (noise is added to seeded tensors)")
        tensor = _check_tensor(T)
        n = tensor.shape[0]
        r = n
        objective = DenseTensorObjective(tensor)
        params = {"n": n, "manifold": manifold, "components": "user", "noise": 0.0}
    if manifold == "special_orthogonal":
        if r != n:
            raise ValueError(
                f"components must equal n = {n} on the special orthogonal group, got {r}; use "
                "manifold='orthogonal' (orthonormal r-frames) for fewer components"
            )
        space: Any = SpecialOrthogonalGroup(n)
    elif manifold == "orthogonal":
        space = Stiefel(n, r)
    else:
        space = Sphere(n)
    # the columns of X can be permuted and negated whatever T is; on the sphere, x ↦ −x is the
    # only symmetry of a general T (a user's, or a noisy one): the signed permutations of the
    # components are a symmetry only of T = Σ a_k^{⊗4} itself
    symmetry: Any = SignedPermutation(r) if manifold != "sphere" else Sign()
    truth = None
    if truth_components is not None:
        a = truth_components
        if manifold == "special_orthogonal":
            truth = a.copy()
            if np.linalg.det(truth) < 0:
                truth[:, 0] = -truth[:, 0]
        elif manifold == "orthogonal":
            truth = a.copy()
        else:
            truth = a[:, 0].copy()
            if noise == 0:
                symmetry = SignedPermutation(n, basis=a)
    return Problem(
        space,
        objective,
        name="tensor_decomposition",
        symmetry=symmetry,
        truth=truth,
        parameters=params,
        seed=seed_as_int(seed),
        recovery_tolerance=1e-8,
    )
