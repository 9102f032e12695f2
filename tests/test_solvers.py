"""Solvers: every registered solver against the same contract, trust regions against pymanopt's.

Tolerances come from the problem: near the minimizer v₁ of the Rayleigh quotient the Riemannian
Hessian is −2(A − λ₁I) on v₁^⊥, with smallest eigenvalue μ = 2(λ₁ − λ₂), so a point with gradient
norm g has cost within g²/μ of −λ₁ and lies within g/μ of ±v₁ (up to higher-order terms, covered
by a factor 2).
"""

import inspect
import math

import numpy as np
import pytest
from pymanopt.manifolds import Euclidean, Sphere

import manifoldscape as ms
from manifoldscape.core.loop import (
    AllOf,
    CostChangeBelow,
    GradientNormBelow,
    IterationInfo,
    MaxCostEvaluations,
    MaxIterations,
    MaxTime,
    StepSizeBelow,
    gradient_scale,
)
from manifoldscape.core.problem import EvaluationCounter, Objective, Problem
from manifoldscape.core.result import EvaluationCounts, StopReason
from manifoldscape.geometry import random_point
from manifoldscape.problems import eigenspace, rayleigh, singular_pair
from manifoldscape.solvers import TruncatedConjugateGradient, TrustRegions
from manifoldscape.solvers.pymanopt_wrappers import stop_reason_from_message
from manifoldscape.solvers.trust_regions import InnerStop

SOLVERS = ms.solver_registry.names()
OURS = ["trust-regions", "gradient-descent"]
WRAPPERS = [name for name in SOLVERS if name.startswith("pymanopt-")]


def test_registry_holds_the_five_solvers():
    assert set(SOLVERS) >= {
        "trust-regions",
        "gradient-descent",
        "pymanopt-trust-regions",
        "pymanopt-steepest-descent",
        "pymanopt-conjugate-gradient",
    }


@pytest.fixture(scope="module")
def small_rayleigh():
    return rayleigh(n=20, seed=0)


def _eigen_bounds(problem):
    values = problem.objective.eigenvalues
    return values[0], 2.0 * (values[0] - values[1])


# --------------------------------------------------------------------------- reaching λ_max
@pytest.mark.parametrize("name", SOLVERS)
def test_every_solver_reaches_the_top_eigenvector(small_rayleigh, name):
    problem = small_rayleigh
    result = ms.solve(problem, name, seed=1)
    lam1, mu = _eigen_bounds(problem)
    g = result.gradient_norm
    assert result.cost >= -lam1 - 1e-12
    assert result.cost + lam1 <= 2 * g**2 / mu + 1e-12
    assert problem.distance_to_truth(result.point) <= 2 * g / mu + 1e-10
    assert result.certificate is not None
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert result.stop_reason in (StopReason.GRADIENT_TOLERANCE, StopReason.STEP_TOLERANCE)
    assert result.solver == name and result.problem == "rayleigh"
    assert result.cost == pytest.approx(problem.cost(result.point), abs=0)
    assert result.gradient_norm == pytest.approx(problem.gradient_norm(result.point), rel=1e-12)
    assert result.time_s > 0
    counts = result.counts
    assert counts.cost > 0 and counts.gradient > 0


@pytest.mark.parametrize("name", SOLVERS)
def test_same_seed_gives_identical_results(small_rayleigh, name):
    first = ms.solve(small_rayleigh, name, seed=7, certify=False)
    second = ms.solve(small_rayleigh, name, seed=7, certify=False)
    other = ms.solve(small_rayleigh, name, seed=8, certify=False)
    assert np.array_equal(first.point, second.point)
    assert first.iterations == second.iterations
    assert first.counts == second.counts
    assert np.array_equal(first.history.cost, second.history.cost)
    assert np.array_equal(first.history.gradient_norm, second.history.gradient_norm)
    assert first.history.cost[0] != other.history.cost[0]  # the seed does pick the start


