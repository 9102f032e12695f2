"""The thin loop (issue 14 item 6): its fast paths give exactly what the general paths give.

Direct norms and retractions against pymanopt's, bit for bit; ``SolverState.fast`` against the
dataclass constructor; ``loop.gradients`` against ``Problem.riemannian_gradient``; the snapshot
counts of ``IterationInfo``; the default threshold's norms against ``safe_norm``; and the
``msp`` and gradient-descent iterates against plain numpy loops of the same iteration.
"""

import dataclasses
import math

import numpy as np
import pytest
from pymanopt.manifolds import Euclidean, Grassmann, SpecialOrthogonalGroup, Sphere, Stiefel

import manifoldscape as ms
from manifoldscape.core import loop, stopping
from manifoldscape.core.hessian import hessian_norm_estimate
from manifoldscape.core.problem import EvaluationCounter
from manifoldscape.core.result import EvaluationCounts
from manifoldscape.core.tolerance import ambient_size, gradient_floor, length_scale, safe_norm
from manifoldscape.geometry import (
    as_tangent,
    euclidean_to_riemannian_gradient,
    random_point,
    random_tangent_vector,
)
from manifoldscape.geometry.fast import (
    determinant,
    frobenius_norm,
    norm_function,
    retraction_function,
    riemannian_gradient,
    thin_svd,
)
from manifoldscape.problems import dictionary_learning_orthogonal, rayleigh, tensor_decomposition
from manifoldscape.solvers.gradient_descent import GradientDescentState
from manifoldscape.solvers.power_iteration import FixedPointState

FAST_MANIFOLDS = [Sphere(7), Sphere(3, 4), Stiefel(6, 3), Stiefel(5, 5), SpecialOrthogonalGroup(4)]


def _same(a, b) -> bool:
    return np.asarray(a).shape == np.asarray(b).shape and np.array_equal(a, b)


# --------------------------------------------------------------------------- geometry.fast
@pytest.mark.parametrize("shape", [(9,), (4, 6), (3, 4, 5)])
def test_frobenius_norm_is_numpy_norm_bit_for_bit(shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 5, size=shape)
    assert frobenius_norm(a) == float(np.linalg.norm(a))
    if a.ndim > 1:
        view = np.swapaxes(a, 0, -1)  # not contiguous
        assert frobenius_norm(view) == float(np.linalg.norm(view))
    c = a + 1j * a
    assert frobenius_norm(c) == float(np.linalg.norm(c))


@pytest.mark.parametrize("manifold", FAST_MANIFOLDS, ids=str)
def test_direct_norm_and_retraction_agree_with_pymanopt(manifold):
    x = random_point(manifold, 1)
    for seed in range(3):
        v = random_tangent_vector(manifold, x, seed) * 0.7
        assert norm_function(manifold)(x, v) == float(manifold.norm(x, v))
        assert _same(retraction_function(manifold)(x, v), manifold.retraction(x, v))


@pytest.mark.parametrize(
    "manifold", [*FAST_MANIFOLDS, Stiefel(4, 2, k=2), Grassmann(5, 2)], ids=str
)
def test_direct_riemannian_gradient_is_the_generic_one(manifold):
    rng = np.random.default_rng(3)
    x = random_point(manifold, 2)
    for _ in range(3):
        egrad = rng.standard_normal(np.shape(x)) * 10.0 ** rng.integers(-3, 3)
        expected = as_tangent(manifold, euclidean_to_riemannian_gradient(manifold, x, egrad))
        assert _same(riemannian_gradient(manifold, x, egrad), expected)


def test_other_manifolds_keep_pymanopt_methods():
    for manifold in (Euclidean(3), Grassmann(5, 2)):
        assert norm_function(manifold) == manifold.norm
        assert retraction_function(manifold) == manifold.retraction

    class Subsphere(Sphere):  # a subclass may change the metric: not recognised
        pass

    manifold = Subsphere(4)
    assert norm_function(manifold) == manifold.norm


# --------------------------------------------------------------------------- core
def test_loop_module_reexports_the_stopping_names():
    for name in stopping.__all__:
        assert getattr(loop, name) is getattr(stopping, name)
        assert name in loop.__all__


