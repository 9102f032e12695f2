"""Manifold conformance: the same checks on every supported manifold, and point validation."""

import tracemalloc

import numpy as np
import pytest
from pymanopt.manifolds import (
    ComplexEuclidean,
    Euclidean,
    Grassmann,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)

from manifoldscape import testing
from manifoldscape.core import checks
from manifoldscape.geometry import (
    batch_item,
    check_point,
    constraint_residual,
    random_point,
    same_point,
    stack_batch,
    tangent_basis,
)

MANIFOLDS = {
    "sphere": lambda: Sphere(7),
    "sphere-matrix": lambda: Sphere(4, 3),
    "stiefel": lambda: Stiefel(6, 3),
    "stiefel-square": lambda: Stiefel(4, 4),
    "grassmann": lambda: Grassmann(7, 2),
    "special-orthogonal": lambda: SpecialOrthogonalGroup(4),
    "euclidean": lambda: Euclidean(5),
    "euclidean-matrix": lambda: Euclidean(3, 2),
    "complex-euclidean": lambda: ComplexEuclidean(4),
    "product-sphere-sphere": lambda: Product([Sphere(4), Sphere(6)]),
    "product-so-stiefel": lambda: Product([SpecialOrthogonalGroup(3), Stiefel(5, 2)]),
    "product-sphere-complex": lambda: Product([Sphere(3), ComplexEuclidean(2)]),
}


def _flat(batch, count):
    """Real coordinates of a batch of ambient vectors, one row per vector."""
    rows = []
    for k in range(count):
        item = batch_item(batch, k)
        parts = item if isinstance(item, list) else [item]
        flat = np.concatenate([np.ravel(np.asarray(p)) for p in parts])
        rows.append(np.concatenate([flat.real, flat.imag]) if np.iscomplexobj(flat) else flat)
    return np.array(rows)


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_manifold_conformance(name, rng):
    manifold = MANIFOLDS[name]()
    check = testing.assert_manifold(manifold, seed=rng)
    assert check.basis_dim == manifold.dim
    assert check.basis_vectors_checked == manifold.dim  # all of them: small manifolds
    assert check.random_point_reproducible
    for slope in (check.retraction_slope, check.second_order_retraction_slope):
        assert np.isnan(slope) or slope == pytest.approx(2.0, abs=0.2)
    assert (
        np.isnan(check.second_order_tangential_slope)
        or check.second_order_tangential_slope > 2.8  # exact here
    )
    euclidean = name.startswith(("euclidean", "complex"))
    assert np.isnan(check.retraction_slope) == euclidean  # exact only on flat spaces
    # at a point given by the user, too
    point = random_point(manifold, rng)
    assert checks.check_manifold(manifold, point, seed=rng).passed


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_tangent_basis_is_orthonormal_and_round_trips(name, rng):
    manifold = MANIFOLDS[name]()
    x = random_point(manifold, rng)
    basis = tangent_basis(manifold, x)
    d = basis.dim
    vectors = basis.vectors()
    # Gram matrix in the flattened real embedding (the metric of every supported manifold)
    flat = _flat(vectors, d)
    np.testing.assert_allclose(flat @ flat.T, np.eye(d), atol=1e-12)
    # and with the manifold's own metric for a few pairs
    for i, j in rng.integers(d, size=(5, 2)):
        expected = float(i == j)
        value = manifold.inner_product(x, batch_item(vectors, i), batch_item(vectors, j))
        assert value == pytest.approx(expected, abs=1e-12)
    # coordinates → vectors → coordinates, batched and one by one
    c = rng.standard_normal((4, d))
    batch = basis.to_vectors(c)
    np.testing.assert_allclose(basis.to_coordinates_batch(batch), c, atol=1e-12)
    v = basis.to_vector(c[0])
    np.testing.assert_allclose(basis.to_coordinates(v), c[0], atol=1e-12)
    # vectors → coordinates → vectors for a tangent vector made by the projection
    w = manifold.projection(x, _ambient_like(x, rng))
    back = basis.to_vector(basis.to_coordinates(w))
    assert _flat(stack_batch([back]), 1) == pytest.approx(_flat(stack_batch([w]), 1), abs=1e-12)
    with pytest.raises(ValueError, match=rf"coordinates must have shape \(b, {d}\)"):
        basis.to_vectors(np.zeros((2, d + 1)))


