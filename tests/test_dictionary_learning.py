"""Dictionary learning: derivatives, stable losses, one-sparse landscape, recovery, bad input."""

import itertools

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core import checks
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.symmetry import SignedPermutation
from manifoldscape.geometry import random_point, random_tangent_vector
from manifoldscape.problems import (
    dictionary_learning,
    dictionary_learning_one_sparse,
    dictionary_learning_orthogonal,
)
from manifoldscape.problems.dictionary_learning import (
    ColumnOrbit,
    dictionary_column_correlation,
    dictionary_error,
    orthogonal_dictionary_gap,
    precondition_data,
    sparsity_loss,
    unit_norm_tight_frame,
)
from manifoldscape.solvers import deflate

SMOOTH = ["logcosh", "l4", "huber"]
INSTANCES = [
    {"n": 3, "p": 50},
    {"n": 7, "p": 300},
    {"n": 6, "p": 400, "dictionary": "invertible"},
    {"n": 5, "p": 400, "dictionary": "overcomplete", "columns": 9},
]
CASES = [
    pytest.param(loss, kw, id=f"{loss}-" + "-".join(str(v) for v in kw.values()))
    for loss in SMOOTH
    for kw in INSTANCES
]


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize(("loss", "kw"), CASES)
def test_smooth_losses_match_autograd(loss, kw):
    problem = dictionary_learning(loss=loss, mu=0.1, seed=3, **kw)
    testing.assert_matches_autograd(problem, points=3, seed=5, rtol=1e-10)


@pytest.mark.parametrize(("loss", "kw"), [c for c in CASES if c.values[0] != "huber"])
def test_smooth_losses_pass_the_taylor_checks(loss, kw):
    problem = dictionary_learning(loss=loss, mu=0.1, seed=3, **kw)
    testing.assert_derivatives(problem, points=3, seed=5)


@pytest.mark.parametrize("mu", [1e-2, 1e-3])
def test_logcosh_taylor_checks_at_small_mu(mu):
    """μ = 1e-2 (the acceptance setting): third derivatives of size 1/μ² still give slope 3."""
    problem = dictionary_learning(n=10, p=1000, loss="logcosh", mu=mu, seed=4)
    testing.assert_derivatives(problem, points=3, seed=6)


def test_huber_gradient_everywhere_and_hessian_inside_one_smooth_piece():
    """Huber is C¹ and piecewise C² (seed 003 eq. 3.3): the gradient passes the Taylor check at
    any point; the Hessian (the a.e. value 1_{|t| ≤ μ}, eq. 3.10) passes where the check's
    segment crosses no kink |qᵀȳ_k| = μ, which a few samples and a fixed seed provide."""
    big = dictionary_learning(n=8, p=2000, loss="huber", mu=0.05, seed=1)
    for k in range(3):
        testing.assert_gradient(big, seed=10 + k)
    small = dictionary_learning(n=4, p=6, loss="huber", mu=0.3, seed=2)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = random_point(small.manifold, rng)
        check = checks.check_hessian(small, x, seed=rng)
        assert check.passed, check.summary()


def test_l1_subgradient_is_the_gradient_where_differentiable(rng):
    """Where no qᵀȳ_k vanishes f = (1/p)‖Ȳᵀq‖₁ is smooth; its Euclidean gradient (1/p)Ȳ sign(t)
    matches central differences and autograd; its Hessian is the a.e. value 0."""
    problem = dictionary_learning(n=6, p=200, loss="l1", seed=7)
    ybar = problem.objective.data
    ybar = ybar[:, np.linalg.norm(ybar, axis=0) > 0]  # samples with X₀ = 0 add nothing
    twin = problem.autograd_twin()
    for _ in range(3):
        q = random_point(problem.manifold, rng)
        t = ybar.T @ q
        assert np.min(np.abs(t)) > 0
        g = problem.euclidean_gradient(q)
        np.testing.assert_allclose(g, twin.euclidean_gradient(q), rtol=1e-12, atol=1e-15)
        # a step small enough that no t_k changes sign: f is linear in the ambient space there
        h = 0.1 * np.min(np.abs(t)) / np.max(np.linalg.norm(ybar, axis=0))
        for e in np.eye(6):
            fd = np.sum(np.abs(ybar.T @ (q + h * e))) - np.sum(np.abs(ybar.T @ (q - h * e)))
            assert fd / (2 * h * 200) == pytest.approx(g @ e, rel=1e-7, abs=1e-12)
    # the Hessian is the a.e. value 0: only the sphere's curvature −⟨∇f, q⟩ remains
    u = random_tangent_vector(problem.manifold, q, rng)
    np.testing.assert_array_equal(problem.euclidean_hessian(q, u), np.zeros(6))
    np.testing.assert_allclose(
        problem.riemannian_hessian(q, u), -(problem.euclidean_gradient(q) @ q) * u, atol=1e-15
    )


