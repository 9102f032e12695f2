"""One-hidden-layer networks: derivatives, closed-form population losses, symmetry, the truth.

Known answers used below:

* the population loss is the expectation of the finite-sample loss, so a Monte-Carlo mean of
  ½(Σ_i c_i σ(aᵀx_i) − y)² over m fresh Gaussian inputs agrees with it within a few standard
  errors s/√m (s the sample standard deviation of the summands);
* the closed-form kernels: K_relu(x, x) = ‖x‖²/2, K_relu(x, −x) = 0, K_abs(θ = π/2) =
  (2/π)‖x‖‖y‖, and the identity |t| = max(t, 0) + max(−t, 0), which gives
  K_abs(θ) = 2 (K_relu(θ) + K_relu(π − θ)) independently of the two closed forms;
* ReLU and |t| make the finite-sample loss piecewise quadratic in X (σ'' = 0 off the kinks
  a_rᵀx_i = 0): along x + t u it equals its second-order model exactly until the first kink.
"""

import itertools
import warnings

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.cli import main
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.registry import problem_registry
from manifoldscape.core.symmetry import OrthogonalRight, SignedPermutation
from manifoldscape.problems import one_hidden_layer
from manifoldscape.problems.neural_network import activation_function, kernel

SMOOTH = [
    ("relu", "population"),
    ("abs", "population"),
    ("square", "population"),
    ("square", "finite"),
    ("smoothed_relu", "finite"),
]
SIZES = [
    {"n": 2, "k": 1},
    {"n": 3, "k": 3},
    {"n": 5, "k": 4, "c": [1.0, 2.0, -1.0, 2.0], "teacher_units": 2},
    {"n": 4, "k": 6},
]


def _ids(params):
    return "-".join(f"{k}={v}" for k, v in params.items() if k != "c") + (
        "-c" if "c" in params else ""
    )


def _monte_carlo(problem, x, m, rng):
    """Mean and standard error of ½(Σ_i c_i σ(aᵀx_i) − Σ_j c♮_j σ(aᵀx♮_j))² over m inputs."""
    objective = problem.objective
    a = rng.standard_normal((m, x.shape[0]))
    act = objective.activation
    labels = activation_function(act, a @ objective.teacher)[0] @ objective.c_teacher
    residual = activation_function(act, a @ x)[0] @ objective.c - labels
    terms = 0.5 * residual**2
    return terms.mean(), terms.std(ddof=1) / np.sqrt(m), a, residual


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("params", SIZES, ids=_ids)
@pytest.mark.parametrize(("activation", "loss"), SMOOTH)
def test_smooth_losses_pass_taylor_checks_and_match_autograd(activation, loss, params):
    problem = one_hidden_layer(**params, activation=activation, loss=loss, seed=3)
    testing.assert_derivatives(problem, points=2, seed=4)
    testing.assert_matches_autograd(problem, points=2, seed=5, rtol=1e-9)


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("params", SIZES[1:], ids=_ids)
def test_kinked_finite_losses_match_autograd_almost_everywhere(activation, params):
    problem = one_hidden_layer(**params, activation=activation, loss="finite", seed=6)
    testing.assert_matches_autograd(problem, points=2, seed=7, rtol=1e-10)


def _first_kink(problem, x, u):
    """The smallest t > 0 at which some a_rᵀ(x_i + t u_i) changes sign."""
    a = problem.objective.inputs
    z, zdot = a @ x, a @ u
    with np.errstate(divide="ignore"):
        crossing = -z / zdot
    return float(np.min(crossing[crossing > 0]))


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("params", SIZES[1:], ids=_ids)
def test_kinked_finite_losses_equal_their_quadratic_model_until_the_first_kink(
    activation, params, rng
):
    """Gradient and Hessian are exact off the kinks: f(x + tu) = f + t⟨g, u⟩ + t²/2 ⟨u, Hu⟩."""
    problem = one_hidden_layer(**params, activation=activation, loss="finite", seed=8)
    for _ in range(3):
        x = rng.standard_normal(problem.truth.shape)
        u = rng.standard_normal(x.shape)
        u /= np.linalg.norm(u)
        kink = _first_kink(problem, x, u)
        f0 = problem.cost(x)
        slope = float(np.sum(problem.euclidean_gradient(x) * u))
        curvature = float(np.sum(problem.euclidean_hessian(x, u) * u))
        for fraction in (1e-3, 1e-2, 0.1, 0.5, 0.9):
            t = fraction * kink
            model = f0 + t * slope + 0.5 * t * t * curvature
            scale = abs(f0) + abs(t * slope) + abs(t * t * curvature)
            remainder = abs(problem.cost(x + t * u) - model)
            assert remainder <= 1e-12 * scale
            if fraction >= 0.5:  # resolves the curvature term to 1e-6: a wrong Hessian fails
                assert remainder <= 1e-6 * 0.5 * t * t * abs(curvature)


