"""Eigenvalue problems: instances, user data, ground truth, bad input at the boundary."""

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

import manifoldscape as ms
from manifoldscape.problems import eigenspace, rayleigh, singular_pair


def _symmetric(n, seed=0):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a + a.T


def test_seeded_instances_are_reproducible():
    a, b = rayleigh(n=8, seed=3), rayleigh(n=8, seed=3)
    np.testing.assert_array_equal(a.objective.a, b.objective.a)
    assert not np.array_equal(a.objective.a, rayleigh(n=8, seed=4).objective.a)
    assert a.seed == 3 and a.parameters["n"] == 8


def test_rayleigh_truth_is_top_eigenvector_for_user_data():
    a = _symmetric(12)
    problem = rayleigh(a)
    values, vectors = np.linalg.eigh(a)
    assert problem.distance_to_truth(vectors[:, -1]) < 1e-10
    assert problem.cost(problem.truth) == pytest.approx(-values[-1])
    assert problem.recovered(-vectors[:, -1]) is True
    assert problem.recovered(vectors[:, 0]) is False


@pytest.mark.parametrize("kind", ["sparse", "operator"])
def test_rayleigh_accepts_matrix_free_data(kind):
    a = _symmetric(30, seed=1)
    if kind == "sparse":
        data = scipy.sparse.csr_array(a)
    else:
        data = scipy.sparse.linalg.aslinearoperator(a)
    problem, dense = rayleigh(data), rayleigh(a)
    x = np.random.default_rng(0).standard_normal(30)
    x /= np.linalg.norm(x)
    assert problem.cost(x) == pytest.approx(dense.cost(x))
    np.testing.assert_allclose(problem.riemannian_gradient(x), dense.riemannian_gradient(x))
    assert problem.distance_to_truth(dense.truth) < 1e-8


def test_cost_and_gradient_share_one_product_per_point():
    calls = []
    a = _symmetric(10)

    def matvec(v):
        calls.append(1)
        return a @ v

    op = scipy.sparse.linalg.LinearOperator((10, 10), matvec=matvec, rmatvec=matvec)
    problem = rayleigh(op)
    x = np.ones(10) / np.sqrt(10)
    calls.clear()
    problem.cost(x), problem.euclidean_gradient(x), problem.riemannian_gradient(x)
    assert len(calls) == 1
    problem.riemannian_hessian(x, problem.riemannian_gradient(x))
    assert len(calls) == 2  # one more product for the Hessian, none to recompute the gradient


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.ones((3, 4)), "square"),
        (np.triu(np.ones((4, 4))), "symmetric"),
        (np.full((3, 3), np.nan), "finite"),
        (np.eye(3) * 1j, "real"),
        (np.ones(4), "2 dimensions"),
        ("matrix", "numeric"),
        (scipy.sparse.csr_array(np.triu(np.ones((4, 4)))), "symmetric"),
        (scipy.sparse.linalg.aslinearoperator(np.triu(np.ones((4, 4)) * 3)), "symmetric"),
    ],
)
def test_rayleigh_refuses_bad_matrices(data, message):
    with pytest.raises((ValueError, TypeError), match=message) as info:
        rayleigh(data)
    assert "A" in str(info.value)


def test_factories_refuse_bad_parameters():
    with pytest.raises(ValueError, match="n must be at least 2"):
        rayleigh(n=1)
    with pytest.raises(TypeError, match="n must be an integer"):
        rayleigh(n=2.5)
    with pytest.raises(ValueError, match="spectrum"):
        rayleigh(n=4, spectrum="flat")
    with pytest.raises(ValueError, match="p must be smaller"):
        eigenspace(n=3, p=3)
    with pytest.raises(ValueError, match="manifold must be"):
        eigenspace(manifold="sphere")
    with pytest.raises(TypeError, match="seed"):
        rayleigh(n=4, seed="zero")
    with pytest.raises(TypeError, match="unknown parameter"):
        ms.make_problem("rayleigh", size=3)
    with pytest.raises(ValueError, match=r"unknown problem .nope.*rayleigh"):
        ms.make_problem("nope")


def test_singular_pair_user_data():
    a = np.random.default_rng(2).standard_normal((5, 7))
    problem = singular_pair(a)
    u, s, vt = np.linalg.svd(a)
    assert problem.distance_to_truth([u[:, 0], vt[0]]) < 1e-8
    assert problem.distance_to_truth([-u[:, 0], -vt[0]]) < 1e-8
    assert problem.cost([u[:, 0], vt[0]]) == pytest.approx(-s[0])


def test_eigenspace_truth_modulo_rotation():
    problem = eigenspace(n=8, p=3, manifold="stiefel", seed=1)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    assert problem.distance_to_truth(problem.truth @ q) < 1e-12
    assert problem.cost(problem.truth @ q) == pytest.approx(problem.cost(problem.truth))
    values = problem.objective.eigenvalues
    assert problem.cost(problem.truth) == pytest.approx(-0.5 * values[:3].sum())


def test_repeated_eigenvalue_gives_no_truth():
    a = np.diag([3.0, 3.0, 1.0, 0.0])
    assert rayleigh(a).truth is None
    with pytest.raises(ValueError, match="no ground truth"):
        rayleigh(a).distance_to_truth(np.eye(4)[0])
