"""Symmetry groups: the action on points, the distance modulo the group, the orbit's tangents.

A problem with symmetry group G satisfies f(g · x) = f(x) for all g ∈ G (seed 003, §1: "symmetric
nonconvex problems").  Two consequences shape landscape analysis:

* recovery is only possible modulo G, so success is measured by
  dist_G(x, x♮) = min_{g ∈ G} ‖x − g · x♮‖;
* a continuous G makes every critical point part of a manifold of critical points, so the
  Riemannian Hessian has exact zero eigenvalues along the orbit's tangent directions
  {d/dt (g(t) · x)|_{t=0}}.  The certificate separates these out and reports them as symmetry,
  not as degeneracy (seed 003, Fig. 4: eigenspace X ↦ XR, G = O(r); phase retrieval
  x ↦ x e^{iφ}, G = S¹).

Points are arrays, or lists of arrays for product manifolds; a group acting on a list acts on the
concatenated vector unless stated otherwise (``ProductGroup`` acts factor by factor).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize


def _flat(point: Any) -> np.ndarray:
    if isinstance(point, (list, tuple)):
        return np.concatenate([np.ravel(np.asarray(p)) for p in point])
    return np.ravel(np.asarray(point))


def _like(vector: np.ndarray, point: Any) -> Any:
    if isinstance(point, (list, tuple)):
        out, start = [], 0
        for p in point:
            size = np.size(p)
            out.append(vector[start : start + size].reshape(np.shape(p)))
            start += size
        return out
    return vector.reshape(np.shape(point))


class SymmetryGroup(abc.ABC):
    """A group G acting on the points of a manifold and leaving the cost invariant."""

    #: dimension of the group as a manifold (0 for a finite group)
    dimension: int = 0
    #: human-readable name
    name: str = "G"

    @abc.abstractmethod
    def distance(self, x: Any, y: Any) -> float:
        """dist_G(x, y) = min_{g ∈ G} ‖x − g · y‖ (Euclidean norm of the embedding)."""

    @abc.abstractmethod
    def align(self, x: Any, reference: Any) -> Any:
        """The element g · x of the orbit of x closest to ``reference``."""

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:
        """Ambient vectors spanning the tangent space of the orbit G · x (empty if G is finite)."""
        return []

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Identity(SymmetryGroup):
    """The trivial group: no symmetry."""

    name: str = "trivial"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        return float(np.linalg.norm(_flat(x) - _flat(y)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        return x


@dataclass(frozen=True, repr=False)
class Sign(SymmetryGroup):
    """The group {±1} acting by x ↦ −x (on all factors of a product at once).

    Rayleigh quotient (seed 001: minimizers ±v₁), top singular pair (seed 000: (±u₁, ±v₁)),
    real phase retrieval (seed 003 §2).
    """

    name: str = "sign {±1}"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = _flat(x), _flat(y)
        return float(min(np.linalg.norm(a - b), np.linalg.norm(a + b)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        sign = -1.0 if np.linalg.norm(a + b) < np.linalg.norm(a - b) else 1.0
        return _like(sign * a, x)


@dataclass(frozen=True, repr=False)
class Phase(SymmetryGroup):
    """The circle group U(1) ≅ S¹ acting by x ↦ e^{iφ} x on complex points.

    dist(x, y) = min_φ ‖x − e^{iφ} y‖ = (‖x‖² + ‖y‖² − 2 |⟨y, x⟩|)^{1/2} (seed 003 §2.1),
    evaluated as ‖x − e^{iφ*} y‖ at the optimal phase to avoid cancellation; the orbit tangent
    at x is i x.
    """

    name: str = "phase U(1)"
    dimension: int = 1

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a = _flat(x)
        return float(np.linalg.norm(a - _flat(self.align(y, x))))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        inner = np.vdot(a, b)
        phase = inner / abs(inner) if abs(inner) > 0 else 1.0
        return _like(phase * a, x)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        return [_like(1j * _flat(x), x)]


@dataclass(frozen=True, repr=False)
class OrthogonalRight(SymmetryGroup):
    """O(r) acting on the right, X ↦ X R, for n × r real matrices.

    Eigenspace on Stiefel (seed 003 Fig. 4, G = O(r)), symmetric factorization U Uᵀ (seed 003
    App. A).  The distance is the orthogonal Procrustes problem:
    min_R ‖X − Y R‖_F² = ‖X‖² + ‖Y‖² − 2 ‖Yᵀ X‖_*, attained at R = polar(Yᵀ X).  Orbit tangents
    at X are X Ω for skew Ω (dimension r(r−1)/2).

    A point given as a list of matrices (U, V), each with r columns, is acted on by the *same* R
    in every factor, (U, V) ↦ (U R, V R): the O(r) symmetry of a balanced asymmetric
    factorization (seed 003, eq. 2.15).  The list is treated as the stacked matrix [U; V].
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"O({self.r}) right action")
        object.__setattr__(self, "dimension", self.r * (self.r - 1) // 2)

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        if isinstance(x, (list, tuple)):
            parts = [self._matrix(p, f"{what}[{k}]") for k, p in enumerate(x)]
            return np.vstack(parts) if parts else np.zeros((0, self.r))
        m = np.asarray(x)
        if m.ndim != 2 or m.shape[1] != self.r:
            raise ValueError(
                f"{what} must be an n × {self.r} matrix for {self.name}, got shape {m.shape}"
            )
        if np.iscomplexobj(m):
            raise ValueError(f"{what} must be real for {self.name}")
        return m

    def _rotation(self, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
        u, _, vt = np.linalg.svd(x.T @ reference)
        return u @ vt

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        return float(np.linalg.norm(a - b @ self._rotation(b, a)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        moved = a @ self._rotation(a, b)
        return _split_rows(moved, x) if isinstance(x, (list, tuple)) else moved

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._matrix(x, "x")
        out = []
        for i, j in zip(*np.triu_indices(self.r, 1), strict=True):
            omega = np.zeros((self.r, self.r))
            omega[i, j], omega[j, i] = 1.0, -1.0
            t = a @ omega / np.sqrt(2.0)
            out.append(_split_rows(t, x) if isinstance(x, (list, tuple)) else t)
        return out


def _split_rows(stacked: np.ndarray, like: Sequence[Any]) -> list[np.ndarray]:
    """Split a stacked matrix [U; V; …] back into blocks with the row counts of ``like``."""
    out, start = [], 0
    for p in like:
        rows = np.shape(p)[0]
        out.append(stacked[start : start + rows])
        start += rows
    return out


@dataclass(frozen=True, repr=False)
class GeneralLinear(SymmetryGroup):
    """GL(r) acting on a pair of factors, (U, V) ↦ (U Γ, V Γ^{-T}), Γ invertible r × r.

    The symmetry of every loss of the product U Vᵀ (seed 003, eqs. 2.12–2.13; seed 001,
    "Symmetries in matrix recovery").  Its orbit through (U, V) with U, V of full column rank
    is an r²-dimensional manifold; differentiating Γ(t) = I + tΩ gives the orbit tangents

        (U Ω, −V Ωᵀ),   Ω ∈ R^{r×r}   (dimension r²),

    which ``orbit_tangent_vectors`` returns for the r² unit matrices Ω = E_ij.

    GL(r) is not compact, so min_Γ ‖x − Γ · y‖ need not be attained (seed 003, footnote 11: the
    orbit is neither closed nor bounded).  ``distance`` is therefore a distance between *orbits*
    through their balanced representatives: every full-rank pair has a balanced point
    bal(U, V) = (P Σ^{1/2}, Q Σ^{1/2}) on its orbit, with U Vᵀ = P Σ Qᵀ the thin SVD, unique up
    to (U, V) ↦ (U R, V R), R ∈ O(r); so

        dist_GL(x, y) = min_{R ∈ O(r)} ‖bal(x) − bal(y) R‖_F,

    which is zero exactly when U Vᵀ = U' V'ᵀ and has the units of the factors (not of the
    product).  ``align(x, reference)`` returns (U Γ, V Γ^{-T}) with Γ = U⁺ U_ref, the least
    squares fit of the first factor, which is exact when x and the reference lie on the same
    orbit; when that Γ is singular or ill-conditioned it falls back to the balanced
    representative of x rotated onto the reference.
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"GL({self.r}) (U Γ, V Γ^-T)")
        object.__setattr__(self, "dimension", self.r * self.r)

    def _pair(self, x: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise ValueError(f"{what} must be a pair [U, V] of factors for {self.name}")
        u, v = np.asarray(x[0]), np.asarray(x[1])
        for label, m in (("U", u), ("V", v)):
            if m.ndim != 2 or m.shape[1] != self.r:
                raise ValueError(
                    f"{what}: {label} must be a matrix with {self.r} columns for {self.name}, "
                    f"got shape {m.shape}"
                )
            if np.iscomplexobj(m):
                raise ValueError(f"{what}: {label} must be real for {self.name}")
        return u, v

    def balanced(self, x: Any) -> list[np.ndarray]:
        """The balanced representative (P Σ^{1/2}, Q Σ^{1/2}) of the orbit of x = (U, V).

        Computed from thin QR factorizations of U and V and the SVD of an r × r matrix, in
        O((n₁ + n₂) r²) operations; U Vᵀ is never formed.
        """
        u, v = self._pair(x, "x")
        qu, ru = np.linalg.qr(u)
        qv, rv = np.linalg.qr(v)
        a, sigma, bt = np.linalg.svd(ru @ rv.T)
        root = np.sqrt(sigma)
        return [qu @ (a * root), qv @ (bt.T * root)]

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a = np.vstack(self.balanced(x))
        b = np.vstack(self.balanced(y))
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shapes, got {a.shape} and {b.shape}")
        w, _, zt = np.linalg.svd(b.T @ a)
        return float(np.linalg.norm(a - b @ (w @ zt)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        u, v = self._pair(x, "x")
        ur, vr = self._pair(reference, "reference")
        gamma = np.linalg.lstsq(u, ur, rcond=None)[0]
        if np.linalg.cond(gamma) < 1e10:
            return [u @ gamma, v @ np.linalg.inv(gamma).T]
        a = np.vstack(self.balanced(x))
        b = np.vstack([ur, vr])
        w, _, zt = np.linalg.svd(a.T @ b)
        return _split_rows(a @ (w @ zt), [u, v])

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        u, v = self._pair(x, "x")
        out = []
        for i in range(self.r):
            for j in range(self.r):
                # Ω = E_ij: (U Ω, −V Ωᵀ) = (U[:, i] e_jᵀ, −V[:, j] e_iᵀ)
                du = np.zeros_like(u, dtype=float)
                dv = np.zeros_like(v, dtype=float)
                du[:, j] = u[:, i]
                dv[:, i] = -v[:, j]
                out.append([du, dv])
        return out


@dataclass(frozen=True, repr=False)
class ProductGroup(SymmetryGroup):
    """G₁ × … × G_k acting factor by factor on a point (x₁, …, x_k) of a product manifold.

    The distance is (Σ dist_{G_i}(x_i, y_i)²)^{1/2}, since the factors' group elements are chosen
    independently.
    """

    factors: Sequence[SymmetryGroup] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.factors or not all(isinstance(g, SymmetryGroup) for g in self.factors):
            raise TypeError("factors must be a non-empty sequence of SymmetryGroup")
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "name", self.name or " × ".join(g.name for g in self.factors))
        object.__setattr__(self, "dimension", sum(g.dimension for g in self.factors))

    def _parts(self, x: Any, what: str) -> list:
        if not isinstance(x, (list, tuple)) or len(x) != len(self.factors):
            raise ValueError(
                f"{what} must be a list of {len(self.factors)} factors for {self.name}"
            )
        return list(x)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        xs, ys = self._parts(x, "x"), self._parts(y, "y")
        return float(
            np.sqrt(
                sum(g.distance(a, b) ** 2 for g, a, b in zip(self.factors, xs, ys, strict=True))
            )
        )

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        xs, rs = self._parts(x, "x"), self._parts(reference, "reference")
        return [g.align(a, r) for g, a, r in zip(self.factors, xs, rs, strict=True)]

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        xs = self._parts(x, "x")
        out = []
        for k, (g, part) in enumerate(zip(self.factors, xs, strict=True)):
            for t in g.orbit_tangent_vectors(part):
                out.append(
                    [t if i == k else np.zeros_like(np.asarray(p)) for i, p in enumerate(xs)]
                )
        return out


# --------------------------------------------------------------------------- discrete groups
def _real_array(value: Any, name: str, group: str) -> np.ndarray:
    """A finite real float array, or a ValueError/TypeError naming ``name``."""
    if isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a numpy array for {group}, got a {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise ValueError(f"{name} must be real for {group}, got complex entries")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric for {group}, got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite for {group}, but it holds NaN or Inf")
    return array


class SignedPermutation(SymmetryGroup):
    """The signed permutations SP(n) = {P S : P a permutation, S = diag(±1)} (seed 003 §3).

    The symmetry of dictionary learning (columns of the dictionary and rows of the sparse codes
    can be permuted and sign-flipped together, seed 003 §3.1–3.2; seed 001, "dictionary
    learning") and of orthogonal tensor decomposition (seed 003 eq. 3.16–3.17; seed 001,
    "tensor decomposition on O(n)").  g = P S acts on the length-n axis ``axis`` of an array:
    a vector x ∈ Rⁿ goes to P S x; an m × n matrix with ``axis=-1`` has its columns permuted and
    sign-flipped (X ↦ X S Pᵀ), with ``axis=0`` its rows.  With an orthogonal n × n ``basis`` B
    the action is conjugated, x ↦ B P S Bᵀ x along ``axis``: the symmetry of a sphere problem
    whose minimizers are {±b_i} (dist(x, b₁) = min_i min_± ‖x ∓ b_i‖).  A ``basis`` of r < n
    orthonormal columns gives SP(r) acting on the coordinates Bᵀx and fixing the orthogonal
    complement, x ↦ B P S Bᵀ x + (I − B Bᵀ) x: the symmetry of a rank-r tensor's components
    {±b₁, …, ±b_r} seen from the sphere.

    Writing x_i for the slices of x along ``axis`` (after the change of basis),

        dist(x, y)² = min_{π, s} Σ_i ‖x_i − s_i y_{π(i)}‖²,
        ‖x_i ∓ y_j‖² = ‖x_i‖² + ‖y_j‖² − 2 |⟨x_i, y_j⟩| at the best sign,

    a linear assignment problem on the n × n matrix of squared distances, solved exactly by
    ``scipy.optimize.linear_sum_assignment`` (Hungarian method, O(n³)).  For vectors the slices
    are scalars and the optimum pairs the sorted |x_i| with the sorted |y_j| (rearrangement
    inequality), O(n log n).  The distance is reported as ‖x − g*·y‖ at the optimal g*, computed
    directly (no cancellation).  The group is finite: ``dimension`` 0, no orbit tangents.

    Two subgroups, for costs with less symmetry: ``signed=False`` keeps the permutations alone
    (S(n), signs fixed to +1; e.g. the hidden units of a ReLU network, which is not even), and
    ``labels`` (one label per slice) keeps the permutations that map every slice to one with
    the same label (e.g. hidden units with the same output weight c_i).  Both only restrict the
    assignment: forbidden pairs get an infinite cost, the best sign is dropped without signs.
    """

    dimension = 0

    def __init__(
        self,
        n: int,
        axis: int = -1,
        basis: np.ndarray | None = None,
        *,
        signed: bool = True,
        labels: Sequence[Any] | np.ndarray | None = None,
    ):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        self.n = int(n)
        self.axis = int(axis)
        self.name = f"SP({self.n})"
        #: the number r of slices permuted: n, or the number of columns of ``basis``
        self.size = self.n
        self.basis: np.ndarray | None = None
        if basis is not None:
            b = _real_array(basis, "basis", self.name)
            if b.ndim != 2 or b.shape[0] != self.n or not 1 <= b.shape[1] <= self.n:
                raise ValueError(
                    f"basis must be an {n} × {n} orthogonal matrix (or {n} × r, r ≤ {n}, with "
                    f"orthonormal columns), got shape {b.shape}"
                )
            error = float(np.max(np.abs(b.T @ b - np.eye(b.shape[1]))))
            if error > 1e-8:
                raise ValueError(
                    f"basis must have orthonormal columns, but max |BᵀB − I| = {error:.3g}"
                )
            self.basis = b
            self.size = b.shape[1]
            self.name = (
                f"SP({self.n}) in a basis"
                if self.size == self.n
                else f"SP({self.size}) on a {self.size}-dimensional subspace of R^{self.n}"
            )
        if not isinstance(signed, (bool, np.bool_)):
            raise TypeError(f"signed must be True or False, got {signed!r}")
        self.signed = bool(signed)
        self.labels: tuple[Any, ...] | None = None
        if labels is not None:
            if isinstance(labels, (str, bytes)) or np.ndim(labels) != 1:
                raise TypeError(f"labels must be a sequence of {self.size} labels, got {labels!r}")
            if len(labels) != self.size:
                raise ValueError(
                    f"labels must hold one label per slice ({self.size}), got {len(labels)}"
                )
            self.labels = tuple(np.asarray(labels).tolist())
        if not self.signed:
            self.name = self.name.replace("SP(", "S(", 1)
        if self.labels is not None and len(set(self.labels)) > 1:
            self.name += f" fixing labels {list(self.labels)}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedPermutation):
            return NotImplemented
        same_basis = (self.basis is None and other.basis is None) or (
            self.basis is not None
            and other.basis is not None
            and np.array_equal(self.basis, other.basis)
        )
        return (
            self.n == other.n
            and self.axis == other.axis
            and same_basis
            and self.signed == other.signed
            and self.labels == other.labels
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ coordinates
    def _slices(self, x: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The coordinates C = Bᵀ X and the rest X − B C (None when r = n) of x.

        X is the n × m matrix whose rows are the slices of x along ``axis``.
        """
        a = _real_array(x, name, self.name)
        if a.ndim == 0:
            raise ValueError(f"{name} must be an array with an axis of length {self.n}")
        if not -a.ndim <= self.axis < a.ndim:
            raise ValueError(
                f"{name} has {a.ndim} dimension(s), too few for axis={self.axis} of {self.name}"
            )
        if a.shape[self.axis] != self.n:
            raise ValueError(
                f"{name} must have length {self.n} along axis {self.axis} for {self.name}, "
                f"got shape {a.shape}"
            )
        rows = np.moveaxis(a, self.axis, 0).reshape(self.n, -1)
        if self.basis is None:
            return rows, None
        coordinates = self.basis.T @ rows
        rest = None if self.size == self.n else rows - self.basis @ coordinates
        return coordinates, rest

    def _restore(self, coordinates: np.ndarray, rest: np.ndarray | None, like: Any) -> np.ndarray:
        rows = coordinates if self.basis is None else self.basis @ coordinates
        if rest is not None:
            rows = rows + rest
        moved = np.moveaxis(np.asarray(like), self.axis, 0).shape
        return np.moveaxis(rows.reshape(moved), 0, self.axis)

    def _pair(self, x: Any, y: Any, names: tuple[str, str]) -> tuple[tuple, tuple]:
        a, b = self._slices(x, names[0]), self._slices(y, names[1])
        if np.shape(x) != np.shape(y):
            raise ValueError(
                f"{names[0]} and {names[1]} must have the same shape, got {np.shape(x)} and "
                f"{np.shape(y)}"
            )
        return a, b

    def _match_rows(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Optimal (π, s) matching row i of b to s_i a_{π(i)}."""
        if a.shape[1] == 1 and self.signed and self.labels is None:
            order_a = np.argsort(-np.abs(a[:, 0]), kind="stable")
            order_b = np.argsort(-np.abs(b[:, 0]), kind="stable")
            perm = np.empty(self.size, dtype=int)
            perm[order_b] = order_a
        else:
            inner = b @ a.T  # ⟨b_i, a_j⟩
            squared = (
                np.sum(b * b, axis=1)[:, None]
                + np.sum(a * a, axis=1)[None, :]
                - 2 * (np.abs(inner) if self.signed else inner)
            )
            if self.labels is not None:
                labels = np.asarray(self.labels, dtype=object)
                squared = np.where(labels[:, None] == labels[None, :], squared, np.inf)
            rows, perm = scipy.optimize.linear_sum_assignment(squared)
            perm = perm[np.argsort(rows)]
        if not self.signed:
            return perm, np.ones(self.size)
        products = np.sum(b * a[perm], axis=1)
        return perm, np.where(products < 0, -1.0, 1.0)

    def matching(self, x: Any, reference: Any) -> tuple[np.ndarray, np.ndarray]:
        """The optimal (π, s): slice i of ``reference`` is matched to s_i · (slice π(i) of x).

        In the coordinates of ``basis`` when one is given.
        """
        (a, _), (b, _) = self._pair(x, reference, ("x", "reference"))
        return self._match_rows(a, b)

    def act(self, x: Any, permutation: Sequence[int], signs: Sequence[float]) -> np.ndarray:
        """The point g · x, g = (π, s): slice i is s_i · (slice π(i) of x) (in the basis B)."""
        r = self.size
        perm = np.asarray(permutation, dtype=int)
        s = np.asarray(signs, dtype=float)
        if perm.shape != (r,) or not np.array_equal(np.sort(perm), np.arange(r)):
            raise ValueError(f"permutation must be a permutation of range({r})")
        if s.shape != (r,) or not np.all(np.abs(s) == 1):
            raise ValueError(f"signs must be {r} numbers ±1")
        if not self.signed and np.any(s != 1):
            raise ValueError(f"signs must all be +1 for {self.name} (no sign changes)")
        if self.labels is not None and any(
            self.labels[i] != self.labels[j] for i, j in enumerate(perm)
        ):
            raise ValueError(
                f"permutation must map every slice to one with its label ({self.name})"
            )
        coordinates, rest = self._slices(x, "x")
        return self._restore(s[:, None] * coordinates[perm], rest, x)

    def random_element(self, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly random (π, s) from a numpy Generator or seed."""
        rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
        if self.labels is None:
            perm = rng.permutation(self.size)
        else:  # shuffle within each class of equal labels
            perm = np.arange(self.size)
            for label in dict.fromkeys(self.labels):
                members = np.flatnonzero([item == label for item in self.labels])
                perm[members] = rng.permutation(members)
        signs = rng.choice([-1.0, 1.0], size=self.size) if self.signed else np.ones(self.size)
        return perm, signs

    def align(self, x: Any, reference: Any) -> np.ndarray:  # noqa: D102
        (a, rest), (b, _) = self._pair(x, reference, ("x", "reference"))
        perm, signs = self._match_rows(a, b)
        return self._restore(signs[:, None] * a[perm], rest, x)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        (a, rest_x), (b, rest_y) = self._pair(x, y, ("x", "y"))
        perm, signs = self._match_rows(b, a)
        # B has orthonormal columns: the norm splits into span(B) and its complement
        inside = float(np.linalg.norm(a - signs[:, None] * b[perm]))
        if rest_x is None:
            return inside
        return float(np.hypot(inside, np.linalg.norm(rest_x - rest_y)))

    def __repr__(self) -> str:
        return self.name


class SignedShift(SymmetryGroup):
    """Circular shifts with signs, Z_n × {±1}, acting by y ↦ ± s_k[y] (seed 003 §3.3).

    The symmetry of multichannel sparse blind deconvolution with circular convolution (seed 003
    §3.3, "cyclic shift symmetry"; seed 001, "multichannel sparse blind deconvolution"):
    s_k[y]_i = y_{(i − k) mod n} (``numpy.roll(y, k)``).  On an array the last axis (length n)
    is shifted, every row by the same k and with the same sign.

        dist(x, y)² = min_{k, ±} ‖x ∓ s_k[y]‖² = ‖x‖² + ‖y‖² − 2 max_k |c_k|,
        c_k = Σ_i ⟨x_i, y_{i−k}⟩ = IFFT(FFT(x) · conj(FFT(y)))_k   (summed over rows),

    the circular cross-correlation computed with FFTs in O(n log n) per row; the distance is then
    evaluated as ‖x ∓ s_k[y]‖ at the optimal (k, ±), directly.  Finite group: no orbit tangents.
    """

    dimension = 0

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.name = f"Z_{self.n} × {{±1}}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedShift):
            return NotImplemented
        return self.n == other.n

    __hash__ = None  # type: ignore[assignment]

    def _check(self, x: Any, name: str) -> np.ndarray:
        a = _real_array(x, name, self.name)
        if a.ndim == 0 or a.shape[-1] != self.n:
            raise ValueError(
                f"{name} must have length {self.n} along its last axis for {self.name}, "
                f"got shape {a.shape}"
            )
        return a

    def correlation(self, x: Any, y: Any) -> np.ndarray:
        """c_k = ⟨x, s_k[y]⟩ for k = 0, …, n − 1 (summed over all rows), by FFT."""
        a, b = self._check(x, "x"), self._check(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        spectrum = np.fft.rfft(a, axis=-1) * np.conj(np.fft.rfft(b, axis=-1))
        spectrum = spectrum.reshape(-1, spectrum.shape[-1]).sum(axis=0)
        return np.fft.irfft(spectrum, n=self.n)

    def matching(self, x: Any, reference: Any) -> tuple[int, float]:
        """The optimal (k, ±) with ± s_k[x] closest to ``reference``."""
        c = self.correlation(reference, x)
        k = int(np.argmax(np.abs(c)))
        return k, (-1.0 if c[k] < 0 else 1.0)

    def act(self, x: Any, shift: int, sign: float = 1.0) -> np.ndarray:
        """± s_k[x]: every row of x shifted circularly by ``shift`` along the last axis."""
        if sign not in (1, -1, 1.0, -1.0):
            raise ValueError(f"sign must be +1 or −1, got {sign!r}")
        return float(sign) * np.roll(self._check(x, "x"), int(shift), axis=-1)

    def random_element(self, seed: Any = None) -> tuple[int, float]:
        """A uniformly random (k, ±) from a numpy Generator or seed."""
        rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
        return int(rng.integers(self.n)), float(rng.choice([-1.0, 1.0]))

    def align(self, x: Any, reference: Any) -> np.ndarray:  # noqa: D102
        k, sign = self.matching(x, reference)
        return self.act(x, k, sign)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._check(x, "x"), self._check(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        k, sign = self.matching(b, a)
        return float(np.linalg.norm(a - self.act(b, k, sign)))

    def __repr__(self) -> str:
        return self.name


class Scaled(SymmetryGroup):
    """G × R₊ (or G × R∖{0} with ``signed=True``): a group together with scalings x ↦ α g · x.

    The shift-and-scale symmetry of blind deconvolution, a ⊛ x = α s_τ[a] ⊛ α⁻¹ s₋τ[x]
    (seed 003 eq. 3.14; seed 001, "multichannel sparse blind deconvolution"): the kernel is only
    recoverable up to a shift, a sign and a scale.  The orbit G·R₊·y is a cone, so the distance
    is measured between the normalized representatives, i.e. scale-free and relative:

        dist(x, y) = min_{g ∈ G (, ±)} ‖ x/‖x‖ − g · y/‖y‖ ‖,

    the chordal distance between the rays of x and y modulo G (0 on the orbit, at most 2, at most
    √2 up to sign; a metric on the orbits when G acts by isometries).  Equivalently it is the
    relative error ‖x − x̃‖/‖x‖ of the best g · y rescaled to the norm of x, which is how
    "recovery modulo shift and scale" is reported: ``Scaled(SignedShift(n)).distance(a_hat, a0)``
    is the relative error of a kernel estimate modulo signed shift and scale.  It is already
    relative, so ``Problem.distance_to_truth`` (which divides by ‖x♮‖) gives it directly for a
    unit-norm truth.  ``align(x, reference)`` returns the element α g · x of the orbit with
    ‖α g · x‖ = ‖reference‖ closest to ``reference``.  Zero points have no ray: ValueError.
    The scaling is a one-dimensional continuous group: ``dimension`` adds 1 and the orbit
    tangents add x itself (d/dt e^t x at t = 0).
    """

    def __init__(self, group: SymmetryGroup, signed: bool = False):
        if not isinstance(group, SymmetryGroup):
            raise TypeError(f"group must be a SymmetryGroup, got {type(group).__name__}")
        if not isinstance(signed, (bool, np.bool_)):
            raise TypeError(f"signed must be True or False, got {signed!r}")
        self.group = group
        self.signed = bool(signed)
        self.dimension = group.dimension + 1
        self.name = f"{group.name} × {'R∖{0}' if self.signed else 'R₊'} scalings"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scaled):
            return NotImplemented
        return self.group == other.group and self.signed == other.signed

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def _unit(x: Any, name: str) -> tuple[Any, float]:
        norm = float(np.linalg.norm(_flat(x)))
        if not np.isfinite(norm):
            raise ValueError(f"{name} must be finite")
        if norm == 0:
            raise ValueError(f"{name} must be nonzero: the zero point has no scale-free ray")
        if isinstance(x, (list, tuple)):
            return [np.asarray(p) / norm for p in x], norm
        return np.asarray(x) / norm, norm

    def _best(self, x_unit: Any, reference_unit: Any) -> Any:
        candidate = self.group.align(x_unit, reference_unit)
        if not self.signed:
            return candidate
        flipped = self.group.align(_like(-_flat(x_unit), x_unit), reference_unit)
        r = _flat(reference_unit)
        if np.linalg.norm(r - _flat(flipped)) < np.linalg.norm(r - _flat(candidate)):
            return flipped
        return candidate

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        x_unit, _ = self._unit(x, "x")
        y_unit, _ = self._unit(y, "y")
        return float(np.linalg.norm(_flat(x_unit) - _flat(self._best(y_unit, x_unit))))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        x_unit, _ = self._unit(x, "x")
        r_unit, r_norm = self._unit(reference, "reference")
        best = self._best(x_unit, r_unit)
        return _like(r_norm * _flat(best), best)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        return [*self.group.orbit_tangent_vectors(x), x]

    def __repr__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- quotient manifolds
@dataclass(frozen=True, repr=False)
class UnitaryRight(SymmetryGroup):
    """U(r) acting on the right, X ↦ X Q (Qᴴ Q = I), for complex n × r matrices.

    The symmetry of the complex Grassmann manifold and of Hermitian factorizations X = Y Yᴴ
    (pymanopt's ``ComplexGrassmann``, ``PSDFixedRankComplex``).  The distance is the complex
    orthogonal Procrustes problem, min_Q ‖X − Y Q‖_F, attained at Q = polar(Yᴴ X); orbit tangents
    at X are X Ω for Ω skew-Hermitian (real dimension r²): (E_ij − E_ji)/√2 and
    i(E_ij + E_ji)/√2 for i < j, and i E_ii.
    """

    r: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.r, (int, np.integer)) or self.r < 1:
            raise ValueError(f"r must be a positive integer, got {self.r!r}")
        object.__setattr__(self, "name", self.name or f"U({self.r}) right action")
        object.__setattr__(self, "dimension", self.r * self.r)

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        m = np.asarray(x)
        if m.ndim != 2 or m.shape[1] != self.r:
            raise ValueError(
                f"{what} must be an n × {self.r} matrix for {self.name}, got shape {m.shape}"
            )
        return m

    def _rotation(self, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
        u, _, vh = np.linalg.svd(x.conj().T @ reference)
        return u @ vh

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        return float(np.linalg.norm(a - b @ self._rotation(b, a)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        return a @ self._rotation(a, b)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._matrix(x, "x")
        out = []
        for i in range(self.r):
            for j in range(i, self.r):
                e = np.zeros((self.r, self.r), dtype=complex)
                e[i, j] = 1.0
                if i == j:
                    generators = [1j * e]
                else:
                    generators = [(e - e.T) / np.sqrt(2.0), 1j * (e + e.T) / np.sqrt(2.0)]
                out.extend(a @ omega for omega in generators)
        return out


@dataclass(frozen=True, repr=False)
class PowerGroup(SymmetryGroup):
    """G^k acting slice by slice on the points of a power manifold M^k (arrays of shape (k, …)).

    pymanopt's ``Grassmann(n, p, k=k)`` and ``ComplexGrassmann(n, p, k=k)`` are such powers:
    each slice X_i is acted on by its own group element.  dist² = Σ_i dist_G(x_i, y_i)².
    """

    group: SymmetryGroup = Identity()
    k: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.group, SymmetryGroup):
            raise TypeError(f"group must be a SymmetryGroup, got {type(self.group).__name__}")
        if not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        object.__setattr__(self, "name", self.name or f"({self.group.name})^{self.k}")
        object.__setattr__(self, "dimension", self.k * self.group.dimension)

    def _slices(self, x: Any, what: str) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim < 1 or a.shape[0] != self.k:
            raise ValueError(f"{what} must have {self.k} slices for {self.name}, got {a.shape}")
        return a

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._slices(x, "x"), self._slices(y, "y")
        return float(
            np.sqrt(sum(self.group.distance(p, q) ** 2 for p, q in zip(a, b, strict=True)))
        )

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._slices(x, "x"), self._slices(reference, "reference")
        return np.stack([self.group.align(p, q) for p, q in zip(a, b, strict=True)])

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        a = self._slices(x, "x")
        out = []
        for i, part in enumerate(a):
            for t in self.group.orbit_tangent_vectors(part):
                v = np.zeros(a.shape, dtype=np.result_type(a, t))
                v[i] = t
                out.append(v)
        return out


def natural_symmetry(manifold: Any) -> SymmetryGroup:
    """The symmetry group a pymanopt quotient manifold's points carry, Identity otherwise.

    Grassmann: O(p) acting on the right on an orthonormal basis of the subspace; complex
    Grassmann: U(p); ``PSDFixedRank``, ``Elliptope``: O(k) on the factor Y of X = Y Yᵀ
    (Journée et al. 2010); ``PSDFixedRankComplex``: U(k); powers k > 1 slice by slice;
    products factor by factor.  The tangent bases of these manifolds span the horizontal space
    (the projection removes the orbit directions), so the group adds no Hessian direction to a
    certificate; it makes distances, recovery and the census's merging of critical points
    modulo the group.
    """
    from pymanopt.manifolds import (
        ComplexGrassmann,
        Elliptope,
        Grassmann,
        Product,
        PSDFixedRank,
        PSDFixedRankComplex,
    )

    if isinstance(manifold, Product):
        groups = [natural_symmetry(m) for m in manifold.manifolds]
        if all(isinstance(g, Identity) for g in groups):
            return Identity()
        return ProductGroup(groups)
    if isinstance(manifold, (Grassmann, ComplexGrassmann)):
        group: SymmetryGroup = (
            OrthogonalRight(manifold._p)
            if isinstance(manifold, Grassmann)
            else UnitaryRight(manifold._p)
        )
        return group if manifold._k == 1 else PowerGroup(group, manifold._k)
    if isinstance(manifold, PSDFixedRankComplex):
        return UnitaryRight(manifold._k)
    if isinstance(manifold, (PSDFixedRank, Elliptope)):
        return OrthogonalRight(manifold._k)
    return Identity()
