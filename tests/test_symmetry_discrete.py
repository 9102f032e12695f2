"""Discrete symmetry groups: signed permutations, signed shifts and their products with scalings.

Every distance is checked against a brute-force minimum over the whole group (small n), the
FFT cross-correlation against an explicit loop over shifts, alignment against the known group
element, and the scale-free distance against its definition.
"""

import itertools

import numpy as np
import pytest

from manifoldscape.core.symmetry import Scaled, SignedPermutation, SignedShift


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def _all_signed_permutations(n):
    for perm in itertools.permutations(range(n)):
        for signs in itertools.product([-1.0, 1.0], repeat=n):
            yield np.array(perm), np.array(signs)


def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _brute_force_sp(x, y, axis=-1, basis=None):
    """min over all signed permutations g of ‖x − g · y‖, by enumeration."""
    n = np.shape(y)[axis]
    rows_x = np.moveaxis(x, axis, 0).reshape(n, -1)
    rows_y = np.moveaxis(y, axis, 0).reshape(n, -1)
    if basis is not None:
        rows_x, rows_y = basis.T @ rows_x, basis.T @ rows_y
    return min(
        np.linalg.norm(rows_x - s[:, None] * rows_y[p]) for p, s in _all_signed_permutations(n)
    )


# --------------------------------------------------------------------------- SP(n)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_signed_permutation_distance_equals_brute_force_on_vectors(n, rng):
    group = SignedPermutation(n)
    for _ in range(5):
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        assert group.distance(x, y) == pytest.approx(_brute_force_sp(x, y), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "shape", "axis"), [(3, (5, 3), -1), (4, (4, 6), 0), (4, (2, 4, 3), 1)]
)
def test_signed_permutation_distance_equals_brute_force_on_arrays(n, shape, axis, rng):
    group = SignedPermutation(n, axis=axis)
    for _ in range(4):
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        brute = _brute_force_sp(x, y, axis=axis)
        assert group.distance(x, y) == pytest.approx(brute, rel=1e-12)
        # align returns the closest orbit point: its distance is the group distance
        aligned = group.align(y, x)
        assert aligned.shape == y.shape
        assert np.linalg.norm(x - aligned) == pytest.approx(brute, rel=1e-12)


def test_signed_permutation_distance_to_e1_is_the_nearest_signed_basis_vector(rng):
    n = 6
    group = SignedPermutation(n)
    e1 = np.eye(n)[0]
    for _ in range(5):
        x = rng.standard_normal(n)
        expected = min(np.linalg.norm(x - s * e) for e in np.eye(n) for s in (-1, 1))
        assert group.distance(x, e1) == pytest.approx(expected, rel=1e-12)


def test_signed_permutation_orbit_has_distance_zero_and_align_undoes_g(rng):
    n = 7
    for axis, shape in [(-1, (n,)), (-1, (4, n)), (0, (n, 3))]:
        group = SignedPermutation(n, axis=axis)
        x = rng.standard_normal(shape)
        perm, signs = group.random_element(rng)
        moved = group.act(x, perm, signs)
        assert not np.allclose(moved, x)
        assert group.distance(moved, x) == pytest.approx(0.0, abs=1e-12)
        assert group.distance(x, moved) == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_allclose(group.align(moved, x), x, atol=1e-14)


def test_signed_permutation_action_on_columns_matches_matrix_product(rng):
    n = 5
    group = SignedPermutation(n, axis=-1)
    x = rng.standard_normal((3, n))
    perm, signs = group.random_element(rng)
    g = np.zeros((n, n))
    g[np.arange(n), perm] = signs  # (g · v)_i = s_i v_{π(i)}: g = S P as a matrix
    np.testing.assert_allclose(group.act(x, perm, signs), x @ g.T, atol=1e-14)
    np.testing.assert_allclose(group.act(x[0], perm, signs), g @ x[0], atol=1e-14)


def test_signed_permutation_distance_is_invariant_and_satisfies_the_triangle_inequality(rng):
    n = 5
    group = SignedPermutation(n, axis=-1)
    x, y, z = (rng.standard_normal((4, n)) for _ in range(3))
    base = group.distance(x, y)
    g1, g2 = group.random_element(rng), group.random_element(rng)
    assert group.distance(group.act(x, *g1), group.act(y, *g2)) == pytest.approx(base)
    assert group.distance(y, x) == pytest.approx(base)
    assert base <= group.distance(x, z) + group.distance(z, y) + 1e-12
    assert base <= np.linalg.norm(x - y) + 1e-12
    assert group.dimension == 0
    assert group.orbit_tangent_vectors(x) == []
    assert group.name == "SP(5)"


