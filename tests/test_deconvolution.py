"""Sparse blind deconvolution: multichannel on the sphere and short-and-sparse (bilinear lasso)."""

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.registry import problem_registry
from manifoldscape.core.symmetry import SignedShift
from manifoldscape.geometry import random_point
from manifoldscape.problems import blind_deconvolution, sas_deconvolution
from manifoldscape.problems.deconvolution import (
    circulant_matrix,
    circular_convolve,
    inverse_filter,
    kernel_error,
    recovered_kernel,
    recovered_signals,
    signals_error,
)
from manifoldscape.problems.sas_deconvolution import ShiftTruncation


def _direct_circular(a, x):
    """(a ⊛ x)_j = Σ_k a_k x_{(j−k) mod n}, by the definition (a zero-padded to len(x))."""
    n = x.size
    return np.array([sum(a[k] * x[(j - k) % n] for k in range(a.size)) for j in range(n)])


# --------------------------------------------------------------------------- convolutions
@pytest.mark.parametrize(("k", "n"), [(5, 5), (3, 8), (7, 16), (16, 16)])
def test_fft_convolution_matches_the_definition_and_the_circulant_matrix(k, n, rng):
    a, x = rng.standard_normal(k), rng.standard_normal(n)
    expected = _direct_circular(a, x)
    np.testing.assert_allclose(circular_convolve(a, x), expected, atol=1e-12)
    padded = np.concatenate([a, np.zeros(n - k)])
    np.testing.assert_allclose(circulant_matrix(padded) @ x, expected, atol=1e-12)
    # the linear convolution folded modulo n is the circular one (seed 003, footnote 24)
    linear = np.convolve(a, x)
    folded = np.zeros(n)
    np.add.at(folded, np.arange(linear.size) % n, linear)
    np.testing.assert_allclose(expected, folded, atol=1e-12)


def test_observations_are_the_circular_convolutions(rng):
    kernel = rng.standard_normal(12)
    signals = rng.standard_normal((4, 12))
    problem = blind_deconvolution(kernel=kernel, signals=signals)
    for y, x in zip(problem.objective.observations, signals, strict=True):
        np.testing.assert_allclose(y, _direct_circular(kernel, x), atol=1e-12)


def test_the_fourier_preconditioner_matches_the_matrix_square_root(rng):
    problem = blind_deconvolution(16, 30, theta=0.3, seed=rng)
    objective = problem.objective
    circulants = circulant_matrix(objective.observations)  # C_{y_i}, explicit
    s = sum(c.T @ c for c in circulants) / (objective.theta * 16 * 30)
    values, vectors = np.linalg.eigh(s)
    p_matrix = vectors @ np.diag(values**-0.5) @ vectors.T
    q = random_point(problem.manifold, rng)
    z = objective._forward(q)
    for zi, c in zip(z, circulants, strict=True):
        np.testing.assert_allclose(zi, c @ p_matrix @ q, atol=1e-10)
    np.testing.assert_allclose(inverse_filter(problem, q), p_matrix @ q, atol=1e-10)


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize(
    "params",
    [
        {"n": 8, "p": 20, "theta": 0.3},
        {"n": 17, "p": 20, "loss": "l4"},
        {"n": 32, "p": 30, "mu": 0.05},
        {"n": 64, "p": 50},
    ],
)
def test_blind_deconvolution_derivatives(params, rng):
    problem = blind_deconvolution(**params, seed=rng)
    testing.assert_derivatives(problem, points=2, seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-9)


@pytest.mark.parametrize("n", [8, 24])
def test_huber_gradient_and_autograd_agreement(n, rng):
    # Huber is C¹ with a piecewise constant second derivative: Taylor checks of the Hessian
    # are not meaningful where a kink |z| = μ falls inside the step window
    problem = blind_deconvolution(n, 20, loss="huber", mu=0.05, seed=rng)
    for _ in range(3):
        testing.assert_gradient(problem, random_point(problem.manifold, rng), seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-9)


@pytest.mark.parametrize(("p0", "m", "lam"), [(3, 16, 0.1), (5, 40, 0.5), (8, 64, 0.2)])
def test_sas_derivatives_with_the_smoothed_l1(p0, m, lam, rng):
    problem = sas_deconvolution(p0, m, lam=lam, mu=0.1, seed=rng)
    testing.assert_derivatives(problem, points=2, seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-9)


