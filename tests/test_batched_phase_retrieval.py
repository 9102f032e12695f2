"""Batch methods of real Gaussian phase retrieval and batched gradient descent on ℝⁿ."""

import autograd
import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.problems import phase_retrieval
from manifoldscape.solvers.batched import batched_gradient_descent

SIZES = [(5, 30, 3), (16, 96, 7), (64, 384, 4)]
LOSSES = ["intensity", "amplitude", "smoothed_amplitude"]


def _columns(n, k, seed):
    return np.random.default_rng(seed).standard_normal((n, k))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("n", "m", "k"), SIZES)
def test_batch_methods_equal_per_column_methods(n, m, k, loss):
    problem = phase_retrieval(n=n, m=m, loss=loss, seed=n)
    objective = problem.objective
    z, v = _columns(n, k, 1), _columns(n, k, 2)
    data = objective.prepare_batch(z)
    costs = objective.cost_batch(z, data)
    grads = objective.gradient_batch(z, data)
    hess = objective.hessian_batch(z, v, data)
    np.testing.assert_array_equal(hess, objective.hessian_batch(z, v))  # data computed inside
    # the Hessian's data alone, with the same roundings
    np.testing.assert_array_equal(
        objective.prepare_hessian_batch(z)["hessian_factor"], data["hessian_factor"]
    )
    assert costs.shape == (k,) and grads.shape == hess.shape == (n, k)
    for j in range(k):
        scale = max(abs(problem.cost(z[:, j])), 1.0)
        assert abs(costs[j] - problem.cost(z[:, j])) <= 1e-13 * scale
        g = problem.euclidean_gradient(z[:, j])
        np.testing.assert_allclose(grads[:, j], g, rtol=0, atol=1e-12 * np.linalg.norm(g))
        h = problem.euclidean_hessian(z[:, j], v[:, j])
        np.testing.assert_allclose(hess[:, j], h, rtol=0, atol=1e-12 * np.linalg.norm(h))


@pytest.mark.parametrize("loss", LOSSES)
def test_wide_batches_multiply_in_blocks_as_narrow_ones(loss):
    # from 48 columns on the products are made in column blocks: the same columns as alone
    from manifoldscape.problems.batch_phase_retrieval import _WIDE

    problem = phase_retrieval(n=8, m=48, loss=loss, seed=3)
    objective = problem.objective
    k = 70
    assert k >= _WIDE
    z, v = _columns(8, k, 1), _columns(8, k, 2)
    data = objective.prepare_batch(z)
    grads = objective.gradient_batch(z, data)
    hess = objective.hessian_batch(z, v, data)
    for j in (0, 31, 32, 69):
        one = objective.prepare_batch(z[:, [j]])
        np.testing.assert_allclose(data["w"][:, j], one["w"][:, 0], rtol=1e-14, atol=1e-14)
        g = objective.gradient_batch(z[:, [j]], one)[:, 0]
        np.testing.assert_allclose(grads[:, j], g, rtol=0, atol=1e-13 * np.linalg.norm(g))
        h = objective.hessian_batch(z[:, [j]], v[:, [j]], one)[:, 0]
        np.testing.assert_allclose(hess[:, j], h, rtol=0, atol=1e-13 * np.linalg.norm(h))


@pytest.mark.parametrize("loss", LOSSES)
def test_batch_derivatives_match_autograd(loss):
    problem = phase_retrieval(n=8, m=48, loss=loss, seed=3)
    objective = problem.objective
    z, v = _columns(8, 3, 4), _columns(8, 3, 5)
    data = objective.prepare_batch(z)
    grads = objective.gradient_batch(z, data)
    hess = objective.hessian_batch(z, v, data)
    egrad = autograd.grad(objective.autograd_cost)
    for j in range(3):
        np.testing.assert_allclose(grads[:, j], egrad(z[:, j]), rtol=1e-10, atol=1e-12)
        hvp = autograd.grad(lambda y, j=j: egrad(y) @ v[:, j])(z[:, j])
        np.testing.assert_allclose(hess[:, j], hvp, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("n", "m", "k"), SIZES)
