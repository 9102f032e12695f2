"""The problems of pymanopt 2.2.1's ``examples/`` folder, on their original manifolds.

Each test states the same problem as the example (our own words, seeded data, nothing
downloaded), in the example's style — a ``pymanopt.Problem`` with the example's numpy derivatives
or its autograd cost — and checks that

* ``Problem.from_pymanopt`` of that problem and ``Problem.from_autograd`` of the same cost solve
  it to the optimum that pymanopt's own optimizer (the example's, from the same start) reaches:
  costs equal to 1e-8 relative (``_same_optimum``);
* the solution gets a certificate (``local_minimizer``; for the problems with an undeclared
  continuous symmetry, ``degenerate`` without it and ``local_minimizer`` with it).

Sizes are the examples' own except where noted (complex subspace: n = 64 instead of 128, PSD
approximation: n = 100 instead of 1000, the retraction check: 32 × 16 instead of 128 × 64), to
keep the default test run fast.
"""

import autograd.numpy as anp
import numpy as np
import pymanopt
import pytest
from pymanopt.manifolds import (
    ComplexGrassmann,
    Elliptope,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    Oblique,
    Positive,
    Product,
    PSDFixedRank,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
    SymmetricPositiveDefinite,
)
from pymanopt.optimizers import ConjugateGradient, SteepestDescent, TrustRegions

import manifoldscape as ms
from manifoldscape.core.symmetry import OrthogonalRight, SymmetryGroup
from manifoldscape.geometry import FixedRank, SecondOrderUnavailable, random_point
from manifoldscape.testing import assert_gradient, assert_hessian, assert_manifold

LOCAL_MIN = ms.Verdict.LOCAL_MINIMIZER


def _same_optimum(ours: float, reference: float, start: float) -> None:
    """|f − f_ref| ≤ 1e-8 max(|f|, |f_ref|), or ≤ 1e-14 |f(x0)| for an optimal value of 0."""
    tolerance = 1e-8 * max(abs(ours), abs(reference)) + 1e-14 * abs(start)
    assert abs(ours - reference) <= tolerance, (ours, reference)


def _run_pymanopt(optimizer, problem, x0, **options):
    return optimizer.run(problem, initial_point=x0, **options).point


def _check(
    problem_pm,
    reference_point,
    x0,
    autograd_cost,
    *,
    solver="trust-regions",
    symmetry=None,
    verdict=LOCAL_MIN,
    options=None,
):
    """Solve through from_pymanopt and from_autograd; same optimum, and the certificate."""
    manifold = problem_pm.manifold
    reference = float(problem_pm.cost(reference_point))
    results = []
    for problem in (
        ms.Problem.from_pymanopt(problem_pm, symmetry=symmetry),
        ms.Problem.from_autograd(manifold, autograd_cost, symmetry=symmetry),
    ):
        start = problem.cost(x0)
        result = ms.solve(problem, solver, x0=x0, **(options or {}))
        _same_optimum(result.cost, reference, start)
        assert result.certificate is not None
        assert result.certificate.verdict is verdict, result.certificate
        results.append(result)
    return results


# --------------------------------------------------------------------------- the examples
def test_closest_unit_norm_column_approximation(rng):
    m, n = 5, 8
    matrix = rng.standard_normal((m, n))
    manifold = Oblique(m, n)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return 0.5 * np.sum((x - matrix) ** 2)

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return x - matrix

    problem = pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient)
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(
        ConjugateGradient(verbosity=0, beta_rule="FletcherReeves"), problem, x0
    )
    results = _check(problem, reference, x0, lambda x: 0.5 * anp.sum((x - matrix) ** 2))
    assert ms.Problem.from_pymanopt(problem).objective.hessian_source == "finite-differences"
    closed_form = matrix / np.linalg.norm(matrix, axis=0)
    for result in results:
        np.testing.assert_allclose(result.point, closed_form, atol=1e-7)


def test_dominant_eigenvector(rng):
    n = 128
    matrix = rng.standard_normal((n, n))
    matrix = 0.5 * (matrix + matrix.T)
    manifold = Sphere(n)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -x.T @ matrix @ x

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return -2 * matrix @ x

    problem = pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient)
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(SteepestDescent(verbosity=0, max_iterations=5000), problem, x0)
    _check(problem, reference, x0, lambda x: -x @ matrix @ x)
    assert float(problem.cost(reference)) == pytest.approx(
        -np.linalg.eigvalsh(matrix)[-1], rel=1e-8
    )