@pytest.mark.parametrize("name", SOLVERS)
def test_x0_is_used_and_not_modified(small_rayleigh, name):
    x0 = random_point(small_rayleigh.manifold, 3)
    keep = x0.copy()
    result = ms.solve(small_rayleigh, name, x0=x0, certify=False)
    assert np.array_equal(x0, keep)
    assert result.history.cost[0] == pytest.approx(small_rayleigh.cost(x0), abs=0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", SOLVERS)
def test_x0_validation(small_rayleigh, name):
    x = random_point(small_rayleigh.manifold, 0)
    with pytest.raises(ValueError, match=r"x0 must have shape \(20,\)"):
        ms.solve(small_rayleigh, name, x0=np.ones(21) / np.sqrt(21))
    bad = x.copy()
    bad[2] = np.nan
    with pytest.raises(ValueError, match="x0 must be finite"):
        ms.solve(small_rayleigh, name, x0=bad)
    with pytest.raises(ValueError, match="x0 is not on"):
        ms.solve(small_rayleigh, name, x0=2 * x)
    with pytest.raises(TypeError, match="x0"):
        ms.solve(small_rayleigh, name, x0=np.array(["a"] * 20))
    with pytest.raises(TypeError, match="problem must be a manifoldscape Problem"):
        ms.make_solver(name).run("rayleigh")
    with pytest.raises(TypeError, match="seed"):
        ms.solve(small_rayleigh, name, seed="zero")


@pytest.mark.parametrize("name", SOLVERS)
def test_unknown_option_lists_the_valid_ones(name):
    factory = ms.solver_registry.get(name).factory
    valid = list(inspect.signature(factory).parameters)
    assert {"max_iterations", "max_time", "gradient_tolerance", "rtol_gradient"} <= set(valid)
    with pytest.raises(TypeError, match="unknown option") as info:
        ms.make_solver(name, max_iter=5)
    message = str(info.value)
    assert "'max_iter'" in message and name in message
    for option in valid:
        assert option in message
    solver = ms.make_solver(name, max_iterations=5)
    assert solver.max_iterations == 5 and solver.options()["max_iterations"] == 5


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("trust-regions", {"kappa": 2.0}, ValueError, "kappa"),
        ("trust-regions", {"rho_prime": 0.5}, ValueError, "rho_prime"),
        ("trust-regions", {"max_inner_iterations": 0}, ValueError, "max_inner_iterations"),
        ("trust-regions", {"initial_radius": 5.0, "max_radius": 1.0}, ValueError, "initial_radius"),
        ("trust-regions", {"stopping_criterion": 3}, TypeError, "stopping_criterion"),
        ("gradient-descent", {"step_size": -0.1}, ValueError, "step_size"),
        ("gradient-descent", {"step_size": "big"}, TypeError, "step_size"),
        ("gradient-descent", {"max_iterations": 2.5}, TypeError, "max_iterations"),
        ("pymanopt-conjugate-gradient", {"beta_rule": "Newton"}, ValueError, "beta_rule"),
        ("pymanopt-trust-regions", {"theta": -1.0}, ValueError, "theta"),
        ("pymanopt-steepest-descent", {"max_time": -1.0}, ValueError, "max_time"),
    ],
)
def test_bad_option_values(name, options, error, match):
    with pytest.raises(error, match=match):
        ms.make_solver(name, **options)


def test_non_finite_start_is_refused():
    problem = _nan_problem(10)
    x0 = np.zeros(10)
    x0[0] = 1.0
    with pytest.raises(ValueError, match="cost at x0 is nan"):
        ms.solve(problem, "trust-regions", x0=x0)


# --------------------------------------------------------------------------- non-finite cost
class _NanBeyond(Objective):
    """−xᵀAx with A = diag(λ), λ₁ for e₁, but NaN once x[0] > 0.9."""

    def __init__(self, n):
        self.a = np.diag(np.linspace(1.0, -1.0, n))

    def cost(self, x, data):
        return math.nan if x[0] > 0.9 else -float(x @ self.a @ x)

    def euclidean_gradient(self, x, data):
        return -2.0 * self.a @ x

    def euclidean_hessian(self, x, data, u):
        return -2.0 * self.a @ u


def _nan_problem(n):
    return Problem(Sphere(n), _NanBeyond(n), name="nan-beyond")


