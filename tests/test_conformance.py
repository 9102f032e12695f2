"""Conformance of every pymanopt 2.2.1 manifold class: geometry, Hessians, certificates, solvers.

Each case is one line of ``CASES``: a name, the manifold, and whether it is a quotient (its costs
then depend on x through x xᴴ, the function that is invariant under the group).  Every case runs
the same checks:

* ``check_manifold`` (projection, retractions, metric, tangent basis, seeded draws);
* the tangent basis is orthonormal in the manifold's own metric and round-trips coordinates;
* the Riemannian Hessian matrix of a simple cost equals an independent reference: the
  polarized second differences of f ∘ R_x along the basis, R a second-order retraction (for
  which d²/dt² f(R_x(tu)) = ⟨u, Hess f(x) u⟩ at every point; Richardson-extrapolated);
* ``certify`` at the known minimizer a of f(x) = ½‖φ(x) − φ(a)‖² is ``local_minimizer`` (with the
  natural symmetry of a quotient, and without it: the tangent bases are horizontal);
* our solvers and pymanopt's optimizers run and lower the cost, ending on the manifold.

pymanopt's ``FixedRankEmbedded`` is first order: its Hessian-dependent checks expect the clear
``SecondOrderUnavailable`` error that names ``manifoldscape.geometry.FixedRank``.
"""

from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import (
    ComplexCircle,
    ComplexEuclidean,
    ComplexGrassmann,
    Elliptope,
    Euclidean,
    FixedRankEmbedded,
    Grassmann,
    HermitianPositiveDefinite,
    Oblique,
    PoincareBall,
    Positive,
    Product,
    PSDFixedRank,
    PSDFixedRankComplex,
    SkewSymmetric,
    SpecialHermitianPositiveDefinite,
    SpecialOrthogonalGroup,
    Sphere,
    SphereSubspaceComplementIntersection,
    SphereSubspaceIntersection,
    Stiefel,
    Symmetric,
    SymmetricPositiveDefinite,
    UnitaryGroup,
)
from pymanopt.manifolds.manifold import Manifold

import manifoldscape as ms
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.symmetry import (
    Identity,
    OrthogonalRight,
    PowerGroup,
    ProductGroup,
    UnitaryRight,
    natural_symmetry,
)
from manifoldscape.geometry import (
    SecondOrderUnavailable,
    check_point,
    dimension,
    generic_tangent_basis,
    inner_product,
    random_point,
    random_tangent_vector,
    same_point,
    second_order_retraction,
    tangent_basis,
)
from manifoldscape.testing import assert_manifold

_SPAN = np.random.default_rng(20).standard_normal((6, 3))


@dataclass(frozen=True)
class Case:
    name: str
    build: object  # () -> Manifold
    quotient: bool = False  # costs through x xᴴ (invariant under the quotient's group)


