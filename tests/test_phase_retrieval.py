"""Phase retrieval: derivatives of every loss, certificates, recovery, initialisation, bad input."""

import time
import tracemalloc

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core.symmetry import Phase, Sign
from manifoldscape.problems import phase_retrieval, phase_retrieval_one_unknown
from manifoldscape.problems.measurements import coded_diffraction, gaussian_measurements
from manifoldscape.problems.phase_retrieval import initial_point

LOSSES = ["intensity", "amplitude", "activated", "smoothed_amplitude"]
SIZES = {"gaussian": [4, 11], "cdp": [6, (3, 4)]}

CASES = [
    pytest.param(loss, field, measurement, n, id=f"{loss}-{field}-{measurement}-{n}")
    for loss in LOSSES
    for field in ("real", "complex")
    for measurement in ("gaussian", "cdp")
    for n in SIZES[measurement]
]


def _problem(loss, field, measurement, n, seed=1, **kwargs):
    return phase_retrieval(
        n=n, field=field, measurement=measurement, loss=loss, seed=seed, **kwargs
    )


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize(("loss", "field", "measurement", "n"), CASES)
def test_derivatives_match_autograd(loss, field, measurement, n):
    """Cost, gradient and Hessian-vector product against the autograd twin (pointwise).

    The CDP twin differentiates ``autograd.numpy.fft``; the amplitude losses are compared at
    random points, where no a_iᴴx vanishes.
    """
    problem = _problem(loss, field, measurement, n, alpha=1.0)
    testing.assert_matches_autograd(problem, points=3, seed=7, rtol=1e-9)


@pytest.mark.parametrize(("loss", "field", "measurement", "n"), CASES)
def test_derivatives_pass_the_taylor_checks(loss, field, measurement, n):
    """Taylor remainders of slope 2 and 3 at random points along random directions.

    The amplitude loss is not differentiable where some a_iᴴx = 0: for a real signal the
    segment x + t u (t ≤ 1) of the check crosses such hyperplanes, so the real case is checked
    at points of norm 10³, whose segments stay inside one smooth piece.  The smoothed amplitude
    loss is C¹ everywhere but C² only away from |a_iᴴx| = α√y_i; the points of these fixed
    seeds (problem seed 1, check seed 11) have segments that avoid those sets (α = 1: some
    measurements in each branch), so the Hessian check is meaningful there.
    """
    problem = _problem(loss, field, measurement, n, alpha=1.0)
    if loss == "amplitude" and field == "real":
        rng = np.random.default_rng(11)
        for _ in range(3):
            x = 1e3 * rng.standard_normal(problem.objective.operator.signal_shape)
            testing.assert_gradient(problem, x, seed=rng)
            testing.assert_hessian(problem, x, seed=rng)
        return
    testing.assert_derivatives(problem, points=3, seed=11)


def test_smoothed_amplitude_points_exercise_both_branches():
    """The derivative tests above really meet the inner branch a t² + b and the outer |t|."""
    problem = _problem("smoothed_amplitude", "complex", "gaussian", 11, alpha=1.0)
    x = ms.geometry.random_point(problem.manifold, np.random.default_rng(11))
    ratio = np.abs(problem.objective.operator.apply(x)) / np.sqrt(problem.objective.y)
    assert np.any(ratio <= 1.0) and np.any(ratio > 1.0)


