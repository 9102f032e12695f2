"""What a certificate says under shifts, scalings, constant costs and wrong declarations.

Each test pins down a situation where an earlier certificate over-claimed or mislabelled: a shift
that leaves the landscape unchanged, a constant cost, extreme scalings, a symmetry that is not
one, a solver that called a non-critical point converged, and the literature's definition of a
strict saddle.  The invariance over random instances is in ``test_certificate_invariance.py``.
"""

from __future__ import annotations

import json

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import Euclidean, Sphere

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.core.certificate import Verdict, certify
from manifoldscape.core.symmetry import OrthogonalRight, SignedPermutation
from manifoldscape.geometry import random_point
from manifoldscape.landscape.census import census
from manifoldscape.problems import (
    neural_collapse,
    rayleigh,
    symmetric_factorization,
    tensor_decomposition,
)

ROUND_OFF = "round-off"


@pytest.fixture(scope="module")
def base():
    problem = rayleigh(n=50, seed=0)
    values, vectors = np.linalg.eigh(problem.objective.a)
    return problem, values[::-1], vectors[:, ::-1]


def _off_critical(vectors):
    """A unit vector near v₁ with a Riemannian gradient norm of about 0.9."""
    x = vectors[:, 0] + 0.24 * vectors[:, -1]
    return x / np.linalg.norm(x)


# --------------------------------------------------------------------------- 1. shifts
@pytest.mark.parametrize("c", [1e6, 1e8, 1e10, 1e12, 1e14])
def test_a_shift_never_makes_a_non_critical_point_a_minimizer(base, c):
    problem, _, vectors = base
    x = _off_critical(vectors)
    assert certify(problem, x).verdict is Verdict.NOT_CRITICAL
    shifted = rayleigh(problem.objective.a + c * np.eye(50))
    cert = certify(shifted, x)
    assert cert.gradient_norm > 0.5
    if cert.verdict is not Verdict.NOT_CRITICAL:  # only when round-off swamps the gradient
        assert cert.verdict is Verdict.DEGENERATE and any(ROUND_OFF in n for n in cert.notes)
        assert cert.gradient_floor > 0.1


@pytest.mark.parametrize("c", [1e6, 1e10, 1e12])
def test_adding_c_times_the_squared_norm_on_the_sphere(base, c):
    problem, _, vectors = base
    a = problem.objective.a
    x = _off_critical(vectors)
    plain = ms.Problem.from_autograd(Sphere(50), lambda y: -y @ a @ y)
    lifted = ms.Problem.from_autograd(Sphere(50), lambda y: -y @ a @ y + c * anp.sum(y**2))
    assert certify(plain, x).verdict is Verdict.NOT_CRITICAL
    assert certify(lifted, x).verdict is Verdict.NOT_CRITICAL
    # at the minimizer: the same verdict, or an honest "round-off prevents a decision"
    v1 = vectors[:, 0]
    assert certify(plain, v1).verdict is Verdict.LOCAL_MINIMIZER
    cert = certify(lifted, v1)
    assert cert.verdict is Verdict.LOCAL_MINIMIZER or (
        cert.verdict is Verdict.DEGENERATE and any(ROUND_OFF in n for n in cert.notes)
    )
    if c <= 1e6:
        assert cert.verdict is Verdict.LOCAL_MINIMIZER


def _solve_cli(tmp_path, capsys, a, *extra):
    path = tmp_path / "a.npy"
    np.save(path, a)
    capsys.readouterr()
    status = main(["solve", "rayleigh", "--param", f"A={path}", "--json", *extra])
    assert status == 0
    return json.loads(capsys.readouterr().out)


def test_cli_solve_of_a_shifted_matrix(base, tmp_path, capsys):
    problem, _, _ = base
    a = problem.objective.a
    moderate = _solve_cli(tmp_path, capsys, a + 1e6 * np.eye(50))
    assert moderate["certificate"]["verdict"] == "local_minimizer"
    assert moderate["recovered"] is True and moderate["converged"] is True
    huge = _solve_cli(tmp_path, capsys, a + 1e10 * np.eye(50))
    assert huge["iterations"] > 0  # the start is far from critical: the solver must move
    assert huge["certificate"]["verdict"] in ("local_minimizer", "degenerate")
    if huge["certificate"]["verdict"] == "degenerate":
        assert any(ROUND_OFF in note for note in huge["certificate"]["notes"])