@pytest.mark.parametrize("n", [3, 4])
def test_signed_permutation_in_a_basis(n, rng):
    basis = _orthogonal(n, rng)
    group = SignedPermutation(n, basis=basis)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    assert group.distance(x, y) == pytest.approx(_brute_force_sp(x, y, basis=basis), rel=1e-12)
    # the truth set {±b_i}: distance to b_1 is the distance to the nearest ±b_i
    expected = min(np.linalg.norm(x - s * b) for b in basis.T for s in (-1, 1))
    assert group.distance(x, basis[:, 0]) == pytest.approx(expected, rel=1e-12)
    aligned = group.align(-basis[:, 2] + 1e-3 * y, basis[:, 0])
    assert np.linalg.norm(aligned - basis[:, 0]) < 1e-2
    # matrices acted on through the basis: the columns B P S of B are on the orbit of B
    matrices = SignedPermutation(n, axis=0, basis=basis)
    perm, signs = matrices.random_element(rng)
    moved = basis[:, perm] * signs
    assert SignedPermutation(n, axis=-1).distance(moved, basis) == pytest.approx(0.0, abs=1e-12)
    z = rng.standard_normal((n, 2))
    assert matrices.distance(z, y[:, None] * np.ones(2)) == pytest.approx(
        _brute_force_sp(z, y[:, None] * np.ones(2), axis=0, basis=basis), rel=1e-12
    )


def test_signed_permutation_on_a_subspace_fixes_the_complement(rng):
    n, r = 6, 3
    basis = _orthogonal(n, rng)
    columns, complement = basis[:, :r], basis[:, r:]
    group = SignedPermutation(n, basis=columns)
    assert group.size == r
    # the orbit of b_1 is {±b_1, ±b_2, ±b_3}; complement directions are not on it
    for k in range(r):
        assert group.distance(-columns[:, k], columns[:, 0]) == pytest.approx(0, abs=1e-12)
    assert group.distance(complement[:, 0], columns[:, 0]) == pytest.approx(np.sqrt(2))
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    # brute force over SP(r) acting on the coordinates in span(B), complement untouched
    cx, cy = columns.T @ x, columns.T @ y
    rest = (x - columns @ cx) - (y - columns @ cy)
    brute = min(
        np.hypot(np.linalg.norm(cx - s * cy[list(p)]), np.linalg.norm(rest))
        for p, s in _all_signed_permutations(r)
    )
    assert group.distance(x, y) == pytest.approx(brute, rel=1e-12)
    perm, signs = group.random_element(rng)
    moved = group.act(x, perm, signs)
    np.testing.assert_allclose(complement.T @ moved, complement.T @ x, atol=1e-12)
    np.testing.assert_allclose(group.align(moved, x), x, atol=1e-12)


