"""Neural collapse with unconstrained features: derivatives, stability, metrics, symmetry, solve."""

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.registry import problem_registry
from manifoldscape.geometry import random_point
from manifoldscape.problems import neural_collapse
from manifoldscape.problems.neural_collapse import (
    FeatureRotation,
    collapse_metrics,
    collapsed_point,
    global_minimum,
    nc1,
    nc2,
    nc2_classifier,
    nc2_features,
    nc3,
    simplex_etf,
)

SIZES = [
    {"K": 2, "d": 1, "n": 1},
    {"K": 3, "d": 2, "n": 2},
    {"K": 4, "d": 6, "n": 5},
    {"K": 5, "d": 3, "n": 3},  # d < K − 1: no ETF fits, the formulas still hold
    {"K": 3, "d": 5, "n": 4, "lambda_W": 0.05, "lambda_H": 0.2, "lambda_b": 0.0},
]


def _orthogonal(d, rng):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _rotated(point, q):
    w, h, b = point
    return [w @ q, q.T @ h, b.copy()]


@pytest.mark.parametrize("params", SIZES, ids=lambda p: "-".join(map(str, p.values())))
def test_derivatives_pass_the_taylor_checks_and_match_autograd(params, rng):
    problem = neural_collapse(**params)
    testing.assert_derivatives(problem, points=3, seed=rng)
    testing.assert_matches_autograd(problem, points=3, seed=rng, rtol=1e-10)


def test_derivatives_near_a_collapsed_minimizer(rng):
    # large logits and probabilities within 1e-4 of one-hot: where the softmax Jacobian is tiny
    problem = neural_collapse(K=4, d=6, n=5)
    x = collapsed_point(4, 6, 5, seed=rng)
    x = [p + 1e-2 * rng.standard_normal(p.shape) for p in x]
    testing.assert_gradient(problem, x, seed=rng)
    testing.assert_hessian(problem, x, seed=rng)


