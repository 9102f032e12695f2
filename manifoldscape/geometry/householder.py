"""Householder reflectors that apply an orthonormal basis of range(U)^⊥ without forming it.

Both classes take U with orthonormal columns (n × r) and represent Q = H_1 ⋯ H_r, whose first r
columns span range(U) and whose last n − r columns are an orthonormal basis of its orthogonal
complement (Golub & Van Loan, *Matrix Computations*, 4th ed., §5.1–5.2).  Applying Q or Qᴴ to
an n × k block costs O(n r k); Q itself (n × n) is never formed, so a tangent basis of the sphere
in R^100000 costs a few vectors of memory.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

__all__ = ["Complement", "Householder", "orthonormal_factor", "symmetric_eigh"]


class Householder:
    """Real orthogonal Q = H_1 ⋯ H_p with Qᵀ X = [D; 0] for X with orthonormal columns (D = ±I).

    Built from LAPACK's ``geqrf`` (``scipy.linalg.qr(mode="raw")``); real matrices only.
    """

    def __init__(self, x: np.ndarray):
        factors, tau = _geqrf(x)
        self._n, self._p = x.shape
        if self._p == 1:  # a unit vector: one reflector (the sphere's bases)
            vectors = factors[:, :1].copy()
            vectors[0, 0] = 1.0
        else:
            vectors = np.tril(factors, -1)[:, : self._p]
            vectors[np.arange(self._p), np.arange(self._p)] = 1.0
        self._v = vectors  # Householder vectors (unit lower trapezoidal)
        self._tau = tau
        # per reflector: v_j, v_j as a column and τ_j, sliced once
        self._reflectors = [(vectors[:, j], vectors[:, j, None], tau[j]) for j in range(self._p)]

    def apply_transpose(self, m: np.ndarray, columnwise: bool = False) -> np.ndarray:
        """Qᵀ m for m of shape (n, k).

        ``columnwise``: each vᵀm_j by its own dot product, so that every column comes out
        exactly as it would alone (a matrix-vector product over k columns sums in another
        order than a dot product, or than the same product on one column).
        """
        out = np.array(m, dtype=float, copy=True)
        columnwise = columnwise and out.shape[1] > 1
        for reflector in self._reflectors:
            _reflect(out, reflector, columnwise)
        return out

    def apply(self, m: np.ndarray, columnwise: bool = False) -> np.ndarray:
        """Q m for m of shape (n, k) (``columnwise`` as in ``apply_transpose``)."""
        out = np.array(m, dtype=float, copy=True)
        columnwise = columnwise and out.shape[1] > 1
        for reflector in reversed(self._reflectors):
            _reflect(out, reflector, columnwise)
        return out


def _reflect(out: np.ndarray, reflector: tuple, columnwise: bool) -> None:
    """Apply H_j = I − τ_j v_j v_jᵀ in place: out ← out − τ_j v_j (v_jᵀ out)."""
    v, column, tau = reflector
    products = _row_dots(np.ascontiguousarray(out.T), v) if columnwise else v @ out
    out -= tau * (column * products)


def _row_dots(rows: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(⟨r_k, v⟩)_k, each by BLAS ``dot`` as ``v @ r`` of one column computes it."""
    if _VECDOT is not None:
        return _VECDOT(rows, v)
    return np.array([np.dot(r, v) for r in rows])  # numpy < 2


_VECDOT = getattr(np, "vecdot", None)


#: LAPACK's optimal workspace of ``geqrf`` per shape (its workspace query, made once)
_GEQRF_LWORK: dict[tuple[int, int], int] = {}


