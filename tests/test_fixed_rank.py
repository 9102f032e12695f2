"""The second-order fixed-rank manifolds: conformance, an independent Hessian oracle, solvers.

The Riemannian Hessian of ``FixedRank`` / ``SymmetricFixedRank`` is checked against an oracle
that shares no code with ``manifoldscape.geometry.fixed_rank``: on an embedded submanifold

    Hess f(X)[ξ] = P_X( D(Y ↦ P_Y ∇f(Y))(X)[ξ] )

(Absil, Mahony and Trumbull 2013; Boumal, *An Introduction to Optimization on Smooth Manifolds*,
Cor. 5.16), with the dense projector P_Y(Z) = P_U Z + Z P_V − P_U Z P_V written in
``autograd.numpy`` and differentiated by autograd.  P_U is extended smoothly off the base point as
the projector onto range(Y V₀) (V₀ the base point's right factor), which equals range(Y) for every
Y of rank r near X, so the derivative along a tangent ξ is the manifold's.  Complex Hermitian
matrices are handled in the real 2n×2n form [[Re, −Im], [Im, Re]], an algebra isomorphism that
scales the real inner product Re tr(AᴴB) by 2, so the oracle needs real autograd only.
"""

import pickle
import time

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.sparse
from pymanopt.manifolds import FixedRankEmbedded

import manifoldscape as ms
from manifoldscape import testing
from manifoldscape.core import checks
from manifoldscape.geometry import (
    check_point,
    constraint_residual,
    copy_point,
    is_complex,
    point_norm,
    point_shape,
    random_point,
    same_point,
    second_order_retraction,
    tangent_basis,
)
from manifoldscape.geometry.fixed_rank import (
    FixedRank,
    FixedRankPoint,
    FixedRankTangentVector,
    LowRankMatrix,
    SymmetricFixedRank,
    SymmetricFixedRankPoint,
    SymmetricTangentVector,
)

MANIFOLDS = {
    "fixed-rank": lambda: FixedRank(7, 5, 2),
    "fixed-rank-wide": lambda: FixedRank(3, 8, 2),
    "fixed-rank-rank-1": lambda: FixedRank(6, 4, 1),
    "fixed-rank-full": lambda: FixedRank(4, 4, 4),
    "symmetric": lambda: SymmetricFixedRank(6, 2),
    "symmetric-psd-rank-1": lambda: SymmetricFixedRank(6, 1, psd=True),
    "hermitian": lambda: SymmetricFixedRank(5, 2, "complex"),
    "hermitian-psd-rank-1": lambda: SymmetricFixedRank(5, 1, "complex", psd=True),
}


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_conformance(name, rng):
    manifold = MANIFOLDS[name]()
    check = testing.assert_manifold(manifold, seed=rng)
    assert check.basis_dim == manifold.dim
    # nan when every remainder is at round-off (full rank: an open subset, the retraction is X + ξ)
    assert not check.second_order_tangential_slope < 2.5


def test_dimensions():
    assert FixedRank(7, 5, 2).dim == (7 + 5 - 2) * 2
    assert SymmetricFixedRank(6, 2).dim == 6 * 2 - 1
    assert SymmetricFixedRank(6, 2, "complex").dim == 2 * 6 * 2 - 4
    assert SymmetricFixedRank(6, 1, psd=True).dim == 6
    assert is_complex(SymmetricFixedRank(4, 1, "complex"))
    assert not is_complex(FixedRank(4, 3, 1))
    assert point_shape(FixedRank(4, 3, 1)) == (4, 3)


# --------------------------------------------------------------------------- the oracle
def _real_form(z):
    """[[Re z, −Im z], [Im z, Re z]] (the identity on real matrices)."""
    z = np.asarray(z)
    if not np.iscomplexobj(z):
        return z
    return np.block([[z.real, -z.imag], [z.imag, z.real]])


def _complex_form(block, n):
    return block[:n, :n] + 1j * block[n:, :n]


