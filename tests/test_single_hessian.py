"""Single-precision Hessian-vector products (``Problem.riemannian_hessian_single``).

An objective may offer ``euclidean_hessian_single`` (float32 in, float32 out: the Rayleigh
quotient, real Gaussian phase retrieval); on the sphere the problem converts it as
P_x(∇²f(x)[u]) − ⟨x, ∇f(x)⟩ u in float32 (as it is on Euclidean space), and trust regions with
``inner_precision="single"`` use it in the inner iteration.  The float32 product must agree with
the double one to float32 round-off, and solves through it must certify the same minimizer.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

import manifoldscape as ms
from manifoldscape.core.problem import EvaluationCounter
from manifoldscape.geometry import random_point
from manifoldscape.problems import eigenspace, phase_retrieval, rayleigh
from manifoldscape.solvers.subproblem_lanczos import LanczosTrustRegion
from manifoldscape.solvers.trust_regions import TruncatedConjugateGradient


def _relative_gap(problem: ms.Problem, seed: int) -> float:
    x = random_point(problem.manifold, seed)
    u = problem.manifold.random_tangent_vector(x)
    single = problem.riemannian_hessian_single(x, u.astype(np.float32))
    double = problem.riemannian_hessian(x, u)
    assert single.dtype == np.float32 and single.shape == double.shape
    return float(np.linalg.norm(single - double) / np.linalg.norm(double))


@pytest.mark.parametrize("n", [3, 50, 300, 1500])
def test_the_single_product_is_the_double_one_to_float32_round_off(n):
    problem = rayleigh(n=n, seed=n)
    assert problem.offers_single_hessian(random_point(problem.manifold, 0))
    gap = _relative_gap(problem, 1)
    assert gap <= 20 * np.sqrt(n) * np.finfo(np.float32).eps
    assert gap > 0.0  # computed in float32, not the double product rounded at the end only


def test_sparse_and_matrix_free_a_give_the_same_single_product():
    dense = rayleigh(n=120, seed=2).objective.a
    sparse = scipy.sparse.csr_array(dense * (np.abs(dense) > 0.05))
    sparse = (sparse + sparse.T) / 2
    operator = scipy.sparse.linalg.aslinearoperator(sparse)
    for a in (sparse, operator):
        problem = rayleigh(a)
        assert _relative_gap(problem, 3) <= 1e-5
    assert problem.objective._a_single is False  # no astype: products in double, rounded


def test_only_the_sphere_with_a_single_product_offers_it():
    problem = rayleigh(n=20, seed=0)
    x = random_point(problem.manifold, 0)
    assert problem.offers_single_hessian(x)
    assert not problem.offers_single_hessian(x.astype(np.float32))
    assert not problem.autograd_twin().offers_single_hessian(x)
    assert not eigenspace(n=20, p=2, seed=0).offers_single_hessian()


def test_a_single_product_counts_as_a_hessian_evaluation():
    problem = rayleigh(n=30, seed=0)
    counter = EvaluationCounter(problem)
    x = random_point(problem.manifold, 0)
    u = problem.manifold.random_tangent_vector(x).astype(np.float32)
    counter.riemannian_hessian_single(x, u)
    counter.riemannian_hessian_single(x, u)
    assert counter.counts().hessian == 2
    assert counter.offers_single_hessian(x)


@pytest.mark.parametrize("solver", [TruncatedConjugateGradient, LanczosTrustRegion])
def test_the_single_inner_iteration_never_calls_the_double_product(solver, monkeypatch):
    problem = rayleigh(n=200, seed=6)
    x = problem.truth + 0.1 * random_point(problem.manifold, 7)  # Hess f(x) is definite near v₁
    x /= np.linalg.norm(x)
    g = problem.riemannian_gradient(x)
    reference = solver(precision="single").solve(problem, x, g, radius=1.0, max_iterations=199)

    def refuse(*args):
        raise AssertionError("double product called")

    monkeypatch.setattr(problem.objective, "euclidean_hessian", refuse)
    result = solver(precision="single").solve(problem, x, g, radius=1.0, max_iterations=199)
    assert result.step.dtype == np.float64 and result.iterations > 1
    np.testing.assert_array_equal(result.step, reference.step)  # deterministic


def test_the_double_path_never_calls_the_single_product(monkeypatch):
    problem = rayleigh(n=50, seed=1)

    def refuse(*args):
        raise AssertionError("single product called")

    monkeypatch.setattr(problem.objective, "euclidean_hessian_single", refuse)
    result = ms.solve(problem, "trust-regions", x0=random_point(problem.manifold, 2))
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert problem.objective._a_single is None  # no float32 copy of A was made


@pytest.mark.parametrize("n", [50, 300])
@pytest.mark.parametrize("subproblem", ["tcg", "lanczos"])
def test_solves_with_single_products_certify_the_top_eigenvector(n, subproblem):
    problem = rayleigh(n=n, seed=5)
    values = problem.objective.eigenvalues
    mu = 2.0 * (values[0] - values[1])
    x0 = random_point(problem.manifold, 3)
    runs = {
        p: ms.solve(problem, "trust-regions", x0=x0, subproblem=subproblem, inner_precision=p)
        for p in ("double", "single")
    }
    assert problem.objective._a_single is not None  # the single run used the float32 copy
    for result in runs.values():
        assert result.converged
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
        assert problem.distance_to_truth(result.point) <= 2 * result.gradient_norm / mu + 1e-10
    single = runs["single"]
    assert single.counts.hessian >= sum(single.history.extra["inner_iterations"])
    g = max(r.gradient_norm for r in runs.values())
    assert abs(single.cost - runs["double"].cost) <= 2 * g**2 / mu + 1e-14


@pytest.mark.parametrize("loss", ["intensity", "amplitude", "smoothed_amplitude", "activated"])
def test_real_phase_retrieval_single_product_is_the_double_one_to_round_off(loss):
    problem = phase_retrieval(n=40, m=8 * 40, loss=loss, seed=2)
    assert problem.offers_single_hessian(random_point(problem.manifold, 0))
    assert _relative_gap(problem, 1) <= 1e-5
    # the batch configurations use a float32 copy of A; "activated" rounds the double product
    assert (getattr(problem.objective, "_a_single", None) is None) == (loss == "activated")


@pytest.mark.parametrize("subproblem", ["tcg", "lanczos"])
def test_single_products_recover_the_phase_retrieval_signal(subproblem):
    problem = phase_retrieval(n=32, m=8 * 32, seed=1)
    x0 = random_point(problem.manifold, 4)
    runs = [
        ms.solve(problem, "trust-regions", x0=x0, subproblem=subproblem, inner_precision=p)
        for p in ("double", "single")
    ]
    assert problem.objective._a_single is not None
    for result in runs:
        assert result.converged and problem.recovered(result.point)
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    gap = min(abs(e) for e in runs[0].certificate.eigenvalues)
    g = max(r.gradient_norm for r in runs)
    assert problem.symmetry.distance(runs[0].point, runs[1].point) <= 4 * g / gap + 1e-12


# --------------------------------------------------------------------------- complex64
COMPLEX_CASES = {
    "gaussian": {"n": 48, "m": 6 * 48, "field": "complex"},
    "cdp-1d": {"n": 64, "measurement": "cdp", "n_masks": 6, "field": "complex"},
    "cdp-image": {"n": (16, 12), "measurement": "cdp", "n_masks": 6, "field": "complex"},
    "cdp-real-signal": {"n": 40, "measurement": "cdp", "n_masks": 6, "field": "real"},
}


def _single_gap(problem: ms.Problem, seed: int) -> tuple[np.ndarray, float]:
    x = random_point(problem.manifold, seed)
    u = problem.manifold.random_tangent_vector(x)
    single_dtype = np.complex64 if np.iscomplexobj(x) else np.float32
    single = problem.riemannian_hessian_single(x, u.astype(single_dtype))
    double = problem.riemannian_hessian(x, u)
    assert single.shape == double.shape
    return single, float(np.linalg.norm(single - double) / np.linalg.norm(double))


@pytest.mark.parametrize("case", sorted(COMPLEX_CASES))
@pytest.mark.parametrize("loss", ["intensity", "amplitude", "smoothed_amplitude", "activated"])
def test_complex_phase_retrieval_single_product_is_the_double_one_to_round_off(case, loss):
    problem = phase_retrieval(**COMPLEX_CASES[case], loss=loss, seed=3)
    x = random_point(problem.manifold, 0)
    assert problem.offers_single_hessian(x)
    assert not problem.offers_single_hessian(
        x.astype(np.complex64 if np.iscomplexobj(x) else np.float32)
    )
    single, gap = _single_gap(problem, 1)
    field = COMPLEX_CASES[case]["field"]
    assert single.dtype == (np.complex64 if field == "complex" else np.float32)
    assert gap <= 1e-5
    if loss != "activated":  # computed with the operator's single kernels, not rounded at the end
        assert gap > 1e-9
        assert getattr(problem.objective.operator, "_single_pair", None) is not None


def test_the_complex_single_inner_iteration_never_calls_the_double_product(monkeypatch):
    problem = phase_retrieval(**COMPLEX_CASES["cdp-1d"], seed=4)
    x = problem.truth * np.exp(0.3j) + 1e-3 * random_point(problem.manifold, 5)
    g = problem.riemannian_gradient(x)
    reference = TruncatedConjugateGradient(precision="single").solve(
        problem, x, g, radius=1.0, max_iterations=127
    )

    def refuse(*args):
        raise AssertionError("double product called")

    monkeypatch.setattr(problem.objective, "euclidean_hessian", refuse)
    result = TruncatedConjugateGradient(precision="single").solve(
        problem, x, g, radius=1.0, max_iterations=127
    )
    assert result.step.dtype == np.complex128 and result.iterations > 1
    np.testing.assert_array_equal(result.step, reference.step)


@pytest.mark.parametrize("case", ["gaussian", "cdp-image"])
def test_complex64_products_recover_the_complex_signal(case):
    problem = phase_retrieval(**COMPLEX_CASES[case], seed=6)
    x0 = random_point(problem.manifold, 7)
    runs = [
        ms.solve(problem, "trust-regions", x0=x0, inner_precision=p) for p in ("double", "single")
    ]
    assert getattr(problem.objective.operator, "_single_pair", None) is not None
    for result in runs:
        assert result.converged and problem.recovered(result.point)
        assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    g = max(r.gradient_norm for r in runs)
    gap = min(abs(e) for e in runs[0].certificate.eigenvalues)
    assert problem.symmetry.distance(runs[0].point, runs[1].point) <= 4 * g / gap + 1e-10