def _geqrf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK ``dgeqrf`` of a real matrix: what ``scipy.linalg.qr(x, mode="raw")`` returns.

    The same routine with the same workspace as scipy's wrapper, called directly: scipy's
    checks and its workspace query on every call cost more than the factorization of the
    small matrices met here.
    """
    a = np.asarray(x)
    if a.dtype != np.float64 or a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
        return scipy.linalg.qr(a, mode="raw")[0]  # scipy's checks and messages
    key = a.shape
    lwork = _GEQRF_LWORK.get(key)
    if lwork is None:
        lwork = int(_DGEQRF(a, lwork=-1)[-2][0])
        _GEQRF_LWORK[key] = lwork
    factors, tau, _, info = _DGEQRF(a, lwork=lwork, overwrite_a=False)
    if info < 0:  # pragma: no cover - a LAPACK argument error
        raise ValueError(f"illegal value in {-info}th argument of internal geqrf")
    return factors, tau


_DGEQRF = scipy.linalg.get_lapack_funcs("geqrf", dtype=np.float64)


class Complement:
    """Householder reflectors with (H_r ⋯ H_1) U = diag(phases), U real or complex.

    The last n − r columns of Q = H_1 ⋯ H_r are an orthonormal basis of range(U)^⊥, applied in
    O(n r k), never formed.
    """

    def __init__(self, u: np.ndarray):
        a = np.array(u, copy=True)
        r = a.shape[1]
        self._r = r
        self._w: list[np.ndarray] = []
        for j in range(r):
            x = a[j:, j]
            norm = np.linalg.norm(x)
            phase = x[0] / abs(x[0]) if abs(x[0]) > 0 else 1.0
            w = x.copy()
            w[0] += phase * norm
            w /= np.linalg.norm(w)
            a[j:, :] -= 2.0 * np.outer(w, w.conj() @ a[j:, :])
            self._w.append(w)

    def apply_adjoint(self, z: np.ndarray) -> np.ndarray:
        """Qᴴ Z."""
        out = np.array(z, dtype=np.result_type(z, self._w[0]) if self._w else z.dtype, copy=True)
        for j, w in enumerate(self._w):
            out[j:] -= 2.0 * np.outer(w, w.conj() @ out[j:])
        return out

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Q Z."""
        out = np.array(z, dtype=np.result_type(z, self._w[0]) if self._w else z.dtype, copy=True)
        for j in reversed(range(len(self._w))):
            w = self._w[j]
            out[j:] -= 2.0 * np.outer(w, w.conj() @ out[j:])
        return out


try:  # numpy's own LAPACK gufuncs, behind ``numpy.linalg.eigh`` and ``numpy.linalg.qr``
    from numpy.linalg import _umath_linalg

    _EIGH_LO = _umath_linalg.eigh_lo
    _QR_R_RAW = _umath_linalg.qr_r_raw
    _QR_REDUCED = _umath_linalg.qr_reduced
except (ImportError, AttributeError):  # pragma: no cover - another numpy layout
    _EIGH_LO = _QR_R_RAW = _QR_REDUCED = None


def symmetric_eigh(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.linalg.eigh(h)`` of a finite real symmetric matrix, to the last bit.

    The same LAPACK call (``syevd`` on the lower triangle, numpy's ``eigh_lo``) without
    numpy's per-call dispatch, type checks and error-state context, which cost as much as the
    decomposition of the small matrices met in the census; any other input goes to numpy.
    """
    if (
        _EIGH_LO is None
        or type(h) is not np.ndarray
        or h.dtype != np.float64
        or h.ndim != 2
        or h.shape[0] != h.shape[1]
        or h.shape[0] == 0
    ):
        return np.linalg.eigh(h)
    try:
        lam, q = _EIGH_LO(h, signature="d->dd")
    except (TypeError, ValueError):  # a numpy whose gufunc takes other arguments
        return np.linalg.eigh(h)
    if lam[0] != lam[0]:  # NaN: LAPACK did not converge; numpy raises its LinAlgError
        return np.linalg.eigh(h)
    return lam, q


def orthonormal_factor(a: np.ndarray) -> np.ndarray:
    """Q of ``numpy.linalg.qr(a)`` (reduced) for a finite real matrix, to the last bit.

    numpy's own ``geqrf``/``orgqr`` gufuncs without its dispatch, checks, error-state context
    and the R factor (``triu``), which is not needed; any other input goes to numpy.
    """
    if (
        _QR_R_RAW is None
        or type(a) is not np.ndarray
        or a.dtype != np.float64
        or a.ndim != 2
        or a.size == 0
    ):
        return np.linalg.qr(a)[0]
    work = np.array(a, dtype=np.float64, copy=True)
    try:
        tau = _QR_R_RAW(work, signature="d->d")
        q = _QR_REDUCED(work, tau, signature="dd->d")
    except (TypeError, ValueError):  # a numpy whose gufuncs take other arguments
        return np.linalg.qr(a)[0]
    if not np.isfinite(q).all():  # a NaN input or a LAPACK failure: numpy's behaviour
        return np.linalg.qr(a)[0]
    return q