def _range_projector(y, w):
    """Orthogonal projector onto range(Y W), smooth in Y where Y W has full column rank."""
    a = anp.dot(y, w)
    return anp.dot(a, anp.linalg.solve(anp.dot(a.T, a), a.T))


def _oracle_hessian(x, left, right, xi, gradient, symmetric):
    """P_X(D(Y ↦ P_Y G(Y))(X)[ξ]) by autograd, all matrices real (use ``_real_form``)."""

    def projected_gradient(t):
        y = x + t * xi
        g = gradient(y)
        if symmetric:
            g = 0.5 * (g + g.T)
        pu = _range_projector(y, right)
        pv = _range_projector(y.T, left)
        return anp.dot(pu, g) + anp.dot(g, pv) - anp.dot(pu, anp.dot(g, pv))

    derivative = autograd.jacobian(projected_gradient)(0.0)
    pu = _range_projector(x, right)
    pv = _range_projector(x.T, left)
    if symmetric:
        derivative = 0.5 * (derivative + derivative.T)
    return pu @ derivative + derivative @ pv - pu @ derivative @ pv


def _costs(shape, complex_, rng):
    """(name, cost on dense X, Euclidean gradient, Hessian-vector product, real-form gradient)."""

    def draw(*s):
        z = rng.standard_normal(s)
        return z + 1j * rng.standard_normal(s) if complex_ else z

    b = draw(*shape)
    sensing = draw(12, *shape)
    y = rng.standard_normal(12)

    def inner(z):  # ⟨A_i, Z⟩ = Re tr(A_iᴴ Z) for each i
        return np.real(np.einsum("kij,ij->k", sensing.conj(), z))

    sensing_real = np.stack([_real_form(a) for a in sensing])
    half = 0.5 if complex_ else 1.0  # ⟨Ã, Z̃⟩ = 2 ⟨A, Z⟩ in the real form
    return [
        (
            "distance",
            lambda z: 0.5 * np.linalg.norm(z - b) ** 2,
            lambda z: z - b,
            lambda z, d: d,
            lambda zr: zr - _real_form(b),
        ),
        (
            "sensing",
            lambda z: 0.25 * np.sum((inner(z) - y) ** 2),
            lambda z: 0.5 * np.einsum("k,kij->ij", inner(z) - y, sensing),
            lambda z, d: 0.5 * np.einsum("k,kij->ij", inner(d), sensing),
            lambda zr: (
                0.5
                * anp.einsum(
                    "k,kij->ij", half * anp.einsum("kij,ij->k", sensing_real, zr) - y, sensing_real
                )
            ),
        ),
    ]


ORACLE_CASES = {
    "fixed-rank": lambda: FixedRank(6, 5, 2),
    "fixed-rank-rank-1": lambda: FixedRank(4, 6, 1),
    "symmetric": lambda: SymmetricFixedRank(5, 2),
    "symmetric-psd": lambda: SymmetricFixedRank(5, 1, psd=True),
    "hermitian": lambda: SymmetricFixedRank(4, 2, "complex"),
    "hermitian-psd": lambda: SymmetricFixedRank(4, 1, "complex", psd=True),
}


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_hessian_matches_projector_oracle(name, rng):
    manifold = ORACLE_CASES[name]()
    symmetric = isinstance(manifold, SymmetricFixedRank)
    complex_ = is_complex(manifold)
    x = random_point(manifold, rng)
    dense = np.asarray(x)
    if symmetric:
        left = right = _real_form(x.u)
    else:
        left, right = x.u, x.v
    for cost_name, _, gradient, hessian, real_gradient in _costs(dense.shape, complex_, rng):
        for _ in range(2):
            xi = manifold.random_tangent_vector(x)
            xi_dense = manifold.embedding(x, xi)
            ours = manifold.embedding(
                x,
                manifold.euclidean_to_riemannian_hessian(
                    x, gradient(dense), hessian(dense, xi_dense), xi
                ),
            )
            oracle = _oracle_hessian(
                _real_form(dense), left, right, _real_form(xi_dense), real_gradient, symmetric
            )
            if complex_:
                oracle = _complex_form(oracle, dense.shape[0])
            scale = max(np.linalg.norm(oracle), 1.0)
            error = np.linalg.norm(ours - oracle) / scale
            assert error < 1e-9, f"{name}, {cost_name}: relative error {error:.2e}"
            # the Weingarten term matters here: the projected Hessian alone is far off
            projected = manifold.embedding(x, manifold.projection(x, hessian(dense, xi_dense)))
            assert np.linalg.norm(projected - oracle) / scale > 1e-3