def _ambient_like(x, rng):
    if isinstance(x, list):
        return [_ambient_like(p, rng) for p in x]
    z = rng.standard_normal(x.shape)
    return z + 1j * rng.standard_normal(x.shape) if np.iscomplexobj(x) else z


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_random_point_is_reproducible_and_on_the_manifold(name):
    manifold = MANIFOLDS[name]()
    first, second = random_point(manifold, 11), random_point(manifold, 11)
    assert same_point(first, second)
    assert not same_point(first, random_point(manifold, 12))
    assert constraint_residual(manifold, first) < 1e-12
    assert same_point(random_point(manifold, np.random.default_rng(11)), first)
    check_point(manifold, first, "x0")  # accepted
    if isinstance(manifold, SpecialOrthogonalGroup):
        assert np.linalg.det(first) == pytest.approx(1.0)


# --------------------------------------------------------------------------- check_point
def test_check_point_refuses_wrong_shape():
    with pytest.raises(ValueError, match=r"x0 must have shape \(5,\) for Sphere.*got \(4,\)"):
        check_point(Sphere(5), np.ones(4) / 2.0, "x0")
    with pytest.raises(ValueError, match=r"start must have shape \(6, 2\)"):
        check_point(Stiefel(6, 2), np.eye(6)[:, :3], "start")


def test_check_point_refuses_nan_and_inf():
    x = np.full(3, np.nan)
    with pytest.raises(ValueError, match="x0 must be finite"):
        check_point(Euclidean(3), x, "x0")
    with pytest.raises(ValueError, match="point must be finite"):
        check_point(ComplexEuclidean(2), np.array([1.0, np.inf + 0j]), "point")


def test_check_point_refuses_complex_for_a_real_manifold():
    x = np.array([1.0, 1j]) / np.sqrt(2)
    with pytest.raises(ValueError, match="x0 must be real for Sphere"):
        check_point(Sphere(2), x, "x0")
    # a complex array with zero imaginary part is accepted and returned real
    y = check_point(Sphere(2), np.array([1.0 + 0j, 0.0]), "x0")
    assert y.dtype == float


def test_check_point_refuses_points_off_the_manifold():
    with pytest.raises(ValueError, match=r"x0 is not on Sphere.*constraint residual 1"):
        check_point(Sphere(3), np.array([2.0, 0.0, 0.0]), "x0")
    with pytest.raises(ValueError, match=r"X is not on Stiefel"):
        check_point(Stiefel(4, 2), np.ones((4, 2)), "X")
    reflection = np.diag([-1.0, 1.0, 1.0])  # orthogonal, det −1
    with pytest.raises(ValueError, match=r"R is not on Special orthogonal group"):
        check_point(SpecialOrthogonalGroup(3), reflection, "R")


def test_check_point_on_products_names_the_factor():
    manifold = Product([Sphere(3), Euclidean(2)])
    with pytest.raises(TypeError, match=r"x0 must be a list of 2 arrays"):
        check_point(manifold, np.ones(5), "x0")
    with pytest.raises(ValueError, match=r"x0\[0\] is not on Sphere"):
        check_point(manifold, [np.ones(3), np.ones(2)], "x0")
    with pytest.raises(ValueError, match=r"x0\[1\] must have shape \(2,\)"):
        check_point(manifold, [np.eye(3)[0], np.ones(3)], "x0")


def test_check_manifold_validates_the_point():
    with pytest.raises(ValueError, match="point is not on"):
        checks.check_manifold(Sphere(3), np.ones(3))


# --------------------------------------------------------------------------- large sphere
def test_sphere_basis_is_matrix_free_at_n_100000(rng):
    n = 100_000
    manifold = Sphere(n)
    x = random_point(manifold, rng)
    tracemalloc.start()
    try:
        basis = tangent_basis(manifold, x)
        c = rng.standard_normal((3, n - 1))
        vectors = basis.to_vectors(c)
        back = basis.to_coordinates_batch(vectors)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert basis.dim == n - 1
    assert peak < 50 * 8 * n  # tens of vectors of length n, never n × n (80 GB)
    np.testing.assert_allclose(back, c, atol=1e-10)
    # tangent, and isometric: ‖B c‖ = ‖c‖, ⟨B c₀, B c₁⟩ = ⟨c₀, c₁⟩
    np.testing.assert_allclose(vectors @ x, 0.0, atol=1e-10)
    np.testing.assert_allclose(vectors @ vectors.T, c @ c.T, rtol=1e-10)
    # the conformance check samples the Gram matrix instead of forming all of it
    check = checks.check_manifold(manifold, x, seed=rng)
    assert check.passed, check.summary()
    assert 8 <= check.basis_vectors_checked < n - 1