# --------------------------------------------------------------------------- the planted point
def test_the_planted_inverse_filter_sparsifies_every_channel(rng):
    problem = blind_deconvolution(32, 10, theta=0.2, seed=rng)
    objective = problem.objective
    z = recovered_signals(problem, problem.truth)
    scale = np.linalg.norm(z) / np.linalg.norm(objective.signals)
    np.testing.assert_allclose(z, scale * objective.signals, atol=1e-10 * scale)
    assert kernel_error(problem, problem.truth) < 1e-10
    assert signals_error(problem, problem.truth) < 1e-10
    # the kernel estimate times the signal estimates reproduces the data exactly
    a_hat = recovered_kernel(problem, problem.truth)
    np.testing.assert_allclose(circular_convolve(a_hat, z), objective.observations, atol=1e-10)


def test_one_spike_channels_make_the_planted_point_a_minimizer(rng):
    problem = blind_deconvolution(16, 8, model="one-sparse", seed=rng)
    assert problem.gradient_norm(problem.truth) < 1e-10
    certificate = ms.certify(problem, problem.truth)
    assert certificate.verdict == Verdict.LOCAL_MINIMIZER


def test_signed_shifts_leave_the_cost_and_the_errors_unchanged(rng):
    problem = blind_deconvolution(24, 12, seed=rng)
    group = SignedShift(24)
    q = random_point(problem.manifold, rng)
    error = kernel_error(problem, problem.truth)
    for shift, sign in [(1, 1.0), (5, -1.0), (23, -1.0)]:
        moved = group.act(q, shift, sign)
        assert problem.cost(moved) == pytest.approx(problem.cost(q), rel=1e-12)
        assert kernel_error(problem, group.act(problem.truth, shift, sign)) == pytest.approx(
            error, abs=1e-10
        )
        assert problem.distance_to_truth(group.act(problem.truth, shift, sign)) < 1e-12


# --------------------------------------------------------------------------- recovery
def test_acceptance_kernel_recovered_in_at_least_9_of_10_trials():
    """Issue 4: n = 64, p = 50, θ = 0.1, random-init trust regions, error ≤ 1e-2 (≥ 9/10)."""
    errors = []
    for trial in range(10):
        problem = blind_deconvolution(64, 50, theta=0.1, seed=trial)
        result = ms.solve(problem, "trust-regions", seed=100 + trial, certify=trial == 0)
        errors.append(kernel_error(problem, result.point))
        if trial == 0:
            assert result.certificate.verdict == Verdict.LOCAL_MINIMIZER
            assert problem.recovered(result.point)
            assert signals_error(problem, result.point) <= 1e-2
    assert sum(e <= 1e-2 for e in errors) >= 9, errors


def test_noisy_channels_give_an_error_of_the_order_of_the_noise():
    errors = []
    for trial in range(4):
        problem = blind_deconvolution(32, 50, noise=0.01, seed=trial)
        result = ms.solve(problem, "trust-regions", seed=trial, certify=False)
        errors.append(kernel_error(problem, result.point))
    assert max(errors) < 2e-2, errors


def test_user_observations_without_a_kernel_have_no_truth(rng):
    kernel = rng.standard_normal(16)
    signals = (rng.random((20, 16)) < 0.2) * rng.standard_normal((20, 16))
    y = circular_convolve(kernel, signals)
    blind = blind_deconvolution(Y=y, theta=0.2)
    assert blind.truth is None and blind.parameters["n"] == 16 and blind.parameters["p"] == 20
    with pytest.raises(ValueError, match="no ground-truth kernel"):
        kernel_error(blind, random_point(blind.manifold, rng))
    result = ms.solve(blind, "trust-regions", seed=rng, certify=False)
    known = blind_deconvolution(Y=y, theta=0.2, kernel=kernel)
    assert kernel_error(known, result.point) < 1e-2


def test_sas_convolution_and_truth(rng):
    problem = sas_deconvolution(6, 50, lam=0.0, seed=rng)
    a0, x0 = problem.truth
    assert np.linalg.norm(a0) == pytest.approx(1.0)
    np.testing.assert_allclose(problem.objective.y, _direct_circular(a0, x0), atol=1e-12)
    assert problem.gradient_norm(problem.truth) < 1e-12


def test_shift_truncation_distance_matches_brute_force(rng):
    p0, m = 6, 30
    group = ShiftTruncation(p0, m)
    x = [rng.standard_normal(p0), rng.standard_normal(m)]
    y = [rng.standard_normal(p0), rng.standard_normal(m)]
    best = np.inf
    for tau in range(-(p0 - 1), p0):
        shifted = np.array([y[0][i - tau] if 0 <= i - tau < p0 else 0.0 for i in range(p0)])
        for sign in (1.0, -1.0):
            d2 = np.sum((x[0] - sign * shifted) ** 2)
            d2 += np.sum((x[1] - sign * np.roll(y[1], -tau)) ** 2)
            best = min(best, np.sqrt(d2))
    assert group.distance(x, y) == pytest.approx(best, rel=1e-12)
    # a truncated signed shift of y is at distance 0 from the shifted pair
    moved = group.act(y, 2, -1.0)
    assert group.distance(moved, y) == pytest.approx(0.0, abs=1e-12)