CASES = [
    Case("complex-circle", lambda: ComplexCircle(4)),
    Case("complex-grassmann", lambda: ComplexGrassmann(5, 2), quotient=True),
    Case("complex-grassmann-power", lambda: ComplexGrassmann(4, 2, k=2), quotient=True),
    Case("elliptope", lambda: Elliptope(6, 3), quotient=True),
    Case("euclidean", lambda: Euclidean(3, 2)),
    Case("complex-euclidean", lambda: ComplexEuclidean(3)),
    Case("fixed-rank-embedded", lambda: FixedRankEmbedded(5, 4, 2)),
    Case("grassmann", lambda: Grassmann(6, 2), quotient=True),
    Case("grassmann-power", lambda: Grassmann(4, 2, k=3), quotient=True),
    Case("hermitian-positive-definite", lambda: HermitianPositiveDefinite(3)),
    Case("hermitian-positive-definite-power", lambda: HermitianPositiveDefinite(2, k=2)),
    Case("special-hermitian-positive-definite", lambda: SpecialHermitianPositiveDefinite(3)),
    Case("oblique", lambda: Oblique(4, 5)),
    Case("oblique-tall", lambda: Oblique(7, 2)),
    Case("psd-fixed-rank", lambda: PSDFixedRank(6, 2), quotient=True),
    Case("psd-fixed-rank-complex", lambda: PSDFixedRankComplex(5, 2), quotient=True),
    Case("poincare-ball", lambda: PoincareBall(3)),
    Case("poincare-ball-power", lambda: PoincareBall(2, k=3)),
    Case("positive", lambda: Positive(3, 2)),
    Case("positive-power", lambda: Positive(2, 2, k=2)),
    Case("product-sphere-poincare", lambda: Product([Sphere(3), PoincareBall(2)])),
    Case(
        "product-spd-euclidean", lambda: Product([SymmetricPositiveDefinite(3, k=2), Euclidean(2)])
    ),
    Case("product-circle-stiefel", lambda: Product([ComplexCircle(2), Stiefel(4, 2)])),
    Case("skew-symmetric", lambda: SkewSymmetric(4)),
    Case("skew-symmetric-power", lambda: SkewSymmetric(3, k=2)),
    Case("special-orthogonal", lambda: SpecialOrthogonalGroup(4)),
    Case("special-orthogonal-power", lambda: SpecialOrthogonalGroup(3, k=3)),
    Case("sphere", lambda: Sphere(5)),
    Case("sphere-matrix", lambda: Sphere(3, 2)),
    Case("sphere-subspace-complement", lambda: SphereSubspaceComplementIntersection(_SPAN)),
    Case("sphere-subspace", lambda: SphereSubspaceIntersection(_SPAN)),
    Case("stiefel", lambda: Stiefel(5, 2)),
    Case("stiefel-power", lambda: Stiefel(4, 2, k=2)),
    Case("symmetric", lambda: Symmetric(3)),
    Case("symmetric-power", lambda: Symmetric(2, k=2)),
    Case("symmetric-positive-definite", lambda: SymmetricPositiveDefinite(3)),
    Case("symmetric-positive-definite-power", lambda: SymmetricPositiveDefinite(2, k=3)),
    Case("unitary", lambda: UnitaryGroup(3)),
    Case("unitary-power", lambda: UnitaryGroup(2, k=2)),
]
BY_NAME = {case.name: case for case in CASES}
NAMES = sorted(BY_NAME)
FIRST_ORDER = {"fixed-rank-embedded"}

#: the 24 classes of pymanopt 2.2.1 (pymanopt.manifolds.__all__), each covered by a case
PYMANOPT_CLASSES = {
    "ComplexCircle",
    "ComplexGrassmann",
    "Elliptope",
    "Euclidean",
    "ComplexEuclidean",
    "FixedRankEmbedded",
    "Grassmann",
    "HermitianPositiveDefinite",
    "SpecialHermitianPositiveDefinite",
    "Oblique",
    "PSDFixedRank",
    "PSDFixedRankComplex",
    "PoincareBall",
    "Positive",
    "Product",
    "SkewSymmetric",
    "SpecialOrthogonalGroup",
    "Sphere",
    "SphereSubspaceComplementIntersection",
    "SphereSubspaceIntersection",
    "Stiefel",
    "Symmetric",
    "SymmetricPositiveDefinite",
    "UnitaryGroup",
}


def test_every_pymanopt_class_has_a_case():
    import pymanopt.manifolds

    assert set(pymanopt.manifolds.__all__) == PYMANOPT_CLASSES
    covered = {type(case.build()).__name__ for case in CASES}
    assert covered == PYMANOPT_CLASSES


# --------------------------------------------------------------------------- costs
def _phi(case: Case, x):
    """x, or x xᴴ for a quotient (per slice for powers), as one autograd array or a list."""
    if isinstance(x, (list, tuple)):
        return [anp.matmul(p, anp.conj(anp.swapaxes(p, -1, -2))) if case.quotient else p for p in x]
    if case.quotient:
        return anp.matmul(x, anp.conj(anp.swapaxes(x, -1, -2)))
    return x


def _squared(z):
    return anp.sum(anp.real(anp.conj(z) * z))