@pytest.mark.parametrize("name", SOLVERS)
def test_non_finite_cost_stops_with_last_finite_iterate(name):
    n = 10
    problem = _nan_problem(n)
    x0 = np.full(n, 0.1)
    x0[0] = 0.3
    x0 /= np.linalg.norm(x0)
    result = ms.solve(problem, name, x0=x0, keep_iterates=True)
    assert result.stop_reason is StopReason.NON_FINITE_COST
    assert not result.converged
    assert "non-finite" in result.stop_message or "nan" in result.stop_message
    assert np.isfinite(result.cost) and result.point[0] <= 0.9
    assert result.cost == problem.cost(result.point)
    assert result.cost <= problem.cost(x0)
    if name in OURS:  # they made progress before meeting the NaN
        assert result.iterations > 0 and result.cost < problem.cost(x0)
    assert np.array_equal(result.history.iterates[-1], result.point)
    assert np.all(np.isfinite(result.history.cost))
    assert result.certificate is not None  # the returned point is certified like any other
    assert result.certificate.verdict is ms.Verdict.NOT_CRITICAL


# --------------------------------------------------------------------------- callback, history
@pytest.mark.parametrize("name", OURS)
def test_callback_is_called_every_iteration_and_can_stop(small_rayleigh, name):
    seen = []

    def record(iteration, info):
        assert isinstance(info, IterationInfo)
        seen.append((iteration, info.cost, info.gradient_norm))

    result = ms.solve(small_rayleigh, name, seed=2, callback=record, certify=False)
    assert [k for k, _, _ in seen] == list(range(result.iterations + 1))
    assert np.array_equal([c for _, c, _ in seen], result.history.cost)

    stopped = ms.solve(small_rayleigh, name, seed=2, callback=lambda k, info: k == 3, certify=False)
    assert stopped.stop_reason is StopReason.CALLBACK
    assert stopped.iterations == 3 and len(stopped.history) == 4
    assert np.array_equal(stopped.history.cost, result.history.cost[:4])


@pytest.mark.parametrize("name", WRAPPERS)
def test_wrappers_refuse_a_callback(small_rayleigh, name):
    with pytest.raises(TypeError, match="cannot call a callback"):
        ms.solve(small_rayleigh, name, seed=0, callback=lambda k, info: None)


@pytest.mark.parametrize("name", SOLVERS)
def test_history_lengths_and_counts(small_rayleigh, name):
    result = ms.solve(small_rayleigh, name, seed=4, keep_iterates=True, certify=False)
    h = result.history
    rows = 2 if name == "pymanopt-trust-regions" else result.iterations + 1  # documented
    assert len(h) == rows
    for column in (h.gradient_norm, h.step_size, h.time_s, *h.extra.values()):
        assert len(column) == rows
    assert len(h.iterates) == rows
    assert np.array_equal(h.iterates[-1], result.point)
    assert h.cost[-1] == result.cost
    assert np.all(np.diff(h.time_s) >= 0)
    assert h.step_size[0] == 0
    assert result.counts.cost > 0 and result.counts.gradient > 0
    assert set(h.to_dict()) >= {"cost", "gradient_norm", "step_size", "time_s"}
    plain = ms.solve(small_rayleigh, name, seed=4, certify=False)
    assert plain.history.iterates is None and plain.certificate is None


def test_trust_region_history_and_count_invariants(small_rayleigh):
    result = ms.solve(small_rayleigh, "trust-regions", seed=5, certify=False)
    extra = result.history.extra
    assert set(extra) == {"radius", "rho", "inner_iterations", "inner_stop", "accepted"}
    assert int(np.sum(extra["inner_iterations"])) == result.counts.hessian
    assert result.counts.cost == result.iterations + 1
    assert result.counts.gradient == 1 + int(np.sum(extra["accepted"][1:]))
    assert math.isnan(extra["rho"][0]) and extra["inner_stop"][0] == ""
    stops = {s.value for s in InnerStop}
    assert set(extra["inner_stop"][1:]) <= stops
    # rejected steps do not move, accepted ones do
    rejected = ~extra["accepted"]
    assert np.all(result.history.step_size[rejected] == 0)
    assert np.all(result.history.step_size[1:][extra["accepted"][1:]] > 0)
    assert np.all(extra["radius"] > 0)
    # the cost never increases along accepted steps (ρ > ρ′ > 0)
    assert np.all(np.diff(result.history.cost) <= 1e-15)