def test_l1_subgradient_method_finds_a_column():
    """The ℓ1 minimizers are the columns themselves (sharp minima, seed 001); the certificate
    cannot see them (the subgradient does not vanish there) and says ``not_critical``."""
    problem = dictionary_learning(n=10, p=2000, theta=0.3, loss="l1", seed=0)
    for s in range(3):
        result = ms.solve(problem, "subgradient", seed=s)
        assert dictionary_column_correlation(problem, result.point) > 0.9999
        assert result.certificate.verdict is Verdict.NOT_CRITICAL


def test_batched_hessian_products_equal_single_ones(rng):
    problem = dictionary_learning(n=7, p=300, seed=1)
    q = random_point(problem.manifold, rng)
    v = rng.standard_normal((5, 7))
    batch = problem.objective.euclidean_hessian(q, problem._entry(q)["data"], v)
    for k in range(5):
        np.testing.assert_allclose(batch[k], problem.euclidean_hessian(q, v[k]), rtol=1e-12)


def test_orthogonal_group_objective_derivatives():
    for kw in ({"n": 4, "p": 200}, {"n": 7, "p": 500}):
        problem = dictionary_learning_orthogonal(seed=2, **kw)
        testing.assert_derivatives(problem, points=2, seed=3)
        testing.assert_matches_autograd(problem, points=2, seed=3, rtol=1e-10)


# --------------------------------------------------------------------------- the losses
def test_logcosh_is_stable_at_huge_arguments():
    mu = 1e-2
    t = np.array([-1e4 * mu, -800 * mu, -1.0, -1e-3, 0.0, 1e-3, 1.0, 800 * mu, 1e4 * mu])
    phi, dphi = sparsity_loss(t, "logcosh", mu)
    assert np.all(np.isfinite(phi)) and np.all(np.isfinite(dphi))
    with np.errstate(over="ignore"):
        assert not np.all(np.isfinite(mu * np.log(np.cosh(t / mu))))  # the naive form overflows
    # an independent stable form: log cosh s = logaddexp(s, −s) − log 2
    reference = mu * (np.logaddexp(t / mu, -t / mu) - np.log(2.0))
    np.testing.assert_allclose(phi, reference, rtol=1e-14, atol=1e-18)
    assert phi[-1] == pytest.approx(1e4 * mu - mu * np.log(2.0), rel=1e-15)
    s = t[5] / mu  # log cosh s = s²/2 − s⁴/12 + s⁶/45 − …
    assert phi[4] == 0.0 and phi[5] == pytest.approx(mu * (s**2 / 2 - s**4 / 12), rel=1e-5)
    np.testing.assert_array_equal(dphi[[0, -1]], [-1.0, 1.0])
    # the whole problem stays finite when every qᵀȳ_k is 10⁴ μ or more in size
    y = 1e4 * mu * np.vstack([np.ones(20), np.linspace(1, 2, 20)])
    problem = dictionary_learning(Y=y, mu=mu, precondition=False)
    q = np.array([1.0, 0.0])
    assert np.isfinite(problem.cost(q)) and np.all(np.isfinite(problem.euclidean_gradient(q)))
    assert np.all(np.isfinite(problem.euclidean_hessian(q, np.array([0.0, 1.0]))))


def test_huber_is_the_seed_function():
    """h_λ(u) = u²/2 for |u| ≤ λ, λ|u| − λ²/2 beyond (seed 003 eq. 3.3), C¹ at |u| = λ."""
    lam = 0.3
    u = np.array([-2.0, -0.3, -0.1, 0.0, 0.2, 0.3, 5.0])
    phi, dphi = sparsity_loss(u, "huber", lam)
    expected = np.where(np.abs(u) <= lam, u**2 / 2, lam * np.abs(u) - lam**2 / 2)
    np.testing.assert_allclose(phi, expected, rtol=1e-15)
    np.testing.assert_allclose(dphi, np.clip(u, -lam, lam), rtol=1e-15)