# --------------------------------------------------------------------------- 2. constant costs
def test_a_constant_cost_is_degenerate_with_the_reason():
    identity = rayleigh(np.eye(4))
    x = random_point(Sphere(4), 0)
    cert = certify(identity, x)
    assert cert.verdict is Verdict.DEGENERATE
    assert any("constant" in note for note in cert.notes)
    assert not any("not symmetric" in note for note in cert.notes)  # round-off, not a bug
    solved = ms.solve(identity, seed=1)
    assert solved.certificate.verdict is Verdict.DEGENERATE
    norm = ms.Problem.from_autograd(Sphere(5), lambda y: anp.sum(y**2))
    assert certify(norm, random_point(Sphere(5), 2)).verdict is Verdict.DEGENERATE


def test_census_of_a_constant_cost_is_one_degenerate_class(capsys):
    result = census(rayleigh(np.eye(4)), starts=12, seed=0, explore=False)
    assert len(result.classes) == 1
    assert result.classes[0].verdict is Verdict.DEGENERATE
    assert any("constant on the manifold" in note for note in result.notes)
    assert "constant on the manifold" in result.table()
    status = main(["census", "rayleigh", "--param", "n=4", "--param", "spectrum=1,1,1,1"])
    assert status == 0
    out = capsys.readouterr().out
    assert "1 class(es)" in out and "constant on the manifold" in out


# --------------------------------------------------------------------------- 3. extreme scaling
def test_tiny_and_huge_scalings(base):
    problem, _, vectors = base
    x = random_point(Sphere(50), 3)
    for s in (1e-300, 1e-150, 1e150, 1e200):
        scaled = rayleigh(problem.objective.a * s)
        assert certify(scaled, x).verdict is Verdict.NOT_CRITICAL, s
        top = certify(scaled, vectors[:, 0])
        assert top.verdict is Verdict.LOCAL_MINIMIZER, s
        saddle = certify(scaled, vectors[:, 2])
        assert (saddle.verdict, saddle.index) == (Verdict.STRICT_SADDLE, 2), s
        assert np.isfinite(top.gradient_norm) and np.isfinite(top.hessian_norm)


# --------------------------------------------------------------------------- 4. wrong symmetry
def test_a_wrong_declaration_never_hides_a_saddle():
    # f(X) = ‖X − X₀‖² − 3 ⟨E, X⟩², E = (E₀₁ − E₁₀)/√2: a saddle at X₀ whose only negative
    # direction is E = X₀ Ω, the tangent of the O(2) orbit that is (wrongly) declared
    x0 = np.eye(3, 2)
    e = (np.outer(np.eye(3)[0], np.eye(2)[1]) - np.outer(np.eye(3)[1], np.eye(2)[0])) / np.sqrt(2)

    def cost(x):
        return anp.sum((x - x0) ** 2) - 3.0 * anp.sum(x * e) ** 2

    honest = certify(ms.Problem.from_autograd(Euclidean(3, 2), cost), x0)
    assert (honest.verdict, honest.index) == (Verdict.STRICT_SADDLE, 1)
    wrong = ms.Problem.from_autograd(Euclidean(3, 2), cost, symmetry=OrthogonalRight(2))
    cert = certify(wrong, x0)
    assert (cert.verdict, cert.index) == (Verdict.STRICT_SADDLE, 1)
    assert not cert.symmetry_verified
    assert any("does not leave the cost invariant" in note for note in cert.notes)


# --------------------------------------------------------------------------- 5. converged
def _factorization_problem(n, r, seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, r))
    a = g @ g.T
    return ms.Problem.from_autograd(Euclidean(n, r), lambda y: anp.sum((y @ y.T - a) ** 2)), g


def test_converged_means_critical_from_a_far_start():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    problem = ms.Problem.from_autograd(Euclidean(3, 1), lambda y: anp.sum((y @ y.T - a) ** 2))
    result = ms.solve(problem, x0=100 * np.ones((3, 1)))
    assert result.converged
    assert result.certificate.verdict is not Verdict.NOT_CRITICAL
    assert result.gradient_norm < 1e-6


def test_converged_means_critical_at_n200_r5_from_ten_times_the_scale():
    problem, g = _factorization_problem(200, 5, 0)
    result = ms.solve(problem, x0=10 * g + np.random.default_rng(1).standard_normal(g.shape))
    assert result.converged
    assert result.certificate.verdict is not Verdict.NOT_CRITICAL


CONVERGING = [
    "trust-regions",
    "gradient-descent",
    "lbfgs",
    "arc",
    "perturbed-gradient-descent",
    "pymanopt-trust-regions",
    "pymanopt-steepest-descent",
    "pymanopt-conjugate-gradient",
]


