"""The per-call shortcuts of the census hot path give their references' results to the last bit.

Each shortcut (numpy's LAPACK gufuncs called directly, LAPACK ``dstevd`` without scipy's
wrapper, the Lanczos start remembered per dimension, the fused term sizes, ``same_point``'s
byte comparison) replaces a library call by the same arithmetic with less dispatch; these tests
compare the two with ``==`` on the array bytes, and check the edge cases each one hands back to
its reference (NaN, −0.0, extreme magnitudes, non-contiguous layouts).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from pymanopt.manifolds import Sphere, Stiefel

from manifoldscape.core.hessian import (
    RiemannianHessian,
    _start_vector,
    _tridiagonal_eigenvalues,
    hessian_norm_estimate,
)
from manifoldscape.geometry import (
    orthonormal_factor,
    random_point,
    random_tangent_vector,
    same_point,
    symmetric_eigh,
)
from manifoldscape.geometry.batched import _summed_row_norms, row_norms
from manifoldscape.problems import rayleigh


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("d", [1, 2, 5, 19, 40])
def test_symmetric_eigh_is_numpys_eigh_bit_for_bit(d: int) -> None:
    rng = np.random.default_rng(d)
    m = rng.standard_normal((d, d))
    h = 0.5 * (m + m.T)
    lam, q = symmetric_eigh(h)
    ref_lam, ref_q = np.linalg.eigh(h)
    assert _same_bits(lam, ref_lam) and _same_bits(q, ref_q)


def test_symmetric_eigh_hands_other_input_to_numpy() -> None:
    lam, q = symmetric_eigh(np.eye(3, dtype=np.float32))
    assert lam.dtype == np.float32 and np.allclose(q @ q.T, np.eye(3))
    with pytest.raises(np.linalg.LinAlgError):
        symmetric_eigh(np.ones((2, 3)))


@pytest.mark.parametrize("shape", [(19, 1), (19, 3), (6, 6), (40, 7)])
@pytest.mark.parametrize("fortran", [False, True])
def test_orthonormal_factor_is_numpys_q_bit_for_bit(shape: tuple[int, int], fortran: bool) -> None:
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    if fortran:
        a = np.asfortranarray(a)
    assert _same_bits(orthonormal_factor(a), np.linalg.qr(a)[0])


def test_orthonormal_factor_with_a_nan_behaves_as_numpy() -> None:
    a = np.ones((4, 2))
    a[1, 1] = np.nan
    assert np.isnan(orthonormal_factor(a)).any()


def test_shortcuts_fall_back_to_numpy_when_its_gufuncs_differ(monkeypatch) -> None:
    """On a numpy whose private LAPACK gufuncs take other arguments, the public calls answer."""
    from manifoldscape.geometry import householder

    def incompatible(*args, **kwargs):
        raise TypeError("unexpected keyword argument 'signature'")

    for name in ("_EIGH_LO", "_QR_R_RAW", "_QR_REDUCED"):
        monkeypatch.setattr(householder, name, incompatible)
    rng = np.random.default_rng(7)
    m = rng.standard_normal((6, 6))
    h = 0.5 * (m + m.T)
    lam, q = symmetric_eigh(h)
    ref_lam, ref_q = np.linalg.eigh(h)
    assert _same_bits(lam, ref_lam) and _same_bits(q, ref_q)
    a = rng.standard_normal((9, 4))
    assert _same_bits(orthonormal_factor(a), np.linalg.qr(a)[0])


@pytest.mark.parametrize("size", [2, 3, 4, 8])
def test_tridiagonal_eigenvalues_are_scipys(size: int) -> None:
    rng = np.random.default_rng(size)
    d, e = rng.standard_normal(size), np.abs(rng.standard_normal(size - 1))
    assert _same_bits(_tridiagonal_eigenvalues(d, e), scipy.linalg.eigvalsh_tridiagonal(d, e))


def test_tridiagonal_eigenvalues_of_one_entry_and_of_nan_follow_scipy() -> None:
    one = np.array([2.5])
    assert _same_bits(_tridiagonal_eigenvalues(one, np.zeros(0)), np.array([2.5]))
    with pytest.raises(ValueError):
        _tridiagonal_eigenvalues(np.array([1.0, np.nan]), np.array([1.0]))


@pytest.mark.parametrize("manifold", [Sphere(20), Stiefel(6, 2)])
def test_lanczos_start_is_the_seeded_random_tangent_vector(manifold) -> None:
    rng = np.random.default_rng(3)
    for _ in range(3):  # the second and third draws come from the remembered coordinates
        x = random_point(manifold, rng)
        v = _start_vector(manifold, x, 0, random_tangent_vector)
        ref = random_tangent_vector(manifold, x, np.random.default_rng(0))
        assert _same_bits(np.asarray(v), np.asarray(ref))


def test_hessian_norm_estimate_is_below_the_norm_and_repeatable() -> None:
    problem = rayleigh(n=30, seed=0)
    x = np.random.default_rng(1).standard_normal(30)
    x /= np.linalg.norm(x)
    first = hessian_norm_estimate(problem, x)
    assert first == hessian_norm_estimate(problem, x)
    exact = float(np.max(np.abs(np.linalg.eigvalsh(RiemannianHessian(problem, x).matrix()))))
    assert 0.1 * exact < first <= exact * (1 + 1e-12)


def _parts(rng: np.random.Generator, scale: float, fortran: bool) -> tuple[np.ndarray, ...]:
    parts = tuple(scale * rng.standard_normal((3, 7)) for _ in range(3))
    return tuple(np.asfortranarray(p) for p in parts) if fortran else parts


@pytest.mark.parametrize("scale", [1.0, 1e-160, 1e160, 1e-140, 1e140])
@pytest.mark.parametrize("fortran", [False, True])
def test_summed_row_norms_are_the_sum_of_row_norms(scale: float, fortran: bool) -> None:
    parts = _parts(np.random.default_rng(7), scale, fortran)
    expected = row_norms(parts[0]) + row_norms(parts[1]) + row_norms(parts[2])
    assert _same_bits(_summed_row_norms(parts), expected)


def test_summed_row_norms_with_nan_zero_and_inf_rows() -> None:
    parts = _parts(np.random.default_rng(8), 1.0, False)
    parts[0][0] = np.nan
    parts[1][1] = 0.0
    parts[2][2, 3] = np.inf
    got = _summed_row_norms(parts)
    expected = row_norms(parts[0]) + row_norms(parts[1]) + row_norms(parts[2])
    assert np.isnan(got[0]) and np.isinf(got[2])
    assert _same_bits(got, expected)


def test_same_point_is_exact_equality() -> None:
    a = np.linspace(-1.0, 1.0, 21)
    assert same_point(a, a.copy())
    b = a.copy()
    b[10] = np.nextafter(b[10], 2.0)  # the middle entry
    assert not same_point(a, b)
    c = a.copy()
    c[7] += 1e-16  # an entry none of the quick looks sees
    assert same_point(a, c) == bool((a == c).all())
    zero, negative_zero = np.zeros(5), -np.zeros(5)
    assert same_point(zero, negative_zero)  # 0.0 == −0.0, though their bytes differ
    nan = a.copy()
    nan[3] = np.nan
    assert not same_point(nan, nan.copy())  # NaN ≠ NaN, though the bytes agree
    assert not same_point(np.zeros((2, 3)), np.zeros((3, 2)))
    assert same_point(np.zeros(0), np.zeros(0))
    assert same_point(np.asfortranarray(np.eye(3)), np.eye(3))