def test_signed_permutation_refuses_bad_input(rng):
    group = SignedPermutation(4)
    with pytest.raises(ValueError, match="x must have length 4 along axis -1"):
        group.distance(np.ones(5), np.ones(4))
    with pytest.raises(ValueError, match="y must have length 4"):
        group.distance(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="reference must have length 4"):
        group.align(np.ones(4), np.ones(6))
    with pytest.raises(ValueError, match="x and y must have the same shape"):
        group.distance(np.ones((2, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        SignedPermutation(0)
    with pytest.raises(ValueError, match="basis must be an 4 × 4 orthogonal matrix"):
        SignedPermutation(4, basis=np.eye(3))
    with pytest.raises(ValueError, match="basis must have orthonormal columns"):
        SignedPermutation(4, basis=rng.standard_normal((4, 4)))
    with pytest.raises(ValueError, match="x must be finite"):
        group.distance(np.array([1.0, np.nan, 0, 0]), np.ones(4))
    with pytest.raises(ValueError, match="x must be real"):
        group.distance(np.ones(4) * 1j, np.ones(4))
    with pytest.raises(ValueError, match="too few for axis=1"):
        SignedPermutation(4, axis=1).distance(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="permutation must be a permutation"):
        group.act(np.ones(4), [0, 0, 1, 2], np.ones(4))
    with pytest.raises(ValueError, match="signs must be 4 numbers ±1"):
        group.act(np.ones(4), [0, 1, 2, 3], [1, 2, 1, 1])


# --------------------------------------------------------------------------- Z_n × {±1}
def _brute_force_shift(x, y):
    n = np.shape(y)[-1]
    return min(np.linalg.norm(x - s * np.roll(y, k, axis=-1)) for k in range(n) for s in (-1, 1))


@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (16,), (3, 9)])
def test_signed_shift_fft_distance_equals_the_loop_over_shifts(shape, rng):
    group = SignedShift(shape[-1])
    for _ in range(4):
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        assert group.distance(x, y) == pytest.approx(_brute_force_shift(x, y), rel=1e-12)
        aligned = group.align(y, x)
        assert np.linalg.norm(x - aligned) == pytest.approx(_brute_force_shift(x, y), rel=1e-12)


def test_signed_shift_correlation_is_the_inner_product_with_each_shift(rng):
    n = 11
    group = SignedShift(n)
    x, y = rng.standard_normal((2, n)), rng.standard_normal((2, n))
    loop = [np.sum(x * np.roll(y, k, axis=-1)) for k in range(n)]
    np.testing.assert_allclose(group.correlation(x, y), loop, atol=1e-12)


def test_signed_shift_orbit_and_alignment(rng):
    n = 32
    group = SignedShift(n)
    x = rng.standard_normal((3, n))
    for k, sign in [(0, -1.0), (5, 1.0), (31, -1.0)]:
        moved = group.act(x, k, sign)
        assert group.distance(moved, x) == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_allclose(group.align(moved, x), x, atol=1e-12)
        assert group.matching(moved, x) == ((-k) % n, sign)
    y = rng.standard_normal((3, n))
    g = group.random_element(rng)
    assert group.distance(group.act(x, *g), y) == pytest.approx(group.distance(x, y))
    z = rng.standard_normal((3, n))
    assert group.distance(x, y) <= group.distance(x, z) + group.distance(z, y) + 1e-12
    # all rows move together: shifting one row only leaves the orbit
    other = x.copy()
    other[0] = np.roll(other[0], 1)
    assert group.distance(other, x) > 1e-3
    assert group.dimension == 0 and group.orbit_tangent_vectors(x) == []


def test_signed_shift_refuses_bad_input():
    group = SignedShift(8)
    with pytest.raises(ValueError, match="x must have length 8 along its last axis"):
        group.distance(np.ones(7), np.ones(8))
    with pytest.raises(ValueError, match="y must have length 8"):
        group.distance(np.ones(8), np.ones((2, 9)))
    with pytest.raises(ValueError, match="x and y must have the same shape"):
        group.distance(np.ones((2, 8)), np.ones(8))
    with pytest.raises(ValueError, match="y must be finite"):
        group.distance(np.ones(8), np.full(8, np.inf))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        SignedShift(-3)
    with pytest.raises(ValueError, match="sign must be"):
        group.act(np.ones(8), 1, 2.0)


# --------------------------------------------------------------------------- scalings
def test_scaled_signed_shift_is_the_relative_error_modulo_shift_and_scale(rng):
    n = 24
    group = Scaled(SignedShift(n))
    a0 = rng.standard_normal(n)
    noise = rng.standard_normal(n)
    a_hat = -3.7 * np.roll(a0 + 1e-3 * noise, 5)
    # the definition: best signed shift of a0, rescaled to the norm of a_hat, relative error
    unit_hat = a_hat / np.linalg.norm(a_hat)
    expected = min(
        np.linalg.norm(unit_hat - s * np.roll(a0, k) / np.linalg.norm(a0))
        for k in range(n)
        for s in (-1, 1)
    )
    assert group.distance(a_hat, a0) == pytest.approx(expected, rel=1e-12)
    assert 1e-4 < group.distance(a_hat, a0) < 1e-2
    assert group.distance(0.01 * a_hat, 100 * a0) == pytest.approx(group.distance(a_hat, a0))
    assert group.distance(-2.0 * np.roll(a0, 3), a0) == pytest.approx(0.0, abs=1e-14)
    aligned = group.align(a_hat, a0)
    assert np.linalg.norm(aligned) == pytest.approx(np.linalg.norm(a0))
    assert np.linalg.norm(aligned - a0) / np.linalg.norm(a0) == pytest.approx(
        group.distance(a0, a_hat)
    )
    b = rng.standard_normal(n)
    assert group.distance(a0, b) <= group.distance(a0, a_hat) + group.distance(a_hat, b) + 1e-12
    assert group.distance(a0, b) <= 2.0


def test_scaled_signed_flag_allows_negative_scalings(rng):
    group = SignedPermutation(3, axis=-1)
    x = np.abs(rng.standard_normal((2, 3))) + 0.1
    # columns may flip sign one by one under SP(3), but the whole matrix only with signed=True
    row_flip = x * np.array([[1.0], [-1.0]])
    positive, signed = Scaled(group), Scaled(group, signed=True)
    assert positive.distance(-x, x) == pytest.approx(0.0, abs=1e-14)  # SP(3) flips all columns
    unsigned_dist = positive.distance(row_flip, x)
    assert unsigned_dist > 1e-3
    assert signed.distance(row_flip, x) <= unsigned_dist + 1e-14
    y = rng.standard_normal(4)
    scaled_only = Scaled(SignedShift(4))
    assert Scaled(SignedShift(4), signed=True).distance(-5 * y, y) == pytest.approx(0, abs=1e-14)
    assert scaled_only.distance(-5 * y, y) == pytest.approx(0, abs=1e-14)
    assert positive.dimension == 1
    np.testing.assert_allclose(positive.orbit_tangent_vectors(x)[0], x)


def test_scaled_refuses_bad_input():
    with pytest.raises(TypeError, match="group must be a SymmetryGroup"):
        Scaled("shift")
    with pytest.raises(TypeError, match="signed must be True or False"):
        Scaled(SignedShift(3), signed="yes")
    with pytest.raises(ValueError, match="y must be nonzero"):
        Scaled(SignedShift(3)).distance(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="x must have length 3"):
        Scaled(SignedShift(3)).distance(np.ones(4), np.ones(4))
