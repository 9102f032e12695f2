"""The matrix groups a user meets at once: O(p) on the left, column signs, column permutations."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import Oblique
from scipy.linalg import expm

import manifoldscape as ms
from manifoldscape.core.symmetry import ColumnPermutations, ColumnSigns, OrthogonalLeft


def _rotation(p: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((p, p)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize(("p", "n"), [(2, 5), (3, 7), (4, 4)])
def test_orthogonal_left_distance_and_align(p: int, n: int) -> None:
    rng = np.random.default_rng(p * 10 + n)
    group = OrthogonalLeft(p)
    x = rng.standard_normal((p, n))
    r = _rotation(p, rng)
    assert group.distance(x, r @ x) < 1e-12 * np.linalg.norm(x)
    np.testing.assert_allclose(group.align(r @ x, x), x, atol=1e-12)
    y = rng.standard_normal((p, n))
    d = group.distance(x, y)
    assert d <= np.linalg.norm(x - y) + 1e-12
    # no rotation of y gets closer than the Procrustes optimum
    for _ in range(20):
        assert d <= np.linalg.norm(x - _rotation(p, rng) @ y) + 1e-12
    assert group.dimension == p * (p - 1) // 2


def test_orthogonal_left_orbit_tangents_are_derivatives_of_the_action() -> None:
    rng = np.random.default_rng(1)
    p, n = 3, 6
    x = rng.standard_normal((p, n))
    tangents = OrthogonalLeft(p).orbit_tangent_vectors(x)
    assert len(tangents) == 3
    omega = np.zeros((p, p))
    omega[0, 1], omega[1, 0] = 1.0, -1.0
    t = 1e-6
    numeric = (expm(t * omega) @ x - expm(-t * omega) @ x) / (2 * t) / np.sqrt(2.0)
    np.testing.assert_allclose(tangents[0], numeric, atol=1e-8)


def test_orthogonal_left_refuses_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="3 × n"):
        OrthogonalLeft(3).distance(np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        OrthogonalLeft(0)


def test_certificate_of_a_gram_fit_on_oblique_needs_the_left_action() -> None:
    """f(Y) = ‖YᵀY − Y₀ᵀY₀‖² on Oblique(p, n): zero eigenvalues along O(p)·Y₀ until declared."""
    rng = np.random.default_rng(3)
    p, n = 3, 8
    y0 = rng.standard_normal((p, n))
    y0 /= np.linalg.norm(y0, axis=0)
    target = y0.T @ y0

    def cost(y):
        return anp.sum((y.T @ y - target) ** 2)

    manifold = Oblique(p, n)
    bare = ms.Problem.from_autograd(manifold, cost)
    declared = ms.Problem.from_autograd(manifold, cost, symmetry=OrthogonalLeft(p))
    assert ms.certify(bare, y0).verdict is ms.Verdict.DEGENERATE
    certificate = ms.certify(declared, y0)
    assert certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    rotated = _rotation(p, rng) @ y0
    assert ms.certify(declared, rotated).verdict is ms.Verdict.LOCAL_MINIMIZER
    assert declared.symmetry.distance(rotated, y0) < 1e-10


def test_column_signs() -> None:
    rng = np.random.default_rng(4)
    group = ColumnSigns(3)
    x = rng.standard_normal((5, 3))
    flipped = x * np.array([1.0, -1.0, -1.0])
    assert group.distance(x, flipped) < 1e-14
    np.testing.assert_allclose(group.align(flipped, x), x)
    y = rng.standard_normal((5, 3))
    best = min(
        np.linalg.norm(x - y * np.array(s))
        for s in np.array(np.meshgrid(*[[1.0, -1.0]] * 3)).T.reshape(-1, 3)
    )
    assert group.distance(x, y) == pytest.approx(best, rel=1e-12)
    with pytest.raises(ValueError, match="3 columns"):
        group.distance(np.ones((5, 2)), np.ones((5, 2)))


def test_column_permutations() -> None:
    rng = np.random.default_rng(5)
    group = ColumnPermutations(4)
    x = rng.standard_normal((6, 4))
    permuted = x[:, [2, 0, 3, 1]]
    assert group.distance(x, permuted) < 1e-14
    # signs are not part of the group
    assert group.distance(x, -x) > 0.1
    np.testing.assert_allclose(group.align(permuted, x), x)


def test_degenerate_pca_on_stiefel_suggests_the_right_action() -> None:
    """PCA on Stiefel(n, r): the r(r−1)/2 zero eigenvalues are the O(r) orbit; the note says so."""
    from pymanopt.manifolds import Stiefel

    rng = np.random.default_rng(6)
    n, r = 8, 3
    a = rng.standard_normal((n, n))
    a = a + a.T
    _, v = np.linalg.eigh(a)
    top = v[:, -r:]

    def cost(x):
        return -anp.trace(x.T @ a @ x)

    bare = ms.Problem.from_autograd(Stiefel(n, r), cost)
    certificate = ms.certify(bare, top)
    assert certificate.verdict is ms.Verdict.DEGENERATE
    assert any("OrthogonalRight(3)" in note for note in certificate.notes), certificate.notes
    declared = ms.Problem.from_autograd(
        Stiefel(n, r), cost, symmetry=ms.symmetry.OrthogonalRight(r)
    )
    fixed = ms.certify(declared, top)
    assert fixed.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert not any("declare symmetry" in note for note in fixed.notes)


def test_degenerate_gram_fit_on_oblique_suggests_the_left_action() -> None:
    rng = np.random.default_rng(7)
    p, n = 3, 8
    y0 = rng.standard_normal((p, n))
    y0 /= np.linalg.norm(y0, axis=0)
    target = y0.T @ y0
    problem = ms.Problem.from_autograd(Oblique(p, n), lambda y: anp.sum((y.T @ y - target) ** 2))
    certificate = ms.certify(problem, y0)
    assert any("OrthogonalLeft(3)" in note for note in certificate.notes), certificate.notes


def test_no_suggestion_when_the_flat_directions_are_not_an_orbit() -> None:
    """A cost flat along a direction no candidate group explains gets no suggestion."""
    from pymanopt.manifolds import Euclidean

    problem = ms.Problem.from_autograd(Euclidean(3, 2), lambda y: anp.sum(y[:, 0] ** 2))
    certificate = ms.certify(problem, np.zeros((3, 2)))
    assert certificate.verdict is ms.Verdict.DEGENERATE
    assert not any("declare symmetry" in note for note in certificate.notes)