def test_state_fast_is_the_constructor():
    fields = {
        "problem": None,
        "point": np.ones(3),
        "cost": 1.5,
        "gradient": np.zeros(3),
        "gradient_norm": 0.0,
        "step_size": 0.25,
        "extra": {"shift": 0.0, "trials": 1},
        "shift": 0.0,
        "euclidean_gradient": None,
    }
    fast, slow = FixedPointState.fast(**fields), FixedPointState(**fields)
    assert type(fast) is FixedPointState and vars(fast) == vars(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.cost = 0.0
    with pytest.raises(TypeError, match="exactly the fields"):
        FixedPointState.fast(**{k: v for k, v in fields.items() if k != "shift"})
    with pytest.raises(TypeError, match="exactly the fields"):
        GradientDescentState.fast(**fields)


@pytest.mark.parametrize(
    "problem",
    [rayleigh(n=12, seed=0), tensor_decomposition(n=5, seed=0)],
    ids=["sphere", "SO(5)"],
)
def test_gradients_match_the_problem_and_count_once(problem):
    x = random_point(problem.manifold, 3)
    counter = EvaluationCounter(problem)
    egrad, rgrad = loop.gradients(counter, x)
    assert counter.counts() == EvaluationCounts(0, 1, 0)
    assert _same(egrad, problem.euclidean_gradient(x))
    assert _same(rgrad, problem.riemannian_gradient(x))  # converted again by the problem


def test_iteration_info_counts_snapshot():
    state = loop.SolverState(problem=None, point=None, cost=0.0, gradient=None, gradient_norm=1.0)
    info = loop.IterationInfo(3, state, 0.5, (4, 5, 6), None)
    assert info.counts == EvaluationCounts(4, 5, 6)
    assert info.counts is info.counts  # built once
    given = EvaluationCounts(1, 2, 3)
    assert loop.IterationInfo(0, state, 0.0, given, None).counts is given
    assert (
        math.isinf(info.cost_change) and info.gradient_norm == 1.0 and "iteration=3" in repr(info)
    )


@pytest.mark.parametrize(
    "value",
    [
        np.array([3.0, 4.0]),
        np.array([1e-200, 3e-200]),
        np.array([1e200, 1e200]),
        np.array([1e-145, 1e-145]),
        np.zeros(4),
        np.array([1.0, np.nan]),
        np.array([1.0, np.inf]),
        np.array([1.0 + 2.0j, 3.0]),
        np.arange(6.0).reshape(2, 3).T,
    ],
)
def test_fast_norm_is_safe_norm(value):
    expected, (got,) = safe_norm(value), stopping._fast_norms(value)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_gradient_scale_threshold_is_the_formula():
    problem = rayleigh(n=10, seed=1)
    shared = loop.GradientScale(problem)  # its ambient size is remembered between points
    for seed in range(3):
        x = random_point(problem.manifold, seed)
        g = problem.gradient_norm(x)
        state = loop.SolverState(problem=problem, point=x, cost=0.0, gradient=None, gradient_norm=g)
        floor = gradient_floor(safe_norm(problem.euclidean_gradient(x)), g, ambient_size(x))
        assert shared.floor(x, g) == floor
        expected = max(1e-8 * hessian_norm_estimate(problem, x) * length_scale(x), floor)
        fresh = loop.GradientScale(problem)
        assert fresh.threshold(state, 1e-8) == expected and fresh.estimates == 1


# --------------------------------------------------------------------------- solvers
def _polar(z, special):
    u, _, vt = np.linalg.svd(z, full_matrices=False)
    x = u @ vt
    if special and np.linalg.det(x) < 0:
        u[:, -1] = -u[:, -1]
        x = u @ vt
    return x


@pytest.mark.parametrize("which", ["l4 O(6)", "tensor SO(5)"])
def test_msp_iterates_are_the_plain_polar_iteration(which):
    if which == "l4 O(6)":
        problem = dictionary_learning_orthogonal(n=6, p=200, seed=0)
        y, scale = problem.objective.y, 1.0 / problem.objective.y.shape[1]

        def egrad(a):
            z = a @ y
            return -scale * ((z * z * z) @ y.T)
    else:
        problem = tensor_decomposition(n=5, seed=0)
        c = problem.objective.components

        def egrad(a):
            w = c.T @ a
            return -4.0 * (c @ (w * w * w))

    special = isinstance(problem.manifold, SpecialOrthogonalGroup)
    x0 = random_point(problem.manifold, 1)
    result = ms.solve(
        problem,
        "msp",
        x0=x0,
        max_iterations=15,
        gradient_tolerance=0.0,
        step_tolerance=0.0,
        keep_iterates=True,
        certify=False,
    )
    x = x0
    for k, iterate in enumerate(result.history.iterates):
        assert np.max(np.abs(iterate - x)) <= 1e-12, k
        x = _polar(-egrad(x), special)
    assert result.iterations == 15 and set(result.history.extra["shift"]) == {0.0}


def test_gradient_descent_iterates_are_the_plain_loop():
    problem = rayleigh(n=20, seed=0)
    a, eta = problem.objective.a, 0.05
    x = random_point(problem.manifold, 2)
    result = ms.solve(
        problem,
        "gradient-descent",
        x0=x,
        step_size=eta,
        max_iterations=40,
        gradient_tolerance=0.0,
        keep_iterates=True,
        certify=False,
    )
    for iterate in result.history.iterates:
        assert np.max(np.abs(iterate - x)) <= 1e-14
        g = -2.0 * (a @ x)
        g = g - (x @ g) * x
        x = x - eta * g
        x = x / np.linalg.norm(x)
    assert len(result.history.cost) == 41 and result.counts.gradient == 41


# --------------------------------------------------------------------------- Problem fast path
@pytest.mark.parametrize("solver", ["gradient-descent", "msp"])
def test_provisional_cache_keys_are_sealed_after_the_run(solver):
    problem = (
        rayleigh(n=10, seed=0)
        if solver == "gradient-descent"
        else tensor_decomposition(n=4, seed=0)
    )
    result = ms.solve(problem, solver, x0=random_point(problem.manifold, 1), max_iterations=6)
    for key, value in problem._cache._entries:
        assert key is not result.point and "provisional key" not in value
    expected = problem.cost(result.point)
    point = result.point
    point *= 1.5  # modified in place: the cache must not answer with the old value
    fresh = (
        rayleigh(n=10, seed=0)
        if solver == "gradient-descent"
        else tensor_decomposition(n=4, seed=0)
    )
    assert problem.cost(point) == fresh.cost(point.copy()) != expected


def test_no_provisional_keys_with_a_callback_and_sealed_after_an_error():
    problem = rayleigh(n=8, seed=0)
    seen = []

    def callback(iteration, info):
        seen.extend("provisional key" in value for _, value in problem._cache._entries)

    ms.solve(problem, "gradient-descent", x0=random_point(problem.manifold, 1),
             max_iterations=5, callback=callback, certify=False)  # fmt: skip
    assert seen and not any(seen)

    class Failing(type(problem.objective)):
        calls = 0

        def cost(self, x, data):
            Failing.calls += 1
            if Failing.calls > 4:
                raise RuntimeError("boom")
            return super().cost(x, data)

    failing = ms.Problem(problem.manifold, Failing(problem.objective.a))
    with pytest.raises(RuntimeError, match="boom"):
        ms.solve(failing, "gradient-descent", x0=random_point(problem.manifold, 1),
                 step_size=0.1, max_iterations=20, certify=False)  # fmt: skip
    assert all("provisional key" not in value for _, value in failing._cache._entries)


def test_new_point_cost_is_the_cost_and_counts_once():
    problem = tensor_decomposition(n=5, seed=0)
    x = random_point(problem.manifold, 4)
    for provisional in (False, True):
        counter = EvaluationCounter(problem, provisional_keys=provisional)
        cost, entry = counter.new_point_cost(x)
        assert cost == problem.autograd_twin().cost(x) or math.isclose(
            cost, problem.autograd_twin().cost(x), rel_tol=1e-12
        )
        assert cost == tensor_decomposition(n=5, seed=0).cost(x)
        assert _same(counter.euclidean_gradient_at(x, entry), problem.euclidean_gradient(x))
        assert counter.counts() == EvaluationCounts(1, 1, 0)
        counter.seal()
        assert all(key is not x for key, _ in problem._cache._entries)


# --------------------------------------------------------------------------- quiet test
def test_quiet_test_never_hides_a_stop():
    rng = np.random.default_rng(5)
    criteria = [
        stopping.GradientNormBelow(1e-3) | stopping.MaxIterations(7) | stopping.MaxTime(0.5),
        stopping.GradientNormBelow(1e-3)
        | stopping.StepSizeBelow(1e-2)
        | stopping.CostChangeBelow(1e-2)
        | stopping.GradientNormBelow(1e-1)
        | stopping.MaxIterations(9),
        stopping.MaxIterations(3),
    ]
    for criterion in criteria:
        quiet = stopping.quiet_test(criterion)
        assert quiet is not None
        for _ in range(400):
            values = [10.0 ** rng.uniform(-4, 0), math.nan, 0.0, math.inf]
            gradient_norm = values[rng.integers(4)] if rng.random() < 0.2 else values[0]
            step = values[rng.integers(4)] if rng.random() < 0.2 else 10.0 ** rng.uniform(-4, 0)
            state = loop.SolverState(
                problem=None,
                point=None,
                cost=0.0,
                gradient=None,
                gradient_norm=gradient_norm,
                step_size=step,
            )
            iteration, elapsed = int(rng.integers(0, 12)), float(rng.uniform(0, 1))
            change = 10.0 ** rng.uniform(-4, 0)
            info = loop.IterationInfo(iteration, state, elapsed, (0, 0, 0), None, change)
            if quiet(iteration, state, elapsed, change):
                assert criterion.check(info) is None
    relative = stopping.GradientNormBelow() | stopping.MaxIterations(3)
    assert stopping.quiet_test(relative) is None
    assert stopping.quiet_test(stopping.MaxCostEvaluations(3)) is None


@pytest.mark.parametrize("layout", ["contiguous", "strided", "float32", "2d"])
def test_sphere_gradient_fast_form_is_the_tensordot_form(layout):
    rng = np.random.default_rng(2)
    for _ in range(20):
        n = int(rng.integers(1, 300))
        x, g = rng.standard_normal(2 * n), rng.standard_normal(2 * n) * 10.0 ** rng.integers(-5, 5)
        x, g = (x[::2], g[::2]) if layout == "strided" else (x[:n], g[:n])
        if layout == "float32":
            x, g = x.astype(np.float32), g.astype(np.float32)
        if layout == "2d" and n % 2 == 0:
            x, g = x.reshape(2, -1), g.reshape(2, -1)
        x = x / np.linalg.norm(x)
        expected = g - np.tensordot(x, g, axes=x.ndim) * x  # pymanopt's projection
        assert _same(riemannian_gradient(Sphere(*x.shape), x, g), expected)


# --------------------------------------------------------------------------- LAPACK shortcuts
@pytest.mark.parametrize("shape", [(20, 20), (7, 3), (3, 7), (1, 1)])
def test_thin_svd_and_determinant_are_numpy_bit_for_bit(shape):
    rng = np.random.default_rng(7)
    for _ in range(10):
        z = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8)
        for a in (z, np.asfortranarray(z), np.repeat(z, 2, axis=1)[:, ::2]):
            ours, theirs = thin_svd(a), np.linalg.svd(a, full_matrices=False)
            assert all(_same(p, q) for p, q in zip(ours, theirs, strict=True))
            if shape[0] == shape[1]:
                d = determinant(a)
                assert d == np.linalg.det(a) and type(d) is type(np.linalg.det(a))
    for other in (np.ones(shape, dtype=np.float32), np.ones(shape, dtype=complex)):
        assert all(
            _same(p, q)
            for p, q in zip(thin_svd(other), np.linalg.svd(other, full_matrices=False), strict=True)
        )


def test_thin_svd_raises_as_numpy_and_restores_the_error_state():
    before = np.geterr()
    z = np.eye(4)
    z[1, 2] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge"):
        thin_svd(z)
    assert np.geterr() == before
    with np.errstate(all="raise"):  # the caller's error state is not touched either
        assert np.geterr()["over"] == "raise"
        thin_svd(np.eye(3))
        assert np.geterr()["over"] == "raise"