@pytest.mark.parametrize("solver", CONVERGING)
@pytest.mark.parametrize("start_scale", [1e-3, 1.0, 1e3])
def test_converged_implies_not_not_critical(solver, start_scale):
    problem, g = _factorization_problem(6, 2, 3)
    x0 = start_scale * (g + 0.5 * np.random.default_rng(4).standard_normal(g.shape))
    result = ms.solve(problem, solver, x0=x0, seed=0, max_iterations=3000)
    if result.converged:
        assert result.certificate.verdict is not Verdict.NOT_CRITICAL, result.stop_message


@pytest.mark.parametrize("solver", ["trust-regions", "lbfgs", "pymanopt-trust-regions"])
@pytest.mark.parametrize(("shift", "scale"), [(1e8, 1.0), (0.0, 1e-40), (1e6, 1e40)])
def test_converged_implies_not_not_critical_on_shifted_and_scaled_problems(
    base, solver, shift, scale
):
    problem, _, _ = base
    a = scale * (problem.objective.a + shift * np.eye(50))
    result = ms.solve(rayleigh(a), solver, seed=2)
    if result.converged:
        assert result.certificate.verdict is not Verdict.NOT_CRITICAL, result.stop_message


# --------------------------------------------------------------------------- 6. verdict names
def test_negative_and_zero_eigenvalues_make_a_strict_saddle():
    problem = ms.Problem.from_autograd(Euclidean(2), lambda x: -(x[0] ** 2) + x[1] ** 4)
    cert = certify(problem, np.zeros(2))
    assert (cert.verdict, cert.index, cert.null_dimension) == (Verdict.STRICT_SADDLE, 1, 1)
    assert not cert.morse_nondegenerate
    flat = ms.Problem.from_autograd(Euclidean(2), lambda x: x[0] ** 2 + x[1] ** 4)
    assert certify(flat, np.zeros(2)).verdict is Verdict.DEGENERATE  # no negative eigenvalue
    morse = ms.Problem.from_autograd(Euclidean(2), lambda x: x[0] ** 2 - x[1] ** 2)
    cert = certify(morse, np.zeros(2))
    assert cert.verdict is Verdict.STRICT_SADDLE and cert.morse_nondegenerate
    assert cert.to_dict()["morse_nondegenerate"] is True
    assert "morse_nondegenerate" in ms.certify(morse, np.zeros(2)).to_dict()


# --------------------------------------------------------------------------- census merging
def _weighted_tensor(weights):
    n = len(weights)
    t = np.zeros((n,) * 4)
    for k, w in enumerate(weights):
        t[k, k, k, k] = w
    return t


def test_census_keeps_minimizers_of_different_cost_apart():
    t = _weighted_tensor([3.0, 2.0, 1.0])
    problem = tensor_decomposition(T=t, manifold="sphere")
    assert problem.symmetry.name.startswith("sign")  # only x ↦ −x is a symmetry of this T
    result = census(problem, starts=30, seed=0)
    costs = sorted(c.cost for c in result.minimizers)
    assert costs == pytest.approx([-3.0, -2.0, -1.0])
    # the same census under a wrongly declared group: classes still apart, and a note says why
    wrong = ms.Problem(problem.manifold, problem.objective, symmetry=SignedPermutation(3))
    result = census(wrong, starts=30, seed=0)
    assert sorted(c.cost for c in result.minimizers) == pytest.approx([-3.0, -2.0, -1.0])
    assert any("not a symmetry of this instance" in note for note in result.notes)


# --------------------------------------------------------------------------- collapsing orbits
def test_no_false_symmetry_direction_where_the_orbit_collapses():
    problem = symmetric_factorization(n=5, r=2, seed=0)
    near_zero = 1e-15 * np.random.default_rng(0).standard_normal((5, 2))
    for point in (np.zeros((5, 2)), near_zero):
        cert = certify(problem, point)
        assert cert.symmetry_dimension == 0 and cert.symmetry_verified
        assert cert.verdict is Verdict.STRICT_SADDLE
        assert not any("symmetry" in note for note in cert.notes)
    collapse = neural_collapse(K=3, d=4, n=2)
    zero = [np.zeros((3, 4)), np.zeros((4, 6)), np.zeros(3)]
    cert = certify(collapse, zero)
    assert cert.symmetry_dimension == 0 and cert.symmetry_verified
    assert not any("symmetry" in note for note in cert.notes)
