"""Batched trust regions (solvers/trust_regions_batched.py) against sequential runs."""

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.problems import phase_retrieval, rayleigh, singular_pair
from manifoldscape.solvers import batched_trust_regions


def _sphere_starts(n, k, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, k))
    return x / np.linalg.norm(x, axis=0)


def _assert_same(batch, problem, x, **options):
    assert len(batch) == x.shape[1]
    for k, result in enumerate(batch):
        single = ms.solve(problem, "trust-regions", x0=x[:, k], certify=False, **options)
        scale = max(1.0, np.linalg.norm(single.point))
        assert np.max(np.abs(result.point - single.point)) < 1e-12 * scale
        assert result.iterations == single.iterations
        assert result.stop_reason is single.stop_reason
        assert result.counts == single.counts
        assert result.options == single.options
        assert abs(result.cost - single.cost) <= 1e-12 * max(1.0, abs(single.history.cost[0]))
        np.testing.assert_allclose(result.gradient, single.gradient, atol=1e-10 * scale)
        for key in ("inner_iterations", "inner_stop", "accepted"):
            np.testing.assert_array_equal(result.history.extra[key], single.history.extra[key])
        np.testing.assert_allclose(result.history.extra["radius"], single.history.extra["radius"])
        assert result.history.extra.keys() == single.history.extra.keys()
        assert len(result.history) == len(single.history)


def test_rayleigh_equals_sequential_runs():
    problem = rayleigh(n=20, seed=1)
    x = _sphere_starts(20, 6)
    _assert_same(batched_trust_regions(problem, x), problem, x)


@pytest.mark.parametrize("loss", ["intensity", "amplitude", "smoothed_amplitude"])
def test_phase_retrieval_equals_sequential_runs(loss):
    problem = phase_retrieval(n=10, m=60, loss=loss, seed=2)
    x = np.random.default_rng(3).standard_normal((10, 5))
    _assert_same(batched_trust_regions(problem, x), problem, x)


@pytest.mark.parametrize(
    "options",
    [
        {"max_iterations": 3},
        {"gradient_tolerance": 1e-6},
        {"max_inner_iterations": 2, "kappa": 0.5, "theta": 0.5},
        {"initial_radius": 0.01, "max_radius": 1.0, "rho_prime": 0.2, "min_inner_iterations": 3},
    ],
)
def test_options_equal_sequential_runs(options):
    problem = rayleigh(n=15, seed=3)
    x = _sphere_starts(15, 4, seed=5)
    _assert_same(batched_trust_regions(problem, x, **options), problem, x, **options)
    pr = phase_retrieval(n=8, m=48, seed=4)
    z = np.random.default_rng(6).standard_normal((8, 4))
    _assert_same(batched_trust_regions(pr, z, **options), pr, z, **options)


def test_the_tests_cover_every_inner_stop_and_rejections():
    # the equality tests above are only as good as the branches they go through
    problem = phase_retrieval(n=10, m=60, seed=2)
    x = np.random.default_rng(3).standard_normal((10, 5))
    runs = batched_trust_regions(problem, x) + batched_trust_regions(
        problem, x, max_inner_iterations=2, kappa=0.5, theta=0.5
    )
    stops = set(np.concatenate([r.history.extra["inner_stop"] for r in runs]))
    assert {
        "negative_curvature",
        "exceeded_radius",
        "reached_target_theta",
        "reached_target_kappa",
        "max_inner_iterations",
    } <= stops
    assert not all(np.concatenate([r.history.extra["accepted"] for r in runs]))


def test_converged_start_is_frozen_and_certified():
    problem = rayleigh(n=10, seed=4)
    x = _sphere_starts(10, 3)
    x[:, 0] = problem.truth
    batch = batched_trust_regions(problem, x, certify=True)
    assert batch[0].iterations == 0 and batch[0].converged
    np.testing.assert_array_equal(batch[0].point, problem.truth)
    assert all(r.iterations > 0 for r in batch[1:])
    assert all(r.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER for r in batch)


def test_refusals():
    with pytest.raises(TypeError, match="supports: rayleigh"):
        batched_trust_regions(singular_pair(m=4, n=5, seed=0), np.zeros((9, 2)))
    with pytest.raises(ValueError, match="starts"):
        batched_trust_regions(rayleigh(n=6, seed=0), np.ones((5, 2)))
    with pytest.raises(ValueError, match="rho_prime"):
        batched_trust_regions(rayleigh(n=6, seed=0), _sphere_starts(6, 2), rho_prime=0.5)


@pytest.mark.parametrize("tail", [0, 1000])
def test_batched_and_alone_inner_loops_each_equal_sequential_runs(monkeypatch, tail):
    # _TAIL = 0: every tCG step batched; _TAIL = 1000: every column's tCG run alone
    from manifoldscape.solvers import trust_regions_batched

    monkeypatch.setattr(trust_regions_batched, "_TAIL", tail)
    sphere = rayleigh(n=15, seed=3)
    x = _sphere_starts(15, 5, seed=6)
    _assert_same(batched_trust_regions(sphere, x), sphere, x)
    euclidean = phase_retrieval(n=10, m=60, seed=2)
    z = np.random.default_rng(4).standard_normal((10, 5))
    _assert_same(batched_trust_regions(euclidean, z), euclidean, z)
