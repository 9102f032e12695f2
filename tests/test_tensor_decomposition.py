"""Orthogonal tensor decomposition: both contractions, certificates with known spectra, recovery.

Known answers used below (T = Σ_k a_k^{⊗4}, A orthogonal):

* at the truth (SO(n), O(n), Stiefel, sphere) every Riemannian Hessian eigenvalue is 4: along a
  unit-speed rotation of two columns by θ = t/√2, f = const + sin²(2θ) ≈ const + 2t²; on the
  sphere f(cos t a₁ + sin t a_j) = −1 + ½ sin²(2t) ≈ −1 + 2t²;
* (a₁ + a₂)/√2 on the sphere is a strict saddle with Hessian eigenvalues −4 (once, along
  a₁ − a₂) and 2 (n − 2 times); the rotation of two columns of A by π/4 on SO(n) is a saddle
  with eigenvalue −4 along that rotation.
"""

import itertools

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.symmetry import SignedPermutation
from manifoldscape.geometry import random_point
from manifoldscape.problems import tensor_decomposition
from manifoldscape.problems.tensor_decomposition import symmetric_tensor

CASES = [
    {"n": 2},
    {"n": 3},
    {"n": 6},
    {"n": 4, "manifold": "orthogonal"},
    {"n": 6, "manifold": "orthogonal", "components": 2},
    {"n": 3, "manifold": "sphere"},
    {"n": 7, "manifold": "sphere", "components": 4},
]


def _ids(params):
    return "-".join(f"{k}={v}" for k, v in params.items())


def _dense_twin(problem):
    """The same instance through the dense contraction of the tensor Σ a_k^{⊗4}."""
    tensor = symmetric_tensor(problem.objective.components)
    return tensor_decomposition(T=tensor, manifold=problem.parameters["manifold"])


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("params", CASES, ids=_ids)
def test_factored_derivatives_pass_taylor_and_match_autograd(params):
    problem = tensor_decomposition(**params, seed=3)
    testing.assert_derivatives(problem, points=2, seed=4)
    testing.assert_matches_autograd(problem, points=2, seed=5, rtol=1e-10)


@pytest.mark.parametrize("params", [p for p in CASES if "components" not in p], ids=_ids)
def test_dense_derivatives_pass_taylor_and_match_autograd(params):
    problem = _dense_twin(tensor_decomposition(**params, seed=6))
    testing.assert_derivatives(problem, points=2, seed=7)
    testing.assert_matches_autograd(problem, points=2, seed=8, rtol=1e-10)


def test_noisy_tensor_derivatives():
    problem = tensor_decomposition(n=4, noise=0.1, seed=2)
    testing.assert_derivatives(problem, points=2, seed=1)
    testing.assert_matches_autograd(problem, points=2, seed=1, rtol=1e-10)


@pytest.mark.parametrize("manifold", ["special_orthogonal", "orthogonal", "sphere"])
def test_factored_and_dense_paths_agree(manifold, rng):
    factored = tensor_decomposition(n=5, manifold=manifold, seed=11)
    dense = _dense_twin(factored)
    assert dense.truth is None  # a user tensor comes without its components
    for _ in range(3):
        x = random_point(factored.manifold, rng)
        assert dense.cost(x) == pytest.approx(factored.cost(x), rel=1e-12)
        np.testing.assert_allclose(
            dense.euclidean_gradient(x), factored.euclidean_gradient(x), atol=1e-12
        )
        v = rng.standard_normal(np.shape(x))
        np.testing.assert_allclose(
            dense.euclidean_hessian(x, v), factored.euclidean_hessian(x, v), atol=1e-11
        )
        batch = rng.standard_normal((3, *np.shape(x)))
        np.testing.assert_allclose(
            dense.euclidean_hessian(x, batch), factored.euclidean_hessian(x, batch), atol=1e-11
        )


def test_cost_is_the_full_contraction_of_the_tensor(rng):
    """f(X) = −Σ_i T(x_i, x_i, x_i, x_i) with T contracted entry by entry (independent)."""
    problem = tensor_decomposition(n=4, seed=1)
    tensor = np.zeros((4, 4, 4, 4))
    for a in problem.objective.components.T:
        for idx in itertools.product(range(4), repeat=4):
            tensor[idx] += a[idx[0]] * a[idx[1]] * a[idx[2]] * a[idx[3]]
    x = random_point(problem.manifold, rng)
    expected = -sum(np.einsum("abcd,a,b,c,d->", tensor, c, c, c, c) for c in x.T)
    assert problem.cost(x) == pytest.approx(expected, rel=1e-12)
    gradient = -4 * np.einsum("abcd,bi,ci,di->ai", tensor, x, x, x)
    np.testing.assert_allclose(problem.euclidean_gradient(x), gradient, atol=1e-12)


# --------------------------------------------------------------------------- the truth
@pytest.mark.parametrize(
    "params",
    [
        {"n": 5},
        {"n": 4, "manifold": "orthogonal"},
        {"n": 6, "manifold": "orthogonal", "components": 3},
        {"n": 5, "manifold": "sphere"},
        {"n": 5, "manifold": "sphere", "components": 2},
    ],
    ids=_ids,
)
def test_truth_is_a_certified_minimizer_with_all_eigenvalues_four(params):
    problem = tensor_decomposition(**params, seed=21)
    r = problem.parameters["components"]
    assert problem.cost(problem.truth) == pytest.approx(
        -1 if params.get("manifold") == "sphere" else -r
    )
    certificate = ms.certify(problem, problem.truth)
    assert certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert certificate.symmetry_dimension == 0
    np.testing.assert_allclose(certificate.eigenvalues, 4.0, atol=1e-9)