def test_batch_derivatives_taylor_remainder(n, m, k, loss):
    # f(z + t v) − f(z) − t ⟨∇f, v⟩ − ½ t² ⟨v, ∇²f v⟩ = O(t³): ÷1000 when t ÷ 10, or at
    # round-off where f is exactly quadratic along the line (the amplitude loss while no
    # |a_iᵀz| crosses 0)
    objective = phase_retrieval(n=n, m=m, loss=loss, seed=n + 1).objective
    z, v = _columns(n, k, 6), _columns(n, k, 7)
    # no kink of the amplitude losses (|a_iᵀz| = 0 or α √y_i) between z and z + 0.1 v
    w, dw = objective.operator.a @ z, objective.operator.a @ v
    gap = np.minimum(np.abs(w), np.abs(np.abs(w) - objective.alpha * objective.s[:, None]))
    v *= np.min(0.5 * gap / np.abs(dw), axis=0) / 0.1
    data = objective.prepare_batch(z)
    f0 = objective.cost_batch(z, data)
    first = np.einsum("ik,ik->k", objective.gradient_batch(z, data), v)
    second = np.einsum("ik,ik->k", v, objective.hessian_batch(z, v, data))
    remainders, first_order = [], []
    for t in (1e-1, 1e-2):
        y = z + t * v
        f = objective.cost_batch(y, objective.prepare_batch(y))
        first_order.append(np.abs(f - f0 - t * first))
        remainders.append(np.abs(f - f0 - t * first - 0.5 * t**2 * second))
    roundoff = 1e-12 * np.maximum(np.abs(f0), 1.0)
    assert np.all((remainders[1] < remainders[0] / 200) | (remainders[1] < roundoff))
    assert np.all(first_order[1] > first_order[0] / 500)  # the gradient part alone: ÷100


def test_unsupported_configurations_are_refused():
    complex_problem = phase_retrieval(n=4, field="complex", seed=0)
    with pytest.raises(NotImplementedError, match="real signal"):
        complex_problem.objective.prepare_batch(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="sphere or ℝⁿ"):
        batched_gradient_descent(complex_problem, np.ones((4, 2)))
    activated = phase_retrieval(n=4, loss="activated", seed=0)
    with pytest.raises(NotImplementedError, match="intensity"):
        activated.objective.prepare_batch(np.ones((4, 2)))


@pytest.mark.parametrize(
    "options", [{}, {"step_size": 2e-3, "max_iterations": 200}, {"gradient_tolerance": 1e-6}]
)
def test_batched_gradient_descent_equals_sequential_on_phase_retrieval(options):
    problem = phase_retrieval(n=10, m=60, seed=2)
    x = _columns(10, 5, 3)
    batch = batched_gradient_descent(problem, x, **options)
    assert len(batch) == 5
    for k, result in enumerate(batch):
        single = ms.solve(problem, "gradient-descent", x0=x[:, k], certify=False, **options)
        assert np.max(np.abs(result.point - single.point)) < 1e-12 * max(
            1.0, np.linalg.norm(single.point)
        )
        assert result.iterations == single.iterations
        assert result.stop_reason is single.stop_reason
        assert result.counts == single.counts
        assert abs(result.cost - single.cost) <= 1e-12 * max(1.0, abs(single.cost))
        np.testing.assert_allclose(result.gradient, single.gradient, atol=1e-10)
        scale = max(1.0, abs(single.history.cost[0]))
        np.testing.assert_allclose(result.history.cost, single.history.cost, atol=1e-12 * scale)
        np.testing.assert_allclose(
            result.history.step_size, single.history.step_size, rtol=1e-10, atol=1e-14
        )
        assert np.all(np.diff(result.history.time_s) >= 0)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the overflow is the point