def test_oracle_detects_a_wrong_curvature_sign(rng):
    """The oracle comparison fails for a Hessian with the Weingarten term's sign flipped."""
    manifold = FixedRank(6, 5, 2)
    x = random_point(manifold, rng)
    dense = np.asarray(x)
    _, _, gradient, hessian, real_gradient = _costs(dense.shape, False, rng)[0]
    xi = manifold.random_tangent_vector(x)
    xi_dense = manifold.embedding(x, xi)
    base = manifold.projection(x, hessian(dense, xi_dense))
    right = manifold.euclidean_to_riemannian_hessian(
        x, gradient(dense), hessian(dense, xi_dense), xi
    )
    wrong = base - (right - base)
    oracle = _oracle_hessian(dense, x.u, x.v, xi_dense, real_gradient, False)
    assert np.linalg.norm(manifold.embedding(x, wrong) - oracle) > 1e-3 * np.linalg.norm(oracle)


# --------------------------------------------------------------------------- problems on them
def _distance_problem(manifold, rng):
    shape = point_shape(manifold)
    b = rng.standard_normal(shape)
    if is_complex(manifold):
        b = b + 1j * rng.standard_normal(shape)
    return ms.Problem.from_autograd(manifold, lambda z: 0.5 * anp.sum(anp.abs(z - b) ** 2)), b


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_autograd_problem_passes_derivative_checks(name, rng):
    manifold = ORACLE_CASES[name]()
    problem, _ = _distance_problem(manifold, rng)
    testing.assert_derivatives(problem, points=2, seed=rng)


def test_sensing_problem_passes_derivative_checks(rng):
    manifold = FixedRank(6, 5, 2)
    sensing = rng.standard_normal((20, 6, 5))
    y = rng.standard_normal(20)
    problem = ms.Problem.from_autograd(
        manifold,
        lambda z: 0.25 * anp.sum((anp.einsum("kij,ij->k", sensing, z) - y) ** 2),
    )
    testing.assert_derivatives(problem, points=2, seed=rng)


def _truncated_svd(b, r):
    u, s, vt = np.linalg.svd(b, full_matrices=False)
    return (u[:, :r] * s[:r]) @ vt[:r]


@pytest.mark.parametrize("solver", ["trust-regions", "pymanopt-trust-regions"])
def test_trust_regions_finds_the_truncated_svd(solver, rng):
    """min ½‖X − B‖² over rank r is attained at the truncated SVD of B (Eckart–Young)."""
    m, n, r = 9, 7, 2
    manifold = FixedRank(m, n, r)
    problem, b = _distance_problem(manifold, rng)
    result = ms.solve(problem, solver=solver, seed=rng)
    best = _truncated_svd(b, r)
    error = np.linalg.norm(np.asarray(result.point) - best) / np.linalg.norm(best)
    assert error < 1e-8, f"{solver}: relative error {error:.2e}"
    assert result.certificate.verdict.value == "local_minimizer"
    assert result.certificate.tangent_dimension == (m + n - r) * r


@pytest.mark.parametrize(
    "solver", ["gradient-descent", "pymanopt-steepest-descent", "pymanopt-conjugate-gradient"]
)
def test_first_order_solvers_run(solver, rng):
    """The first-order solvers (ours and pymanopt's: transport, line search) run on FixedRank."""
    manifold = FixedRank(9, 7, 2)
    problem, b = _distance_problem(manifold, rng)
    result = ms.solve(problem, solver=solver, seed=rng)
    best = _truncated_svd(b, 2)
    assert np.linalg.norm(np.asarray(result.point) - best) < 1e-5 * np.linalg.norm(best)


