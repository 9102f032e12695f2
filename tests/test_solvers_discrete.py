"""Solvers for problems with discrete symmetry: Riemannian subgradient, MSP, deflation.

The objectives are written here (small, self-contained): the ℓ1 and −ℓ4 sparsity objectives of
complete dictionary learning on the sphere (seed 001; seed 003 §3.1–3.2) and −ℓ4 on the
orthogonal group (Zhai et al. 2020).  With Y = A₀X₀, X₀ Bernoulli–Gaussian(θ), the sparse
directions are the columns ±a_i of A₀; known answers come from that model, from the eigenvectors
of a Rayleigh quotient and from closed forms (power method, polar factor), never from the code
under test.
"""

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.linalg
from pymanopt.manifolds import Euclidean, Grassmann, SpecialOrthogonalGroup, Sphere, Stiefel
from scipy.optimize import linear_sum_assignment

import manifoldscape as ms
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.result import StopReason
from manifoldscape.geometry import random_point
from manifoldscape.problems import rayleigh
from manifoldscape.solvers import (
    DeflationResult,
    FixedPointIteration,
    RestrictedObjective,
    RiemannianSubgradient,
    deflate,
)
from manifoldscape.solvers.power_iteration import project_to_manifold
from manifoldscape.testing import assert_derivatives, assert_matches_autograd


# --------------------------------------------------------------------------- objectives
def bernoulli_gaussian(n, p, theta, rng):
    return rng.standard_normal((n, p)) * (rng.random((n, p)) < theta)


