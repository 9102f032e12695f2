"""Problem.from_pymanopt: every way a pymanopt.Problem can be written, and what it then does."""

import importlib.util

import autograd.numpy as anp
import numpy as np
import pymanopt
import pytest
from pymanopt.manifolds import (
    ComplexGrassmann,
    Euclidean,
    FixedRankEmbedded,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
    SymmetricPositiveDefinite,
)

import manifoldscape as ms
from manifoldscape.core.interop import PymanoptObjective
from manifoldscape.core.registry import problem_registry
from manifoldscape.core.symmetry import Identity, UnitaryRight
from manifoldscape.geometry import random_point
from manifoldscape.testing import assert_derivatives, assert_matches_autograd


def _rayleigh(n, rng):
    a = rng.standard_normal((n, n))
    return 0.5 * (a + a.T)


def _numpy_problem(manifold, a, hessian=False):
    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -x @ a @ x

    @pymanopt.function.numpy(manifold)
    def gradient(x):
        return -2 * a @ x

    @pymanopt.function.numpy(manifold)
    def hess(x, u):
        return -2 * a @ u

    extra = {"euclidean_hessian": hess} if hessian else {}
    return pymanopt.Problem(manifold, cost, euclidean_gradient=gradient, **extra)


def test_every_hessian_source_gives_the_same_derivatives(rng):
    a = _rayleigh(12, rng)
    manifold = Sphere(12)

    @pymanopt.function.autograd(manifold)
    def autodiff_cost(x):
        return -x @ a @ x

    problems = {
        "given": ms.Problem.from_pymanopt(_numpy_problem(manifold, a, hessian=True)),
        "finite-differences": ms.Problem.from_pymanopt(_numpy_problem(manifold, a)),
        "autodiff": ms.Problem.from_pymanopt(pymanopt.Problem(manifold, autodiff_cost)),
    }
    reference = ms.Problem.from_autograd(manifold, lambda x: -x @ a @ x)
    x = random_point(manifold, rng)
    u = manifold.projection(x, rng.standard_normal(12))
    for source, problem in problems.items():
        assert problem.objective.hessian_source == source
        assert problem.name == "pymanopt"
        assert_derivatives(problem, points=2, seed=rng)
        np.testing.assert_allclose(problem.riemannian_gradient(x), reference.riemannian_gradient(x))
        tolerance = 1e-7 if source == "finite-differences" else 1e-12
        np.testing.assert_allclose(
            problem.riemannian_hessian(x, u), reference.riemannian_hessian(x, u), atol=tolerance
        )
    # the autograd-backed one has an autograd twin; the numpy ones do not
    assert_matches_autograd(problems["autodiff"], points=2)
    with pytest.raises(ValueError, match="no autograd twin"):
        assert_matches_autograd(problems["given"], points=1)


def test_solves_certifies_censuses_and_sweeps(rng, tmp_path):
    a = _rayleigh(6, rng)
    problem = ms.Problem.from_pymanopt(
        _numpy_problem(Sphere(6), a), truth=np.linalg.eigh(a)[1][:, -1]
    )
    result = ms.solve(problem, "trust-regions", seed=1)
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert result.cost == pytest.approx(-np.linalg.eigvalsh(a)[-1], rel=1e-10)
    assert (
        min(problem.distance_to_truth(result.point), problem.distance_to_truth(-result.point))
        < 1e-6
    )
    census = ms.census(problem, starts=8, seed=0, explore=False)
    indices = sorted({cls.certificate.index for cls in census.classes})
    assert 0 in indices and len(census.classes) >= 2

    def factory(n: int = 5, seed=None):
        generator = np.random.default_rng(seed)
        matrix = _rayleigh(n, generator)
        top = np.linalg.eigh(matrix)[1][:, -1]
        return ms.Problem.from_pymanopt(
            _numpy_problem(Sphere(n), matrix), truth=top, symmetry=ms.symmetry.Sign()
        )

    problem_registry.register("pymanopt_rayleigh_test", factory, replace=True)
    try:
        swept = ms.sweep(
            "pymanopt_rayleigh_test",
            {"n": [4, 6]},
            trials=2,
            db=tmp_path / "s.sqlite",
            workers=0,
            progress=False,
        )
    finally:
        problem_registry._entries.pop("pymanopt_rayleigh_test", None)
    assert swept.errors == 0 and swept.ran == 4
    assert all(row["rate"] == 1.0 for row in swept.summary())


def test_products_powers_and_complex_problems(rng):
    # a product with a power: pymanopt's flat argument layout, through our solvers and its own
    manifold = Product([SpecialOrthogonalGroup(3, k=2), Euclidean(2)])
    target = [random_point(SpecialOrthogonalGroup(3, k=2), rng), rng.standard_normal(2)]

    @pymanopt.function.autograd(manifold)
    def cost(rotations, shift):
        return anp.sum((rotations - target[0]) ** 2) + anp.sum((shift - target[1]) ** 2)

    problem = ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost))
    x0 = random_point(manifold, rng)
    for solver in ("trust-regions", "pymanopt-trust-regions", "pymanopt-conjugate-gradient"):
        result = ms.solve(problem, solver, x0=x0, max_iterations=200)
        assert result.cost < 1e-10 and result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    # complex: the natural U(p) symmetry is the default, an explicit one is kept
    grassmann = ComplexGrassmann(6, 2)
    h = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
    h = h + h.conj().T

    @pymanopt.function.autograd(grassmann)
    def complex_cost(x):
        return -anp.real(anp.trace(anp.conj(x.T) @ h @ x))

    natural = ms.Problem.from_pymanopt(pymanopt.Problem(grassmann, complex_cost))
    assert natural.symmetry == UnitaryRight(2)
    explicit = ms.Problem.from_pymanopt(
        pymanopt.Problem(grassmann, complex_cost), symmetry=Identity()
    )
    assert explicit.symmetry == Identity()
    result = ms.solve(natural, "trust-regions", seed=2)
    assert result.cost == pytest.approx(-np.sum(np.linalg.eigvalsh(h)[-2:]), rel=1e-10)