def test_certificate_spectrum_at_the_truncated_svd(rng):
    """At X = U₁S₁V₁ᵀ the Hessian of ½‖X − B‖² has eigenvalues 1 ± σ_k/σ_i (k > r ≥ i) and 1."""
    m, n, r = 7, 5, 2
    manifold = FixedRank(m, n, r)
    problem, b = _distance_problem(manifold, rng)
    u, s, vt = np.linalg.svd(b, full_matrices=False)
    x = FixedRankPoint(u[:, :r], s[:r], vt[:r].T)
    certificate = ms.certify(problem, x)
    expected = [1.0] * ((m + n - r) * r - 2 * r * (min(m, n) - r))
    for i in range(r):
        for k in range(r, min(m, n)):
            expected += [1 - s[k] / s[i], 1 + s[k] / s[i]]
    assert certificate.tangent_dimension == manifold.dim
    np.testing.assert_allclose(np.sort(certificate.eigenvalues), np.sort(expected), atol=1e-10)
    assert certificate.verdict.value == "local_minimizer"
    # keeping σ₁ and σ₃ instead of σ₁ and σ₂ gives a strict saddle: 1 − σ₂/σ₃ is the only
    # negative eigenvalue
    keep = [0, 2]
    saddle = FixedRankPoint(u[:, keep], s[keep], vt[keep].T)
    saddle_certificate = ms.certify(problem, saddle)
    assert saddle_certificate.verdict.value == "strict_saddle"
    assert saddle_certificate.index == 1


def test_certificate_by_krylov(rng):
    manifold = FixedRank(30, 20, 3)
    problem, b = _distance_problem(manifold, rng)
    u, s, vt = np.linalg.svd(b, full_matrices=False)
    x = FixedRankPoint(u[:, :3], s[:3], vt[:3].T)
    certificate = ms.certify(problem, x, method="krylov", lanczos_k=1)
    assert certificate.method == "krylov"
    assert certificate.tangent_dimension == (30 + 20 - 3) * 3
    assert certificate.min_eigenvalue == pytest.approx(1 - s[3] / s[2], abs=1e-6)


@pytest.mark.parametrize("psd", [True, False])
def test_hermitian_trust_regions_finds_the_best_approximation(psd, rng):
    """min ½‖X − B‖² over Hermitian rank 2 within one component (signature) of the manifold.

    PSD: the two largest eigenpairs of B; signature (+, −), started there: the largest and the
    most negative eigenpair (the components are not connected, so a solver stays in its own).
    """
    n, r = 6, 2
    manifold = SymmetricFixedRank(n, r, "complex", psd=psd)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    w = np.array([5.0, 4.0, 1.0, -0.5, 0.3, -3.0])
    b = (q * w) @ q.conj().T
    problem = ms.Problem.from_autograd(manifold, lambda x: 0.5 * anp.sum(anp.abs(x - b) ** 2))
    x0 = random_point(manifold, rng)
    if not psd:
        x0 = SymmetricFixedRankPoint(x0.u, np.array([1.0, -1.0]))
    result = ms.solve(problem, solver="trust-regions", x0=x0, seed=rng)
    keep = [0, 1] if psd else [0, 5]
    best = (q[:, keep] * w[keep]) @ q[:, keep].conj().T
    error = np.linalg.norm(np.asarray(result.point) - best) / np.linalg.norm(best)
    assert error < 1e-8, f"relative error {error:.2e}"
    assert result.certificate.verdict.value == "local_minimizer"
    assert result.certificate.tangent_dimension == 2 * n * r - r * r