def haar_orthogonal(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


class L1Sphere(Objective):
    """f(q) = (1/p)‖Yᵀq‖₁; subgradient (1/p) Y sign(Yᵀq); Hessian 0 where differentiable."""

    def __init__(self, y):
        self.y, self.p = y, y.shape[1]

    def prepare(self, q):
        return q @ self.y

    def cost(self, q, z):
        return float(np.sum(np.abs(z))) / self.p

    def euclidean_gradient(self, q, z):
        return self.y @ np.sign(z) / self.p

    def euclidean_hessian(self, q, z, u):
        return np.zeros_like(u)


class L4Sphere(Objective):
    """f(q) = −(1/4p)‖Yᵀq‖₄⁴ (seed 001), with batched Hessian-vector products."""

    batched_hessian = True

    def __init__(self, y):
        self.y, self.p = y, y.shape[1]

    def prepare(self, q):
        return q @ self.y

    def cost(self, q, z):
        return -float(np.sum(z**4)) / (4 * self.p)

    def euclidean_gradient(self, q, z):
        return -self.y @ z**3 / self.p

    def euclidean_hessian(self, q, z, u):
        return -3.0 * ((u @ self.y) * z**2) @ self.y.T / self.p

    def autograd_cost(self, q):
        return -anp.sum(anp.dot(q, self.y) ** 4) / (4 * self.p)


class L4Orthogonal(Objective):
    """f(A) = −(1/4p)‖AY‖₄⁴ on O(n) or SO(n) (Zhai et al. 2020)."""

    def __init__(self, y):
        self.y, self.p = y, y.shape[1]

    def prepare(self, a):
        return a @ self.y

    def cost(self, a, z):
        return -float(np.sum(z**4)) / (4 * self.p)

    def euclidean_gradient(self, a, z):
        return -(z**3) @ self.y.T / self.p

    def euclidean_hessian(self, a, z, u):
        return -3.0 * ((u @ self.y) * z**2) @ self.y.T / self.p


def signed_basis_distance(q):
    """min over ±e_i of ‖q − (±e_i)‖ (the symmetry group SP(n) acting on one column)."""
    i = int(np.argmax(np.abs(q)))
    target = np.zeros_like(q)
    target[i] = np.sign(q[i])
    return float(np.linalg.norm(q - target))


def matching_error(a0, q):
    """1 − min_i |⟨a_{π(i)}, q_i⟩| for the best matching π (columns modulo SP(n))."""
    overlaps = np.abs(a0.T @ q)
    rows, cols = linear_sum_assignment(-overlaps)
    return 1.0 - float(np.min(overlaps[rows, cols]))


def is_monotone(costs):
    slack = 1e-12 * np.maximum(1.0, np.abs(costs[:-1]))
    return bool(np.all(np.diff(costs) <= slack))


@pytest.fixture(scope="module")
def l1_problem():
    y = bernoulli_gaussian(8, 2000, 0.3, np.random.default_rng(0))
    return Problem(Sphere(8), L1Sphere(y), name="l1")


@pytest.fixture(scope="module")
def l4_dictionary():
    rng = np.random.default_rng(1)
    n, p = 6, 3000
    a0 = haar_orthogonal(n, rng)
    y = a0 @ bernoulli_gaussian(n, p, 0.3, rng)
    return a0, Problem(Sphere(n), L4Sphere(y), name="l4")


# --------------------------------------------------------------------------- subgradient
def test_subgradient_finds_a_signed_basis_vector_of_the_l1_objective(l1_problem):
    options = {"step_size": 0.1, "decay": 0.97}
    for seed in range(4):
        result = ms.solve(l1_problem, "subgradient", seed=seed, **options)
        q = result.point
        assert np.max(np.abs(q)) > 0.99
        # the geometric steps converge to the sharp minimizer ±e_i itself, not only near it
        assert signed_basis_distance(q) < 1e-6
        # nonsmooth: the Riemannian subgradient stays large at the minimizer, so the run ends on
        # the step criterion, not on the gradient criterion
        assert result.gradient_norm > 1e-2
        assert result.stop_reason is StopReason.STEP_TOLERANCE
        k = np.arange(result.iterations)
        expected = options["step_size"] * options["decay"] ** k
        assert np.allclose(result.history.step_size[1:], expected, rtol=1e-12)
        # the honest verdict at a kink: the subgradient returned there is not zero
        assert result.certificate.verdict is ms.Verdict.NOT_CRITICAL


def test_subgradient_step_is_a_gradient_step_on_a_smooth_problem():
    problem = rayleigh(n=10, seed=0)
    x0 = random_point(problem.manifold, 1)
    eta = 0.05
    plain = ms.solve(
        problem, "subgradient", x0=x0, step_size=eta, normalize=False, max_iterations=1
    )
    gradient = ms.solve(problem, "gradient-descent", x0=x0, step_size=eta, max_iterations=1)
    assert np.allclose(plain.point, gradient.point, rtol=0, atol=1e-15)
    norm = problem.gradient_norm(x0)
    normalized = ms.solve(problem, "subgradient", x0=x0, step_size=eta, max_iterations=1)
    by_hand = problem.manifold.retraction(x0, -eta / norm * problem.riemannian_gradient(x0))
    assert np.allclose(normalized.point, by_hand, rtol=0, atol=1e-15)
    assert normalized.history.step_size[1] == pytest.approx(eta, rel=1e-12)


def test_subgradient_without_normalisation_and_options(l1_problem):
    solver = ms.make_solver("subgradient", step_size=0.5, decay=0.95, normalize=False)
    assert isinstance(solver, RiemannianSubgradient)
    result = solver.run(l1_problem, seed=0, certify=False)
    assert np.max(np.abs(result.point)) > 0.99
    assert result.history.extra["step_length"][0] == 0.5


# --------------------------------------------------------------------------- MSP
def test_msp_on_the_sphere_is_the_l4_power_method(l4_dictionary):
    a0, problem = l4_dictionary
    y = problem.objective.y
    x0 = random_point(problem.manifold, 4)
    one = ms.solve(problem, "msp", x0=x0, max_iterations=1, certify=False)
    power = y @ (y.T @ x0) ** 3
    assert np.allclose(one.point, power / np.linalg.norm(power), rtol=0, atol=1e-14)
    for seed in range(3):
        result = ms.solve(problem, "msp", seed=seed)
        assert np.max(np.abs(a0.T @ result.point)) > 0.99
        assert result.iterations <= 40
        assert result.stop_reason in (StopReason.GRADIENT_TOLERANCE, StopReason.STEP_TOLERANCE)
        assert is_monotone(result.history.cost)  # ascent of ‖Yᵀq‖₄⁴ at every step
        assert np.all(result.history.extra["shift"] == 0)  # concave f: exactly MSP
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER


@pytest.mark.parametrize("manifold", [SpecialOrthogonalGroup(5), Stiefel(5, 5)])
def test_msp_on_the_orthogonal_group_finds_a_signed_permutation(manifold):
    n, p = 5, 5000
    y = bernoulli_gaussian(n, p, 0.3, np.random.default_rng(2))
    problem = Problem(manifold, L4Orthogonal(y), name="l4-orthogonal")
    a0 = random_point(manifold, 3)
    one = ms.solve(problem, "msp", x0=a0, max_iterations=1, certify=False)
    polar, _ = scipy.linalg.polar(((a0 @ y) ** 3) @ y.T)  # A ← Polar((AY)^{∘3} Yᵀ)
    if isinstance(manifold, SpecialOrthogonalGroup) and np.linalg.det(polar) < 0:
        pytest.fail("pick a start whose MSP step stays in SO(n)")  # keeps the check exact
    assert np.allclose(one.point, polar, rtol=0, atol=1e-12)
    result = ms.solve(problem, "msp", seed=0)
    a = result.point
    assert abs(1.0 - np.sum(a**4) / n) < 1e-2
    assert result.iterations < 30
    assert is_monotone(result.history.cost)
    rows, cols = linear_sum_assignment(-np.abs(a))
    assert np.min(np.abs(a[rows, cols])) > 0.99
    if isinstance(manifold, SpecialOrthogonalGroup):
        assert np.linalg.det(a) == pytest.approx(1.0, abs=1e-12)


def test_msp_acceptance_l4_dictionary_on_the_orthogonal_group():
    # the case: n = 25, p = 10000, θ = 0.3, Y = A₀X₀ with A₀ orthogonal; A A₀ is a
    # signed permutation at the truth, so ‖A A₀‖₄⁴/n measures recovery (Zhai et al. 2020)
    n, p = 25, 10000
    rng = np.random.default_rng(7)
    a0 = haar_orthogonal(n, rng)
    y = a0 @ bernoulli_gaussian(n, p, 0.3, rng)
    problem = Problem(Stiefel(n, n), L4Orthogonal(y), name="l4-orthogonal")
    result = ms.solve(problem, "msp", seed=0, keep_iterates=True, certify=False)
    errors = [abs(1.0 - np.sum((a @ a0) ** 4) / n) for a in result.history.iterates]
    first = next(k for k, e in enumerate(errors) if e < 1e-2)
    assert first < 30 and errors[-1] < 1e-2
    assert is_monotone(result.history.cost)


def test_projections_onto_the_manifolds():
    z = np.diag([1.0, 2.0, -3.0])
    # max tr(Xᵀz) over SO(3) for diagonal z: signs with product +1 maximizing Σ s_i z_i
    assert np.allclose(project_to_manifold(SpecialOrthogonalGroup(3), z), np.diag([-1, 1, -1.0]))
    assert np.allclose(project_to_manifold(Stiefel(3, 3), z), np.diag([1, 1, -1.0]))
    rng = np.random.default_rng(0)
    tall = rng.standard_normal((6, 2))
    expected, _ = scipy.linalg.polar(tall, side="right")
    assert np.allclose(project_to_manifold(Stiefel(6, 2), tall), expected)
    v = rng.standard_normal(4)
    assert np.allclose(project_to_manifold(Sphere(4), v), v / np.linalg.norm(v))
    assert project_to_manifold(Sphere(4), np.zeros(4)) is None
    with pytest.raises(TypeError, match="Sphere, Stiefel"):
        project_to_manifold(Euclidean(3), v[:3])


def test_msp_safeguard_breaks_the_two_cycle_of_the_power_method():
    # A has eigenvalues ±1: the plain power method x ← Ax/‖Ax‖ oscillates between two points
    problem = rayleigh(n=12, spectrum="linear", seed=0)
    plain = ms.solve(problem, "msp", seed=0, adaptive_shift=False, max_iterations=300)
    assert plain.stop_reason is StopReason.MAX_ITERATIONS
    assert problem.distance_to_truth(plain.point) > 0.1
    guarded = ms.solve(problem, "msp", seed=0)
    assert guarded.stop_reason in (StopReason.GRADIENT_TOLERANCE, StopReason.STEP_TOLERANCE)
    assert problem.distance_to_truth(guarded.point) < 1e-6
    assert guarded.history.extra["shift"][-1] > 0
    assert is_monotone(guarded.history.cost)
    shifted = ms.solve(problem, "msp", seed=0, shift=3.0, adaptive_shift=False)
    assert problem.distance_to_truth(shifted.point) < 1e-6  # 2A + 3I ≻ 0: monotone by itself


def test_msp_refuses_other_manifolds():
    problem = Problem.from_autograd(Grassmann(4, 2), lambda x: anp.sum(x**4))
    with pytest.raises(TypeError, match=r"msp solver needs .*Sphere, Stiefel"):
        ms.solve(problem, "msp", seed=0)
    assert isinstance(ms.make_solver("msp"), FixedPointIteration)


# --------------------------------------------------------------------------- deflation
@pytest.mark.parametrize("solver", ["trust-regions", "msp"])
def test_deflation_recovers_the_eigenvectors_in_order(solver):
    problem = rayleigh(n=6, spectrum="linear", seed=0)
    vectors = problem.objective.eigenvectors
    found = deflate(problem, solver, seed=0, polish=False)
    assert isinstance(found, DeflationResult) and found.Q.shape == (6, 6) and len(found) == 6
    assert np.allclose(np.abs(np.sum(found.Q * vectors, axis=0)), 1.0, atol=1e-7)
    # v_j is a critical point of index j − 1 of the full problem (seed 001, Rayleigh quotient)
    assert [c.index for c in found.certificates] == list(range(6))
    assert found.certificates[0].verdict is ms.Verdict.LOCAL_MINIMIZER
    assert all(c.verdict is ms.Verdict.STRICT_SADDLE for c in found.certificates[1:-1])
    assert found.results[1].point.shape == (5,)  # the restricted problem's point w
    partial = deflate(problem, solver, seed=0, polish=False, columns=2, certify=False)
    assert partial.Q.shape == (6, 2) and partial.certificates == (None, None)
    assert np.allclose(partial.Q, found.Q[:, :2])


@pytest.mark.parametrize("solver", ["trust-regions", "msp"])
def test_deflation_recovers_an_l4_dictionary_modulo_signed_permutation(l4_dictionary, solver):
    a0, problem = l4_dictionary
    found = deflate(problem, solver, seed=0)
    assert matching_error(a0, found.Q) < 1e-2
    assert all(c.verdict is ms.Verdict.LOCAL_MINIMIZER for c in found.certificates)
    # with p = 3000 samples the −ℓ4 minimizer near a_i is ~0.08 away from a_i (finite-sample
    # error ~ 1/√p); polishing must land on exactly that minimizer, found here from a_i itself
    nearest = np.column_stack(
        [ms.solve(problem, "trust-regions", x0=a, certify=False).point for a in a0.T]
    )
    overlaps = np.abs(nearest.T @ found.Q)
    rows, cols = linear_sum_assignment(-overlaps)
    assert np.all(1.0 - overlaps[rows, cols] < 1e-10)
    assert all(r.point.shape == (6,) for r in found.results)  # polished on the full sphere
    assert found.polished and found.solver == solver


def test_deflation_is_reproducible(l4_dictionary):
    _, problem = l4_dictionary
    first = deflate(problem, "msp", seed=3)
    second = deflate(problem, "msp", seed=3)
    assert np.array_equal(first.Q, second.Q)
    other = deflate(problem, "msp", seed=4, certify=False)
    starts = [r.history.cost[0] for r in first.restricted_results]
    assert starts != [r.history.cost[0] for r in other.restricted_results]
    sequence = np.random.SeedSequence(11)
    assert np.array_equal(
        deflate(problem, "msp", seed=sequence, certify=False).Q,
        deflate(problem, "msp", seed=sequence, certify=False).Q,
    )


def test_restricted_objective_derivatives_and_twin(l4_dictionary):
    _, problem = l4_dictionary
    rng = np.random.default_rng(5)
    basis = np.linalg.qr(rng.standard_normal((6, 4)))[0]
    objective = RestrictedObjective(problem.objective, basis)
    restricted = Problem(Sphere(4), objective, name="restricted-l4")
    assert_derivatives(restricted, points=2, seed=0)
    assert_matches_autograd(restricted, points=2, seed=0)
    w = random_point(Sphere(4), 1)
    assert restricted.cost(w) == pytest.approx(problem.cost(basis @ w), rel=1e-14)
    directions = rng.standard_normal((3, 4))
    data = objective.prepare(w)
    batch = objective.euclidean_hessian(w, data, directions)
    single = [objective.euclidean_hessian(w, data, d) for d in directions]
    assert np.allclose(batch, single, rtol=1e-13, atol=0)
    eigen = rayleigh(n=5, seed=2)
    basis = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    on_complement = Problem(Sphere(3), RestrictedObjective(eigen.objective, basis))
    assert_derivatives(on_complement, points=2, seed=1)
    assert_matches_autograd(on_complement, points=2, seed=1)


# --------------------------------------------------------------------------- bad input
def test_deflate_bad_input(l4_dictionary):
    _, problem = l4_dictionary
    with pytest.raises(ValueError, match="unknown solver 'newton'"):
        deflate(problem, "newton")
    with pytest.raises(ValueError, match=r"columns must be at most n = 6"):
        deflate(problem, columns=7)
    with pytest.raises(ValueError, match="columns must be at least 1"):
        deflate(problem, columns=0)
    with pytest.raises(TypeError, match="columns must be an integer"):
        deflate(problem, columns=2.0)
    with pytest.raises(TypeError, match="unknown option"):
        deflate(problem, "msp", step_size=0.1)
    with pytest.raises(TypeError, match="polish must be True or False"):
        deflate(problem, polish="yes")
    with pytest.raises(TypeError, match="polish_options must be a mapping"):
        deflate(problem, polish_options=3)
    with pytest.raises(TypeError, match="seed"):
        deflate(problem, seed="zero")
    with pytest.raises(TypeError, match="problem must be a manifoldscape Problem"):
        deflate("rayleigh")
    on_stiefel = Problem.from_autograd(Stiefel(4, 2), lambda x: anp.sum(x**4))
    with pytest.raises(ValueError, match="deflate needs a problem on the sphere"):
        deflate(on_stiefel)
    matrix_sphere = Problem.from_autograd(Sphere(3, 2), lambda x: anp.sum(x**4))
    with pytest.raises(ValueError, match="deflate needs a problem on the sphere"):
        deflate(matrix_sphere)


def test_restricted_objective_bad_input(l4_dictionary):
    _, problem = l4_dictionary
    with pytest.raises(ValueError, match="U must have orthonormal columns"):
        RestrictedObjective(problem.objective, np.ones((6, 2)))
    with pytest.raises(ValueError, match=r"U must be n × m"):
        RestrictedObjective(problem.objective, np.eye(3)[:, :0])
    with pytest.raises(ValueError, match="U must have 2 dimensions"):
        RestrictedObjective(problem.objective, np.ones(6))
    with pytest.raises(TypeError, match="objective must be a manifoldscape Objective"):
        RestrictedObjective(lambda x: 0.0, np.eye(3))


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("subgradient", {"decay": 1.0}, ValueError, r"decay must be in \(0, 1\)"),
        ("subgradient", {"decay": 0.0}, ValueError, "decay"),
        ("subgradient", {"decay": "fast"}, TypeError, "decay must be a number"),
        ("subgradient", {"step_size": 0.0}, ValueError, "step_size"),
        ("subgradient", {"step_size": float("inf")}, ValueError, "step_size"),
        ("subgradient", {"step_size": "big"}, TypeError, "step_size"),
        ("subgradient", {"normalize": "yes"}, TypeError, "normalize must be True or False"),
        ("subgradient", {"step_tolerance": -1.0}, ValueError, "step_tolerance"),
        ("msp", {"shift": -1.0}, ValueError, "shift"),
        ("msp", {"shift": float("nan")}, ValueError, "shift"),
        ("msp", {"adaptive_shift": 1}, TypeError, "adaptive_shift must be True or False"),
        ("msp", {"step_tolerance": -1e-3}, ValueError, "step_tolerance"),
        ("msp", {"step_size": 0.1}, TypeError, "unknown option"),
    ],
)
def test_bad_solver_options(name, options, error, match):
    with pytest.raises(error, match=match):
        ms.make_solver(name, **options)
