"""Orthonormal tangent bases in the manifold's own metric, applied matrix-free or batched.

A ``TangentBasis`` maps coordinates c ∈ ℝ^d to tangent vectors Σ c_k b_k and back,
c_k = ⟨b_k, v⟩_x, for a basis {b_k} orthonormal in the Riemannian metric of T_x M; every map
takes a batch (leading axis), so a Hessian matrix is formed from batched products.

* Fast paths (exact, matrix-free): the sphere, Stiefel and Grassmann manifolds
  (T_X = {XΩ + X_⊥K}, X_⊥ applied through Householder reflectors in O(n p²)), SO(n) (skew
  matrices), Euclidean spaces; powers k > 1 of the first three slice by slice; products factor
  by factor; the oblique manifold (one Householder reflector per column), the complex circle
  (i x_j e_j), positive matrices (x_i e_i) and Poincaré balls (e_i / λ_x), pymanopt's
  ``FixedRankEmbedded`` (through ``FixedRank``'s basis) and any manifold
  with a ``tangent_basis`` method (the landscape protocol of ``manifoldscape.geometry.points``).
* Generic path, for every other manifold (as Manopt's ``tangentorthobasis``): the projections
  P_x(e_j) of the ambient coordinate vectors span T_x M; the d = dim M leading left singular
  vectors E of that spanning set are Euclidean-orthonormal in the tangent representation;
  with the Gram matrix G = [⟨E_i, E_j⟩_x] = L Lᵀ in the manifold's metric (from
  ``generic.metric_whitener``, or pair by pair for an unknown metric), B = E L^{-T} is
  orthonormal in the metric and c = Lᵀ Eᵀ v are the coordinates of a tangent v.  The basis is
  a deterministic function of the point; the quotient manifolds' projections (Grassmann,
  PSDFixedRank, Elliptope) are horizontal, so their bases span the horizontal space only and
  no symmetry direction enters a Hessian matrix.  Cost: one projection per ambient
  coordinate, an SVD of the (representation × ambient) spanning set, and, for an unknown
  metric, d(d+1)/2 inner products: meant for tangent dimensions up to a few thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from pymanopt.manifolds import (
    ComplexCircle,
    ComplexEuclidean,
    ComplexGrassmann,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    Oblique,
    PoincareBall,
    Positive,
    Product,
    PSDFixedRank,
    PSDFixedRankComplex,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)
from pymanopt.manifolds.manifold import Manifold

from manifoldscape.geometry.generic import dimension, inner_product, metric_whitener, projection
from manifoldscape.geometry.householder import Complement, Householder
from manifoldscape.geometry.layout import (
    ProductVector,
    as_tangent,
    hook,
    is_complex,
    power,
    power_factor,
)

__all__ = ["TangentBasis", "batch_item", "stack_batch", "tangent_basis"]


@dataclass(frozen=True)
class TangentBasis:
    """An orthonormal basis {b_1, …, b_d} of T_x M, applied matrix-free.

    ``to_vector(c) = Σ c_k b_k`` and ``to_coordinates(v) = (⟨b_k, v⟩)_k`` for the Riemannian
    metric; for a tangent v, ``to_vector(to_coordinates(v)) = v``.  For a vector that is not
    tangent, ``to_coordinates`` returns the coordinates of its orthogonal projection.
    Batched forms take and return a leading batch axis (lists of vectors for a ``Product``).
    """

    manifold: Manifold
    point: Any
    dim: int
    _to_vectors: Any
    _to_coordinates: Any
    #: optional batched maps computing each item exactly as the one-vector maps would
    _to_vectors_each: Any = None
    _to_coordinates_each: Any = None

    def to_vectors(self, coordinates: np.ndarray) -> Any:
        """Tangent vectors for a batch of coordinates of shape (b, d)."""
        c = np.asarray(coordinates, dtype=float)
        if c.ndim != 2 or c.shape[1] != self.dim:
            raise ValueError(f"coordinates must have shape (b, {self.dim}), got {c.shape}")
        return self._to_vectors(c)

    def to_coordinates_batch(self, vectors: Any) -> np.ndarray:
        """Coordinates (b, d) of a batch of tangent vectors."""
        return self._to_coordinates(vectors)

    def to_vector(self, coordinates: np.ndarray) -> Any:
        """The tangent vector with the given coordinates (shape (d,))."""
        c = np.asarray(coordinates, dtype=float).reshape(1, -1)
        return as_tangent(self.manifold, _unbatch(self.to_vectors(c)))

    def to_coordinates(self, vector: Any) -> np.ndarray:
        """Coordinates (d,) of one tangent vector."""
        return self._to_coordinates(_batch(vector))[0]

    def to_vectors_each(self, coordinates: np.ndarray) -> Any:
        """``to_vector`` of each row of (b, d) coordinates, as a batch, to the last bit.

        Batched maps may round off differently from the same map on one vector (a
        matrix-vector product sums in another order than a dot product); this one gives each
        vector exactly as ``to_vector`` alone would, batched where the basis knows how.
        """
        c = np.asarray(coordinates, dtype=float)
        if self._to_vectors_each is not None:
            if c.ndim != 2 or c.shape[1] != self.dim:
                raise ValueError(f"coordinates must have shape (b, {self.dim}), got {c.shape}")
            return self._to_vectors_each(c)
        return stack_batch([self.to_vector(row) for row in c])

    def to_coordinates_each(self, vectors: Any, count: int) -> np.ndarray:
        """``to_coordinates`` of each of the first ``count`` vectors of a batch: (count, d).

        Each row exactly as ``to_coordinates`` of that vector alone (see ``to_vectors_each``).
        """
        if self._to_coordinates_each is not None and type(vectors) is np.ndarray:
            return self._to_coordinates_each(vectors[:count])
        rows = [self.to_coordinates(batch_item(vectors, k)) for k in range(count)]
        return np.stack(rows) if rows else np.zeros((0, self.dim))

    def vectors(self) -> Any:
        """All d basis vectors as a batch (forms a d × ambient array: small d only)."""
        return self.to_vectors(np.eye(self.dim))


def _batch(vector: Any) -> Any:
    if isinstance(vector, (list, tuple)):
        return [_batch(v) for v in vector]
    return np.asarray(vector)[None]


def _unbatch(vectors: Any) -> Any:
    if isinstance(vectors, list):
        return ProductVector([_unbatch(v) for v in vectors])
    return vectors[0]


def batch_item(vectors: Any, k: int) -> Any:
    """The k-th tangent vector of a batch (arrays with a leading axis, or product lists)."""
    if isinstance(vectors, list):
        return ProductVector([batch_item(v, k) for v in vectors])
    return vectors[k]


def stack_batch(items: Sequence[Any]) -> Any:
    """Inverse of ``batch_item``: stack tangent vectors into a batch."""
    if isinstance(items[0], (list, tuple)):
        return [stack_batch([item[c] for item in items]) for c in range(len(items[0]))]
    return np.stack([np.asarray(item) for item in items])


# --------------------------------------------------------------------------- fast paths
def _skew_from_coordinates(c: np.ndarray, p: int) -> np.ndarray:
    """Σ c_k (E_ij − E_ji)/√2 for a batch of coordinates c of shape (b, p(p−1)/2)."""
    i, j = np.triu_indices(p, 1)
    out = np.zeros((c.shape[0], p, p))
    out[:, i, j] = c / np.sqrt(2.0)
    out[:, j, i] = -c / np.sqrt(2.0)
    return out


def _skew_coordinates(omega: np.ndarray) -> np.ndarray:
    """Coordinates of the skew part of a batch of p×p matrices in the basis (E_ij − E_ji)/√2."""
    i, j = np.triu_indices(omega.shape[-1], 1)
    return (omega[:, i, j] - omega[:, j, i]) / np.sqrt(2.0)


def _stiefel_like_basis(manifold: Manifold, x: np.ndarray, vertical: bool) -> TangentBasis:
    """T_X St(n, p) = {X Ω + X_⊥ K}: Ω skew (dim p(p−1)/2, if ``vertical``), K free."""
    shape = x.shape
    matrix = x.reshape(-1, 1) if x.ndim != 2 or isinstance(manifold, Sphere) else x
    n, p = matrix.shape
    householder = Householder(matrix)
    n_skew = p * (p - 1) // 2 if vertical else 0
    dim = n_skew + (n - p) * p

    def to_vectors(c: np.ndarray) -> np.ndarray:
        b = c.shape[0]
        k_part = c[:, n_skew:].reshape(b, n - p, p)
        padded = np.zeros((n, b * p))
        padded[p:, :] = k_part.transpose(1, 0, 2).reshape(n - p, b * p)
        out = householder.apply(padded).reshape(n, b, p).transpose(1, 0, 2)
        if n_skew:
            out = out + matrix @ _skew_from_coordinates(c[:, :n_skew], p)
        return out.reshape((b, *shape))

    def to_coordinates(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        b = v.shape[0]
        v = v.reshape(b, n, p)
        stacked = v.transpose(1, 0, 2).reshape(n, b * p)
        rotated = householder.apply_transpose(stacked)[p:, :]
        k_part = rotated.reshape(n - p, b, p).transpose(1, 0, 2).reshape(b, -1)
        if not n_skew:
            return k_part
        omega = np.einsum("ji,bjk->bik", matrix, v)
        return np.concatenate([_skew_coordinates(omega), k_part], axis=1)

    if p != 1:
        return TangentBasis(manifold, x, dim, to_vectors, to_coordinates)

    # one column (the sphere): a batch of b vectors is an n × b block whose columns are reflected
    # one dot product each, as one vector alone is (``Householder.apply(..., columnwise=True)``)
    def to_vectors_each(c: np.ndarray) -> np.ndarray:
        padded = np.zeros((n, c.shape[0]))
        padded[1:, :] = c.T
        out = householder.apply(padded, columnwise=True)
        return out.T.reshape((c.shape[0], *shape))

    def to_coordinates_each(v: np.ndarray) -> np.ndarray:
        stacked = np.asarray(v, dtype=float).reshape(v.shape[0], n).T
        return householder.apply_transpose(stacked, columnwise=True)[1:, :].T

    return TangentBasis(
        manifold, x, dim, to_vectors, to_coordinates, to_vectors_each, to_coordinates_each
    )


def _fast_basis(manifold: Manifold, x: np.ndarray) -> TangentBasis:
    if isinstance(manifold, Sphere):
        return _stiefel_like_basis(manifold, x, vertical=False)
    if isinstance(manifold, Stiefel):
        return _stiefel_like_basis(manifold, x, vertical=True)
    if isinstance(manifold, Grassmann):
        return _stiefel_like_basis(manifold, x, vertical=False)
    if isinstance(manifold, SpecialOrthogonalGroup):
        n = x.shape[0]
        return TangentBasis(
            manifold,
            x,
            n * (n - 1) // 2,
            lambda c: _skew_from_coordinates(c, n),
            lambda v: _skew_coordinates(np.asarray(v, dtype=float)),
        )
    if isinstance(manifold, ComplexEuclidean):
        shape = x.shape
        size = int(np.prod(shape))

        def to_vectors(c: np.ndarray) -> np.ndarray:
            return (c[:, :size] + 1j * c[:, size:]).reshape((c.shape[0], *shape))

        def to_coordinates(v: np.ndarray) -> np.ndarray:
            flat = np.asarray(v).reshape(len(v), -1)
            return np.concatenate([flat.real, flat.imag], axis=1)

        return TangentBasis(manifold, x, 2 * size, to_vectors, to_coordinates)
    shape = x.shape  # Euclidean
    return TangentBasis(
        manifold,
        x,
        int(np.prod(shape)),
        lambda c: c.reshape((c.shape[0], *shape)),
        lambda v: np.real(np.asarray(v)).reshape(len(v), -1).astype(float),
    )


def _power_basis(manifold: Manifold, x: np.ndarray, factor: Manifold) -> TangentBasis:
    """M^k: the bases of the k slices x[i], side by side (the metric sums over slices)."""
    parts = [tangent_basis(factor, x[i]) for i in range(x.shape[0])]
    d1 = parts[0].dim

    def to_vectors(c: np.ndarray) -> np.ndarray:
        return np.stack(
            [b.to_vectors(c[:, i * d1 : (i + 1) * d1]) for i, b in enumerate(parts)], axis=1
        )

    def to_coordinates(v: Any) -> np.ndarray:
        v = np.asarray(v)
        return np.concatenate(
            [b.to_coordinates_batch(v[:, i]) for i, b in enumerate(parts)], axis=1
        )

    return TangentBasis(manifold, x, d1 * len(parts), to_vectors, to_coordinates)


def _oblique_basis(manifold: Manifold, x: np.ndarray) -> TangentBasis:
    """OB(m, n): per column x_j the reflector H_j = I − β_j w_j w_jᵀ, H_j x_j = ∓e_1.

    The columns 2, …, m of H_j are an orthonormal basis of x_j^⊥; coordinates (b, (m−1) n)
    are read row-major from the (m−1) × n block below the first row.
    """
    m, n = x.shape
    sign = np.where(x[0] >= 0, 1.0, -1.0)
    w = x.copy()
    w[0] += sign
    beta = 2.0 / np.sum(w * w, axis=0)

    def reflect(z: np.ndarray) -> np.ndarray:
        return z - w[None] * (beta * np.einsum("ij,bij->bj", w, z))[:, None, :]

    def to_vectors(c: np.ndarray) -> np.ndarray:
        padded = np.zeros((c.shape[0], m, n))
        padded[:, 1:, :] = c.reshape(c.shape[0], m - 1, n)
        return reflect(padded)

    def to_coordinates(v: Any) -> np.ndarray:
        v = np.real(np.asarray(v, dtype=float))
        return reflect(v)[:, 1:, :].reshape(v.shape[0], -1)

    return TangentBasis(manifold, x, (m - 1) * n, to_vectors, to_coordinates)


def _circle_basis(manifold: Manifold, x: np.ndarray) -> TangentBasis:
    """(S¹)ⁿ ⊂ ℂⁿ: b_j = i x_j e_j; c_j = Re⟨i x_j, v_j⟩ = Im(x̄_j v_j)."""
    return TangentBasis(
        manifold,
        x,
        x.size,
        lambda c: 1j * x[None] * c,
        lambda v: np.imag(np.conj(x)[None] * np.asarray(v)),
    )


def _hermitian_basis(k: int, complex_: bool) -> np.ndarray:
    """An orthonormal basis (Re tr(AᴴB)) of k × k symmetric (real) or Hermitian matrices."""
    out = []
    for i in range(k):
        for j in range(i, k):
            e = np.zeros((k, k), dtype=complex if complex_ else float)
            if i == j:
                e[i, i] = 1.0
                out.append(e)
                continue
            e[i, j] = e[j, i] = 1 / np.sqrt(2.0)
            out.append(e)
            if complex_:
                f = np.zeros((k, k), dtype=complex)
                f[i, j], f[j, i] = 1j / np.sqrt(2.0), -1j / np.sqrt(2.0)
                out.append(f)
    return np.array(out).reshape(-1, k, k)


def _column_space_basis(
    manifold: Manifold, x: np.ndarray, q: np.ndarray, small: np.ndarray
) -> TangentBasis:
    """{Q A_l} ∪ {Q_⊥ K}: Q n × k orthonormal, A_l (k × k) orthonormal, K free (real or complex).

    The Q_⊥ part goes through Householder reflectors (``householder.Complement``), never formed;
    coordinates are (those of the A_l, then vec Re K, then vec Im K for complex matrices).
    """
    n, k = q.shape
    complex_ = np.iscomplexobj(q) or np.iscomplexobj(small)
    comp = Complement(q)
    n_small = small.shape[0]
    block = (n - k) * k
    dim = n_small + block * (2 if complex_ else 1)

    def to_vectors(c: np.ndarray) -> np.ndarray:
        b = c.shape[0]
        out = q @ np.einsum("bl,lij->bij", c[:, :n_small], small) if n_small else 0.0
        kc = c[:, n_small:]
        kk = kc[:, :block] + (1j * kc[:, block:] if complex_ else 0.0)
        padded = np.zeros((n, b * k), dtype=complex if complex_ else float)
        padded[k:] = kk.reshape(b, n - k, k).transpose(1, 0, 2).reshape(n - k, b * k)
        perp = comp.apply(padded).reshape(n, b, k).transpose(1, 0, 2)
        if not complex_:
            perp = np.real(perp)
        return out + perp

    def to_coordinates(v: Any) -> np.ndarray:
        v = np.asarray(v)
        b = v.shape[0]
        parts = []
        if n_small:
            inner = np.swapaxes(q.conj(), 0, 1) @ v  # (b, k, k)
            parts.append(np.real(np.einsum("lij,bij->bl", small.conj(), inner)))
        stacked = v.transpose(1, 0, 2).reshape(n, b * k)
        kk = comp.apply_adjoint(stacked)[k:].reshape(n - k, b, k).transpose(1, 0, 2)
        kk = kk.reshape(b, -1)
        parts.append(np.real(kk))
        if complex_:
            parts.append(np.imag(kk))
        return np.concatenate(parts, axis=1)

    return TangentBasis(manifold, x, dim, to_vectors, to_coordinates)


def _psd_factor_basis(manifold: Manifold, y: np.ndarray) -> TangentBasis:
    """Horizontal space at Y = QR of Y Yᴴ: {Q R^{-H} S : S Hermitian} ⊕ {Q_⊥ K}."""
    q, r = np.linalg.qr(y)
    k = y.shape[1]
    hermitian = _hermitian_basis(k, np.iscomplexobj(y))
    lifted = np.linalg.solve(np.swapaxes(r.conj(), 0, 1)[None], hermitian)  # R^{-H} S_l
    flat = lifted.reshape(len(lifted), -1)
    gram = np.real(flat.conj() @ flat.T)
    lower = np.linalg.cholesky(0.5 * (gram + gram.T))
    small = np.linalg.solve(lower, flat).reshape(lifted.shape)  # orthonormal combinations
    if not np.iscomplexobj(y):
        small = np.real(small)
    return _column_space_basis(manifold, y, q, small)


def _positive_basis(manifold: Manifold, x: np.ndarray) -> TangentBasis:
    """Positive matrices, metric Σ u v / x²: b_i = x_i e_i; c = v / x."""
    return TangentBasis(
        manifold,
        x,
        x.size,
        lambda c: c.reshape((c.shape[0], *x.shape)) * x,
        lambda v: (np.asarray(v) / x).reshape(len(v), -1),
    )


def _poincare_basis(manifold: Manifold, x: np.ndarray) -> TangentBasis:
    """Poincaré ball(s), metric λ_x² ⟨u, v⟩: b_i = e_i / λ_x (per ball); c = λ_x v."""
    factor = manifold.conformal_factor(x)
    return TangentBasis(
        manifold,
        x,
        x.size,
        lambda c: c.reshape((c.shape[0], *x.shape)) / factor,
        lambda v: (np.asarray(v) * factor).reshape(len(v), -1),
    )


def _fixed_rank_embedded_basis(manifold: Manifold, point: Any) -> TangentBasis:
    """Pymanopt's (Up, M, Vp) layout on ``FixedRank``'s basis (the same metric)."""
    from manifoldscape.geometry.fixed_rank import FixedRank, FixedRankPoint

    u, s, vt = (np.asarray(p) for p in point)
    inner = FixedRank(manifold._m, manifold._n, manifold._k).tangent_basis(
        FixedRankPoint(u, s, vt.T)
    )

    def to_vectors(c: np.ndarray) -> list:
        m, up, vp = inner.to_vectors(c)
        return [up, m, vp]

    def to_coordinates(v: Any) -> np.ndarray:
        up, m, vp = v
        return inner.to_coordinates_batch([m, up, vp])

    return TangentBasis(manifold, point, inner.dim, to_vectors, to_coordinates)


# --------------------------------------------------------------------------- generic path
def _pack(batch: np.ndarray, complex_: bool) -> np.ndarray:
    flat = np.asarray(batch).reshape(len(batch), -1)
    if complex_:
        return np.concatenate([flat.real, flat.imag], axis=1)
    return np.real(flat).astype(float, copy=False)


def _unpack(flat: np.ndarray, shape: tuple[int, ...], complex_: bool) -> np.ndarray:
    if complex_:
        half = flat.shape[1] // 2
        flat = flat[:, :half] + 1j * flat[:, half:]
    return flat.reshape((flat.shape[0], *shape))


def generic_tangent_basis(manifold: Manifold, point: Any) -> TangentBasis:
    """The generic basis (module docstring): SVD of projected coordinates, metric Cholesky."""
    if isinstance(point, (list, tuple)):
        raise TypeError(
            f"the generic tangent basis needs points that are single arrays; {manifold} has "
            f"points of type {type(point).__name__}: give the manifold a tangent_basis method"
        )
    x = np.asarray(point)
    field_complex = is_complex(manifold) or np.iscomplexobj(x)
    template = np.asarray(projection(manifold, x, np.zeros(x.shape, dtype=x.dtype)))
    shape = template.shape
    rep_complex = field_complex or np.iscomplexobj(template)
    size = x.size
    columns = []
    for j in range(size * (2 if field_complex else 1)):
        e = np.zeros(size, dtype=complex if field_complex else float)
        e[j % size] = 1.0 if j < size else 1j
        image = np.asarray(projection(manifold, x, e.reshape(x.shape)))
        columns.append(_pack(image[None], rep_complex)[0])
    spanning = np.stack(columns, axis=1)
    d = dimension(manifold)
    left, sigma, _ = np.linalg.svd(spanning, full_matrices=False)
    top = sigma[0] if sigma.size else 0.0
    if (
        d > sigma.size
        or (d and not sigma[d - 1] > 1e-10 * top)
        or (sigma.size > d and sigma[d] > 1e-8 * top)
    ):
        raise RuntimeError(
            f"the projections of {manifold} at this point span a space of dimension "
            f"{int(np.sum(sigma > 1e-8 * top))}, not dim = {d}: the manifold's "
            "projection or dim is inconsistent"
        )
    e = left[:, :d]
    whitener = metric_whitener(manifold, x)
    if whitener is None:
        b, coordinates = e, e
    else:
        vectors = _unpack(e.T.copy(), shape, rep_complex)
        if whitener == "pairwise":
            gram = np.empty((d, d))
            for i in range(d):
                for j in range(i, d):
                    gram[i, j] = gram[j, i] = inner_product(manifold, x, vectors[i], vectors[j])
        else:
            white = _pack(whitener(vectors), True)
            gram = white @ white.T
        lower = np.linalg.cholesky(0.5 * (gram + gram.T))
        b = scipy.linalg.solve_triangular(lower, e.T, lower=True).T
        coordinates = e @ lower

    def to_vectors(c: np.ndarray) -> np.ndarray:
        return _unpack(c @ b.T, shape, rep_complex)

    def to_coordinates(v: Any) -> np.ndarray:
        return _pack(np.asarray(v), rep_complex) @ coordinates

    return TangentBasis(manifold, x, d, to_vectors, to_coordinates)


# --------------------------------------------------------------------------- dispatch
def tangent_basis(manifold: Manifold, point: Any) -> TangentBasis:
    """An orthonormal basis of the tangent space at ``point`` (see ``TangentBasis``)."""
    if type(manifold) is Sphere and getattr(manifold, "tangent_basis", None) is None:
        # the dispatch below, shortened: pymanopt's sphere, never a power, has no hook
        return _stiefel_like_basis(manifold, np.asarray(point), vertical=False)
    if isinstance(manifold, Product):
        parts = [tangent_basis(m, p) for m, p in zip(manifold.manifolds, point, strict=True)]
        offsets = np.cumsum([0] + [b.dim for b in parts])

        def to_vectors(c: np.ndarray) -> list:
            return [b.to_vectors(c[:, offsets[i] : offsets[i + 1]]) for i, b in enumerate(parts)]

        def to_coordinates(v: list) -> np.ndarray:
            return np.concatenate(
                [b.to_coordinates_batch(v[i]) for i, b in enumerate(parts)], axis=1
            )

        return TangentBasis(manifold, point, int(offsets[-1]), to_vectors, to_coordinates)
    if (method := hook(manifold, "tangent_basis")) is not None:
        return method(point)
    if isinstance(manifold, FixedRankEmbedded):
        return _fixed_rank_embedded_basis(manifold, point)
    x = np.asarray(point)
    factor = power_factor(manifold)
    if factor is not None:
        return _power_basis(manifold, x, factor)
    if power(manifold) == 1:
        if isinstance(
            manifold,
            (Sphere, Stiefel, Grassmann, SpecialOrthogonalGroup, Euclidean, ComplexEuclidean),
        ):
            return _fast_basis(manifold, x)
        if isinstance(manifold, Oblique):
            return _oblique_basis(manifold, x)
        if isinstance(manifold, ComplexCircle):
            return _circle_basis(manifold, x)
    if isinstance(manifold, ComplexGrassmann) and power(manifold) == 1:
        return _column_space_basis(manifold, x, x, np.zeros((0,) + (x.shape[1],) * 2))
    if isinstance(manifold, (PSDFixedRank, PSDFixedRankComplex)):
        return _psd_factor_basis(manifold, x)
    if isinstance(manifold, Positive):
        return _positive_basis(manifold, x)
    if isinstance(manifold, PoincareBall):
        return _poincare_basis(manifold, x)
    return generic_tangent_basis(manifold, x)