def test_pymanopt_fixed_rank_lacks_the_hessian():
    """Why these manifolds exist: pymanopt's FixedRankEmbedded has no Riemannian Hessian."""
    manifold = FixedRankEmbedded(5, 4, 2)
    x = manifold.random_point()
    with pytest.raises(Exception):  # noqa: B017 - pymanopt's NotImplementedError or shape error
        manifold.euclidean_to_riemannian_hessian(
            x, np.ones((5, 4)), np.ones((5, 4)), manifold.random_tangent_vector(x)
        )


# --------------------------------------------------------------------------- factored, no m×n
def test_nothing_m_by_n_is_formed():
    """Projection, retraction, transport and the Hessian conversion run on low-rank ambients."""
    m, n, r = 20000, 15000, 3
    manifold = FixedRank(m, n, r)
    rng = np.random.default_rng(0)
    x = random_point(manifold, rng)
    gradient = LowRankMatrix(rng.standard_normal((m, 2)), rng.standard_normal((n, 2)))
    start = time.perf_counter()
    xi = manifold.projection(x, gradient)
    y = manifold.retraction(x, xi)
    moved = manifold.transport(x, y, xi)
    hess = manifold.euclidean_to_riemannian_hessian(x, gradient, gradient, xi)
    basis = tangent_basis(manifold, x)
    round_trip = basis.to_vector(basis.to_coordinates(hess))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert constraint_residual(manifold, y) < 1e-10
    assert manifold.norm(y, moved) > 0
    assert manifold.norm(x, round_trip - hess) < 1e-10 * manifold.norm(x, hess)


# --------------------------------------------------------------------------- points and vectors
def test_points_copy_compare_and_validate(rng):
    manifold = FixedRank(6, 4, 2)
    x = random_point(manifold, rng)
    assert same_point(x, copy_point(x))
    assert copy_point(x) is not x
    assert not same_point(x, random_point(manifold, rng))
    assert same_point(random_point(manifold, 3), random_point(manifold, 3))
    assert isinstance(check_point(manifold, (x.u, x.s, x.v)), FixedRankPoint)
    dense = check_point(manifold, np.asarray(x))  # a dense matrix of rank r is factored
    assert np.allclose(np.asarray(dense), np.asarray(x))
    with pytest.raises(ValueError, match=r"x0\.U must have shape"):
        check_point(manifold, (x.u[:-1], x.s, x.v))
    with pytest.raises(ValueError, match=r"x0\.s must hold positive"):
        check_point(manifold, (x.u, -x.s, x.v))
    with pytest.raises(ValueError, match=r"x0\.V must have orthonormal"):
        check_point(manifold, (x.u, x.s, 2 * x.v))
    with pytest.raises(ValueError, match=r"x0\.U must be real"):
        check_point(manifold, (x.u + 1j, x.s, x.v))
    with pytest.raises(ValueError, match="must be finite"):
        check_point(manifold, (x.u, np.array([1.0, np.nan]), x.v))
    with pytest.raises(ValueError, match="rank 2"):
        check_point(manifold, np.ones((6, 4)))
    with pytest.raises(TypeError, match="factors"):
        check_point(manifold, (x.u, x.s))


def test_symmetric_points_validate(rng):
    manifold = SymmetricFixedRank(5, 1, psd=True)
    x = random_point(manifold, rng)
    assert np.all(x.lam > 0)
    with pytest.raises(ValueError, match="positive"):
        check_point(manifold, (x.u, -x.lam))
    with pytest.raises(ValueError, match="symmetric"):
        check_point(manifold, np.triu(np.ones((5, 5))))
    hermitian = SymmetricFixedRank(4, 2, "complex")
    y = random_point(hermitian, rng)
    assert isinstance(check_point(hermitian, (y.u, y.lam)), SymmetricFixedRankPoint)
    with pytest.raises(ValueError, match=r"lam must be real"):
        check_point(hermitian, (y.u, y.lam + 1j))
    with pytest.raises(ValueError, match="field"):
        SymmetricFixedRank(4, 2, "quaternion")
    with pytest.raises(ValueError, match="r must be at most"):
        FixedRank(3, 4, 5)
    with pytest.raises(ValueError, match="r must be at most"):
        SymmetricFixedRank(3, 4)


