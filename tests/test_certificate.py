"""Certificates on landscapes known exactly (seeds 000, 001, 003) and the never-over-claim rules."""

import itertools

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
from pymanopt.manifolds import ComplexEuclidean, Euclidean

import manifoldscape as ms
from manifoldscape.core.certificate import Verdict, certify
from manifoldscape.core.symmetry import Phase
from manifoldscape.problems import eigenspace, rayleigh, singular_pair


@pytest.mark.parametrize("n", [5, 20])
def test_rayleigh_critical_points_have_index_i_minus_1(n):
    problem = rayleigh(n=n, spectrum="random", seed=n)
    lam, vectors = problem.objective.eigenvalues, problem.objective.eigenvectors
    for i in range(n):
        expected = np.sort(-2.0 * (np.delete(lam, i) - lam[i]))
        for sign in (1.0, -1.0):
            cert = certify(problem, sign * vectors[:, i])
            assert cert.index == i and cert.index_exact
            want = {0: Verdict.LOCAL_MINIMIZER, n - 1: Verdict.LOCAL_MAXIMIZER}.get(
                i, Verdict.STRICT_SADDLE
            )
            assert cert.verdict is want
            np.testing.assert_allclose(
                cert.eigenvalues, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max()
            )
            assert cert.symmetry_dimension == 0 and cert.method == "dense"


def test_singular_pair_landscape_matches_seed_000():
    problem = singular_pair(m=6, seed=2)
    u, v = problem.objective.left, problem.objective.right
    for i in range(6):
        for su, sv in itertools.product((1.0, -1.0), repeat=2):
            cert = certify(problem, [su * u[:, i], sv * v[:, i]])
            if i == 0 and su == sv:
                assert cert.verdict is Verdict.LOCAL_MINIMIZER
            elif i == 0:
                assert cert.verdict is Verdict.LOCAL_MAXIMIZER
            else:
                assert cert.verdict is Verdict.STRICT_SADDLE, (i, su, sv, cert)
            assert np.isclose(cert.cost, -su * sv * problem.objective.singular_values[i])


@pytest.mark.parametrize("manifold", ["grassmann", "stiefel"])
def test_eigenspace_index_counts_inverted_pairs(manifold):
    n, p = 6, 2
    problem = eigenspace(n=n, p=p, manifold=manifold, spectrum="random", seed=4)
    lam, q = problem.objective.eigenvalues, problem.objective.eigenvectors
    verdicts = []
    for subset in itertools.combinations(range(n), p):
        cert = certify(problem, q[:, list(subset)])
        expected = sum(1 for i in subset for j in range(n) if j not in subset and lam[j] > lam[i])
        assert cert.index == expected, (subset, cert)
        assert cert.symmetry_dimension == (1 if manifold == "stiefel" else 0)
        np.testing.assert_allclose(cert.symmetry_eigenvalues, 0.0, atol=1e-12)
        verdicts.append(cert.verdict)
    assert verdicts.count(Verdict.LOCAL_MINIMIZER) == 1 and verdicts[0] is Verdict.LOCAL_MINIMIZER
    assert verdicts.count(Verdict.LOCAL_MAXIMIZER) == 1


def test_stiefel_orbit_directions_are_symmetry_not_degeneracy():
    problem = eigenspace(n=7, p=3, manifold="stiefel", seed=1)
    rng = np.random.default_rng(0)
    r, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    cert = certify(problem, problem.truth @ r)  # another point of the orbit of the minimizer
    assert cert.verdict is Verdict.LOCAL_MINIMIZER
    assert cert.symmetry_dimension == 3 and cert.null_dimension == 0
    assert cert.tangent_dimension == problem.manifold.dim


def test_repeated_top_eigenvalue_is_degenerate_never_minimizer():
    lam = np.array([2.0, 2.0, 1.0, -1.0])
    problem = rayleigh(n=4, spectrum=lam, seed=0)
    cert = certify(problem, problem.objective.eigenvectors[:, 0])
    assert cert.verdict is Verdict.DEGENERATE
    assert cert.null_dimension == 1 and cert.min_eigenvalue == pytest.approx(0.0, abs=1e-12)


def test_random_point_is_not_critical():
    problem = rayleigh(n=30, seed=0)
    x = np.random.default_rng(1).standard_normal(30)
    cert = certify(problem, x / np.linalg.norm(x))
    assert cert.verdict is Verdict.NOT_CRITICAL
    assert cert.gradient_norm > cert.gradient_tolerance


def test_tolerances_scale_with_the_problem():
    small, large = rayleigh(n=10, seed=0), rayleigh(n=10, spectrum=1e6 * np.linspace(1, -1, 10))
    c_small = certify(small, small.truth)
    c_large = certify(large, large.truth)
    ratio = c_large.eigenvalue_tolerance / c_small.eigenvalue_tolerance
    assert 1e5 < ratio < 1e7
    assert c_large.verdict is Verdict.LOCAL_MINIMIZER
    with pytest.raises(ValueError, match="rtol_gradient"):
        certify(small, small.truth, rtol_gradient=-1)


def test_explicit_tolerance_overrides():
    problem = rayleigh(n=6, seed=0)
    v = problem.objective.eigenvectors[:, 1]
    cert = certify(problem, v, eigenvalue_tolerance=10.0)  # larger than every eigenvalue
    assert cert.verdict is Verdict.DEGENERATE and cert.eigenvalue_tolerance == 10.0