# --------------------------------------------------------------------------- one-sparse landscape
def _balanced_points(n):
    """All a_{I,σ} = |I|^{-1/2} Σ_{i∈I} σ_i e_i (seed 003 eq. 3.9)."""
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            for signs in itertools.product((-1.0, 1.0), repeat=size):
                a = np.zeros(n)
                a[list(support)] = signs
                yield size, a / np.sqrt(size)


@pytest.mark.parametrize("basis", ["identity", "random"])
def test_one_sparse_critical_points_have_index_support_minus_one(basis):
    """Seed 003 §3.1: with λ < 1/√n every a_{I,σ} is critical, with |I| − 1 Hessian eigenvalues
    −λ√|I| and n − |I| eigenvalues 1 − λ√|I| (eq. 3.10, ⟨∇φ(a), a⟩ = λ‖a‖₁ = λ√|I|)."""
    lam = 0.2
    problem = dictionary_learning_one_sparse(
        n=3, mu=lam, A=None if basis == "identity" else "random", seed=4
    )
    a0 = problem.objective.truth_dictionary
    verdicts = {1: Verdict.LOCAL_MINIMIZER, 2: Verdict.STRICT_SADDLE, 3: Verdict.LOCAL_MAXIMIZER}
    count = 0
    for size, a in _balanced_points(3):
        q = a0 @ a
        cert = ms.certify(problem, q)
        assert cert.gradient_norm < 1e-14
        assert cert.verdict is verdicts[size] and cert.index == size - 1
        expected = [-lam * np.sqrt(size)] * (size - 1) + [1 - lam * np.sqrt(size)] * (3 - size)
        np.testing.assert_allclose(cert.eigenvalues, sorted(expected), atol=1e-13)
        count += 1
    assert count == 6 + 12 + 8


@pytest.mark.parametrize("loss", ["logcosh", "l4"])
def test_one_sparse_minimizers_and_saddles_for_other_losses(loss):
    """φ even with φ'(0) = 0: the balanced points stay critical; for −t⁴/4 the Riemannian Hessian
    is P(−3 diag(a²) + (1/|I|) I)P, eigenvalues −2/|I| (|I| − 1 times) and 1/|I|."""
    problem = dictionary_learning_one_sparse(n=4, loss=loss, mu=0.05)
    for size, a in _balanced_points(4):
        cert = ms.certify(problem, a)
        assert cert.gradient_norm < 1e-12
        assert cert.index == size - 1
        if loss == "l4":
            expected = [-2.0 / size] * (size - 1) + [1.0 / size] * (4 - size)
            np.testing.assert_allclose(cert.eigenvalues, sorted(expected), atol=1e-13)


def test_one_sparse_trust_regions_reaches_a_signed_basis_vector():
    problem = dictionary_learning_one_sparse(n=5, mu=0.1)
    for s in range(5):
        result = ms.solve(problem, "trust-regions", seed=s)
        assert problem.distance_to_truth(result.point) < 1e-7
        assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER


# --------------------------------------------------------------------------- data and truth
def test_preconditioned_data_is_white_and_the_truth_gives_sparse_rows():
    """Ȳ Ȳᵀ/(pθ) = I exactly; qᵀȲ with q = w_i is a multiple of row i of X₀ (module docs)."""
    theta = 0.2
    problem = dictionary_learning(n=6, p=800, theta=theta, dictionary="invertible", seed=3)
    ybar = problem.objective.data
    np.testing.assert_allclose(ybar @ ybar.T / (800 * theta), np.eye(6), atol=1e-10)
    x0 = problem.objective.coefficients
    for i, w in enumerate(problem.objective.truth_dictionary.T):
        row = w @ ybar
        c = row @ x0[i] / (x0[i] @ x0[i])
        np.testing.assert_allclose(row, c * x0[i], atol=1e-10 * np.linalg.norm(row))
    # against a direct computation of P = (YYᵀ/(pθ))^{-1/2} by SVD
    y = problem.objective.dictionary @ x0
    u, s, _ = np.linalg.svd(y, full_matrices=False)
    p_svd = u @ np.diag(np.sqrt(800 * theta) / s) @ u.T
    np.testing.assert_allclose(precondition_data(y, theta)[1], p_svd, rtol=1e-10, atol=1e-12)