def test_diverging_runs_stop_on_a_non_finite_cost_as_sequential_runs_do():
    problem = phase_retrieval(n=6, m=36, seed=5)
    x = _columns(6, 3, 8)
    x[:, 0] *= 1e-3  # a small start: moves slowly, stays finite longer
    batch = batched_gradient_descent(problem, x, step_size=5.0, max_iterations=100)
    for k, result in enumerate(batch):
        single = ms.solve(
            problem,
            "gradient-descent",
            x0=x[:, k],
            certify=False,
            step_size=5.0,
            max_iterations=100,
        )
        assert result.stop_reason is single.stop_reason
        assert result.iterations == single.iterations
        np.testing.assert_array_equal(np.isfinite(result.point), np.isfinite(single.point))
    assert any(r.stop_reason is ms.StopReason.NON_FINITE_COST for r in batch)


def test_unpredicted_estimates_are_computed_in_the_replay(monkeypatch):
    # the replay of the gradient test asks for estimates the prediction did not make: same runs
    from manifoldscape.solvers.batched_stopping import DeferredGradientTest

    def nothing_predicted(self, records, window):
        return [np.full(r.active.shape, np.nan) for r in records]

    problem = phase_retrieval(n=10, m=60, seed=2)
    x = _columns(10, 5, 3)
    expected = batched_gradient_descent(problem, x)
    monkeypatch.setattr(DeferredGradientTest, "_predicted", nothing_predicted)
    replayed = batched_gradient_descent(problem, x)
    for a, b in zip(expected, replayed, strict=True):
        assert a.iterations == b.iterations and a.stop_reason is b.stop_reason
        assert np.max(np.abs(a.point - b.point)) < 1e-12 * max(1.0, np.linalg.norm(a.point))


@pytest.mark.parametrize("options", [{}, {"gradient_tolerance": 1e-6}, {"max_iterations": 300}])
def test_replay_as_a_table_equals_the_replay_record_by_record(monkeypatch, options):
    # the table replay (fixed point over the window) decides as the record-by-record replay
    from manifoldscape.solvers.batched_stopping import DeferredGradientTest

    problem = phase_retrieval(n=10, m=60, seed=2)
    x = _columns(10, 8, 5)
    table = batched_gradient_descent(problem, x, **options)
    calls = []

    def rows(self, records, window, estimates):
        calls.append(len(records))
        return DeferredGradientTest._replay_rows(self, records, window, estimates)

    monkeypatch.setattr(DeferredGradientTest, "_replay_table", rows)
    by_rows = batched_gradient_descent(problem, x, **options)
    assert calls
    for a, b in zip(table, by_rows, strict=True):
        assert a.iterations == b.iterations and a.stop_reason is b.stop_reason
        assert a.stop_message == b.stop_message
        np.testing.assert_array_equal(a.point, b.point)