def test_subgradient_method_recovers_the_relu_teacher_from_finite_samples(rng):
    problem = one_hidden_layer(4, 3, activation="relu", loss="finite", seed=0)
    x0 = problem.truth + 0.3 * rng.standard_normal(problem.truth.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ms.solve(problem, "subgradient", x0=x0, seed=1, max_iterations=3000)
    assert problem.distance_to_truth(result.point) < 1e-6


def test_smoothed_relu_is_stable_at_every_scale_and_tends_to_relu():
    z = np.array([-1e5, -40.0, -1e-3, 0.0, 1e-3, 0.7, 40.0, 1e5])
    for tau in (1.0, 0.1, 1e-3):
        value, slope, curvature = activation_function("smoothed_relu", z, tau)
        assert np.all(np.isfinite(value) & np.isfinite(slope) & np.isfinite(curvature))
        gap = value - np.maximum(z, 0.0)
        assert np.all((gap >= 0) & (gap <= tau * np.log(2) * (1 + 1e-15)))
        assert value[3] == pytest.approx(tau * np.log(2), rel=1e-15)
        assert slope[3] == 0.5 and curvature[3] == pytest.approx(0.25 / tau, rel=1e-15)
        moderate = np.abs(z / tau) < 30
        direct = tau * np.log1p(np.exp(z[moderate] / tau))
        np.testing.assert_allclose(value[moderate], direct, rtol=1e-14)
        logistic = 1 / (1 + np.exp(-z[moderate] / tau))
        np.testing.assert_allclose(slope[moderate], logistic, rtol=1e-14)
        np.testing.assert_allclose(curvature[moderate], logistic * (1 - logistic) / tau, rtol=1e-12)


# --------------------------------------------------------------------------- population
def test_kernels_agree_with_monte_carlo_at_every_angle(rng):
    """E[σ(aᵀx) σ(aᵀy)] for θ ∈ {0, 0.3, π/2, 2.5, π}; 4 standard errors, 4·10⁵ samples."""
    m = 400_000
    a = rng.standard_normal((m, 2))
    for theta in (0.0, 0.3, np.pi / 2, 2.5, np.pi):
        x = np.array([1.3, 0.0])
        y = 0.7 * np.array([np.cos(theta), np.sin(theta)])
        for name in ("relu", "abs", "square"):
            values = activation_function(name, a @ x)[0] * activation_function(name, a @ y)[0]
            error = values.std(ddof=1) / np.sqrt(m)
            closed = kernel(name, x, y)[0, 0]
            assert abs(closed - values.mean()) <= 4 * error + 1e-15, (name, theta)


def test_kernel_closed_forms_satisfy_exact_identities(rng):
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    assert kernel("relu", x, x)[0, 0] == pytest.approx(0.5 * nx**2, rel=1e-14)
    assert kernel("relu", x, -2 * x)[0, 0] == pytest.approx(0.0, abs=1e-14)
    assert kernel("abs", x, x)[0, 0] == pytest.approx(nx**2, rel=1e-14)
    assert kernel("square", x, y)[0, 0] == pytest.approx(nx**2 * ny**2 + 2 * (x @ y) ** 2)
    perpendicular = y - (x @ y) / nx**2 * x
    assert kernel("abs", x, perpendicular)[0, 0] == pytest.approx(
        2 / np.pi * nx * np.linalg.norm(perpendicular), rel=1e-12
    )
    # |t| = relu(t) + relu(−t): K_abs(x, y) = 2 (K_relu(x, y) + K_relu(x, −y))
    for _ in range(5):
        x, y = rng.standard_normal(4), rng.standard_normal(4)
        both = kernel("relu", x, y)[0, 0] + kernel("relu", x, -y)[0, 0]
        assert kernel("abs", x, y)[0, 0] == pytest.approx(2 * both, rel=1e-13)


@pytest.mark.parametrize("activation", ["relu", "abs", "square"])
@pytest.mark.parametrize(
    "params",
    [{"n": 5, "k": 4}, {"n": 3, "k": 5, "c": [1.0, 1.5, 2.0, -1.0, 1.0], "teacher_units": 2}],
    ids=_ids,
)
def test_population_loss_and_gradient_are_the_monte_carlo_means(activation, params, rng):
    """L and ∇L against 2·10⁵ fresh samples: within 4 standard errors (seeded draws)."""
    problem = one_hidden_layer(**params, activation=activation, loss="population", seed=2)
    x = rng.standard_normal(problem.truth.shape) / np.sqrt(params["n"])
    mean, error, a, residual = _monte_carlo(problem, x, 200_000, rng)
    assert abs(problem.cost(x) - mean) <= 4 * error
    # per-sample gradient e_r c_i σ'(a_rᵀx_i) a_r
    slopes = activation_function(activation, a @ x)[1] * problem.objective.c
    samples = (residual[:, None] * slopes)[:, None, :] * a[:, :, None]
    mean_gradient = samples.mean(axis=0)
    error_gradient = samples.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
    gap = np.abs(problem.euclidean_gradient(x) - mean_gradient)
    assert np.all(gap <= 4 * error_gradient + 1e-12)


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_population_gradient_at_a_zero_column_is_the_midpoint_convention(activation, rng):
    """At x_i = 0, ∇L is E[∇ℓ] with σ'(0) = ½ (ReLU) or 0 (|t|); the Hessian stays symmetric."""
    problem = one_hidden_layer(4, 3, activation=activation, loss="population", seed=9)
    x = rng.standard_normal((4, 3)) / 2
    x[:, 1] = 0.0
    _, _, a, residual = _monte_carlo(problem, x, 200_000, rng)
    slopes = activation_function(activation, a @ x)[1] * problem.objective.c
    samples = (residual[:, None] * slopes)[:, None, :] * a[:, :, None]
    error = samples.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
    gradient = problem.euclidean_gradient(x)
    assert np.all(np.abs(gradient - samples.mean(axis=0)) <= 4 * error + 1e-12)
    if activation == "abs":
        np.testing.assert_array_equal(gradient[:, 1], 0.0)
    u, v = rng.standard_normal((2, 4, 3))
    left = np.sum(u * problem.euclidean_hessian(x, v))
    right = np.sum(problem.euclidean_hessian(x, u) * v)
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_population_hessian_is_right_at_collinear_pairs(activation, rng):
    """θ = 0 and θ = π between units (and with the teacher): the C² pieces still pass Taylor."""
    problem = one_hidden_layer(4, 4, activation=activation, loss="population", seed=10)
    x = rng.standard_normal((4, 4)) / 2
    x[:, 1] = -1.5 * x[:, 0]  # θ = π
    x[:, 2] = 0.5 * x[:, 0]  # θ = 0
    x[:, 3] = 2.0 * problem.truth[:, 3]  # collinear with a teacher unit
    testing.assert_gradient(problem, x, seed=rng)
    testing.assert_hessian(problem, x, seed=rng)
    # continuity: the Hessian at θ = 10⁻⁷ is within O(θ) of the one at θ = 0
    nudged = x.copy()
    nudged[:, 2] += 1e-7 * rng.standard_normal(4)
    v = rng.standard_normal((4, 4))
    np.testing.assert_allclose(
        problem.euclidean_hessian(nudged, v), problem.euclidean_hessian(x, v), atol=1e-5
    )


# --------------------------------------------------------------------------- the truth
@pytest.mark.parametrize(("activation", "loss"), [*SMOOTH, ("relu", "finite"), ("abs", "finite")])
@pytest.mark.parametrize("size", [(3, 3), (6, 4), (4, 6)], ids=lambda s: f"n={s[0]}-k={s[1]}")
def test_truth_is_a_certified_global_minimizer(activation, loss, size):
    n, k = size
    problem = one_hidden_layer(n, k, activation=activation, loss=loss, seed=11)
    assert problem.cost(problem.truth) == pytest.approx(0.0, abs=1e-12)
    assert problem.gradient_norm(problem.truth) < 1e-10
    certificate = ms.certify(problem, problem.truth)
    assert certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert certificate.min_eigenvalue > 0
    expected = k * (k - 1) // 2 if activation == "square" else 0
    if activation == "square" and k > n:  # X Ω = 0 for the skew Ω inside null(X)
        expected -= (k - n) * (k - n - 1) // 2
    assert certificate.symmetry_dimension == expected
    assert problem.recovered(problem.truth)


def test_square_with_unequal_weights_reports_the_undeclared_flat_directions():
    """Only SP fixing c is declared; the k(k−1)/2 flat directions of {T: T C Tᵀ = C} remain."""
    problem = one_hidden_layer(4, 3, activation="square", c=[1.0, 2.0, 3.0], seed=12)
    certificate = ms.certify(problem, problem.truth)
    assert certificate.verdict is Verdict.DEGENERATE
    assert certificate.null_dimension == 3


def test_default_instance_recovers_the_teacher_from_random_starts():
    problem = ms.make_problem("one_hidden_layer", seed=0)
    assert problem.parameters["activation"] == "relu"
    assert problem.parameters["loss"] == "population"
    for seed in range(5):
        result = ms.solve(problem, seed=seed)
        assert problem.recovered(result.point)
        assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER


def test_cli_solves_the_registered_default(capsys):
    import json

    assert "one_hidden_layer" in problem_registry.names()
    status = main(["solve", "one_hidden_layer", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["recovered"] is True
    assert summary["certificate"]["verdict"] == "local_minimizer"


def test_default_teacher_is_orthonormal_and_the_labels_come_from_it():
    problem = one_hidden_layer(5, 3, 40, activation="smoothed_relu", loss="finite", seed=1)
    w = problem.truth
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-12)
    objective = problem.objective
    expected = activation_function("smoothed_relu", objective.inputs @ w, 0.1)[0].sum(axis=1)
    np.testing.assert_allclose(objective.labels, expected, rtol=1e-14)
    assert one_hidden_layer(2, 4, seed=1).parameters["teacher"] == "gaussian"  # k♮ > n


def test_user_data_gives_the_same_loss_as_the_seeded_instance():
    seeded = one_hidden_layer(3, 2, 30, activation="abs", loss="finite", seed=4)
    objective = seeded.objective
    user = one_hidden_layer(
        3, 2, activation="abs", loss="finite", inputs=objective.inputs, labels=objective.labels
    )
    assert user.truth is None
    x = np.arange(6.0).reshape(3, 2) / 7
    assert user.cost(x) == seeded.cost(x)
    with_teacher = one_hidden_layer(
        3, 2, activation="abs", loss="finite", inputs=objective.inputs, teacher=seeded.truth
    )
    assert with_teacher.cost(x) == pytest.approx(seeded.cost(x), rel=1e-14)


def test_over_parametrized_truth_pads_idle_units_and_the_smoothed_relu_has_none():
    problem = one_hidden_layer(4, 5, activation="relu", teacher_units=2, seed=3)
    np.testing.assert_array_equal(problem.truth[:, 2:], 0.0)
    assert problem.cost(problem.truth) == pytest.approx(0.0, abs=1e-13)
    smoothed = one_hidden_layer(
        4, 5, activation="smoothed_relu", loss="finite", teacher_units=2, seed=3
    )
    assert smoothed.truth is None


# --------------------------------------------------------------------------- symmetry
def test_cost_is_invariant_exactly_under_the_declared_group(rng):
    x = rng.standard_normal((4, 4))
    perm = [2, 0, 3, 1]
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    for activation in ("relu", "abs", "square"):
        for loss in ("population", "finite"):
            problem = one_hidden_layer(4, 4, activation=activation, loss=loss, seed=5)
            assert problem.cost(x[:, perm]) == pytest.approx(problem.cost(x), rel=1e-12)
            flipped = problem.cost(x * signs)
            if activation == "relu":
                assert abs(flipped - problem.cost(x)) > 1e-3  # ReLU is not even
                assert problem.symmetry == SignedPermutation(4, signed=False)
            else:
                assert flipped == pytest.approx(problem.cost(x), rel=1e-12)
    square = one_hidden_layer(4, 4, activation="square", seed=5)
    q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    assert square.cost(x @ q) == pytest.approx(square.cost(x), rel=1e-12)
    assert square.symmetry == OrthogonalRight(4)
    assert square.distance_to_truth(square.truth @ q) == pytest.approx(0.0, abs=1e-12)


def test_unequal_output_weights_restrict_the_permutations(rng):
    c = [1.0, 2.0, 1.0, 2.0]
    problem = one_hidden_layer(4, 4, activation="abs", c=c, seed=6)
    assert problem.symmetry == SignedPermutation(4, labels=c)
    x = rng.standard_normal((4, 4))
    allowed, forbidden = [2, 3, 0, 1], [1, 0, 2, 3]
    assert problem.cost(x[:, allowed]) == pytest.approx(problem.cost(x), rel=1e-12)
    assert abs(problem.cost(x[:, forbidden]) - problem.cost(x)) > 1e-3
    truth = problem.truth
    assert problem.distance_to_truth(-truth[:, allowed]) == pytest.approx(0.0, abs=1e-12)
    assert problem.distance_to_truth(truth[:, forbidden]) > 0.5


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("labels", [None, ["a", "b", "a", "b", "a"]])
def test_permutation_subgroups_distance_equals_brute_force(signed, labels, rng):
    group = SignedPermutation(5, axis=-1, signed=signed, labels=labels)
    for _ in range(4):
        x, y = rng.standard_normal((2, 3, 5))
        best = np.inf
        for perm in itertools.permutations(range(5)):
            if labels is not None and any(labels[i] != labels[j] for i, j in enumerate(perm)):
                continue
            for signs in itertools.product((1.0, -1.0) if signed else (1.0,), repeat=5):
                best = min(best, np.linalg.norm(x - y[:, list(perm)] * np.array(signs)))
        assert group.distance(x, y) == pytest.approx(best, rel=1e-12)
        aligned = group.align(y, x)  # the point of y's orbit nearest to x
        assert np.linalg.norm(x - aligned) == pytest.approx(best, rel=1e-12)
        assert group.distance(aligned, y) == pytest.approx(0.0, abs=1e-12)
        perm, signs = group.random_element(rng)
        moved = group.act(y, perm, signs)
        assert group.distance(moved, y) == pytest.approx(0.0, abs=1e-12)


def test_permutation_subgroups_refuse_elements_outside_them():
    unsigned = SignedPermutation(3, signed=False)
    assert unsigned.name == "S(3)" and unsigned != SignedPermutation(3)
    with pytest.raises(ValueError, match="signs must all be \\+1"):
        unsigned.act(np.ones(3), [0, 1, 2], [1, -1, 1])
    labelled = SignedPermutation(3, labels=[1, 1, 2])
    with pytest.raises(ValueError, match="permutation must map every slice to one with its label"):
        labelled.act(np.ones(3), [2, 1, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="labels must hold one label per slice"):
        SignedPermutation(3, labels=[1, 2])
    with pytest.raises(TypeError, match="signed must be True or False"):
        SignedPermutation(3, signed=1)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 0}, ValueError, "k must be at least 1"),
        ({"n": 2.5}, TypeError, "n must be an integer"),
        ({"c": [1.0, 2.0]}, ValueError, "c must be a vector of k = 3"),
        ({"c": [1.0, 0.0, 1.0]}, ValueError, "c must have non-zero entries"),
        ({"c": [1j, 1.0, 1.0]}, ValueError, "c must be real"),
        ({"c": [np.nan, 1.0, 1.0]}, ValueError, "c must be finite"),
        ({"teacher": np.ones((4, 3))}, ValueError, "teacher must be an n × k♮ matrix with n = 3"),
        ({"teacher": np.ones((3, 4))}, ValueError, "teacher must have between 1 and k = 3"),
        ({"teacher": "random"}, ValueError, "teacher must be one of"),
        ({"teacher_units": 4}, ValueError, "teacher_units must be at most k = 3"),
        ({"activation": "tanh"}, ValueError, "activation must be one of"),
        ({"loss": "expected"}, ValueError, "loss must be one of"),
        ({"activation": "smoothed_relu"}, ValueError, "closed form for activation"),
        ({"m": 10}, ValueError, "m is the number of samples"),
        ({"temperature": 0.0}, ValueError, "temperature must be a finite positive number"),
        ({"labels": np.ones(5)}, ValueError, "labels were given without the inputs"),
        ({"inputs": np.ones((5, 3))}, ValueError, "pass loss='finite'"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, error, match):
    arguments = {"n": 3, "k": 3, **kwargs}
    with pytest.raises(error, match=match):
        one_hidden_layer(**arguments, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inputs": np.full((5, 3), np.nan)}, "inputs must be finite"),
        ({"inputs": np.ones((5, 3)) * 1j}, "inputs must be real"),
        ({"inputs": np.ones((5, 2))}, "inputs must be an m × n matrix with n = 3"),
        ({"inputs": np.ones((5, 3)), "labels": np.ones(4)}, "labels must be a vector of m = 5"),
        ({"inputs": np.ones((5, 3)), "m": 6}, "m = 6 disagrees with the 5 rows of inputs"),
        ({"teacher": "orthonormal", "teacher_units": 3, "n": 2}, "needs at most n = 2 units"),
    ],
)
def test_bad_finite_sample_data_is_refused(kwargs, match):
    arguments = {"n": 3, "k": 3, "loss": "finite", **kwargs}
    with pytest.raises(ValueError, match=match):
        one_hidden_layer(**arguments, seed=0)


def test_cli_refuses_bad_parameters_with_one_line(capsys):
    status = main(["solve", "one_hidden_layer", "--param", "activation=smoothed_relu"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("manifoldscape: error: ") and len(err.strip().splitlines()) == 1