def test_same_seed_same_instance():
    a = dictionary_learning(n=5, p=100, seed=11)
    b = dictionary_learning(n=5, p=100, seed=11)
    np.testing.assert_array_equal(a.objective.data, b.objective.data)
    np.testing.assert_array_equal(a.truth, b.truth)


def test_unit_norm_tight_frame_is_tight_unit_and_incoherent():
    n, k = 10, 20
    a = unit_norm_tight_frame(n, k, seed=0)
    np.testing.assert_allclose((n / k) * a @ a.T, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(a, axis=0), 1.0, rtol=1e-12)
    coherence = np.max(np.abs(a.T @ a - np.eye(k)))
    welch = np.sqrt((k - n) / (n * (k - 1)))
    assert welch <= coherence < 2 * welch


def test_recovery_metrics_against_a_planted_signed_permutation(rng):
    problem = dictionary_learning(n=8, p=100, seed=2)
    w = problem.objective.truth_dictionary
    perm, signs = SignedPermutation(8).random_element(rng)
    moved = w[:, perm] * signs
    assert dictionary_error(problem, moved) < 1e-15
    noise = 1e-3 * rng.standard_normal((8, 8))
    assert dictionary_error(problem, moved + noise) == pytest.approx(
        np.linalg.norm(noise) / np.sqrt(8), rel=1e-12
    )
    assert dictionary_error(problem, moved[:, :3]) < 1e-15
    for j in range(8):
        assert dictionary_column_correlation(problem, -3.0 * w[:, j]) == pytest.approx(1.0)
        assert problem.distance_to_truth(-w[:, j]) < 1e-12


def test_column_orbit_distance():
    w = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0] + 0.05
    group = ColumnOrbit(w)
    x = np.array([0.3, -0.1, 0.5, 0.2])
    expected = min(np.linalg.norm(x - s * w[:, i]) for i in range(4) for s in (-1, 1))
    assert group.distance(x, w[:, 2]) == pytest.approx(expected, rel=1e-14)
    y = np.array([1.0, 2.0, 0.0, 0.0])
    assert group.distance(x, y) == pytest.approx(min(np.linalg.norm(x - y), np.linalg.norm(x + y)))
    np.testing.assert_allclose(group.align(w[:, 1], -w[:, 3]), -w[:, 3])


# --------------------------------------------------------------------------- acceptance
def test_acceptance_complete_dictionary_one_column_by_trust_regions():
    """Issue 4: n = 30, p = 5000, θ = 0.3, log-cosh μ = 1e-2; random-init trust regions finds a
    column (max |⟨q, a_i⟩| > 0.99) in ≥ 19 of 20 trials, each certified local_minimizer."""
    problem = dictionary_learning(n=30, p=5000, theta=0.3, loss="logcosh", mu=1e-2, seed=0)
    found = 0
    for s in range(20):
        result = ms.solve(problem, "trust-regions", seed=s)
        if dictionary_column_correlation(problem, result.point) > 0.99:
            found += 1
            assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER
            # the certificate is far from its tolerances: min eigenvalue ≈ 17 ≫ 1e-4
            assert result.certificate.min_eigenvalue > 1e3 * result.certificate.eigenvalue_tolerance
    assert found >= 19


def test_acceptance_deflation_recovers_the_whole_dictionary():
    problem = dictionary_learning(n=30, p=5000, theta=0.3, loss="logcosh", mu=1e-2, seed=0)
    found = deflate(problem, "trust-regions", seed=1)
    assert dictionary_error(problem, found.Q) <= 1e-2
    assert all(c.verdict is Verdict.LOCAL_MINIMIZER for c in found.certificates)


def test_deflation_with_an_invertible_dictionary_and_preconditioning():
    problem = dictionary_learning(n=10, p=4000, theta=0.3, dictionary="invertible", seed=5)
    assert problem.parameters["precondition"] is True
    found = deflate(problem, "trust-regions", seed=2)
    assert dictionary_error(problem, found.Q) <= 1e-2


