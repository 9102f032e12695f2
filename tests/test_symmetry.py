"""Symmetry groups: distances against brute force, alignment, orbit tangents, invariance."""

import numpy as np
import pytest
import scipy.linalg

from manifoldscape.core.symmetry import Identity, OrthogonalRight, Phase, ProductGroup, Sign
from manifoldscape.geometry import random_point
from manifoldscape.problems import eigenspace, rayleigh, singular_pair


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def test_sign_distance_and_align(rng):
    x = rng.standard_normal(7)
    group = Sign()
    assert group.distance(x, -x) == pytest.approx(0.0)
    y = rng.standard_normal(7)
    assert group.distance(x, y) == pytest.approx(min(np.linalg.norm(x - y), np.linalg.norm(x + y)))
    aligned = group.align(-x + 1e-3 * y, x)
    assert np.linalg.norm(aligned - x) < 1e-2
    pair = [rng.standard_normal(3), rng.standard_normal(4)]
    assert group.distance(pair, [-pair[0], -pair[1]]) == pytest.approx(0.0)
    assert group.distance(pair, [-pair[0], pair[1]]) > 1e-3  # signs flip together only


def test_phase_distance_matches_brute_force(rng):
    x = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    y = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    phis = np.linspace(0, 2 * np.pi, 20001)
    brute = min(np.linalg.norm(x - np.exp(1j * p) * y) for p in phis)
    assert Phase().distance(x, y) == pytest.approx(brute, rel=1e-6)
    assert Phase().distance(x, np.exp(2.1j) * x) == pytest.approx(0.0, abs=1e-7)
    aligned = Phase().align(np.exp(0.4j) * x, x)
    np.testing.assert_allclose(aligned, x, atol=1e-12)


def test_orbit_tangent_is_the_derivative_of_the_action(rng):
    x = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    (tangent,) = Phase().orbit_tangent_vectors(x)
    t = 1e-6
    np.testing.assert_allclose((np.exp(1j * t) * x - x) / t, tangent, atol=1e-5)
    group = OrthogonalRight(3)
    a = rng.standard_normal((6, 3))
    for direction in group.orbit_tangent_vectors(a):
        omega = np.linalg.lstsq(a, direction, rcond=None)[0]
        np.testing.assert_allclose(omega, -omega.T, atol=1e-10)  # X Ω with Ω skew
        moved = a @ scipy.linalg.expm(1e-6 * omega)
        np.testing.assert_allclose((moved - a) / 1e-6, direction, atol=1e-5)


def test_orthogonal_procrustes_distance(rng):
    group = OrthogonalRight(3)
    a = rng.standard_normal((8, 3))
    q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    assert group.distance(a, a @ q) == pytest.approx(0.0, abs=1e-10)
    b = rng.standard_normal((8, 3))
    best = min(
        np.linalg.norm(a - b @ np.linalg.qr(rng.standard_normal((3, 3)))[0]) for _ in range(2000)
    )
    assert group.distance(a, b) <= best + 1e-12
    np.testing.assert_allclose(group.align(a @ q, a), a, atol=1e-10)
    with pytest.raises(ValueError, match="n × 3"):
        group.distance(a[:, :2], b[:, :2])


def test_product_group_acts_factorwise(rng):
    group = ProductGroup([Sign(), Phase()])
    x = [rng.standard_normal(3), rng.standard_normal(2) + 1j * rng.standard_normal(2)]
    y = [-x[0], np.exp(0.3j) * x[1]]
    assert group.distance(x, y) == pytest.approx(0.0, abs=1e-12)
    assert group.dimension == 1
    tangents = group.orbit_tangent_vectors(x)
    assert len(tangents) == 1 and np.all(tangents[0][0] == 0)
    with pytest.raises(TypeError):
        ProductGroup([])


def test_identity_is_plain_distance(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    assert Identity().distance(x, y) == pytest.approx(np.linalg.norm(x - y))


@pytest.mark.parametrize(
    "problem",
    [
        rayleigh(n=6, seed=0),
        singular_pair(m=4, n=5, seed=0),
        eigenspace(n=6, p=2, seed=0),
        eigenspace(n=6, p=3, manifold="stiefel", seed=0),
    ],
    ids=lambda p: p.name + str(p.manifold),
)
def test_problems_are_invariant_under_their_group(problem, rng):
    x = random_point(problem.manifold, rng)
    if isinstance(problem.symmetry, Sign):
        moved = [-p for p in x] if isinstance(x, list) else -x
    else:
        moved = x @ np.linalg.qr(rng.standard_normal((x.shape[1],) * 2))[0]
    assert problem.cost(moved) == pytest.approx(problem.cost(x), rel=1e-12)
    assert problem.symmetry.distance(moved, x) == pytest.approx(0.0, abs=1e-10)