@pytest.mark.parametrize("seed", range(6))
def test_table_replay_on_random_windows_equals_the_record_replay(monkeypatch, seed):
    # estimates that change wildly between iterates, so that every branch of the lazy rule
    # (cached, re-estimated, unpredicted, below the floor, at the iteration cap) matters
    from manifoldscape.solvers.batched_common import require_batchable
    from manifoldscape.solvers.batched_stopping import DeferredGradientTest, _Record

    rng = np.random.default_rng(seed)
    problem = phase_retrieval(n=4, m=24, seed=0)
    geometry = require_batchable(problem)[1]
    k, t_count, rtol = 16, 24, 1e-2
    truth = 10.0 ** rng.uniform(-1.0, 1.0, (t_count, k))  # Ĥ at iterate t of run j

    def fake_estimate(self, record, columns):
        return truth[record.iteration - 100, record.active[columns]]

    monkeypatch.setattr(DeferredGradientTest, "_estimate", fake_estimate)
    active = np.arange(k)
    x = rng.standard_normal((t_count, 4, k))
    length = np.maximum(np.linalg.norm(x, axis=1), 1.0)
    g = rtol * length * 10.0 ** rng.uniform(-0.5, 2.0, (t_count, k))
    g[rng.random((t_count, k)) < 0.05] = 0.0  # below the floor
    records = [_Record(100 + t, active, x[t], None, -x[t], g[t], None) for t in range(t_count)]
    predicted = np.where(rng.random((t_count, k)) < 0.6, truth, np.nan)
    h0 = np.where(rng.random(k) < 0.3, np.nan, 10.0 ** rng.uniform(-1.0, 1.0, k))
    outcomes = []
    for replay in ("_replay_table", "_replay_rows"):
        test = DeferredGradientTest(problem, geometry, k, rtol, None, 100 + t_count - 2)
        test.hessian_norm[:] = h0
        estimates = [row.copy() for row in predicted]
        decisions = getattr(test, replay)(records, test._window(records), estimates)
        outcomes.append((decisions, test.hessian_norm.copy()))
    (table, h_table), (rows, h_rows) = outcomes
    assert [(d.run, d.iteration, d.reason, d.message) for d in table] == [
        (d.run, d.iteration, d.reason, d.message) for d in rows
    ]
    stopped = {d.run for d in rows}
    live = [j for j in range(k) if j not in stopped]
    np.testing.assert_array_equal(h_table[live], h_rows[live])
    assert len(rows) > 0


def test_starts_checked_at_once_or_column_by_column():
    # the quick check of all columns lets through only what check_point accepts unchanged
    problem = phase_retrieval(n=6, m=36, seed=0)
    x = _columns(6, 4, 1)
    x[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"starts\[:, 3\]"):
        batched_gradient_descent(problem, x)
    from manifoldscape.problems import rayleigh

    sphere = rayleigh(n=6, seed=0)
    y = _columns(6, 3, 2)
    y /= np.linalg.norm(y, axis=0)
    y[:, 1] *= 1.0 + 1e-9  # off the sphere within check_point's tolerance: accepted
    assert len(batched_gradient_descent(sphere, y, max_iterations=3)) == 3
    y[:, 2] *= 1.0 + 1e-3
    with pytest.raises(ValueError, match=r"starts\[:, 2\]"):
        batched_gradient_descent(sphere, y)


@pytest.mark.parametrize("loss", LOSSES)
def test_hessian_with_one_direction_and_quadratic_form_equal_hessian_batch(loss):
    problem = phase_retrieval(n=9, m=54, loss=loss, seed=4)
    objective = problem.objective
    z, v = _columns(9, 6, 1), _columns(9, 6, 2)
    data = objective.prepare_batch(z)
    u = v[:, 0]
    common = objective.hessian_batch_common(z, u, data)
    full = objective.hessian_batch(z, np.repeat(u[:, None], 6, axis=1), data)
    np.testing.assert_allclose(common, full, rtol=0, atol=1e-13 * np.max(np.abs(full)))
    quadratic = objective.hessian_quadratic_batch(z, v, data)
    expected = np.einsum("ik,ik->k", v, objective.hessian_batch(z, v, data))
    np.testing.assert_allclose(quadratic, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("loss", LOSSES)
def test_lanczos_estimates_on_phase_retrieval_match_hessian_norm_estimate(loss):
    # the batched estimate (one-direction first product, quadratic last step) and the
    # per-point estimate of core.hessian
    from manifoldscape.core.hessian import hessian_norm_estimate
    from manifoldscape.solvers.batched_common import lanczos_estimates, require_batchable

    problem = phase_retrieval(n=9, m=54, loss=loss, seed=4)
    z = _columns(9, 7, 5)
    data = problem.objective.prepare_batch(z)
    egrad = problem.objective.gradient_batch(z, data)
    batch = lanczos_estimates(problem, require_batchable(problem)[1], z, egrad, data)
    single = [hessian_norm_estimate(problem, z[:, k]) for k in range(7)]
    np.testing.assert_allclose(batch, single, rtol=1e-10)