def test_acceptance_l4_on_the_orthogonal_group_by_msp():
    """Issue 4: −ℓ4 on O(n), n = 25, p = 10000, θ = 0.3: MSP reaches |1 − ‖AA₀‖₄⁴/n| < 1 % in
    under 30 iterations."""
    problem = dictionary_learning_orthogonal(n=25, p=10000, theta=0.3, seed=0)
    for s in range(3):
        result = ms.solve(problem, "msp", seed=s, keep_iterates=True, certify=False)
        gaps = [orthogonal_dictionary_gap(problem, a) for a in result.history.iterates]
        assert min(k for k, g in enumerate(gaps) if g < 1e-2) < 30
        assert result.iterations < 30 and gaps[-1] < 1e-2
        # the learned A is close to a signed permutation of A₀ᵀ
        assert problem.distance_to_truth(result.point) < 0.1
    assert orthogonal_dictionary_gap(problem, problem.truth) < 1e-14


def test_overcomplete_l4_finds_atoms():
    """Seed 003 §3.2 and footnote 20: with an overcomplete tight frame (k = 2n) ℓ4 maximization
    finds atoms approximately (qᵀȲ is spiky, not sparse)."""
    problem = dictionary_learning(
        n=10, p=5000, theta=0.1, loss="l4", dictionary="overcomplete", columns=20, seed=0
    )
    correlations = [
        dictionary_column_correlation(problem, ms.solve(problem, seed=s, certify=False).point)
        for s in range(6)
    ]
    assert np.median(correlations) > 0.97 and min(correlations) > 0.95


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"theta": 0.0}, ValueError, r"theta must be in \(0, 1\]"),
        ({"theta": 1.5}, ValueError, r"theta must be in \(0, 1\]"),
        ({"theta": "a"}, TypeError, "theta must be a number"),
        ({"loss": "l2"}, ValueError, "loss must be one of"),
        ({"mu": 0.0}, ValueError, "mu must be a positive finite number"),
        ({"mu": np.inf}, ValueError, "mu must be a positive finite number"),
        ({"dictionary": "square"}, ValueError, "dictionary must be one of"),
        ({"coefficients": "dense"}, ValueError, "coefficients must be one of"),
        ({"columns": 3, "dictionary": "overcomplete"}, ValueError, "columns must exceed n"),
        ({"columns": 12}, ValueError, "columns is the number of atoms"),
        ({"A": np.ones((4, 4))}, ValueError, "A must be invertible"),
        ({"A": np.eye(4)[:, :3]}, ValueError, "A must have at least as many columns"),
        ({"A": np.eye(3), "n": 4}, ValueError, "A must have n = 4 rows"),
        ({"A": np.eye(4), "X": np.ones((3, 10))}, ValueError, "X must have 4 rows"),
        ({"Y": np.array([[1.0, np.nan], [0.0, 1.0]])}, ValueError, "Y must be finite"),
        ({"Y": np.ones((2, 5)) * 1j}, ValueError, "Y must be real"),
        ({"Y": np.ones(5)}, ValueError, "Y must have 2 dimensions"),
        ({"Y": np.ones((2, 5)), "X": np.ones((2, 5))}, TypeError, "give X together with A"),
        ({"Y": np.ones((3, 5))}, ValueError, "Y must have full row rank"),
        ({"precondition": "yes"}, TypeError, "precondition must be True, False or None"),
        ({"n": 1}, ValueError, "n must be at least 2"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    base = {"n": 4, "p": 50, "seed": 0}
    with pytest.raises(error, match=match):
        dictionary_learning(**{**base, **kwargs})


def test_bad_input_dictionary_kind_mismatch():
    a = np.random.default_rng(0).standard_normal((4, 4))
    with pytest.raises(ValueError, match="A must be orthogonal for dictionary='orthogonal'"):
        dictionary_learning(A=a, dictionary="orthogonal")
    with pytest.raises(ValueError, match="A must be square for dictionary='invertible'"):
        dictionary_learning(A=unit_norm_tight_frame(4, 6, seed=0), dictionary="invertible")
    with pytest.raises(ValueError, match="A must be orthogonal"):
        dictionary_learning_one_sparse(n=4, A=a)
    with pytest.raises(ValueError, match="A must be orthogonal"):
        dictionary_learning_orthogonal(A=a)
    with pytest.raises(ValueError, match=r"theta must be in \(0, 1\]"):
        dictionary_learning_orthogonal(theta=-0.1)
    with pytest.raises(TypeError, match="give either Y"):
        dictionary_learning_orthogonal(Y=np.ones((3, 10)), A=np.eye(3))
