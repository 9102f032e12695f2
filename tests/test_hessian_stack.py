"""The stacked Euclidean-to-Riemannian Hessian conversion equals the per-vector one.

``geometry.batched`` converts a whole stack of directions at once on the sphere, Stiefel,
oblique, Euclidean and SO(n) manifolds; these tests hold it to the per-vector path of
``Problem.riemannian_hessian`` (pymanopt's own conversion) within 1e-13 of the terms it cancels,
for several sizes and shapes, with the objective's Hessian batched or not, and check the term
sizes it reports, its over/underflow handling, and the Hessian matrix built from it.  The
conversion itself is checked against autograd and by Taylor remainders in test_derivatives.py
(every registered problem) and test_conformance.py (every manifold).
"""

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import (
    Euclidean,
    Grassmann,
    Oblique,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)

from manifoldscape import testing
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.tolerance import safe_norm
from manifoldscape.geometry import (
    batch_item,
    projection_stack,
    random_point,
    stacks_hessian,
    tangent_basis,
)
from manifoldscape.geometry.batched import row_norms

MANIFOLDS = {
    "sphere 7": lambda: Sphere(7),
    "sphere 3x4": lambda: Sphere(3, 4),
    "stiefel 6x2": lambda: Stiefel(6, 2),
    "stiefel 5x3 k=2": lambda: Stiefel(5, 3, k=2),
    "oblique 4x3": lambda: Oblique(4, 3),
    "euclidean 5": lambda: Euclidean(5),
    "euclidean 3x2": lambda: Euclidean(3, 2),
    "SO(4)": lambda: SpecialOrthogonalGroup(4),
    "SO(3) k=2": lambda: SpecialOrthogonalGroup(3, k=2),
}


class QuarticObjective(Objective):
    """f(x) = ½ vec(x)ᵀ A vec(x) + bᵀ vec(x) + ¼ Σ x⁴, with a Hessian batched on a leading axis."""

    def __init__(self, shape, rng, batched):
        size = int(np.prod(shape))
        a = rng.standard_normal((size, size))
        self.a, self.b, self.shape = a + a.T, rng.standard_normal(size), shape
        self.batched_hessian = batched

    def cost(self, x, data):
        v = x.reshape(-1)
        return float(0.5 * v @ self.a @ v + self.b @ v + 0.25 * np.sum(v**4))

    def euclidean_gradient(self, x, data):
        v = x.reshape(-1)
        return (self.a @ v + self.b + v**3).reshape(x.shape)

    def euclidean_hessian(self, x, data, direction):
        v = x.reshape(-1)
        u = direction.reshape(-1, v.size)  # one direction or a stack of them
        out = u @ self.a + 3.0 * (v**2) * u
        return out.reshape(direction.shape)

    def autograd_cost(self, x):
        v = anp.reshape(x, (-1,))
        return 0.5 * anp.dot(v, anp.dot(self.a, v)) + anp.dot(self.b, v) + 0.25 * anp.sum(v**4)


def _problem(name, rng, batched):
    manifold = MANIFOLDS[name]()
    shape = np.shape(random_point(manifold, rng))
    return Problem(manifold, QuarticObjective(shape, rng, batched))


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_stacked_conversion_equals_per_vector(name, batched, rng):
    problem = _problem(name, rng, batched)
    assert stacks_hessian(problem.manifold)
    assert problem.stacks_hessian()
    x = random_point(problem.manifold, rng)
    basis = tangent_basis(problem.manifold, x)
    for count in sorted({1, min(3, basis.dim), basis.dim}):
        vectors = basis.to_vectors(rng.standard_normal((count, basis.dim)))
        terms: list[float] = []
        stacked = problem.riemannian_hessian_stack(x, vectors, count, terms)
        assert stacked.shape == vectors.shape
        assert len(terms) == count
        egrad = problem.euclidean_gradient(x)
        for k in range(count):
            u = batch_item(vectors, k)
            # reference: pymanopt's own conversion, one vector at a time
            ehess = problem.euclidean_hessian(x, problem.manifold.embedding(x, u))
            reference = problem.manifold.euclidean_to_riemannian_hessian(x, egrad, ehess, u)
            weingarten = reference - problem.manifold.projection(x, ehess)
            scale = safe_norm(ehess) + safe_norm(weingarten) + safe_norm(reference)
            assert scale > 0
            assert safe_norm(stacked[k] - reference) <= 1e-13 * scale
            assert abs(terms[k] - scale) <= 1e-13 * scale
            # and the one-vector path of the problem (stacked formulas on a stack of one when
            # the arrays are contiguous, pymanopt's methods otherwise)
            for vector in (u, np.ascontiguousarray(u)):
                single_terms: list[float] = []
                single = problem.riemannian_hessian(x, vector, single_terms)
                assert safe_norm(single - reference) <= 1e-13 * scale
                assert abs(single_terms[0] - scale) <= 1e-13 * scale
        # the list form goes through the same conversion
        listed = problem.riemannian_hessian_batch(x, vectors, count)
        np.testing.assert_array_equal(np.stack(listed), stacked)