def test_dominant_invariant_complex_subspace(rng):
    n, p = 64, 3  # the example uses n = 128
    matrix = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    matrix = 0.5 * (matrix + matrix.T.conj())
    manifold = ComplexGrassmann(n, p)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -np.trace(x.T.conj() @ matrix @ x).real

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return -2 * matrix @ x

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(x, h):
        return -2 * matrix @ h

    problem = pymanopt.Problem(
        manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
    )
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(TrustRegions(verbosity=0), problem, x0, Delta_bar=8 * np.sqrt(p))
    results = _check(
        problem,
        reference,
        x0,
        lambda x: -anp.real(anp.trace(anp.conj(x.T) @ matrix @ x)),
        options={"max_radius": 8 * np.sqrt(p)},
    )
    top = np.sum(np.linalg.eigvalsh(matrix)[-p:])
    for result in results:
        assert result.cost == pytest.approx(-top, rel=1e-10)
        assert result.certificate.symmetry_dimension == 0  # horizontal basis; U(3) declared
        assert result.certificate.tangent_dimension == 2 * (n - p) * p


def test_dominant_invariant_subspace(rng):
    n, p = 128, 3
    matrix = rng.standard_normal((n, n))
    matrix = 0.5 * (matrix + matrix.T)
    manifold = Grassmann(n, p)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -np.trace(x.T @ matrix @ x)

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return -2 * matrix @ x

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(x, h):
        return -2 * matrix @ h

    problem = pymanopt.Problem(
        manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
    )
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(TrustRegions(verbosity=0), problem, x0, Delta_bar=8 * np.sqrt(p))
    _check(
        problem,
        reference,
        x0,
        lambda x: -anp.trace(x.T @ matrix @ x),
        options={"max_radius": 8 * np.sqrt(p)},
    )


def test_low_rank_matrix_approximation(rng):
    m, n, rank = 5, 4, 2
    matrix = rng.standard_normal((m, n))
    manifold = FixedRankEmbedded(m, n, rank)

    @pymanopt.function.numpy(manifold)
    def cost(u, s, vt):
        return np.linalg.norm(u @ np.diag(s) @ vt - matrix) ** 2

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(u, s, vt):
        residual = u @ np.diag(s) @ vt - matrix
        return (
            2 * residual @ (np.diag(s) @ vt).T,
            2 * np.diag(u.T @ residual @ vt.T),
            2 * (u @ np.diag(s)).T @ residual,
        )

    problem = pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient)
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(ConjugateGradient(verbosity=0, beta_rule="PolakRibiere"), problem, x0)
    _u, s, _vt = np.linalg.svd(matrix)
    optimum = float(np.sum(s[rank:] ** 2))  # Eckart–Young
    assert float(problem.cost(reference)) == pytest.approx(optimum, rel=1e-8)

    def factored_cost(x):
        return anp.sum((x[0] @ anp.diag(x[1]) @ x[2] - matrix) ** 2)

    # FixedRankEmbedded is first order: a first-order solver reaches the optimum, and the
    # certificate asks for the second-order alternative
    for problem_ms in (
        ms.Problem.from_pymanopt(problem),
        ms.Problem.from_autograd(manifold, factored_cost),
    ):
        result = ms.solve(problem_ms, "lbfgs", x0=x0, certify=False)
        _same_optimum(result.cost, optimum, problem_ms.cost(x0))
        with pytest.raises(SecondOrderUnavailable, match=r"geometry\.FixedRank\(5, 4, 2\)"):
            ms.certify(problem_ms, result.point)
        # ... which certifies the same point, converted, with the cost written on the matrix
        second_order = FixedRank(m, n, rank)
        on_matrix = ms.Problem.from_autograd(second_order, lambda x: anp.sum((x - matrix) ** 2))
        point = second_order.from_pymanopt_point(result.point)
        assert on_matrix.cost(point) == pytest.approx(result.cost, rel=1e-12)
        assert second_order.pymanopt_cost(cost)(point) == pytest.approx(result.cost, rel=1e-12)
        assert ms.certify(on_matrix, point).verdict is LOCAL_MIN
    # and trust regions on FixedRank reach the same optimum from the converted start
    start = FixedRank(m, n, rank).from_pymanopt_point(x0)
    polished = ms.solve(on_matrix, "trust-regions", x0=start)
    _same_optimum(polished.cost, optimum, on_matrix.cost(start))
    assert polished.certificate.verdict is LOCAL_MIN