def test_smoothed_amplitude_is_c1_and_equals_amplitude_outside():
    """φ(t) = a t² + b on |t| ≤ α with a = 1/(2α), b = α/2: value and slope match |t| at α."""
    alpha = 0.7
    smooth = _problem("smoothed_amplitude", "real", "gaussian", 6, alpha=alpha)
    plain = _problem("amplitude", "real", "gaussian", 6)
    # far from the origin every |a_iᴴx| > α√y_i: the two losses coincide
    x = 50.0 * smooth.truth
    ratio = np.abs(smooth.objective.operator.apply(x)) / np.sqrt(smooth.objective.y)
    assert np.all(ratio > alpha)
    assert smooth.cost(x) == pytest.approx(plain.cost(x), rel=1e-12)
    # across the sphere |a_1ᵀx| = α√y_1 the gradient is continuous (C¹)
    op, y = smooth.objective.operator, smooth.objective.y
    a1 = op.a[0]
    base = smooth.truth - (a1 @ smooth.truth) * a1 / (a1 @ a1)  # a_1ᵀ base = 0
    target = alpha * np.sqrt(y[0]) * a1 / (a1 @ a1)  # a_1ᵀ target = α√y_1
    before = smooth.euclidean_gradient(base + (1 - 1e-9) * target)
    after = smooth.euclidean_gradient(base + (1 + 1e-9) * target)
    assert np.linalg.norm(before - after) <= 1e-6 * np.linalg.norm(before)