def test_circle_of_minimizers_needs_the_phase_symmetry():
    """f(z) = (|z|² − 1)² on C: a circle of minimizers (the phase orbit, seed 003 §2.1)."""
    manifold = ComplexEuclidean(1)

    def cost(z):
        return (anp.sum(anp.real(z * anp.conj(z))) - 1.0) ** 2

    z = np.array([np.exp(0.7j)])
    plain = ms.Problem.from_autograd(manifold, cost)
    assert certify(plain, z).verdict is Verdict.DEGENERATE  # flat along the circle: no over-claim
    symmetric = ms.Problem.from_autograd(manifold, cost, symmetry=Phase())
    cert = certify(symmetric, z)
    assert cert.verdict is Verdict.LOCAL_MINIMIZER and cert.symmetry_dimension == 1
    assert cert.eigenvalues == pytest.approx([8.0])
    top = certify(symmetric, np.zeros(1, dtype=complex))  # the maximizer at 0
    assert top.verdict is Verdict.LOCAL_MAXIMIZER and top.symmetry_dimension == 0


def test_a_declared_symmetry_that_is_not_one_is_reported():
    b = np.arange(6.0).reshape(3, 2)
    problem = ms.Problem.from_autograd(
        Euclidean(3, 2),
        lambda x: anp.sum((x - b) ** 2),  # not invariant under X ↦ XR
        symmetry=ms.symmetry.OrthogonalRight(2),
    )
    cert = certify(problem, b)
    # the orbit direction carries curvature 2: the declaration is refuted and the verdict comes
    # from the whole spectrum (here every eigenvalue is 2)
    assert not cert.symmetry_verified and cert.symmetry_dimension == 0
    assert cert.eigenvalues == pytest.approx([2.0] * 6)
    assert cert.verdict is Verdict.LOCAL_MINIMIZER
    assert any("does not leave the cost invariant" in note for note in cert.notes)


def test_krylov_agrees_with_dense():
    problem = rayleigh(n=300, spectrum="random", seed=5)
    v = problem.objective.eigenvectors[:, 3]
    dense = certify(problem, v, method="dense")
    sparse = certify(problem, v, method="krylov", lanczos_k=6)
    assert sparse.method == "krylov" and dense.method == "dense"
    np.testing.assert_allclose(sparse.eigenvalues[:6], dense.eigenvalues[:6], rtol=1e-7)
    assert sparse.max_eigenvalue == pytest.approx(dense.max_eigenvalue, rel=1e-7)
    assert sparse.index == dense.index == 3 and sparse.index_exact
    assert sparse.verdict is dense.verdict is Verdict.STRICT_SADDLE
    # a deep saddle: Krylov goes on until every negative eigenvalue is resolved, and the deflation
    # run confirms that none is missing
    deep = certify(problem, problem.objective.eigenvectors[:, 20], method="krylov")
    assert (deep.index, deep.index_exact, deep.verdict) == (20, True, Verdict.STRICT_SADDLE)
    assert deep.hessian_products < problem.manifold.dim


def test_krylov_separates_symmetry_directions():
    problem = eigenspace(n=40, p=3, manifold="stiefel", spectrum="random", seed=3)
    dense = certify(problem, problem.truth)
    sparse = certify(problem, problem.truth, method="krylov", lanczos_k=1)
    assert sparse.method == "krylov" and sparse.symmetry_dimension == 3
    assert sparse.verdict is dense.verdict is Verdict.LOCAL_MINIMIZER
    assert sparse.min_eigenvalue == pytest.approx(dense.min_eigenvalue, rel=1e-7)


def test_certify_matrix_free_at_n_100000():
    """Sparse plus low rank A, never formed: Krylov on the matrix-free Hessian."""
    n = 100_000
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    s = scipy.sparse.csr_array((0.3 * rng.standard_normal(3 * n), (rows, cols)), shape=(n, n))
    s = (s + s.T) * 0.5
    low = np.linalg.qr(rng.standard_normal((n, 2)))[0]
    weights = np.array([6.0, 4.0])

    def apply(v):
        return (
            s @ v + low @ (weights[:, None] * (low.T @ v))
            if v.ndim == 2
            else (s @ v + low @ (weights * (low.T @ v)))
        )

    a = scipy.sparse.linalg.LinearOperator((n, n), matvec=apply, rmatvec=apply, matmat=apply)
    problem = rayleigh(a)
    cert = certify(problem, problem.truth, lanczos_k=3)
    assert cert.method == "krylov" and cert.tangent_dimension == n - 1
    assert cert.verdict is Verdict.LOCAL_MINIMIZER
    top2 = scipy.sparse.linalg.eigsh(a, k=2, which="LA", return_eigenvectors=False)
    assert cert.min_eigenvalue == pytest.approx(2 * (top2.max() - top2.min()), rel=1e-6)


def test_certify_refuses_bad_points():
    problem = rayleigh(n=5, seed=0)
    with pytest.raises(ValueError, match="point must have shape"):
        certify(problem, np.ones(4) / 2)
    with pytest.raises(ValueError, match="not on"):
        certify(problem, np.ones(5))
    with pytest.raises(ValueError, match="finite"):
        certify(problem, np.full(5, np.nan))


def test_certificate_to_dict_is_json_ready():
    import json

    problem = rayleigh(n=5, seed=0)
    data = certify(problem, problem.truth).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["verdict"] == "local_minimizer"
    assert len(data["eigenvalues"]) == 4