def test_gradient_descent_counts_and_fixed_step(small_rayleigh):
    result = ms.solve(small_rayleigh, "gradient-descent", seed=5, step_size=0.2, certify=False)
    assert result.counts.cost == result.iterations + 1
    assert result.counts.gradient == result.iterations + 1
    assert result.counts.hessian == 0
    # the step is η ‖grad f(x_k)‖ with the fixed η
    h = result.history
    assert np.allclose(h.step_size[1:], 0.2 * h.gradient_norm[:-1], rtol=1e-12)
    estimated = ms.solve(small_rayleigh, "gradient-descent", seed=5, certify=False)
    assert estimated.counts.hessian == 20  # power iterations for the default step size


def test_gradient_descent_too_long_a_step_does_not_converge(small_rayleigh):
    # η = 1 > 2/L: the fixed-step iteration cannot settle at the minimizer
    result = ms.solve(
        small_rayleigh,
        "gradient-descent",
        seed=5,
        step_size=1.0,
        max_iterations=200,
        certify=False,
    )
    assert result.stop_reason is StopReason.MAX_ITERATIONS
    assert not result.converged


# --------------------------------------------------------------------------- stopping criteria
class _FixedScale:
    """A GradientScale stand-in whose relative threshold is rtol · 10."""

    def threshold(self, state, rtol):
        return rtol * 10.0


def _info(iteration=1, gradient_norm=1.0, step=1.0, elapsed=0.0, cost_change=1.0, cost_evals=1):
    from manifoldscape.core.loop import SolverState

    state = SolverState(
        problem=None,
        point=None,
        cost=0.0,
        gradient=None,
        gradient_norm=gradient_norm,
        step_size=step,
    )
    return IterationInfo(
        iteration, state, elapsed, EvaluationCounts(cost_evals, 0, 0), _FixedScale(), cost_change
    )