def test_special_orthogonal_truth_has_determinant_one_and_is_a_signed_permutation_of_a():
    for seed in range(6):
        problem = tensor_decomposition(n=4, seed=seed)
        a = problem.objective.components
        assert np.linalg.det(problem.truth) == pytest.approx(1.0)
        assert problem.symmetry.distance(problem.truth, a) == pytest.approx(0, abs=1e-12)
        assert problem.symmetry == SignedPermutation(4, axis=-1)


def test_sphere_symmetry_is_the_set_of_signed_components(rng):
    problem = tensor_decomposition(n=6, manifold="sphere", components=3, seed=5)
    a = problem.objective.components
    for k in range(3):
        assert problem.distance_to_truth(-a[:, k]) == pytest.approx(0, abs=1e-12)
    complement = np.linalg.svd(a, full_matrices=True)[0][:, 3]
    assert problem.distance_to_truth(complement) == pytest.approx(np.sqrt(2))  # not a component


def test_sphere_saddle_between_two_components_has_the_known_spectrum():
    n = 6
    problem = tensor_decomposition(n=n, manifold="sphere", seed=8)
    a = problem.objective.components
    saddle = (a[:, 0] + a[:, 1]) / np.sqrt(2)
    certificate = ms.certify(problem, saddle)
    assert certificate.verdict is Verdict.STRICT_SADDLE
    assert certificate.index == 1
    np.testing.assert_allclose(certificate.eigenvalues, [-4.0] + [2.0] * (n - 2), atol=1e-9)


def test_rotating_two_columns_by_a_quarter_turn_gives_a_saddle_on_so_n():
    problem = tensor_decomposition(n=5, seed=9)
    x = problem.truth.copy()
    x[:, [0, 1]] = x[:, [0, 1]] @ (np.array([[1.0, -1.0], [1.0, 1.0]]) / np.sqrt(2))
    certificate = ms.certify(problem, x)
    assert certificate.gradient_norm < 1e-12
    assert certificate.verdict is Verdict.STRICT_SADDLE
    assert certificate.min_eigenvalue == pytest.approx(-4.0, abs=1e-9)


# --------------------------------------------------------------------------- recovery
def test_acceptance_trust_regions_on_so10_recovers_every_component_in_ten_trials():
    """Issue acceptance: n = 10, random init, all of 10 trials within 1e-8 modulo SP(n)."""
    for trial in range(10):
        problem = tensor_decomposition(n=10, seed=trial)
        result = ms.solve(problem, "trust-regions", seed=100 + trial)
        assert problem.distance_to_truth(result.point) <= 1e-8, trial
        assert problem.recovered(result.point)
        assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER
        assert result.cost == pytest.approx(-10.0, abs=1e-10)


def test_sphere_trust_regions_finds_a_component():
    for trial in range(5):
        problem = tensor_decomposition(n=8, manifold="sphere", seed=trial)
        result = ms.solve(problem, "trust-regions", seed=50 + trial)
        assert problem.distance_to_truth(result.point) <= 1e-8


def test_small_noise_moves_the_minimizer_by_about_the_noise():
    problem = tensor_decomposition(n=6, noise=1e-3, seed=4)
    result = ms.solve(problem, "trust-regions", seed=0)
    assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert 1e-6 < problem.distance_to_truth(result.point) < 1e-2


@pytest.mark.slow
def test_trust_regions_recovers_every_component_on_so20_and_o20():
    for trial in range(20):
        for manifold in ("special_orthogonal", "orthogonal"):
            problem = tensor_decomposition(n=20, manifold=manifold, seed=trial)
            result = ms.solve(problem, "trust-regions", seed=1000 + trial)
            assert problem.distance_to_truth(result.point) <= 1e-8, (manifold, trial)


def test_same_seed_same_instance():
    one, two = tensor_decomposition(n=4, seed=7), tensor_decomposition(n=4, seed=7)
    np.testing.assert_array_equal(one.truth, two.truth)
    assert one.parameters == {
        "n": 4,
        "manifold": "special_orthogonal",
        "components": 4,
        "noise": 0.0,
    }


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_with_the_argument_named(rng):
    good = symmetric_tensor(np.linalg.qr(rng.standard_normal((3, 3)))[0])
    with pytest.raises(ValueError, match="T must be an n × n × n × n array"):
        tensor_decomposition(T=np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="T must be an n × n × n × n array"):
        tensor_decomposition(T=np.ones((3, 3, 3, 4)))
    asymmetric = good.copy()
    asymmetric[0, 1, 2, 2] += 0.5
    with pytest.raises(ValueError, match="T must be a symmetric tensor"):
        tensor_decomposition(T=asymmetric)
    broken = good.copy()
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="T must be finite"):
        tensor_decomposition(T=broken)
    with pytest.raises(ValueError, match="components must be at most n = 3"):
        tensor_decomposition(n=3, components=4)
    with pytest.raises(ValueError, match="components must equal n = 5 on the special orthogonal"):
        tensor_decomposition(n=5, components=2)
    with pytest.raises(ValueError, match="components must be None when T is given"):
        tensor_decomposition(T=good, components=3)
    with pytest.raises(ValueError, match="noise must be 0 when T is given"):
        tensor_decomposition(T=good, noise=0.1)
    with pytest.raises(ValueError, match="noise must be a finite non-negative number"):
        tensor_decomposition(n=3, noise=-1.0)
    with pytest.raises(TypeError, match="noise must be a non-negative number"):
        tensor_decomposition(n=3, noise="high")
    with pytest.raises(ValueError, match="manifold must be one of"):
        tensor_decomposition(n=3, manifold="stiefel")
    with pytest.raises(ValueError, match="n must be at least 2"):
        tensor_decomposition(n=1)
    with pytest.raises(TypeError, match="components must be an integer"):
        tensor_decomposition(n=3, components=2.5)