def _distance_cost(case: Case, manifold: Manifold, a):
    """f(x) = ½ ‖φ(x) − φ(a)‖²: minimized at a (FixedRankEmbedded: on u diag(s) vt)."""
    if isinstance(manifold, FixedRankEmbedded):
        target = (a[0] * a[1]) @ a[2]
        return lambda x: 0.5 * _squared((x[0] * x[1]) @ x[2] - target)
    if isinstance(manifold, Product):
        targets = [np.asarray(p) for p in a]
        return lambda x: 0.5 * sum(_squared(p - q) for p, q in zip(x, targets, strict=True))
    target = _phi(case, np.asarray(a))
    return lambda x: 0.5 * _squared(_phi(case, x) - target)


def _rich_cost(case: Case, manifold: Manifold, rng):
    """A cost with a linear, a quadratic and a quartic part (all Hessian terms matter)."""
    a = random_point(manifold, rng)
    base = _distance_cost(case, manifold, a)
    if isinstance(manifold, Product):
        weights = [rng.standard_normal(np.shape(p)) for p in a]

        def cost(x):
            quartic = sum(anp.sum(anp.real(anp.conj(p) * p) ** 2) for p in x)
            linear = sum(anp.sum(anp.real(w * p)) for w, p in zip(weights, x, strict=True))
            return base(x) + linear + 0.25 * quartic

        return cost
    weight = rng.standard_normal(np.shape(_phi(case, np.asarray(a))))

    def cost(x):
        y = _phi(case, x)
        return (
            base(x) + anp.sum(anp.real(weight * y)) + 0.25 * anp.sum(anp.real(anp.conj(y) * y) ** 2)
        )

    return cost


# --------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("name", NAMES)
def test_check_manifold(name, rng):
    manifold = BY_NAME[name].build()
    check = assert_manifold(manifold, seed=rng)
    assert check.basis_dim == dimension(manifold) == check.dim
    assert check.random_point_reproducible


@pytest.mark.parametrize("name", NAMES)
def test_tangent_basis_is_orthonormal_in_the_manifolds_metric(name, rng):
    manifold = BY_NAME[name].build()
    x = random_point(manifold, rng)
    basis = tangent_basis(manifold, x)
    d = basis.dim
    vectors = [basis.to_vector(e) for e in np.eye(d)]
    gram = np.array([[inner_product(manifold, x, u, v) for v in vectors] for u in vectors])
    np.testing.assert_allclose(gram, np.eye(d), atol=1e-10)
    c = rng.standard_normal((3, d))
    np.testing.assert_allclose(basis.to_coordinates_batch(basis.to_vectors(c)), c, atol=1e-10)
    # a random tangent vector is a unit vector, reproducible from its seed
    u = random_tangent_vector(manifold, x, 7)
    assert inner_product(manifold, x, u, u) == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(
        basis.to_coordinates(u), basis.to_coordinates(random_tangent_vector(manifold, x, 7)), atol=0
    )


@pytest.mark.parametrize("name", NAMES)
def test_random_draws_are_isolated_from_the_global_numpy_state(name):
    manifold = BY_NAME[name].build()
    saved = np.random.get_state()  # noqa: NPY002 - the test is about that state
    try:
        np.random.seed(1)  # noqa: NPY002
        before = np.random.get_state()  # noqa: NPY002
        first = random_point(manifold, 5)
        after = np.random.get_state()  # noqa: NPY002
        assert before[0] == after[0] and np.array_equal(before[1], after[1])
        assert before[2:] == after[2:]
        np.random.seed(99)  # noqa: NPY002
        assert same_point(first, random_point(manifold, 5))
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    assert not same_point(first, random_point(manifold, 6))
    check_point(manifold, first, "x0")


# --------------------------------------------------------------------------- Hessians
def _reference_hessian(problem, x, basis, step=1e-2):
    """⟨b_i, Hess f b_j⟩ from second differences of f ∘ R_x, polarized, Richardson-extrapolated."""
    manifold = problem.manifold

    def curvature(u, t):
        f0 = problem.cost(x)
        plus = problem.cost(second_order_retraction(manifold, x, basis.to_vector(t * u)))
        minus = problem.cost(second_order_retraction(manifold, x, basis.to_vector(-t * u)))
        return (plus - 2 * f0 + minus) / t**2

    def quadratic(u):
        return (4 * curvature(u, step / 2) - curvature(u, step)) / 3

    d = basis.dim
    eye = np.eye(d)
    h = np.empty((d, d))
    for i in range(d):
        h[i, i] = quadratic(eye[i])
        for j in range(i):
            h[i, j] = h[j, i] = 0.25 * (quadratic(eye[i] + eye[j]) - quadratic(eye[i] - eye[j]))
    return h