def test_psd_retraction_keeps_positive_eigenvalues(rng):
    manifold = SymmetricFixedRank(5, 1, psd=True)
    x = random_point(manifold, rng)
    xi = SymmetricTangentVector(np.array([[-10.0 * x.lam[0]]]), np.zeros((5, 1)))
    y = second_order_retraction(manifold, x, 0.05 * xi)
    assert y.lam[0] > 0
    assert constraint_residual(manifold, y) < 1e-12
    far = manifold.retraction(x, xi)  # X + ξ is negative definite on range(U): reflected
    assert far.lam[0] > 0
    assert constraint_residual(manifold, far) < 1e-12
    check_point(manifold, far)


def test_tangent_vector_arithmetic(rng):
    manifold = FixedRank(5, 4, 2)
    x = random_point(manifold, rng)
    a, b = manifold.random_tangent_vector(x), manifold.random_tangent_vector(x)
    assert isinstance(a + b, FixedRankTangentVector)
    for combination, expected in (
        (a + b, manifold.embedding(x, a) + manifold.embedding(x, b)),
        (a - b, manifold.embedding(x, a) - manifold.embedding(x, b)),
        (np.float64(2.0) * a, 2 * manifold.embedding(x, a)),
        (a * 3, 3 * manifold.embedding(x, a)),
        (a / 4, manifold.embedding(x, a) / 4),
        (-a, -manifold.embedding(x, a)),
    ):
        assert isinstance(combination, FixedRankTangentVector)
        np.testing.assert_allclose(manifold.embedding(x, combination), expected, atol=1e-14)
    zero = manifold.zero_vector(x)
    assert manifold.norm(x, zero) == 0.0
    assert manifold.inner_product(x, a, a) == pytest.approx(
        np.linalg.norm(manifold.embedding(x, a)) ** 2
    )
    assert manifold.typical_dist > 0


# --------------------------------------------------------------------------- dense references
def _ambient(manifold, rng):
    z = rng.standard_normal(manifold.point_shape())
    if manifold.is_complex:
        z = z + 1j * rng.standard_normal(z.shape)
    return z


def _flat(z):
    z = np.ravel(z)
    return np.concatenate([z.real, z.imag]) if np.iscomplexobj(z) else z


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_tangent_basis_is_orthonormal_in_the_embedding(name, rng):
    """The embedding is an isometry: the dense basis matrices are orthonormal in R^{m×n}."""
    manifold = MANIFOLDS[name]()
    x = random_point(manifold, rng)
    basis = tangent_basis(manifold, x)
    vectors = basis.vectors()
    d = basis.dim
    dense = np.array([_flat(manifold.embedding(x, [p[k] for p in vectors])) for k in range(d)])
    np.testing.assert_allclose(dense @ dense.T, np.eye(d), atol=1e-12)
    w = manifold.projection(x, _ambient(manifold, rng))
    back = basis.to_vector(basis.to_coordinates(w))
    np.testing.assert_allclose(manifold.embedding(x, back), manifold.embedding(x, w), atol=1e-12)


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_projection_retraction_transport_match_dense_formulas(name, rng):
    manifold = MANIFOLDS[name]()
    x = random_point(manifold, rng)
    z = _ambient(manifold, rng)
    if isinstance(manifold, FixedRank):
        pu, pv = x.u @ x.u.T, x.v @ x.v.T
        expected = pu @ z + z @ pv - pu @ z @ pv
    else:
        zh = 0.5 * (z + z.conj().T)
        pu = x.u @ x.u.conj().T
        expected = pu @ zh + zh @ pu - pu @ zh @ pu
    np.testing.assert_allclose(
        manifold.embedding(x, manifold.projection(x, z)), expected, atol=1e-12
    )
    # the same projection from a sparse matrix or a LowRankMatrix
    for form in (scipy.sparse.csr_matrix(z), LowRankMatrix(z, np.eye(z.shape[1]))):
        got = manifold.embedding(x, manifold.projection(x, form))
        np.testing.assert_allclose(got, expected, atol=1e-12)
    # retraction = metric projection: the best rank-r approximation of X + ξ
    xi = manifold.random_tangent_vector(x) * 0.3
    y = manifold.retraction(x, xi)
    target = np.asarray(x) + manifold.embedding(x, xi)
    r = manifold._r
    if isinstance(manifold, FixedRank):
        a, s, bt = np.linalg.svd(target)
        best = (a[:, :r] * s[:r]) @ bt[:r]
    else:
        w, q = np.linalg.eigh(target)
        keep = np.argsort(-w)[:r] if manifold.psd else np.argsort(-np.abs(w))[:r]
        best = (q[:, keep] * w[keep]) @ q[:, keep].conj().T
    np.testing.assert_allclose(np.asarray(y), best, atol=1e-12)
    # transport = projection of the dense vector at the new point
    moved = manifold.transport(x, y, xi)
    expected_moved = manifold.embedding(y, manifold.projection(y, manifold.embedding(x, xi)))
    np.testing.assert_allclose(manifold.embedding(y, moved), expected_moved, atol=1e-12)