def test_stopping_criteria_objects():
    grad = GradientNormBelow(rtol=1e-3)  # threshold 1e-3 · scale 10
    assert grad.converged and grad.reason is StopReason.GRADIENT_TOLERANCE
    assert grad.check(_info(gradient_norm=0.011)) is None
    assert grad.check(_info(gradient_norm=0.01)).reason is StopReason.GRADIENT_TOLERANCE
    assert GradientNormBelow(1e-6).check(_info(gradient_norm=0.01)) is None
    assert not MaxIterations(5).converged
    assert MaxIterations(5).check(_info(iteration=5)).reason is StopReason.MAX_ITERATIONS
    assert MaxTime(1.0).check(_info(elapsed=2.0)).reason is StopReason.MAX_TIME
    assert StepSizeBelow(1e-3).check(_info(step=1e-4)).reason is StopReason.STEP_TOLERANCE
    assert StepSizeBelow(1e-3).check(_info(iteration=0, step=0.0)) is None
    change = CostChangeBelow(1e-3).check(_info(cost_change=1e-4))
    assert change.reason is StopReason.COST_CHANGE_TOLERANCE
    assert (
        MaxCostEvaluations(3).check(_info(cost_evals=3)).reason is StopReason.MAX_COST_EVALUATIONS
    )

    either = MaxIterations(5) | GradientNormBelow(0.1)
    assert (
        either.check(_info(iteration=1, gradient_norm=0.05)).reason is StopReason.GRADIENT_TOLERANCE
    )
    assert either.check(_info(iteration=6, gradient_norm=0.05)).reason is StopReason.MAX_ITERATIONS
    assert len((either | MaxTime(1.0)).criteria) == 3  # flattened

    both = GradientNormBelow(0.1) & MaxIterations(5)
    assert isinstance(both, AllOf) and both.converged
    assert both.check(_info(iteration=1, gradient_norm=0.05)) is None
    decision = both.check(_info(iteration=5, gradient_norm=0.05))
    assert decision.reason is StopReason.GRADIENT_TOLERANCE and "iterations" in decision.message

    with pytest.raises(ValueError, match="tolerance"):
        GradientNormBelow(-1.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        MaxIterations(2.5)
    with pytest.raises(TypeError, match="StoppingCriterion"):
        AllOf((MaxIterations(1), "often"))


def test_stopping_criterion_option_replaces_the_default(small_rayleigh):
    result = ms.solve(
        small_rayleigh, "trust-regions", seed=1, stopping_criterion=MaxIterations(3), certify=False
    )
    assert result.iterations == 3 and result.stop_reason is StopReason.MAX_ITERATIONS
    timed = ms.solve(small_rayleigh, "trust-regions", seed=1, max_time=0.0, certify=False)
    assert timed.iterations == 0 and timed.stop_reason is StopReason.MAX_TIME
    budget = ms.solve(
        small_rayleigh, "gradient-descent", seed=1, max_cost_evaluations=10, certify=False
    )
    assert budget.stop_reason is StopReason.MAX_COST_EVALUATIONS and budget.counts.cost == 10
    steps = ms.solve(
        small_rayleigh,
        "gradient-descent",
        seed=1,
        certify=False,
        stopping_criterion=StepSizeBelow(1e-4) | MaxIterations(10_000),
    )
    assert steps.stop_reason is StopReason.STEP_TOLERANCE
    assert steps.history.step_size[-1] < 1e-4 <= steps.history.step_size[-2]


def test_default_gradient_tolerance_is_scale_aware():
    base = rayleigh(n=20, seed=3)
    tiny = rayleigh(1e-9 * base.objective.a)
    x0 = random_point(base.manifold, 0)
    # an absolute 1e-8 would stop at once on the scaled-down problem
    absolute = ms.solve(tiny, "trust-regions", x0=x0, gradient_tolerance=1e-8, certify=False)
    assert absolute.iterations == 0 and absolute.stop_reason is StopReason.GRADIENT_TOLERANCE
    relative = ms.solve(tiny, "trust-regions", x0=x0)
    reference = ms.solve(base, "trust-regions", x0=x0)
    assert relative.iterations > 0 and relative.converged
    assert relative.gradient_norm <= 1e-8 * gradient_scale(tiny, x0)
    assert relative.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert base.symmetry.distance(relative.point, reference.point) < 1e-6


# --------------------------------------------------------------------------- state in, state out
def test_init_state_and_step_by_hand(small_rayleigh):
    solver = TrustRegions()
    counter = EvaluationCounter(small_rayleigh)
    state = solver.init_state(counter, random_point(small_rayleigh.manifold, 0))
    costs = [state.cost]
    for _ in range(5):
        new = solver.step(state)
        assert new is not state
        costs.append(new.cost)
        state = new
    assert np.all(np.diff(costs) <= 0) and costs[-1] < costs[0]
    assert counter.counts().cost == 6


def test_truncated_cg_on_a_convex_quadratic(rng):
    n = 6
    m = rng.standard_normal((n, n))
    q = m @ m.T + n * np.eye(n)
    b = rng.standard_normal(n)
    problem = Problem.from_autograd(Euclidean(n), lambda x: 0.5 * x @ (q @ x) - b @ x)
    x = np.zeros(n)
    g = problem.riemannian_gradient(x)
    counter = EvaluationCounter(problem)
    tcg = TruncatedConjugateGradient(kappa=1e-8, theta=1.0)
    out = tcg.solve(counter, x, g, radius=1e6, max_iterations=50)
    assert out.stop in (InnerStop.REACHED_TARGET_LINEAR, InnerStop.REACHED_TARGET_SUPERLINEAR)
    assert out.iterations == counter.counts().hessian
    residual = np.linalg.norm(g + q @ out.step)
    assert residual <= np.linalg.norm(g) * min(np.linalg.norm(g), 1e-8) * (1 + 1e-6)
    np.testing.assert_allclose(out.hessian_step, q @ out.step, rtol=1e-10, atol=1e-12)
    # a small radius: the step ends on the boundary and still decreases the model
    short = tcg.solve(problem, x, g, radius=1e-3, max_iterations=50)
    assert short.stop is InnerStop.EXCEEDED_RADIUS
    assert np.linalg.norm(short.step) == pytest.approx(1e-3, rel=1e-12)
    assert g @ short.step + 0.5 * short.step @ (q @ short.step) < 0
    with pytest.raises(ValueError, match="kappa"):
        TruncatedConjugateGradient(kappa=0.0)


def test_truncated_cg_negative_curvature_and_zero_gradient():
    problem = rayleigh(n=12, seed=1)
    v = problem.objective.eigenvectors
    tcg = TruncatedConjugateGradient()
    # an exactly zero gradient: nothing to do, no Hessian-vector product
    saddle = v[:, 2]
    zero = tcg.solve(problem, saddle, 0.0 * problem.riemannian_gradient(saddle), 1.0, 11)
    assert zero.stop is InnerStop.ZERO_GRADIENT and zero.iterations == 0
    # near the maximizer the Hessian is negative definite: the first direction has d'Hd < 0
    x = v[:, -1] + 1e-2 * v[:, 0]
    x /= np.linalg.norm(x)
    out = tcg.solve(problem, x, problem.riemannian_gradient(x), 0.5, 11)
    assert out.stop is InnerStop.NEGATIVE_CURVATURE and out.iterations == 1
    assert np.linalg.norm(out.step) == pytest.approx(0.5, rel=1e-12)


# --------------------------------------------------------------------------- against pymanopt
@pytest.mark.parametrize(
    "problem",
    [
        rayleigh(n=30, seed=11),
        singular_pair(m=9, n=7, seed=11),
        eigenspace(n=12, p=3, manifold="grassmann", seed=11),
        eigenspace(n=12, p=3, manifold="stiefel", seed=11),
    ],
    ids=["rayleigh", "singular_pair", "eigenspace-grassmann", "eigenspace-stiefel"],
)
def test_trust_regions_agree_with_pymanopt(problem):
    x0 = random_point(problem.manifold, 12)
    ours = ms.solve(problem, "trust-regions", x0=x0)
    theirs = ms.solve(problem, "pymanopt-trust-regions", x0=x0)
    for result in (ours, theirs):
        assert result.converged
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    hessian_norm = ours.certificate.hessian_norm
    gap = min(abs(e) for e in ours.certificate.eigenvalues)  # smallest curvature off the orbit
    g = max(ours.gradient_norm, theirs.gradient_norm)
    assert abs(ours.cost - theirs.cost) <= 2 * g**2 / gap + 1e-14 * hessian_norm
    distance = problem.symmetry.distance(ours.point, theirs.point)
    assert distance <= 4 * g / gap + 1e-12
    # the same algorithm: same number of cost evaluations (one per outer iteration)
    assert abs(ours.counts.cost - theirs.counts.cost) <= 1


def test_pymanopt_stop_messages_are_mapped():
    assert (
        stop_reason_from_message(
            "Terminated - min grad norm reached after 8 iterations, 0.01 seconds."
        )
        is StopReason.GRADIENT_TOLERANCE
    )
    assert (
        stop_reason_from_message("Terminated - max iterations reached after 1.00 seconds.")
        is StopReason.MAX_ITERATIONS
    )
    assert (
        stop_reason_from_message(
            "Terminated - min step_size reached after 3 iterations, 0.01 seconds."
        )
        is StopReason.STEP_TOLERANCE
    )
    assert (
        stop_reason_from_message("Terminated - max time reached after 3 iterations.")
        is StopReason.MAX_TIME
    )
    with pytest.raises(RuntimeError, match="unrecognised"):
        stop_reason_from_message("Terminated - the moon is full")


def test_pymanopt_wrapper_limits(small_rayleigh):
    result = ms.solve(small_rayleigh, "pymanopt-steepest-descent", seed=0, max_iterations=3)
    assert result.stop_reason is StopReason.MAX_ITERATIONS and result.iterations == 3
    assert result.stop_message.startswith("pymanopt: Terminated")
    assert len(result.history) == 4 and np.all(np.isnan(result.history.step_size[1:]))


# --------------------------------------------------------------------------- acceptance
def test_acceptance_trust_regions_from_twenty_random_starts():
    problem = rayleigh(n=500, seed=0)
    lam1, mu = _eigen_bounds(problem)
    for seed in range(20):
        result = ms.solve(problem, "trust-regions", seed=seed)
        assert result.converged, (seed, result.stop_message)
        assert result.cost + lam1 <= 2 * result.gradient_norm**2 / mu + 1e-12, seed
        assert problem.distance_to_truth(result.point) <= 2 * result.gradient_norm / mu + 1e-10
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER, seed
        assert result.certificate.index == 0
