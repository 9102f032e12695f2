"""Batched multi-start (solvers/batched.py) and the Rayleigh objective's batch methods."""

import autograd
import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.problems import rayleigh, singular_pair
from manifoldscape.solvers.batched import batched_gradient_descent


def _starts(n, k, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, k))
    return x / np.linalg.norm(x, axis=0)


def test_rayleigh_batch_methods_match_columns_and_autograd():
    problem = rayleigh(n=20, seed=1)
    objective = problem.objective
    x = _starts(20, 8)
    u = np.random.default_rng(1).standard_normal((20, 8))
    data = objective.prepare_batch(x)
    costs = objective.cost_batch(x, data)
    grads = objective.gradient_batch(x, data)
    hess = objective.hessian_batch(x, u)
    egrad = autograd.grad(objective.autograd_cost)
    for k in range(8):
        assert costs[k] == pytest.approx(problem.cost(x[:, k]), rel=1e-13)
        np.testing.assert_allclose(grads[:, k], problem.euclidean_gradient(x[:, k]), atol=1e-13)
        np.testing.assert_allclose(grads[:, k], egrad(x[:, k]), atol=1e-12)
        ref = problem.euclidean_hessian(x[:, k], u[:, k])
        np.testing.assert_allclose(hess[:, k], ref, atol=1e-12)
        hvp = autograd.grad(lambda y, k=k: egrad(y) @ u[:, k])(x[:, k])
        np.testing.assert_allclose(hess[:, k], hvp, atol=1e-12)


def test_rayleigh_batch_derivatives_taylor_remainder():
    objective = rayleigh(n=20, seed=2).objective
    x, u = _starts(20, 4), np.random.default_rng(3).standard_normal((20, 4))
    f0 = objective.cost_batch(x, objective.prepare_batch(x))
    g = objective.gradient_batch(x, objective.prepare_batch(x))
    h = objective.hessian_batch(x, u)
    remainders = []
    for t in (1e-2, 1e-3):
        y = x + t * u
        f = objective.cost_batch(y, objective.prepare_batch(y))
        first = np.einsum("ik,ik->k", g, u)
        second = np.einsum("ik,ik->k", u, h)
        remainders.append(np.abs(f - f0 - t * first - 0.5 * t**2 * second))
        assert np.all(np.abs(f - f0 - t * first) > 1e3 * remainders[-1])  # quadratic: exact
    assert np.all(remainders[1] < 1e-12)


def test_batched_equals_sequential_runs():
    problem = rayleigh(n=20, seed=1)
    x = _starts(20, 8)
    batch = batched_gradient_descent(problem, x)
    assert len(batch) == 8
    for k, result in enumerate(batch):
        single = ms.solve(problem, "gradient-descent", x0=x[:, k], certify=False)
        assert np.max(np.abs(result.point - single.point)) < 1e-10
        assert result.iterations == single.iterations
        assert result.stop_reason is single.stop_reason
        assert result.counts == single.counts
        assert abs(result.cost - single.cost) < 1e-12
        assert len(result.history) == len(single.history)
        np.testing.assert_allclose(result.history.cost, single.history.cost, atol=1e-12)


def test_converged_starts_are_frozen():
    # start 0 is the top eigenvector (converged at iteration 0); the others keep running
    problem = rayleigh(n=20, seed=1)
    x = _starts(20, 4)
    x[:, 0] = problem.truth
    batch = batched_gradient_descent(problem, x, max_iterations=50)
    assert batch[0].iterations == 0 and batch[0].converged
    np.testing.assert_array_equal(batch[0].point, problem.truth)
    assert all(r.iterations == 50 for r in batch[1:])
    assert all(r.stop_reason is ms.StopReason.MAX_ITERATIONS for r in batch[1:])


def test_certify_each_start():
    problem = rayleigh(n=10, seed=4)
    batch = batched_gradient_descent(problem, _starts(10, 3), certify=True)
    assert all(
        r.certificate is not None and r.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
        for r in batch
    )


def test_problem_without_batch_methods_is_refused():
    with pytest.raises(TypeError, match="supports: rayleigh"):
        batched_gradient_descent(singular_pair(m=4, n=5, seed=0), np.zeros((9, 2)))


def test_bad_starts_are_refused():
    problem = rayleigh(n=6, seed=0)
    with pytest.raises(ValueError, match="starts"):
        batched_gradient_descent(problem, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"starts\[:, 1\]"):
        batched_gradient_descent(problem, np.column_stack([_starts(6, 1)[:, 0], np.ones(6)]))


def test_lanczos_estimates_match_hessian_norm_estimate():
    from manifoldscape.core.hessian import hessian_norm_estimate
    from manifoldscape.solvers.batched_common import lanczos_estimates, require_batchable

    problem = rayleigh(n=30, seed=5)
    x = _starts(30, 6, seed=2)
    egrad = problem.objective.gradient_batch(x, problem.objective.prepare_batch(x))
    batch = lanczos_estimates(problem, require_batchable(problem)[1], x, egrad)
    single = [hessian_norm_estimate(problem, x[:, k]) for k in range(6)]
    np.testing.assert_allclose(batch, single, rtol=1e-12)


@pytest.mark.parametrize(
    "options", [{"step_size": 0.05, "max_iterations": 300}, {"gradient_tolerance": 1e-6}]
)
def test_batched_equals_sequential_with_options(options):
    problem = rayleigh(n=20, seed=3)
    x = _starts(20, 5, seed=4)
    for k, result in enumerate(batched_gradient_descent(problem, x, **options)):
        single = ms.solve(problem, "gradient-descent", x0=x[:, k], certify=False, **options)
        assert np.max(np.abs(result.point - single.point)) < 1e-10
        assert result.iterations == single.iterations
        assert result.stop_reason is single.stop_reason
        assert result.options == single.options