@pytest.mark.parametrize("name", sorted(set(NAMES) - FIRST_ORDER))
def test_hessian_matrix_matches_second_differences_of_the_cost(name, rng):
    case = BY_NAME[name]
    manifold = case.build()
    problem = ms.Problem.from_autograd(manifold, _rich_cost(case, manifold, rng))
    x = random_point(manifold, rng)
    hessian = RiemannianHessian(problem, x)
    matrix = hessian.matrix()
    assert hessian.asymmetry < 1e-10
    reference = _reference_hessian(problem, x, hessian.basis)
    scale = max(np.max(np.abs(matrix)), 1.0)
    np.testing.assert_allclose(matrix, reference, atol=1e-5 * scale)
    ms.testing.assert_hessian(problem, x, seed=rng)


def test_first_order_manifold_refuses_hessians_naming_the_alternative(rng):
    manifold = FixedRankEmbedded(5, 4, 2)
    a = random_point(manifold, rng)
    problem = ms.Problem.from_autograd(
        manifold, _distance_cost(BY_NAME["fixed-rank-embedded"], manifold, a)
    )
    with pytest.raises(
        SecondOrderUnavailable, match=r"manifoldscape\.geometry\.FixedRank\(5, 4, 2\)"
    ):
        ms.certify(problem, a)
    x0 = random_point(manifold, rng)
    with pytest.raises(SecondOrderUnavailable, match="euclidean_to_riemannian_hessian"):
        ms.solve(problem, "trust-regions", x0=x0, certify=False)
    with pytest.raises(SecondOrderUnavailable, match="give step_size"):
        ms.solve(problem, "gradient-descent", x0=x0, certify=False)


# --------------------------------------------------------------------------- certificates
@pytest.mark.parametrize("name", sorted(set(NAMES) - FIRST_ORDER))
def test_certificate_of_the_known_minimizer(name, rng):
    case = BY_NAME[name]
    manifold = case.build()
    a = random_point(manifold, rng)
    cost = _distance_cost(case, manifold, a)
    natural = ms.Problem.from_autograd(manifold, cost, truth=a)
    assert natural.symmetry == natural_symmetry(manifold)
    certificate = ms.certify(natural, a)
    assert certificate.verdict is ms.Verdict.LOCAL_MINIMIZER, certificate
    assert certificate.symmetry_dimension == 0  # horizontal bases: no orbit direction
    assert certificate.tangent_dimension == dimension(manifold)
    assert natural.distance_to_truth(a) < 1e-12
    # the other reading: without the group the certificate is the same (exact without it)
    plain = ms.Problem.from_autograd(manifold, cost, symmetry=Identity())
    assert ms.certify(plain, a).verdict is ms.Verdict.LOCAL_MINIMIZER


@pytest.mark.parametrize("name", [n for n in NAMES if BY_NAME[n].quotient])
def test_quotient_distance_is_modulo_the_natural_group(name, rng):
    case = BY_NAME[name]
    manifold = case.build()
    group = natural_symmetry(manifold)
    assert not isinstance(group, Identity)
    a = random_point(manifold, rng)
    moved = a
    k = np.shape(a)[-1]
    for t in group.orbit_tangent_vectors(a)[:2]:
        # a point of the orbit: a Q with Q = expm(Ω) orthogonal or unitary, Ω from t = a Ω
        omega = np.linalg.lstsq(
            np.asarray(a).reshape(-1, k), np.asarray(t).reshape(-1, k), rcond=None
        )[0]
        if np.ndim(a) == 3:  # a power: one generator per slice, take the first slice's
            omega = np.linalg.lstsq(a[0], t[0], rcond=None)[0]
        import scipy.linalg

        moved = moved @ scipy.linalg.expm(0.7 * omega)
    assert np.linalg.norm(np.asarray(moved) - np.asarray(a)) > 1e-3
    assert group.distance(moved, a) < 1e-10
    assert group.distance(group.align(moved, a), a) < 1e-10