def test_activation_is_the_c2_cutoff_of_seed_000():
    from manifoldscape.problems.phase_retrieval import activation

    t = np.array([0.0, 5.0, 7.5, 10.0, 12.0])
    h, h1, h2 = activation(t, 5.0, 10.0)
    np.testing.assert_allclose(h, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(h1[[0, 1, 3, 4]], 0.0, atol=1e-15)
    np.testing.assert_allclose(h2[[0, 1, 2, 3, 4]], 0.0, atol=1e-15)
    assert h1[2] == pytest.approx(-30 * 0.5**4 / 5.0)


def test_batched_hessian_matches_one_by_one(rng):
    for measurement, n in (("gaussian", 5), ("cdp", (3, 4))):
        for loss in LOSSES:
            problem = _problem(loss, "complex", measurement, n)
            x = ms.geometry.random_point(problem.manifold, rng)
            shape = problem.objective.operator.signal_shape
            dirs = rng.standard_normal((4, *shape)) + 1j * rng.standard_normal((4, *shape))
            batch = problem.euclidean_hessian(x, dirs)
            for k in range(4):
                np.testing.assert_allclose(
                    batch[k], problem.euclidean_hessian(x, dirs[k]), rtol=1e-12, atol=1e-12
                )


def test_real_gradient_of_a_real_signal_under_cdp_is_real(rng):
    problem = _problem("intensity", "real", "cdp", 8)
    x = rng.standard_normal(8)
    assert problem.euclidean_gradient(x).dtype == float
    assert problem.euclidean_hessian(x, rng.standard_normal(8)).dtype == float


# --------------------------------------------------------------------------- instances
def test_instances_have_truth_symmetry_and_zero_cost_at_truth():
    real = phase_retrieval(n=7, m=30, seed=0)
    cplx = phase_retrieval(n=7, m=30, field="complex", seed=0)
    assert isinstance(real.symmetry, Sign) and isinstance(cplx.symmetry, Phase)
    assert real.truth.dtype == float and cplx.truth.dtype == complex
    for problem in (real, cplx):
        assert problem.cost(problem.truth) == pytest.approx(0.0, abs=1e-20)
        assert problem.gradient_norm(problem.truth) < 1e-10
    assert real.distance_to_truth(-real.truth) < 1e-14
    assert cplx.distance_to_truth(np.exp(2.1j) * cplx.truth) < 1e-14
    assert cplx.distance_to_truth(np.conj(cplx.truth)) > 1e-2
    image = phase_retrieval(n=(4, 5), field="complex", measurement="cdp", n_masks=3, seed=0)
    assert image.truth.shape == (4, 5) and image.parameters["m"] == 60


def test_intensity_loss_is_the_seed_formula():
    """f(x) = 1/(2m) Σ (|a_iᴴx|² − y_i)² (seed 000, "Activated least squares fitting")."""
    problem = phase_retrieval(n=5, m=23, field="complex", seed=3)
    a, y = problem.objective.operator.a, problem.objective.y
    x = np.arange(5) + 1j * np.ones(5)
    assert problem.cost(x) == pytest.approx(np.sum((np.abs(a @ x) ** 2 - y) ** 2) / (2 * 23))
    amplitude = phase_retrieval(a, y, field="complex", loss="amplitude")
    expected = np.sum((np.abs(a @ x) - np.sqrt(y)) ** 2) / (2 * 23)
    assert amplitude.cost(x) == pytest.approx(expected)


def test_seeded_instances_are_reproducible():
    a, b = phase_retrieval(n=6, seed=4), phase_retrieval(n=6, seed=4)
    np.testing.assert_array_equal(a.objective.y, b.objective.y)
    assert not np.array_equal(a.objective.y, phase_retrieval(n=6, seed=5).objective.y)


def test_user_data_matrix_and_measurements():
    op = gaussian_measurements(40, 6, "complex", seed=0)
    x = np.linspace(1, 2, 6) * np.exp(1j * np.arange(6))
    y = np.abs(op.a @ x) ** 2
    from_y = phase_retrieval(op.a, y, field="complex")
    assert from_y.truth is None and from_y.cost(x) == pytest.approx(0.0, abs=1e-20)
    from_truth = phase_retrieval(op, truth=x, field="complex")
    np.testing.assert_allclose(from_truth.objective.y, y, rtol=1e-12)
    assert from_truth.distance_to_truth(1j * x) < 1e-14
    masks = coded_diffraction((3, 4), 2, seed=0).masks
    image = phase_retrieval(masks=masks, truth=np.ones((3, 4)), field="real")
    assert image.parameters["measurement"] == "cdp" and image.cost(-np.ones((3, 4))) < 1e-20


def test_noise_options():
    clean = phase_retrieval(n=10, m=80, seed=2)
    gauss = phase_retrieval(n=10, m=80, seed=2, noise="gaussian", noise_level=0.1)
    np.testing.assert_array_equal(clean.truth, gauss.truth)
    relative = np.linalg.norm(gauss.objective.y - clean.objective.y) / np.linalg.norm(
        clean.objective.y
    )
    assert 0.03 < relative < 0.2 and np.all(gauss.objective.y >= 0)
    poisson = phase_retrieval(n=10, m=80, seed=2, noise="poisson", noise_level=0.5)
    counts = poisson.objective.y / 0.5
    np.testing.assert_allclose(counts, np.round(counts))
    assert not np.array_equal(counts * 0.5, clean.objective.y)
    # noisy data: the truth is no longer a critical point
    assert gauss.gradient_norm(gauss.truth) > 1e-3


# --------------------------------------------------------------------------- certificates
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("measurement", ["gaussian", "cdp"])
def test_complex_truth_is_a_minimizer_with_one_symmetry_direction(loss, measurement):
    problem = phase_retrieval(n=6, field="complex", measurement=measurement, loss=loss, seed=0)
    certificate = ms.certify(problem, np.exp(0.4j) * problem.truth)
    assert certificate.verdict == ms.Verdict.LOCAL_MINIMIZER
    assert certificate.index == 0 and certificate.symmetry_dimension == 1


def test_real_truth_is_a_minimizer_without_symmetry_direction():
    problem = phase_retrieval(n=6, seed=0)
    certificate = ms.certify(problem, -problem.truth)
    assert certificate.verdict == ms.Verdict.LOCAL_MINIMIZER
    assert certificate.symmetry_dimension == 0


def test_zero_is_a_critical_point_but_not_a_minimizer():
    problem = phase_retrieval(n=6, m=40, field="complex", seed=0)
    certificate = ms.certify(problem, np.zeros(6, dtype=complex))
    assert certificate.verdict == ms.Verdict.LOCAL_MAXIMIZER  # ∇²f(0) = −(2/m) Σ y_i a_i a_iᴴ


# --------------------------------------------------------------------------- one unknown
def test_one_unknown_is_the_minimal_example_of_seed_003():
    """φ(x) = ¼‖a‖₄⁴(|x|² − |x₀|²)² (eq. 2.4), ∇φ = ‖a‖₄⁴(|x|² − |x₀|²) x (eq. 2.5)."""
    problem = phase_retrieval_one_unknown(m=5, seed=3)
    a = problem.objective.operator.a[:, 0]
    x0 = problem.truth[0]
    a44 = np.sum(np.abs(a) ** 4)
    x = np.array([0.3 - 1.1j])
    assert problem.cost(x) == pytest.approx(0.25 * a44 * (abs(x[0]) ** 2 - abs(x0) ** 2) ** 2)
    np.testing.assert_allclose(
        problem.euclidean_gradient(x), a44 * (abs(x[0]) ** 2 - abs(x0) ** 2) * x, rtol=1e-12
    )
    testing.assert_derivatives(problem, points=3, seed=0)
    testing.assert_matches_autograd(problem, points=3, seed=0, rtol=1e-10)


def test_one_unknown_circle_of_minimizers_and_maximizer_at_zero():
    problem = phase_retrieval_one_unknown(seed=0)
    for angle in (0.0, 1.0, 2.5, -2.0):
        on_circle = ms.certify(problem, np.exp(1j * angle) * problem.truth)
        assert on_circle.verdict == ms.Verdict.LOCAL_MINIMIZER
        assert on_circle.symmetry_dimension == 1 and on_circle.index == 0
    zero = ms.certify(problem, np.zeros(1, dtype=complex))
    assert zero.verdict == ms.Verdict.LOCAL_MAXIMIZER and zero.index == 2
    # a point off the circle is not critical
    assert problem.gradient_norm(1.5 * problem.truth) > 1e-3


def test_one_unknown_user_data():
    a = np.array([1.0, 2.0j, -1.0 + 1.0j])
    problem = phase_retrieval_one_unknown(a, np.abs(a * (1 + 1j)))
    assert problem.cost(np.array([np.sqrt(2) * 1j])) == pytest.approx(0.0, abs=1e-24)
    with pytest.raises(ValueError, match="y must be non-negative"):
        phase_retrieval_one_unknown(a, -np.ones(3))
    with pytest.raises(ValueError, match="a must be a non-empty vector"):
        phase_retrieval_one_unknown(np.ones((2, 2)))


# --------------------------------------------------------------------------- recovery
def _gradient_descent_trials(n, ratio, trials):
    """Random-init gradient descent on the real intensity loss; count recoveries (≤ 1e-6).

    Step size η = μ/‖x‖² with μ = 0.1 and ‖x‖² estimated by mean(y) (E y_i = ‖x‖²): near the
    truth ∇²f(x) ≈ 4(‖x‖² I + 2 x xᵀ), of norm 12‖x‖², so η < 2/L holds with room; this is the
    μ/‖z₀‖² rule of Wirtinger flow (Candès–Li–Soltanolkotabi 2015, §3; cited by seed 001,
    "Generalized Phase Retrieval"), in our units: their loss is 1/(4m)Σ(...)² with the Wirtinger
    gradient, ours 1/(2m)Σ(...)² with the real gradient, 4 times theirs, so μ = 0.1 here is 0.4
    there.  With m = 10n it runs about 200 iterations from a random start.  (At m ≤ 6n the
    Hessian's heavy-tailed terms make this step too long for some starts: use trust regions.)
    """
    successes = 0
    for trial in range(trials):
        problem = phase_retrieval(n=n, m=ratio * n, field="real", seed=trial)
        x0 = initial_point(problem, "random", seed=1000 + trial)
        result = ms.solve(
            problem,
            solver="gradient-descent",
            x0=x0,
            seed=trial,
            step_size=0.1 / np.mean(problem.objective.y),
            max_iterations=3000,
            rtol_gradient=1e-12,
            certify=False,
        )
        successes += problem.distance_to_truth(result.point) <= 1e-6
    return successes


def test_random_init_gradient_descent_recovers_real_gaussian_phase_retrieval():
    """n = 100, m = 10n: recovery up to sign in at least 19 of 20 seeded trials (issue 3)."""
    assert _gradient_descent_trials(100, 10, 20) >= 19


def test_cdp_image_recovers_from_a_spectral_start():
    problem = phase_retrieval(n=(12, 12), field="complex", measurement="cdp", n_masks=6, seed=0)
    x0 = initial_point(problem, "spectral", seed=0)
    result = ms.solve(problem, solver="trust-regions", x0=x0, seed=0, rtol_gradient=1e-12)
    assert problem.distance_to_truth(result.point) <= 1e-8
    assert result.certificate.verdict == ms.Verdict.LOCAL_MINIMIZER
    assert result.certificate.symmetry_dimension == 1


# --------------------------------------------------------------------------- initialisation
def _preprocessed(method, y):
    if method == "spectral":
        return y
    if method == "truncated_spectral":
        return np.where(y <= 9 * np.mean(y), y, 0.0)
    return np.maximum(1 - np.mean(y) / y, -50.0)  # Luo–Alghamdi–Lu T(t) = 1 − 1/t, floored


@pytest.mark.parametrize("method", ["spectral", "truncated_spectral", "optimal_spectral"])
def test_spectral_start_is_the_top_eigenvector_scaled_by_the_norm_estimate(method):
    problem = phase_retrieval(n=12, m=120, field="complex", seed=0)
    a, y = problem.objective.operator.a, problem.objective.y
    weights = _preprocessed(method, y)
    matrix = (a.conj().T * weights) @ a / 120
    top = np.linalg.eigh(matrix)[1][:, -1]
    x0 = initial_point(problem, method, seed=0)
    assert np.linalg.norm(x0) == pytest.approx(np.sqrt(12 * np.sum(y) / np.sum(np.abs(a) ** 2)))
    assert abs(np.vdot(top, x0)) / np.linalg.norm(x0) == pytest.approx(1.0, abs=1e-6)


def test_spectral_start_is_better_than_random():
    problem = phase_retrieval(n=40, m=400, seed=0)
    spectral = problem.distance_to_truth(initial_point(problem, "spectral", seed=0))
    random = problem.distance_to_truth(initial_point(problem, "random", seed=0))
    # |⟨x̂, x⟩| ≈ 0.84 for the spectral start at m = 10n; a random direction is near-orthogonal
    assert spectral < 0.7 < random


@pytest.mark.parametrize(("field", "size"), [("complex", 24), ("real", 16)])
def test_optimal_spectral_start_correlates_where_the_plain_one_fails(field, size):
    # coded diffraction with L = 6 masks: the plain spectral vector loses x as the image grows
    # (correlation 0.40 at 64 × 64, 0.01 at 256 × 256); Luo–Alghamdi–Lu's preprocessing keeps
    # it above 0.9 at every size we tried
    problem = phase_retrieval(n=(size, size), field=field, measurement="cdp", n_masks=6, seed=0)
    truth = np.asarray(problem.truth).ravel()

    def correlation(x):
        x = np.asarray(x).ravel()
        return abs(np.vdot(x, truth)) / np.linalg.norm(x) / np.linalg.norm(truth)

    optimal = correlation(initial_point(problem, "optimal_spectral", seed=0))
    assert optimal > 0.85
    assert optimal > correlation(initial_point(problem, "spectral", seed=0)) + 0.1
    with pytest.raises(ValueError, match="floor must be a positive number"):
        initial_point(problem, "optimal_spectral", floor=0)


def test_truncation_drops_the_largest_measurements():
    y = np.ones(50)
    y[0] = 1e4  # one outlier dominates Y = (1/m) Σ y_i a_i a_iᴴ
    a = gaussian_measurements(50, 5, seed=1).a
    problem = phase_retrieval(a, y)
    plain = initial_point(problem, "spectral", seed=0)
    truncated = initial_point(problem, "truncated_spectral", seed=0)
    along = a[0] / np.linalg.norm(a[0])
    assert abs(along @ plain) / np.linalg.norm(plain) > 0.99
    assert abs(along @ truncated) / np.linalg.norm(truncated) < 0.9


def test_initial_point_refuses_other_problems():
    with pytest.raises(TypeError, match="problem must be a phase-retrieval Problem"):
        initial_point(ms.problems.rayleigh(n=4, seed=0))
    with pytest.raises(ValueError, match="method must be one of"):
        initial_point(phase_retrieval(n=4, seed=0), "magic")


# --------------------------------------------------------------------------- bad input
A_REAL = np.random.default_rng(0).standard_normal((20, 4))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"measurements": A_REAL, "y": -np.ones(20)}, ValueError, "y must be non-negative"),
        ({"measurements": A_REAL, "y": np.full(20, np.nan)}, ValueError, "y must be finite"),
        ({"measurements": A_REAL, "y": np.full(20, np.inf)}, ValueError, "y must be finite"),
        ({"measurements": A_REAL, "y": np.ones(20) + 1j}, ValueError, "y must be real"),
        ({"measurements": A_REAL, "y": np.ones(19)}, ValueError, r"y must have shape \(20,\)"),
        ({"measurements": A_REAL + 1j, "y": np.ones(20)}, ValueError, "measurements is a complex"),
        ({"measurements": A_REAL, "truth": np.ones(4) * 1j}, ValueError, "truth is complex"),
        ({"measurements": A_REAL, "truth": np.ones(5)}, ValueError, "truth must have the signal"),
        ({"measurements": np.ones(20), "y": np.ones(20)}, ValueError, "measurements must be an m"),
        ({"measurements": A_REAL * np.nan}, ValueError, "measurements must be finite"),
        ({"masks": np.ones((2, 5)), "n": 4}, ValueError, "masks must act on signals of shape"),
        ({"masks": np.ones(5)}, ValueError, "masks must have shape"),
        ({"masks": np.ones((2, 3, 3)), "y": np.ones((2, 3, 4))}, ValueError, "y must have shape"),
        ({"n": 5, "loss": "huber"}, ValueError, "loss must be one of"),
        ({"n": 5, "field": "quaternion"}, ValueError, "field must be one of"),
        ({"n": 5, "measurement": "fourier"}, ValueError, "measurement must be one of"),
        ({"n": 5, "noise": "gaussian"}, ValueError, "noise_level must be positive"),
        ({"n": 5, "noise_level": -1.0}, ValueError, "noise_level must be"),
        ({"n": 0}, ValueError, "n must be"),
        ({"n": (4, 4)}, ValueError, "n must be an integer for Gaussian"),
        ({"n": 4, "measurement": "cdp", "m": 10}, ValueError, "m must be n_masks"),
        ({"n": 5, "loss": "smoothed_amplitude", "alpha": 0.0}, ValueError, "alpha must be"),
        ({"n": 5, "loss": "activated", "gamma": 2.0}, ValueError, "gamma must be"),
        ({"y": np.ones(5)}, TypeError, "y was given without measurements"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        phase_retrieval(**kwargs)


def test_activated_loss_refuses_all_zero_measurements():
    with pytest.raises(ValueError, match="y must have a positive sum"):
        phase_retrieval(A_REAL, np.zeros(20), loss="activated")


def _solve_coded_diffraction(size):
    """Complex size × size image, L = 6 octanary masks, optimal spectral start, trust regions."""
    start = time.perf_counter()
    problem = phase_retrieval(n=(size, size), field="complex", measurement="cdp", n_masks=6, seed=0)
    x0 = initial_point(problem, "optimal_spectral", seed=1)
    tracemalloc.start()
    result = ms.solve(problem, "trust-regions", x0=x0, certify=False, rtol_gradient=1e-12)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    data = problem.objective.y.nbytes + problem.objective.operator.masks.nbytes
    return problem.distance_to_truth(result.point), time.perf_counter() - start, peak / data


def test_coded_diffraction_64_from_the_optimal_spectral_start():
    error, _, memory = _solve_coded_diffraction(64)
    assert error <= 1e-8
    assert memory < 20


@pytest.mark.slow
def test_coded_diffraction_256_within_a_minute():
    """The acceptance (issue 3): 256 × 256 complex, L = 6: error ≤ 1e-8 within 60 s (start and
    solve; ~6 s measured with one BLAS thread), peak memory of the solve a small multiple of y
    and the masks (tracemalloc; the factor is measured, not chosen: ~8)."""
    error, seconds, memory = _solve_coded_diffraction(256)
    assert error <= 1e-8
    assert seconds < 60
    assert memory < 20
