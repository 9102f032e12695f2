"""Every registered problem: Taylor checks, agreement with autograd, batched Hessian products."""

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from manifoldscape import testing
from manifoldscape.core import checks
from manifoldscape.core.registry import problem_registry
from manifoldscape.geometry import batch_item, random_point, stack_batch, tangent_basis
from manifoldscape.problems import rayleigh

#: instance parameters per registered problem (several sizes each)
SIZES = {
    "rayleigh": [{"n": 3}, {"n": 10}, {"n": 40, "spectrum": "random"}],
    "singular_pair": [{"m": 3, "n": 3}, {"m": 5, "n": 4}, {"m": 8, "n": 12}],
    "eigenspace": [
        {"n": 5, "p": 1, "manifold": "grassmann"},
        {"n": 8, "p": 3, "manifold": "grassmann"},
        {"n": 8, "p": 3, "manifold": "stiefel"},
        {"n": 12, "p": 4, "manifold": "stiefel"},
    ],
    # with outliers the planted matrix is not a critical point of the robust loss (by design);
    # the outlier case is covered in test_low_rank.py
    "robust_recovery": [{"outlier_fraction": 0.0}, {"n": 10, "r": 3, "outlier_fraction": 0.0}],
    # dictionary learning: with Bernoulli–Gaussian codes the planted column is only near a
    # critical point (finite p); with one-sparse codes (seed 003 eq. 3.1) it is exactly critical.
    # loss="l1" has only a subgradient (Hessian 0 a.e.) and Huber is only piecewise C² (kinks at
    # |t| = μ cross the Taylor windows for large p): both are checked in test_dictionary_learning
    "dictionary_learning": [
        {"n": 3, "p": 40, "coefficients": "one_sparse"},
        {"n": 6, "p": 120, "loss": "l4", "coefficients": "one_sparse"},
        {"n": 5, "p": 150, "dictionary": "invertible", "coefficients": "one_sparse"},
    ],
    "dictionary_learning_one_sparse": [
        {"n": 3},
        {"n": 5, "loss": "logcosh", "mu": 0.1},
        {"n": 4, "loss": "l4", "A": "random"},
    ],
    "dictionary_learning_orthogonal": [
        {"n": 3, "p": 60, "coefficients": "one_sparse"},
        {"n": 5, "p": 200, "coefficients": "one_sparse"},
    ],
    "tensor_decomposition": [
        {"n": 3},
        {"n": 5},
        {"n": 4, "manifold": "sphere"},
        {"n": 5, "manifold": "orthogonal", "components": 3},
    ],
    # deconvolution: the planted point is exactly critical only for one-spike channels (blind)
    # and for λ = 0 (SaS); Huber and λ > 0 are checked in tests/test_deconvolution.py
    "blind_deconvolution": [
        {"n": 8, "p": 6, "model": "one-sparse"},
        {"n": 17, "p": 10, "model": "one-sparse", "loss": "l4"},
        {"n": 32, "p": 20, "model": "one-sparse", "mu": 0.1},
    ],
    "sas_deconvolution": [{"p0": 3, "m": 16, "lam": 0.0}, {"p0": 5, "m": 40, "lam": 0.0}],
}

CASES = [
    pytest.param(name, params, id=f"{name}-" + "-".join(str(v) for v in params.values()))
    for name in problem_registry.names()
    # a problem registered without sizes here is checked at its factory's defaults
    for params in SIZES.get(name, [{}])
]


def test_the_eigenvalue_problems_are_registered():
    assert set(SIZES) <= set(problem_registry.names())


def _build(name, params, seed):
    return problem_registry.get(name).factory(**params, seed=seed)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_derivatives_pass_the_taylor_checks(name, params, rng):
    problem = _build(name, params, int(rng.integers(2**31)))
    results = testing.assert_derivatives(problem, points=3, seed=rng)
    assert len(results) == 3
    for gradient, hessian in results:
        assert gradient.slope >= checks.GRADIENT_SLOPE_MIN
        assert hessian.slope >= checks.HESSIAN_SLOPE_MIN


@pytest.mark.parametrize(("name", "params"), CASES)
def test_derivatives_match_autograd(name, params, rng):
    problem = _build(name, params, int(rng.integers(2**31)))
    comparison = testing.assert_matches_autograd(problem, points=3, seed=rng, rtol=1e-10)
    assert comparison.points == 3


@pytest.mark.parametrize(("name", "params"), CASES)
def test_derivatives_at_the_ground_truth(name, params, rng):
    problem = _build(name, params, int(rng.integers(2**31)))
    if problem.truth is None:
        pytest.skip(f"{name} has no ground truth at {params}")
    assert problem.gradient_norm(problem.truth) < 1e-10
    testing.assert_gradient(problem, problem.truth, seed=rng)
    testing.assert_hessian(problem, problem.truth, seed=rng)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_batched_hessian_equals_one_by_one(name, params, rng):
    problem = _build(name, params, int(rng.integers(2**31)))
    x = random_point(problem.manifold, rng)
    basis = tangent_basis(problem.manifold, x)
    count = min(basis.dim, 7)
    batch = basis.to_vectors(rng.standard_normal((count, basis.dim)))
    batched = problem.riemannian_hessian_batch(x, batch, count)
    assert len(batched) == count
    for k in range(count):
        single = problem.riemannian_hessian(x, batch_item(batch, k))
        for a, b in zip(_parts(batched[k]), _parts(single), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # a batch rebuilt from its items gives the same products
    again = problem.riemannian_hessian_batch(
        x, stack_batch([batch_item(batch, k) for k in range(count)]), count
    )
    for a, b in zip(again, batched, strict=True):
        for p, q in zip(_parts(a), _parts(b), strict=True):
            np.testing.assert_array_equal(p, q)


def _parts(vector):
    return list(vector) if isinstance(vector, list) else [vector]


# --------------------------------------------------------------------------- matrix-free A
def _symmetric(n, rng):
    a = rng.standard_normal((n, n))
    return a + a.T


def test_rayleigh_with_a_sparse_matrix(rng):
    n = 30
    a = scipy.sparse.random_array((n, n), density=0.2, rng=rng) + scipy.sparse.eye_array(n)
    a = (a + a.T).tocsr()
    problem = rayleigh(a)
    testing.assert_derivatives(problem, points=3, seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-10)
    dense = rayleigh(a.toarray())
    x = random_point(problem.manifold, rng)
    assert problem.cost(x) == pytest.approx(dense.cost(x), rel=1e-13)


def test_rayleigh_with_a_linear_operator(rng):
    n = 25
    dense = _symmetric(n, rng)
    operator = scipy.sparse.linalg.LinearOperator(
        (n, n),
        matvec=lambda v: dense @ v,
        rmatvec=lambda v: dense @ v,
        matmat=lambda m: dense @ m,
        dtype=float,
    )
    problem = rayleigh(operator)
    testing.assert_derivatives(problem, points=3, seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-10)
    x = random_point(problem.manifold, rng)
    basis = tangent_basis(problem.manifold, x)
    batch = basis.to_vectors(rng.standard_normal((4, basis.dim)))
    batched = problem.riemannian_hessian_batch(x, batch, 4)
    for k in range(4):
        single = problem.riemannian_hessian(x, batch_item(batch, k))
        np.testing.assert_allclose(batched[k], single, rtol=1e-12, atol=1e-13)
