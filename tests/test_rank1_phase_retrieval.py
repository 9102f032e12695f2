"""Rank-1 phase retrieval on the PSD fixed-rank manifold (seed 000, Cai and Wei)."""

import tracemalloc

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core.certificate import Verdict
from manifoldscape.geometry import random_point
from manifoldscape.geometry.fixed_rank import SymmetricFixedRank
from manifoldscape.problems import phase_retrieval, rank1_phase_retrieval
from manifoldscape.problems.measurements import coded_diffraction, gaussian_measurements
from manifoldscape.problems.rank1_phase_retrieval import MeasurementFrame, rank1_initial_point

CASES = [
    {"n": 5, "field": "real"},
    {"n": 9, "m": 30, "field": "complex"},
    {"n": 6, "field": "real", "measurement": "cdp", "n_masks": 3},
    {"n": 7, "field": "complex", "measurement": "cdp"},
]


def _id(case):
    return "-".join(str(v) for v in case.values())


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_derivatives_and_autograd_twin(case, rng):
    problem = rank1_phase_retrieval(**case, seed=int(rng.integers(2**31)))
    assert isinstance(problem.manifold, SymmetricFixedRank) and problem.manifold.psd
    testing.assert_derivatives(problem, points=2, seed=rng)
    testing.assert_matches_autograd(problem, points=2, seed=rng, rtol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_truth_is_a_minimizer_without_symmetry_direction(case, rng):
    problem = rank1_phase_retrieval(**case, seed=int(rng.integers(2**31)))
    assert problem.cost(problem.truth) < 1e-25
    certificate = ms.certify(problem, problem.truth)
    assert certificate.verdict is Verdict.LOCAL_MINIMIZER
    assert certificate.symmetry_dimension == 0
    n = case["n"]
    assert certificate.tangent_dimension == (2 * n - 1 if case["field"] == "complex" else n)


def test_same_data_factored_has_the_phase_the_rank1_manifold_has_none(rng):
    """Seed 000: the minimizer of F on M₁ is unique; f on ℂⁿ has a circle of minimizers."""
    n = 8
    operator = gaussian_measurements(6 * n, n, "complex", seed=rng)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
    y = np.abs(operator.apply(x)) ** 2
    factored = phase_retrieval(operator, y, truth=x, field="complex")
    on_manifold = rank1_phase_retrieval(operator, y, truth=x, field="complex")
    c_factored = ms.certify(factored, x)
    c_manifold = ms.certify(on_manifold, on_manifold.truth)
    assert c_factored.verdict is c_manifold.verdict is Verdict.LOCAL_MINIMIZER
    assert c_factored.symmetry_dimension == 1
    assert c_manifold.symmetry_dimension == 0


@pytest.mark.parametrize("field", ["real", "complex"])
@pytest.mark.parametrize("start", ["spectral", "random"])
def test_trust_regions_recover_x_x_star(field, start, rng):
    problem = rank1_phase_retrieval(n=20, m=120, field=field, seed=int(rng.integers(2**31)))
    x0 = rank1_initial_point(problem, start, seed=rng)
    result = ms.solve(problem, solver="trust-regions", x0=x0, seed=rng, gradient_tolerance=1e-11)
    assert problem.distance_to_truth(result.point) <= 1e-9
    assert result.certificate.verdict is Verdict.LOCAL_MINIMIZER


def test_spectral_start_is_close_and_random_start_is_not(rng):
    problem = rank1_phase_retrieval(n=30, m=300, seed=int(rng.integers(2**31)))
    spectral = rank1_initial_point(problem, "spectral", seed=rng)
    random = rank1_initial_point(problem, "random", seed=rng)
    # the spectral start correlates with x (distance ≈ √2 sin θ), a random one does not (≈ √2)
    assert problem.distance_to_truth(spectral) < 0.8 < 1.2 < problem.distance_to_truth(random)
    # λ estimates ‖x‖² = trace of the truth
    assert spectral.lam[0] == pytest.approx(problem.truth.lam[0], rel=0.3)


def test_gradient_frame_is_the_sum_of_rank_one_matrices(rng):
    for operator in (
        gaussian_measurements(15, 4, "complex", seed=rng),
        coded_diffraction(4, 2, seed=rng),
    ):
        a = operator.dense()  # rows a_iᴴ
        w = rng.standard_normal(operator.output_shape)
        expected = sum(
            wi * np.outer(ai.conj(), ai) for wi, ai in zip(w.ravel(), a, strict=True)
        ) / (operator.m)
        frame = MeasurementFrame(operator, w, real=False)
        np.testing.assert_allclose(np.asarray(frame), expected, atol=1e-12)
        b = rng.standard_normal((4, 2))
        np.testing.assert_allclose(frame.H @ b, expected.conj().T @ b, atol=1e-12)


def test_cost_and_gradient_never_form_an_n_by_n_matrix(rng):
    n = 2048  # an n×n complex matrix is 64 MiB
    problem = rank1_phase_retrieval(
        n=n, field="complex", measurement="cdp", n_masks=2, seed=int(rng.integers(2**31))
    )
    manifold = problem.manifold
    x = random_point(manifold, rng)
    tracemalloc.start()
    try:
        problem.cost(x)
        gradient = problem.riemannian_gradient(x)
        manifold.retraction(x, -0.1 * gradient)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


def test_bad_input_is_refused(rng):
    operator = gaussian_measurements(20, 4, seed=rng)
    y = np.abs(operator.apply(rng.standard_normal(4))) ** 2
    with pytest.raises(ValueError, match="y must be non-negative"):
        rank1_phase_retrieval(operator, y - 10)
    with pytest.raises(ValueError, match="y must be finite"):
        rank1_phase_retrieval(operator, np.where(y > 0, np.nan, y))
    with pytest.raises(ValueError, match="y must be real"):
        rank1_phase_retrieval(operator, y + 1j)
    with pytest.raises(ValueError, match=r"y must have the measurement shape \(20,\)"):
        rank1_phase_retrieval(operator, y[:5])
    with pytest.raises(ValueError, match="truth must be real"):
        rank1_phase_retrieval(operator, truth=np.ones(4) * 1j)
    with pytest.raises(ValueError, match=r"truth must have the signal shape \(4,\)"):
        rank1_phase_retrieval(operator, truth=np.ones(5))
    with pytest.raises(ValueError, match="measurements must be real"):
        rank1_phase_retrieval(gaussian_measurements(20, 4, "complex", seed=rng), y)
    with pytest.raises(TypeError, match="y was given without measurements"):
        rank1_phase_retrieval(y=y)
    with pytest.raises(TypeError, match="either measurements or masks"):
        rank1_phase_retrieval(operator, masks=np.ones((2, 4)))
    with pytest.raises(ValueError, match="field must be one of"):
        rank1_phase_retrieval(field="quaternion")
    with pytest.raises(ValueError, match="masks must have shape"):
        rank1_phase_retrieval(masks=np.ones(4), truth=np.ones(4))
    with pytest.raises(TypeError, match="n must be an integer"):
        rank1_phase_retrieval(n=2.5)
    with pytest.raises(TypeError, match="problem must be a Problem from rank1_phase_retrieval"):
        rank1_initial_point(phase_retrieval(n=4, seed=0))