def test_a_first_order_geometry_fails_the_hessian_check(rng):
    """Without the Weingarten term (pymanopt's FixedRankEmbedded) the Taylor check fails."""

    class Flat(FixedRank):
        def euclidean_to_riemannian_hessian(self, point, egrad, ehess, tangent_vector):
            return self.projection(point, ehess)

    b = rng.standard_normal((6, 5))
    problem = ms.Problem.from_autograd(Flat(6, 5, 2), lambda z: 0.5 * anp.sum((z - b) ** 2))
    assert not checks.check_hessian(problem, seed=rng).passed


def test_factored_euclidean_gradient_gives_the_same_hessian(rng):
    manifold = FixedRank(30, 20, 3)
    x = random_point(manifold, rng)
    xi = manifold.random_tangent_vector(x)
    left, right = rng.standard_normal((30, 4)), rng.standard_normal((20, 4))
    dense = left @ right.T
    h = rng.standard_normal((30, 20))
    expected = manifold.euclidean_to_riemannian_hessian(x, dense, h, xi)
    for form in (LowRankMatrix(left, right), scipy.sparse.csr_matrix(dense)):
        got = manifold.euclidean_to_riemannian_hessian(x, form, h, xi)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-12)


def test_points_and_vectors_pickle_and_measure_by_factors(rng):
    manifold = FixedRank(5, 4, 2)
    x = random_point(manifold, rng)
    u = manifold.random_tangent_vector(x)
    again = pickle.loads(pickle.dumps(u))
    assert isinstance(again, FixedRankTangentVector)
    np.testing.assert_array_equal(manifold.embedding(x, again), manifold.embedding(x, u))
    assert same_point(pickle.loads(pickle.dumps(x)), x)
    assert point_norm(x) == pytest.approx(np.linalg.norm(np.asarray(x)))
    y = copy_point(x)
    y.s[0] += 1e-15
    assert not same_point(x, y)


@pytest.mark.parametrize("name", ["fixed-rank", "hermitian"])
def test_ambient_operators_agree_with_dense(name, rng):
    """Projection and Hessian conversion see the same matrix as dense, low-rank or operator."""
    import scipy.sparse.linalg

    manifold = ORACLE_CASES[name]()
    x = random_point(manifold, rng)
    shape = point_shape(manifold)
    complex_ = is_complex(manifold)
    left = rng.standard_normal((shape[0], 3)) + (1j if complex_ else 0) * rng.standard_normal(
        (shape[0], 3)
    )
    right = rng.standard_normal((shape[1], 3))
    low_rank = LowRankMatrix(left, right)
    dense = np.asarray(low_rank)
    operator = scipy.sparse.linalg.aslinearoperator(dense)
    xi = manifold.random_tangent_vector(x)
    eta = manifold.random_tangent_vector(x)
    reference = manifold.embedding(
        x, manifold.euclidean_to_riemannian_hessian(x, dense, manifold.embedding(x, eta), xi)
    )
    for ambient in (low_rank, operator):
        projected = manifold.projection(x, ambient)
        np.testing.assert_allclose(
            manifold.embedding(x, projected),
            manifold.embedding(x, manifold.projection(x, dense)),
            atol=1e-12,
        )
        hess = manifold.euclidean_to_riemannian_hessian(
            x, ambient, manifold.low_rank_embedding(x, eta), xi
        )
        np.testing.assert_allclose(manifold.embedding(x, hess), reference, atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(manifold.low_rank_embedding(x, xi)), manifold.embedding(x, xi), atol=1e-14
    )