def test_first_order_layouts_run_unchanged(rng):
    manifold = FixedRankEmbedded(6, 5, 2)
    matrix = rng.standard_normal((6, 5))

    @pymanopt.function.autograd(manifold)
    def cost(u, s, vt):
        return anp.sum((u @ anp.diag(s) @ vt - matrix) ** 2)

    problem = ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost))
    x0 = random_point(manifold, rng)
    optimum = float(np.sum(np.linalg.svd(matrix, compute_uv=False)[2:] ** 2))
    for solver in ("lbfgs", "pymanopt-conjugate-gradient", "pymanopt-steepest-descent"):
        result = ms.solve(problem, solver, x0=x0, certify=False, max_iterations=2000)
        assert result.cost == pytest.approx(optimum, rel=1e-6)
        assert isinstance(result.point, tuple) and len(result.point) == 3


def test_finite_difference_error_reaches_the_certificate(rng):
    """A cost constant on the sphere with a huge normal gradient: f(x) = c ‖x‖².

    Its Riemannian Hessian is 0, but the finite-difference products carry an error of order
    ε c / t; the run loop hands ``certify`` a tolerance above it, so the verdict stays
    ``degenerate`` (the truth) instead of a random sign.
    """
    manifold = Sphere(8)
    c = 1e9

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return c * float(x @ x)

    @pymanopt.function.numpy(manifold)
    def gradient(x):
        return 2 * c * x

    problem = ms.Problem.from_pymanopt(
        pymanopt.Problem(manifold, cost, euclidean_gradient=gradient)
    )
    x = random_point(manifold, rng)
    error, _ = problem.objective.hessian_error(problem, x)
    assert error > 1e-8  # the products are noise of this size around the true 0
    options = problem.objective.certify_options(problem, x)
    assert options["eigenvalue_tolerance"] > 3 * error
    result = ms.solve(problem, "trust-regions", x0=x, max_iterations=3)
    assert result.certificate.verdict is ms.Verdict.DEGENERATE
    assert result.certificate.eigenvalue_tolerance == options["eigenvalue_tolerance"]
    # exact Hessians ask for nothing
    exact = ms.Problem.from_pymanopt(_numpy_problem(manifold, _rayleigh(8, rng), hessian=True))
    assert exact.objective.certify_options(exact, x) == {}


def test_refusals_are_clear(rng):
    manifold = Stiefel(4, 2)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return float(np.sum(x))

    with pytest.raises(ValueError, match="give euclidean_gradient="):
        ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost))

    @pymanopt.function.numpy(manifold)
    def riemannian(x):
        return manifold.projection(x, np.ones((4, 2)))

    with pytest.raises(ValueError, match="riemannian_gradient"):
        ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost, riemannian_gradient=riemannian))
    with pytest.raises(TypeError, match=r"must be a pymanopt\.Problem"):
        ms.Problem.from_pymanopt(ms.Problem.from_autograd(Sphere(3), lambda x: x[0]))
    with pytest.raises(TypeError, match=r"must be a pymanopt\.Problem"):
        PymanoptObjective("problem")


def test_a_spd_problem_with_a_non_euclidean_metric(rng):
    manifold = SymmetricPositiveDefinite(3)
    target = random_point(manifold, rng)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return float(np.sum((x - target) ** 2))

    @pymanopt.function.numpy(manifold)
    def gradient(x):
        return 2 * (x - target)

    problem = ms.Problem.from_pymanopt(
        pymanopt.Problem(manifold, cost, euclidean_gradient=gradient)
    )
    result = ms.solve(problem, "trust-regions", seed=3)
    np.testing.assert_allclose(result.point, target, atol=1e-7)
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER


_BACKENDS = {"jax": "jax", "pytorch": "torch", "tensorflow": "tensorflow"}


@pytest.mark.parametrize("backend", sorted(_BACKENDS))
def test_optional_backends(backend, rng):
    module = _BACKENDS[backend]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (optional extra manifoldscape[{backend}])")
    a = _rayleigh(5, rng)
    manifold = Sphere(5)
    if backend == "jax":
        import jax.numpy as jnp

        @pymanopt.function.jax(manifold)
        def cost(x):
            return -x @ jnp.asarray(a) @ x

    elif backend == "pytorch":
        import torch

        matrix = torch.from_numpy(a)

        @pymanopt.function.pytorch(manifold)
        def cost(x):
            return -x @ matrix @ x

    else:
        import tensorflow as tf

        @pymanopt.function.tensorflow(manifold)
        def cost(x):
            return -tf.tensordot(x, tf.tensordot(a, x, axes=1), axes=1)

    problem = ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost))
    assert problem.objective.hessian_source == "autodiff"
    result = ms.solve(problem, "trust-regions", seed=0)
    assert result.cost == pytest.approx(-np.linalg.eigvalsh(a)[-1], rel=1e-8)
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