def test_low_rank_psd_matrix_approximation(rng):
    n, rank = 100, 5  # the example uses n = 1000
    factor = rng.standard_normal((n, rank))
    matrix = factor @ factor.T
    manifold = PSDFixedRank(n, rank)

    @pymanopt.function.numpy(manifold)
    def cost(y):
        return np.linalg.norm(y @ y.T - matrix, "fro") ** 2

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(y):
        return 4 * (y @ y.T - matrix) @ y

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(y, u):
        return 4 * ((y @ u.T + u @ y.T) @ y + (y @ y.T - matrix) @ u)

    problem = pymanopt.Problem(
        manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
    )
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(
        TrustRegions(max_iterations=500, min_step_size=1e-6, verbosity=0), problem, x0
    )
    results = _check(problem, reference, x0, lambda y: anp.sum((y @ y.T - matrix) ** 2))
    for result in results:
        assert isinstance(result.certificate, ms.Certificate)
        y = result.point
        assert np.linalg.norm(y @ y.T - matrix) <= 1e-6 * np.linalg.norm(matrix)


def test_multiple_linear_regression(rng):
    manifold = Euclidean(3)
    for _ in range(2):
        samples = rng.standard_normal((200, 3))
        targets = rng.standard_normal(200)

        @pymanopt.function.numpy(manifold)
        def cost(w, samples=samples, targets=targets):
            return np.linalg.norm(targets - samples @ w) ** 2

        @pymanopt.function.numpy(manifold)
        def euclidean_gradient(w, samples=samples, targets=targets):
            return -2 * samples.T @ (targets - samples @ w)

        @pymanopt.function.numpy(manifold)
        def euclidean_hessian(w, v, samples=samples):
            return 2 * samples.T @ samples @ v

        problem = pymanopt.Problem(
            manifold,
            cost,
            euclidean_gradient=euclidean_gradient,
            euclidean_hessian=euclidean_hessian,
        )
        x0 = random_point(manifold, rng)
        reference = _run_pymanopt(TrustRegions(verbosity=0), problem, x0)
        results = _check(
            problem,
            reference,
            x0,
            lambda w, samples=samples, targets=targets: anp.sum((targets - samples @ w) ** 2),
        )
        for result in results:
            np.testing.assert_allclose(result.point, np.linalg.pinv(samples) @ targets, atol=1e-8)


def test_optimal_rotations(rng):
    n, m, k = 3, 10, 10
    a = rng.standard_normal((k, n, m))
    b = rng.standard_normal((k, n, m))
    abt = np.array([ak @ bk.T for ak, bk in zip(a, b, strict=True)])
    manifold = SpecialOrthogonalGroup(n, k=k)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -np.tensordot(x, abt, axes=x.ndim)

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return -abt

    problem = pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient)
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(SteepestDescent(verbosity=0, max_iterations=5000), problem, x0)
    results = _check(problem, reference, x0, lambda x: -anp.sum(x * abt))

    def procrustes(m_):  # the closed form: the nearest rotation
        u, _, vt = np.linalg.svd(m_)
        j = np.ones(n)
        j[-1] = np.sign(np.linalg.det(u @ vt))
        return (u * j) @ vt

    closed_form = np.array([procrustes(m_) for m_ in abt])
    for result in results:
        np.testing.assert_allclose(result.point, closed_form, atol=1e-6)


def test_packing_on_the_sphere(rng):
    dimension, points, epsilon = 3, 24, 0.005
    manifold = Elliptope(points, dimension)

    def packing(x):
        y = x @ x.T
        s = anp.max(anp.triu(y, 1))
        exp_y = anp.exp((y - s) / epsilon)
        exp_y = exp_y - anp.diag(anp.diag(exp_y))
        return s + epsilon * anp.log(anp.sum(anp.triu(exp_y, 1)))

    problem = pymanopt.Problem(manifold, pymanopt.function.autograd(manifold)(packing))
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(
        ConjugateGradient(min_gradient_norm=1e-8, max_iterations=100000, verbosity=0),
        problem,
        x0,
    )
    # a nonconvex landscape: trust regions start where pymanopt's run ended, to compare the
    # optimum itself (from x0 a different solver may settle in another packing)
    results = _check(problem, reference, reference, packing)
    for result in results:
        assert result.certificate.symmetry_dimension == 0  # O(3) declared, basis horizontal