def test_natural_symmetry_of_each_quotient():
    assert natural_symmetry(Grassmann(5, 2)) == OrthogonalRight(2)
    assert natural_symmetry(ComplexGrassmann(5, 2)) == UnitaryRight(2)
    assert natural_symmetry(PSDFixedRank(5, 3)) == OrthogonalRight(3)
    assert natural_symmetry(PSDFixedRankComplex(5, 3)) == UnitaryRight(3)
    assert natural_symmetry(Elliptope(5, 3)) == OrthogonalRight(3)
    assert natural_symmetry(Grassmann(5, 2, k=3)) == PowerGroup(OrthogonalRight(2), 3)
    assert natural_symmetry(Sphere(3)) == Identity()
    assert natural_symmetry(Product([Sphere(3), Euclidean(2)])) == Identity()
    mixed = natural_symmetry(Product([Grassmann(4, 2), Sphere(3)]))
    assert isinstance(mixed, ProductGroup) and mixed.factors == (OrthogonalRight(2), Identity())
    assert UnitaryRight(2).dimension == 4 and PowerGroup(OrthogonalRight(3), 2).dimension == 6


# --------------------------------------------------------------------------- solvers
SOLVERS = {
    "trust-regions": {"max_iterations": 15},
    "gradient-descent": {"max_iterations": 30},
    "lbfgs": {"max_iterations": 30},
    "pymanopt-trust-regions": {"max_iterations": 15},
    "pymanopt-steepest-descent": {"max_iterations": 30},
    "pymanopt-conjugate-gradient": {"max_iterations": 30},
}
_SECOND_ORDER_SOLVERS = {"trust-regions", "gradient-descent", "pymanopt-trust-regions"}


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("name", NAMES)
def test_solvers_run_and_lower_the_cost(name, solver, rng):
    case = BY_NAME[name]
    manifold = case.build()
    a = random_point(manifold, rng)
    problem = ms.Problem.from_autograd(manifold, _distance_cost(case, manifold, a))
    x0 = random_point(manifold, rng)
    options = dict(SOLVERS[solver])
    if name in FIRST_ORDER and solver in _SECOND_ORDER_SOLVERS:
        if solver != "gradient-descent":
            with pytest.raises(SecondOrderUnavailable):
                ms.solve(problem, solver, x0=x0, certify=False, **options)
            return
        options["step_size"] = 0.2
    result = ms.solve(problem, solver, x0=x0, certify=False, **options)
    assert np.isfinite(result.cost)
    assert result.cost <= problem.cost(x0) + 1e-12
    check_point(manifold, result.point, "result", tolerance=1e-6)


def test_trust_regions_reach_the_minimizer_and_certify_it_on_every_second_order_manifold(rng):
    failures = []
    for name in sorted(set(NAMES) - FIRST_ORDER):
        case = BY_NAME[name]
        manifold = case.build()
        a = random_point(manifold, rng)
        problem = ms.Problem.from_autograd(manifold, _distance_cost(case, manifold, a), truth=a)
        # start near the minimizer (the cost may have other critical points far away)
        u = random_tangent_vector(manifold, a, rng)
        x0 = second_order_retraction(manifold, a, 0.2 * u)
        result = ms.solve(problem, "trust-regions", x0=x0, max_iterations=100)
        if result.certificate.verdict is not ms.Verdict.LOCAL_MINIMIZER or result.cost > 1e-12:
            failures.append(f"{name}: {result.stop_message}; {result.certificate.summary()}")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- a user's manifold