def test_the_hessian_contains_the_bilinear_cross_term(rng):
    # at a point with a large softmax residual G, dropping G Ḣᵀ / Ẇᵀ G would change ∇²f[·] a lot
    problem = neural_collapse(K=3, d=4, n=2)
    x = random_point(problem.manifold, rng)
    dw = rng.standard_normal((3, 4))
    zero_h, zero_b = np.zeros((4, 6)), np.zeros(3)
    out = problem.euclidean_hessian(x, [dw, zero_h, zero_b])
    g = problem.objective.prepare(x).residual
    dz = dw @ x[1]
    p = problem.objective.prepare(x).probabilities
    dg = (p * dz - p * np.sum(p * dz, axis=0)) / 6
    np.testing.assert_allclose(out[1], x[0].T @ dg + dw.T @ g, rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(dw.T @ g) > 1e-3


def test_registered_with_small_defaults():
    assert "neural_collapse" in problem_registry.names()
    problem = problem_registry.get("neural_collapse").factory(seed=0)
    assert problem.parameters == {
        "K": 4,
        "d": 6,
        "n": 5,
        "lambda_W": 5e-4,
        "lambda_H": 5e-4,
        "lambda_b": 5e-4,
    }
    # the global minimizers are one feature-rotation orbit: the truth is one of them
    assert problem.distance_to_truth(problem.truth) < 1e-14
    assert problem.cost(problem.truth) == pytest.approx(global_minimum(4, 5), rel=1e-12)
    assert problem.recovered(random_point(problem.manifold, 0)) is False
    assert neural_collapse(d=2, seed=0).truth is None  # d < K − 1: no simplex ETF fits
    assert neural_collapse(lambda_b=0.0, seed=0).truth is None  # b + s·1 is flat
    with pytest.raises(ValueError, match="no ground truth"):
        neural_collapse(d=2, seed=0).distance_to_truth(random_point(problem.manifold, 0))


# --------------------------------------------------------------------------- stability
def test_huge_logits_stay_finite_and_exact():
    problem = neural_collapse(K=4, d=6, n=5)
    x = collapsed_point(4, 6, 5, seed=0)
    objective = problem.objective
    for scale in (1e2, 1e4, 1e8):
        w, h, b = (scale * p for p in x)
        logits = w @ h
        assert np.max(np.abs(logits)) > 1e3  # exp of these would overflow
        # correctly classified: the loss is log(1 + (K−1) e^{−gap}), below double precision
        data = objective.prepare([w, h, b])
        assert np.all(np.isfinite(data.losses)) and np.all(data.losses >= 0)
        # misclassified: −W makes the own logit −t and the K − 1 = 3 others t/3 (tied), so
        # the loss is t/3 + t + log 3
        wrong = objective.prepare([-w, h, b])
        own = logits[objective.labels, np.arange(20)]
        np.testing.assert_allclose(wrong.losses, 4 / 3 * own + np.log(3.0), rtol=1e-12)
        for point in ([w, h, b], [-w, h, b]):
            assert np.isfinite(problem.cost(point))
            for part in problem.euclidean_gradient(point):
                assert np.all(np.isfinite(part))
            direction = random_point(problem.manifold, 1)
            for part in problem.euclidean_hessian(point, direction):
                assert np.all(np.isfinite(part))


def test_small_losses_of_confident_samples_are_not_rounded_away():
    # logits (s, 0, …, 0) for the true class: loss log(1 + (K−1) e^{−s}) ≈ (K−1) e^{−s} = 3e-20
    objective = neural_collapse(K=4, d=4, n=1).objective
    s = np.log(1e20)
    w = np.eye(4) * s
    data = objective.prepare([w, np.eye(4), np.zeros(4)])
    np.testing.assert_allclose(data.losses, 3e-20, rtol=1e-12)


def test_cost_agrees_with_autograd_at_large_logits(rng):
    problem = neural_collapse(K=3, d=4, n=3)
    x = [30 * p for p in random_point(problem.manifold, rng)]
    reference = float(problem.objective.autograd_cost(x))
    assert problem.cost(x) == pytest.approx(reference, rel=1e-12)


# --------------------------------------------------------------------------- metrics
@pytest.mark.parametrize(("K", "d", "n"), [(2, 1, 3), (3, 2, 2), (4, 6, 5), (5, 5, 2), (6, 9, 1)])
def test_metrics_vanish_on_a_collapsed_configuration(K, d, n, rng):
    x = collapsed_point(K, d, n, seed=rng)
    metrics = collapse_metrics(x)
    assert set(metrics) == {"nc1", "nc2_classifier", "nc2_features", "nc3"}
    assert max(metrics.values()) < 1e-12
    assert nc2(x) < 1e-12
    # the metrics are invariant under the feature rotation and scale-free
    y = _rotated([3.0 * x[0], 0.5 * x[1], x[2]], _orthogonal(d, rng))
    assert max(collapse_metrics(y).values()) < 1e-12


def test_simplex_etf_is_equiangular_and_unit(rng):
    for K, d in [(3, 2), (4, 4), (5, 9)]:
        m = simplex_etf(K, d, seed=rng)
        assert m.shape == (d, K)
        gram = m.T @ m
        np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-12)
        off = gram[~np.eye(K, dtype=bool)]
        np.testing.assert_allclose(off, -1.0 / (K - 1), atol=1e-12)


def test_metrics_are_positive_away_from_collapse(rng):
    problem = neural_collapse(K=4, d=6, n=5)
    for _ in range(3):
        x = random_point(problem.manifold, rng)
        metrics = collapse_metrics(x)
        assert min(metrics.values()) > 1e-2, metrics
    x = collapsed_point(4, 6, 5, seed=rng)
    # each metric sees its own defect
    spread = [x[0], x[1] + 1e-2 * rng.standard_normal(x[1].shape), x[2]]
    assert nc1(spread) > 1e-6
    stretched_w = x[0].copy()
    stretched_w[0] *= 1.5  # rows no longer equinorm: NC2 of W and NC3 fail, H untouched
    bent = [stretched_w, x[1], x[2]]
    assert nc2_classifier(bent) > 1e-2 and nc3(bent) > 1e-2
    assert nc2_features(bent) < 1e-12 and nc1(bent) < 1e-12
    means_moved = x[1].copy()
    means_moved[:, :5] *= 2.0  # class 1 twice as far: NC2 of the features fails, NC1 does not
    moved = [x[0], means_moved, x[2]]
    assert nc2_features(moved) > 1e-2 and nc1(moved) < 1e-12