def test_factored_distance_and_pickling(rng):
    import pickle

    for manifold in (FixedRank(8, 6, 2), SymmetricFixedRank(5, 2, "complex")):
        x, y = random_point(manifold, rng), random_point(manifold, rng)
        assert x.frobenius_distance(y) == pytest.approx(
            np.linalg.norm(np.asarray(x) - np.asarray(y)), rel=1e-12
        )
        near = manifold.retraction(x, 1e-9 * manifold.random_tangent_vector(x))
        exact = np.linalg.norm(np.asarray(x) - np.asarray(near))
        assert abs(x.frobenius_distance(near) - exact) < 1e-14 * x.frobenius_norm()
        assert x.frobenius_distance(x.copy()) < 1e-14 * x.frobenius_norm()
        assert x.frobenius_norm() == pytest.approx(np.linalg.norm(np.asarray(x)), rel=1e-12)
        restored = pickle.loads(pickle.dumps(x))
        assert same_point(restored, x)
        xi = manifold.random_tangent_vector(x)
        restored_vector = pickle.loads(pickle.dumps(xi))
        assert type(restored_vector) is type(xi)
        assert manifold.norm(x, restored_vector - xi) == 0.0
    with pytest.raises(TypeError, match="other must be a factored point"):
        x.frobenius_distance(np.zeros((5, 5)))


def test_geometry_returns_the_manifold_tangent_type(rng):
    """Tangent bases and random tangent vectors come back as the manifold's own vector type."""
    from manifoldscape.geometry import as_tangent, random_tangent_vector

    for manifold, kind in (
        (FixedRank(5, 4, 2), FixedRankTangentVector),
        (SymmetricFixedRank(5, 2, "complex"), SymmetricTangentVector),
    ):
        x = random_point(manifold, rng)
        basis = tangent_basis(manifold, x)
        assert isinstance(basis.to_vector(np.ones(basis.dim)), kind)
        assert isinstance(random_tangent_vector(manifold, x, rng), kind)
        assert isinstance(as_tangent(manifold, list(manifold.zero_vector(x))), kind)


class _DistanceObjective(ms.Objective):
    """½‖X − B‖² written by hand (batched Hessian), with its autograd twin."""

    batched_hessian = True

    def __init__(self, b):
        self.b = b

    def cost(self, x, data):
        return 0.5 * np.linalg.norm(np.asarray(x) - self.b) ** 2

    def euclidean_gradient(self, x, data):
        return np.asarray(x) - self.b

    def euclidean_hessian(self, x, data, direction):
        return np.asarray(direction)

    def autograd_cost(self, x):
        return 0.5 * anp.sum((x - self.b) ** 2)


def test_hand_written_objective_matches_its_autograd_twin(rng):
    manifold = FixedRank(7, 5, 2)
    truth = random_point(manifold, rng)
    problem = ms.Problem(manifold, _DistanceObjective(np.asarray(truth)), truth=truth)
    testing.assert_matches_autograd(problem, points=2, seed=rng)
    testing.assert_derivatives(problem, points=2, seed=rng)
    result = ms.solve(problem, seed=rng)
    assert problem.recovered(result.point)
    assert result.certificate.verdict.value == "local_minimizer"
    assert result.certificate.tangent_dimension == manifold.dim