@pytest.mark.parametrize("name", ["sphere 7", "stiefel 5x3 k=2", "oblique 4x3", "SO(4)"])
def test_stacked_hessian_matches_autograd_and_taylor(name, rng):
    problem = _problem(name, rng, batched=True)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-10)
    testing.assert_derivatives(problem, points=2, seed=rng)


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_hessian_matrix_from_the_stack(name, rng):
    problem = _problem(name, rng, batched=True)
    x = random_point(problem.manifold, rng)
    stacked = RiemannianHessian(problem, x)
    h = stacked.matrix(block=3)  # several blocks
    columns = np.stack(
        [stacked.apply_coordinates(e) for e in np.eye(stacked.dim)], axis=1
    )  # per-vector products
    scale = np.max(np.abs(columns))
    np.testing.assert_allclose(h, 0.5 * (columns + columns.T), rtol=0, atol=1e-12 * scale)
    assert stacked.asymmetry < 1e-12
    assert 0.0 <= stacked.asymmetry_norm < 1e-12 * scale
    assert stacked.term_size > 0
    assert stacked.applications == 2 * stacked.dim


def test_other_manifolds_keep_the_per_vector_path(rng):
    assert not stacks_hessian(Grassmann(5, 2))
    assert not stacks_hessian(Product([Sphere(3), Euclidean(2)]))

    class MySphere(Sphere):
        pass

    assert not stacks_hessian(MySphere(4))  # a subclass may change the geometry
    problem = _problem("sphere 7", rng, batched=True)
    assert not problem.stacks_hessian([np.zeros(7)])  # a product-style batch


def test_stacked_conversion_refuses_a_wrong_batched_shape(rng):
    problem = _problem("sphere 7", rng, batched=True)
    problem.objective.euclidean_hessian = lambda x, data, direction: direction[:, :3]
    x = random_point(problem.manifold, rng)
    vectors = tangent_basis(problem.manifold, x).to_vectors(np.eye(6)[:2])
    with pytest.raises(ValueError, match="euclidean_hessian returned shape"):
        problem.riemannian_hessian_stack(x, vectors, 2)


def test_row_norms_are_safe_norms_item_by_item():
    stack = np.array(
        [
            [3.0, 4.0, 0.0],
            [1e-200, 1e-200, 0.0],
            [1e200, -1e200, 1e199],
            [0.0, 0.0, 0.0],
            [np.inf, 1.0, 0.0],
            [np.nan, 1.0, 0.0],
        ]
    )
    got = row_norms(stack)
    expected = [safe_norm(row) for row in stack]
    np.testing.assert_allclose(got[:4], expected[:4], rtol=1e-15)
    assert got[1] > 0 and np.isfinite(got[2])
    assert got[4] == np.inf
    assert np.isnan(got[5])
    assert row_norms(np.zeros((2, 0))).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "manifold", [Sphere(20), Sphere(3, 4), Stiefel(6, 2), Oblique(4, 3)], ids=str
)
def test_batched_basis_maps_equal_one_vector_maps_bit_for_bit(manifold, rng):
    # the census relies on these being exactly the one-vector results (its runs are
    # sensitive to round-off, and must not change when the code is vectorised)
    x = random_point(manifold, rng)
    basis = tangent_basis(manifold, x)
    coordinates = rng.standard_normal((4, basis.dim))
    each = basis.to_vectors_each(coordinates)
    np.testing.assert_array_equal(each, np.stack([basis.to_vector(c) for c in coordinates]))
    ambient = rng.standard_normal(each.shape)
    np.testing.assert_array_equal(
        basis.to_coordinates_each(ambient, 3),
        np.stack([basis.to_coordinates(v) for v in ambient[:3]]),
    )
    np.testing.assert_array_equal(
        projection_stack(manifold, x, ambient, 4),
        np.stack([manifold.projection(x, v) for v in ambient]),
    )
    with pytest.raises(ValueError, match="coordinates must have shape"):
        basis.to_vectors_each(coordinates[:, :-1])