class WeightedSpace(Manifold):
    """ℝⁿ with the metric ⟨u, v⟩ = Σ w_i u_i v_i: a manifold no table of ours knows."""

    def __init__(self, weights):
        self._w = np.asarray(weights, dtype=float)
        super().__init__(f"weighted R^{self._w.size}", self._w.size)

    def inner_product(self, point, a, b):
        return float(np.sum(self._w * a * b))

    def norm(self, point, a):
        return float(np.sqrt(self.inner_product(point, a, a)))

    def projection(self, point, vector):
        return vector

    to_tangent_space = projection

    def random_point(self):
        return np.random.normal(size=self._w.size)  # noqa: NPY002 - pymanopt's convention

    def random_tangent_vector(self, point):
        v = np.random.normal(size=self._w.size)  # noqa: NPY002
        return v / self.norm(point, v)

    def zero_vector(self, point):
        return np.zeros(self._w.size)

    def euclidean_to_riemannian_gradient(self, point, euclidean_gradient):
        return euclidean_gradient / self._w

    def euclidean_to_riemannian_hessian(self, point, egrad, ehess, tangent_vector):
        return ehess / self._w

    def retraction(self, point, tangent_vector):
        return point + tangent_vector

    exp = retraction

    def transport(self, a, b, v):
        return v

    @property
    def typical_dist(self):
        return 1.0


def test_a_users_own_manifold_gets_the_generic_path(rng):
    manifold = WeightedSpace([1.0, 4.0, 9.0])
    check = assert_manifold(manifold, seed=rng)
    assert check.basis_dim == 3
    x = random_point(manifold, rng)
    basis = generic_tangent_basis(manifold, x)
    vectors = basis.vectors()
    gram = np.array([[manifold.inner_product(x, u, v) for v in vectors] for u in vectors])
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-12)  # orthonormal in its own metric
    target = np.array([1.0, -2.0, 0.5])
    problem = ms.Problem.from_autograd(manifold, lambda y: 0.5 * anp.sum((y - target) ** 2))
    result = ms.solve(problem, "trust-regions", seed=rng)
    np.testing.assert_allclose(result.point, target, atol=1e-8)
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    # Hess f = W⁻¹ ∇²f = W⁻¹: in a W-orthonormal basis its matrix is diag(1/w)
    hessian = RiemannianHessian(problem, target).matrix()
    np.testing.assert_allclose(hessian, np.diag([1.0, 1 / 4, 1 / 9]), atol=1e-10)


def test_generic_basis_agrees_with_the_fast_paths(rng):
    for manifold in (Oblique(4, 3), Stiefel(5, 2), ComplexCircle(3), SpecialOrthogonalGroup(3)):
        x = random_point(manifold, rng)
        fast, generic = tangent_basis(manifold, x), generic_tangent_basis(manifold, x)
        assert fast.dim == generic.dim
        # the same subspace: generic coordinates of the fast basis vectors are orthogonal
        change = generic.to_coordinates_batch(fast.vectors())
        np.testing.assert_allclose(change @ change.T, np.eye(fast.dim), atol=1e-10)


# --------------------------------------------------------------------------- pymanopt's defects
def test_corrections_of_pymanopt_2_2_1(rng):
    from manifoldscape.geometry import euclidean_to_riemannian_gradient, projection

    # Elliptope: pymanopt's projection is neither idempotent nor horizontal; ours is both
    elliptope = Elliptope(6, 3)
    y = random_point(elliptope, rng)
    z = rng.standard_normal((6, 3))
    ours = projection(elliptope, y, z)
    np.testing.assert_allclose(y.T @ ours, (y.T @ ours).T, atol=1e-12)  # horizontal
    np.testing.assert_allclose(projection(elliptope, y, ours), ours, atol=1e-12)
    theirs = elliptope.projection(y, z)
    assert np.linalg.norm(elliptope.projection(y, theirs) - theirs) > 1e-3
    # UnitaryGroup: the Riemannian gradient is skew-Hermitian (pymanopt's is only skew)
    unitary = UnitaryGroup(3)
    x = random_point(unitary, rng)
    g = euclidean_to_riemannian_gradient(unitary, x, rng.standard_normal((3, 3)) * (1 + 1j))
    np.testing.assert_allclose(g, -g.conj().T, atol=1e-12)
    # Hermitian positive definite: n² real dimensions, not n(n + 1)
    assert dimension(HermitianPositiveDefinite(3)) == 9 != HermitianPositiveDefinite(3).dim
    assert dimension(SpecialHermitianPositiveDefinite(3, k=2)) == 16