def test_pca(rng):
    dimension, samples_n, components = 3, 200, 2
    samples = rng.standard_normal((samples_n, dimension)) @ np.diag([3, 2, 1])
    samples -= samples.mean(axis=0)
    manifold = Stiefel(dimension, components)

    @pymanopt.function.numpy(manifold)
    def cost(w):
        return np.linalg.norm(samples - samples @ w @ w.T) ** 2

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(w):
        residual = samples - samples @ w @ w.T
        return -2 * (samples.T @ residual + residual.T @ samples) @ w

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(w, h):
        return -2 * (
            samples.T @ (samples - samples @ w @ h.T) @ w
            + samples.T @ (samples - samples @ h @ w.T) @ w
            + samples.T @ (samples - samples @ w @ w.T) @ h
            + (samples - samples @ w @ h.T).T @ samples @ w
            + (samples - samples @ h @ w.T).T @ samples @ w
            + (samples - samples @ w @ w.T).T @ samples @ h
        )

    problem = pymanopt.Problem(
        manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
    )
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(TrustRegions(verbosity=0), problem, x0)

    def autograd_cost(w):
        return anp.sum((samples - samples @ w @ w.T) ** 2)

    # the cost is invariant under W ↦ W R, R ∈ O(2): undeclared, the rotation is a zero
    # eigenvalue (degenerate); declared, the point is a minimizer modulo O(2)
    _check(problem, reference, x0, autograd_cost, verdict=ms.Verdict.DEGENERATE)
    results = _check(problem, reference, x0, autograd_cost, symmetry=OrthogonalRight(components))
    for result in results:
        assert result.certificate.symmetry_dimension == 1


class _LeftRotations(SymmetryGroup):
    """O(p) acting on the left, X ↦ Q X (the Burer–Monteiro symmetry of XᵀX), for this test."""

    def __init__(self, p):
        self.p, self.dimension, self.name = p, p * (p - 1) // 2, f"O({p}) left"

    def distance(self, x, y):
        u, _, vt = np.linalg.svd(np.asarray(x) @ np.asarray(y).T)
        return float(np.linalg.norm(np.asarray(x) - u @ vt @ np.asarray(y)))

    def align(self, x, reference):
        u, _, vt = np.linalg.svd(np.asarray(reference) @ np.asarray(x).T)
        return u @ vt @ np.asarray(x)

    def orbit_tangent_vectors(self, x):
        out = []
        for i, j in zip(*np.triu_indices(self.p, 1), strict=True):
            omega = np.zeros((self.p, self.p))
            omega[i, j], omega[j, i] = 1.0, -1.0
            out.append(omega @ np.asarray(x))
        return out


def test_rank_k_correlation_matrix_approximation(rng):
    num_rows, rank = 10, 3
    matrix = rng.standard_normal((num_rows, num_rows))
    matrix = 0.5 * (matrix + matrix.T)
    manifold = Oblique(rank, num_rows)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return 0.25 * np.linalg.norm(x.T @ x - matrix) ** 2

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):  # the example writes 0.5 X(XᵀX − C): half the gradient
        return x @ (x.T @ x - matrix)

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(x, h):
        return x @ (h.T @ x + x.T @ h) + h @ (x.T @ x - matrix)

    problem = pymanopt.Problem(
        manifold, cost, euclidean_gradient=euclidean_gradient, euclidean_hessian=euclidean_hessian
    )
    x0 = random_point(manifold, rng)
    reference = _run_pymanopt(TrustRegions(verbosity=0), problem, x0)

    def autograd_cost(x):
        return 0.25 * anp.sum((x.T @ x - matrix) ** 2)

    # X ↦ Q X leaves XᵀX unchanged: 3 zero eigenvalues unless the left O(3) action is declared
    _check(problem, reference, x0, autograd_cost, verdict=ms.Verdict.DEGENERATE)
    results = _check(problem, reference, x0, autograd_cost, symmetry=_LeftRotations(rank))
    for result in results:
        assert result.certificate.symmetry_dimension == 3