def test_sas_recovers_the_kernel_modulo_shift_from_the_best_of_several_starts():
    for instance in range(2):
        problem = sas_deconvolution(8, 256, theta=0.05, seed=instance)
        runs = [
            ms.solve(problem, "trust-regions", seed=10 * instance + s, certify=False)
            for s in range(6)
        ]
        best = min(runs, key=lambda r: r.cost)
        assert kernel_error(problem, best.point) < 0.1


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("theta", [0, -0.1, 1.5, float("nan")])
def test_theta_outside_the_unit_interval_is_refused(theta):
    with pytest.raises(ValueError, match=r"theta must be a number in \(0, 1\]"):
        blind_deconvolution(16, 4, theta=theta)
    with pytest.raises(ValueError, match=r"theta must be a number in \(0, 1\]"):
        sas_deconvolution(4, 32, theta=theta)


def test_a_non_invertible_kernel_is_refused():
    kernel = np.zeros(16)
    kernel[:2] = 1.0  # 1 + e^{-2πik/16} vanishes at k = 8
    with pytest.raises(
        ValueError, match="kernel is not invertible: its DFT vanishes at frequency 8"
    ):
        blind_deconvolution(kernel=kernel, p=4)


def test_mismatched_lengths_are_refused(rng):
    with pytest.raises(
        ValueError, match=r"kernel must have length n = 16.*longer than the signals"
    ):
        blind_deconvolution(16, 4, kernel=rng.standard_normal(20))
    with pytest.raises(ValueError, match=r"signals must have shape \(p, n\) = \(4, 16\)"):
        blind_deconvolution(16, 4, signals=rng.standard_normal((4, 15)))
    with pytest.raises(ValueError, match=r"Y must have shape \(p, n\) = \(3, 16\)"):
        blind_deconvolution(16, Y=rng.standard_normal((3, 12)), signals=np.ones((3, 16)))
    with pytest.raises(ValueError, match="kernel must be no longer than the signal"):
        sas_deconvolution(m=10, kernel=rng.standard_normal(12))
    with pytest.raises(ValueError, match="p0 must be at most m = 10"):
        sas_deconvolution(12, 10)
    with pytest.raises(ValueError, match="y must have length m = 32"):
        sas_deconvolution(4, 32, y=rng.standard_normal(30))


def test_non_finite_data_is_refused(rng):
    y = rng.standard_normal((4, 16))
    y[1, 3] = np.nan
    with pytest.raises(ValueError, match="Y must be finite"):
        blind_deconvolution(Y=y)
    kernel = rng.standard_normal(16)
    kernel[0] = np.inf
    with pytest.raises(ValueError, match="kernel must be finite"):
        blind_deconvolution(16, 4, kernel=kernel)
    with pytest.raises(ValueError, match="y must be finite"):
        sas_deconvolution(4, 16, y=np.full(16, np.inf))


def test_other_bad_options_are_refused(rng):
    with pytest.raises(ValueError, match="loss must be one of"):
        blind_deconvolution(16, 4, loss="l1")
    with pytest.raises(ValueError, match="mu must be a positive finite number"):
        blind_deconvolution(16, 4, mu=0.0)
    with pytest.raises(ValueError, match="model must be one of"):
        blind_deconvolution(16, 4, model="gaussian")
    with pytest.raises(TypeError, match="noise applies to generated observations"):
        blind_deconvolution(Y=rng.standard_normal((4, 16)), noise=0.1)
    with pytest.raises(ValueError, match="power spectrum vanishes"):
        blind_deconvolution(Y=np.ones((4, 16)))
    with pytest.raises(ValueError, match="lam must be a non-negative finite number"):
        sas_deconvolution(4, 32, lam=-1.0)
    with pytest.raises(TypeError, match="problem must be a Problem built by blind_deconvolution"):
        kernel_error(sas_deconvolution(4, 32, seed=0).autograd_twin(), [np.ones(4), np.ones(32)])


def test_both_factories_are_registered():
    assert {"blind_deconvolution", "sas_deconvolution"} <= set(problem_registry.names())
    problem = ms.make_problem("blind_deconvolution", n=16, p=8, seed=0)
    assert problem.parameters["n"] == 16