def test_metrics_refuse_bad_points():
    w, h, b = collapsed_point(3, 4, 2, seed=0)
    with pytest.raises(ValueError, match="list"):
        nc1(w)
    with pytest.raises(ValueError, match="H must be a 4 × nK"):
        nc1([w, h[:, :5], b])
    with pytest.raises(ValueError, match="H must be a 4 × nK"):
        nc3([w, h[:3], b])
    with pytest.raises(ValueError, match="b must have shape"):
        nc2([w, h, np.zeros(4)])
    with pytest.raises(ValueError, match="real"):
        nc1([w * 1j, h, b])
    with pytest.raises(ValueError, match="finite"):
        nc1([w, np.full_like(h, np.nan), b])
    with pytest.raises(ValueError, match="K ≥ 2"):
        nc1([w[:1], h, b[:1]])


# --------------------------------------------------------------------------- symmetry
def test_cost_is_invariant_under_feature_rotations(rng):
    problem = neural_collapse(K=4, d=6, n=2)
    x = random_point(problem.manifold, rng)
    q = _orthogonal(6, rng)
    y = _rotated(x, q)
    assert problem.cost(y) == pytest.approx(problem.cost(x), rel=1e-13)
    group = problem.symmetry
    assert isinstance(group, FeatureRotation) and group.dimension == 15
    assert group.distance(x, y) < 1e-10
    assert group.distance(x, random_point(problem.manifold, rng)) > 1e-1
    aligned = group.align(y, x)
    for a, b in zip(aligned, x, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    # the orbit tangents are directions of zero slope of the cost
    gradient = problem.euclidean_gradient(x)
    tangents = group.orbit_tangent_vectors(x)
    assert len(tangents) == 15
    for t in tangents:
        slope = sum(np.sum(g * v) for g, v in zip(gradient, t, strict=True))
        assert abs(slope) < 1e-12 * max(1.0, problem.gradient_norm(x))
    # a distance that ignores the bias would be wrong
    shifted = [y[0], y[1], y[2] + 1.0]
    assert group.distance(x, shifted) == pytest.approx(2.0, rel=1e-8)


def test_orbit_tangents_at_a_collapsed_point_span_the_orbit_only(rng):
    # [Wᵀ, H] of rank K − 1 = 3 in d = 6: orbit O(6)/O(3) of dimension 15 − 3 = 12
    x = collapsed_point(4, 6, 2, seed=rng)
    x[1] = x[1] + 1e-9 * rng.standard_normal(x[1].shape)  # below the rank tolerance
    tangents = FeatureRotation(6).orbit_tangent_vectors(x)
    assert len(tangents) == 12
    flat = np.stack([np.concatenate([np.ravel(p) for p in t]) for t in tangents])
    assert np.linalg.matrix_rank(flat, tol=1e-8 * np.linalg.norm(flat)) == 12
    problem = neural_collapse(K=4, d=6, n=2)
    for t in tangents:  # each one is (to first order) a direction of zero curvature
        curvature = sum(
            np.sum(a * v) for a, v in zip(problem.euclidean_hessian(x, t), t, strict=True)
        )
        assert abs(curvature) < 1e-8 * sum(np.sum(v * v) for v in t)


def test_feature_rotation_refuses_bad_input():
    with pytest.raises(ValueError, match="d must be a positive integer"):
        FeatureRotation(0)
    with pytest.raises(ValueError, match="rank_tolerance"):
        FeatureRotation(3, rank_tolerance=0.0)
    group = FeatureRotation(4)
    x = collapsed_point(3, 5, 2, seed=0)
    with pytest.raises(ValueError, match="d = 4 columns"):
        group.distance(x, x)


@pytest.mark.parametrize(("K", "d"), [(3, 2), (3, 5), (4, 6)])
def test_the_closed_form_minimizer_is_certified(K, d):
    n = 2
    problem = neural_collapse(K=K, d=d, n=n)
    x = collapsed_point(K, d, n, seed=1)
    assert problem.cost(x) == pytest.approx(global_minimum(K, n), rel=1e-13)
    assert problem.gradient_norm(x) < 1e-12
    certificate = ms.certify(problem, x)
    assert certificate.verdict is Verdict.LOCAL_MINIMIZER, certificate
    # O(d) modulo the stabilizer O(d − K + 1) of the rank-(K − 1) stacked matrix [Wᵀ, H]
    free = d - (K - 1)
    assert certificate.symmetry_dimension == d * (d - 1) // 2 - free * (free - 1) // 2
    assert np.max(np.abs(certificate.symmetry_eigenvalues)) <= certificate.eigenvalue_tolerance


def test_global_minimum_is_the_trivial_point_for_heavy_weight_decay():
    # √(λ_W λ_H K N) ≥ 1: the minimizer is W = 0, H = 0 with value log K
    assert global_minimum(4, 5, 1.0, 1.0) == pytest.approx(np.log(4.0))
    x = collapsed_point(4, 6, 5, 1.0, 1.0, seed=0)
    assert all(np.all(p == 0) for p in x)


# --------------------------------------------------------------------------- acceptance
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trust_regions_reaches_neural_collapse_from_a_random_start(seed):
    # K = 4, d = 6, n = 5 with Zhu et al.'s weight decay 5e-4 on W, H and b
    problem = neural_collapse(K=4, d=6, n=5, seed=seed)
    result = ms.solve(problem, solver="trust-regions", seed=seed)
    metrics = collapse_metrics(result.point)
    assert max(metrics.values()) <= 1e-4, metrics
    assert result.cost == pytest.approx(global_minimum(4, 5), rel=1e-9)
    assert np.linalg.norm(result.point[2]) < 1e-6  # b* = 0 when λ_b > 0 (Zhu et al. Thm 3.1)
    certificate = result.certificate
    assert certificate.verdict is Verdict.LOCAL_MINIMIZER, certificate
    assert certificate.symmetry_dimension == 12  # 15 − dim O(3)
    assert certificate.index == 0 and certificate.min_eigenvalue > 0


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"K": 1}, ValueError, "K must be at least 2"),
        ({"K": 2.5}, TypeError, "K must be an integer"),
        ({"d": 0}, ValueError, "d must be at least 1"),
        ({"n": 0}, ValueError, "n must be at least 1"),
        ({"n": True}, TypeError, "n must be an integer"),
        ({"lambda_W": 0.0}, ValueError, "lambda_W must be a finite positive"),
        ({"lambda_H": -1e-3}, ValueError, "lambda_H must be a finite positive"),
        ({"lambda_b": float("nan")}, ValueError, "lambda_b must be a finite non-negative"),
        ({"lambda_b": -1.0}, ValueError, "lambda_b must be a finite non-negative"),
        ({"lambda_W": "small"}, TypeError, "lambda_W must be a real number"),
        ({"lambda_H": 1j}, TypeError, "lambda_H must be a real number"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "zero"}, TypeError, "seed"),
    ],
)
def test_bad_input_is_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        neural_collapse(**kwargs)


def test_closed_forms_refuse_bad_input():
    with pytest.raises(ValueError, match="d must be at least K − 1"):
        simplex_etf(5, 3)
    with pytest.raises(ValueError, match="d must be at least K − 1"):
        collapsed_point(5, 3, 2)
    with pytest.raises(ValueError, match="lambda_H"):
        global_minimum(4, 5, 1e-3, 0.0)