def test_mixture_of_gaussians(rng):
    """The notebook example: Hosseini & Sra's reparametrized MoG on SPD(3)^3 × R²."""
    n, d, k = 300, 2, 3
    means = [np.array([-4.0, 1.0]), np.zeros(2), np.array([2.0, -1.0])]
    covariances = [np.diag([3.0, 1.0]), np.array([[1.0, 1.0], [1.0, 3.0]]), 0.5 * np.eye(2)]
    labels = rng.choice(k, size=n, p=[0.1, 0.6, 0.3])
    samples = np.array([rng.multivariate_normal(means[c], covariances[c]) for c in labels])
    manifold = Product([SymmetricPositiveDefinite(d + 1, k=k), Euclidean(k - 1)])
    augmented = np.concatenate([samples.T, np.ones((1, n))], axis=0)[None]

    def mog(point):
        s, v = point
        nu = anp.concatenate([v, anp.zeros(1)])
        logdet = anp.linalg.slogdet(s)[1][:, None]
        log_q = -0.5 * (anp.sum(augmented * anp.linalg.solve(s, augmented), axis=1) + logdet)
        log_alpha = nu - anp.log(anp.sum(anp.exp(nu)))
        values = log_alpha[:, None] + log_q
        top = anp.max(values, axis=0)
        return -anp.sum(top + anp.log(anp.sum(anp.exp(values - top), axis=0)))

    @pymanopt.function.autograd(manifold)
    def cost(s, v):
        return mog([s, v])

    problem = pymanopt.Problem(manifold, cost)
    x0 = random_point(manifold, rng)
    # pymanopt's steepest descent is slow here; its trust regions give the reference optimum
    reference = _run_pymanopt(TrustRegions(verbosity=0, max_iterations=200), problem, x0)
    _check(problem, reference, reference, mog)


# --------------------------------------------------------------------------- advanced/
def test_check_gradient_and_hessian_examples(rng):
    n = 128
    manifold = Sphere(n)
    matrix = rng.standard_normal((n, n))
    matrix = 0.5 * (matrix + matrix.T)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return -np.inner(x, matrix @ x)

    @pymanopt.function.numpy(manifold)
    def euclidean_gradient(x):
        return -2 * matrix @ x

    @pymanopt.function.numpy(manifold)
    def euclidean_hessian(x, d):
        return -2 * matrix @ d

    without = ms.Problem.from_pymanopt(
        pymanopt.Problem(manifold, cost, euclidean_gradient=euclidean_gradient)
    )
    assert_gradient(without, seed=rng)
    assert_hessian(without, seed=rng)  # finite differences of the gradient pass the check too
    with_hessian = ms.Problem.from_pymanopt(
        pymanopt.Problem(
            manifold,
            cost,
            euclidean_gradient=euclidean_gradient,
            euclidean_hessian=euclidean_hessian,
        )
    )
    assert with_hessian.objective.hessian_source == "given"
    assert_gradient(with_hessian, seed=rng)
    assert_hessian(with_hessian, seed=rng)


def test_check_retraction_example(rng):
    check = assert_manifold(Positive(32, 16, k=2), seed=rng)  # the example: 128 × 64, k = 2
    assert check.retraction_slope == pytest.approx(2.0, abs=0.2)
    assert check.second_order_tangential_slope > 2.8  # second order: ‖R − Exp‖ = O(t³)


def test_derivative_checks_catch_the_examples_halved_gradient(rng):
    """pymanopt's rank-k correlation example gives 0.5 X(XᵀX − C) for ∇(¼‖XᵀX − C‖²)."""
    matrix = rng.standard_normal((10, 10))
    matrix = 0.5 * (matrix + matrix.T)
    manifold = Oblique(3, 10)

    @pymanopt.function.numpy(manifold)
    def cost(x):
        return 0.25 * np.linalg.norm(x.T @ x - matrix) ** 2

    @pymanopt.function.numpy(manifold)
    def halved(x):
        return 0.5 * x @ (x.T @ x - matrix)

    problem = ms.Problem.from_pymanopt(pymanopt.Problem(manifold, cost, euclidean_gradient=halved))
    with pytest.raises(AssertionError, match="gradient check failed"):
        assert_gradient(problem, seed=rng)
