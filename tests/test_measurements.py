"""Measurement operators: adjoints (dot-product test), CDP against its formula, masks, bad input."""

import numpy as np
import pytest

from manifoldscape.problems.measurements import (
    CodedDiffraction,
    GaussianMeasurements,
    coded_diffraction,
    gaussian_measurements,
)


def _random(shape, rng, complex_=True):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


def _operators():
    return [
        pytest.param(lambda: gaussian_measurements(17, 5, "real", seed=0), id="gaussian-real"),
        pytest.param(
            lambda: gaussian_measurements(17, 5, "complex", seed=0), id="gaussian-complex"
        ),
        pytest.param(lambda: coded_diffraction(7, 3, seed=0), id="cdp-1d"),
        pytest.param(lambda: coded_diffraction((4, 6), 2, seed=0), id="cdp-2d"),
        pytest.param(lambda: coded_diffraction((5, 3), 4, model="phase", seed=0), id="cdp-phase"),
    ]


@pytest.mark.parametrize("make", _operators())
def test_adjoint_passes_the_dot_product_test(make, rng):
    op = make()
    x = _random(op.signal_shape, rng)
    y = _random(op.output_shape, rng)
    lhs = np.vdot(op.apply(x), y)  # ⟨𝒜x, y⟩
    rhs = np.vdot(x, op.adjoint(y))  # ⟨x, 𝒜*y⟩
    assert abs(lhs - rhs) <= 1e-12 * np.linalg.norm(op.apply(x)) * np.linalg.norm(y)
    # a wrong scaling of the adjoint (ifft without the factor n) would fail the same test
    assert abs(lhs) > 1e-3 * np.linalg.norm(op.apply(x)) * np.linalg.norm(y) / op.m


@pytest.mark.parametrize("make", _operators())
def test_batches_are_applied_item_by_item(make, rng):
    op = make()
    xs = _random((3, *op.signal_shape), rng)
    ys = _random((3, *op.output_shape), rng)
    applied, adjoints = op.apply(xs), op.adjoint(ys)
    assert applied.shape == (3, *op.output_shape)
    assert adjoints.shape == (3, *op.signal_shape)
    for k in range(3):
        np.testing.assert_allclose(applied[k], op.apply(xs[k]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(adjoints[k], op.adjoint(ys[k]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", _operators())
def test_dense_matrix_and_row_norms(make, rng):
    op = make()
    a = op.dense()
    assert a.shape == (op.m, op.n)
    x = _random(op.signal_shape, rng)
    np.testing.assert_allclose(a @ x.ravel(), op.apply(x).ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        op.row_norms_squared().ravel(), np.sum(np.abs(a) ** 2, axis=1), rtol=1e-12
    )


def test_cdp_is_the_fourier_transform_of_the_masked_signal(rng):
    """𝒜x = [F(d_l ∘ x)]_l with F the unnormalised DFT, F[k, t] = e^{−2πi kt/n}."""
    n, masks = 8, 3
    op = coded_diffraction(n, masks, seed=1)
    x = _random(n, rng)
    k = np.arange(n)
    f = np.exp(-2j * np.pi * np.outer(k, k) / n)
    expected = np.stack([f @ (op.masks[j] * x) for j in range(masks)])
    np.testing.assert_allclose(op.apply(x), expected, rtol=1e-12, atol=1e-12)
    # 𝒜*𝒜 = n Σ_l diag(|d_l|²): the normalisation stated in the module docstring
    np.testing.assert_allclose(
        op.adjoint(op.apply(x)), n * np.sum(np.abs(op.masks) ** 2, axis=0) * x, rtol=1e-12
    )


def test_cdp_images_use_the_two_dimensional_transform(rng):
    op = coded_diffraction((4, 5), 2, seed=2)
    x = _random((4, 5), rng)
    for j in range(2):
        np.testing.assert_allclose(op.apply(x)[j], np.fft.fft2(op.masks[j] * x), rtol=1e-12)


def test_octanary_masks_have_the_model_values_and_moments():
    op = coded_diffraction((64, 64), 6, seed=0)
    d = op.masks
    phases = d / np.abs(d)
    assert np.all(np.isin(np.round(phases, 12), [1, -1, 1j, -1j]))
    assert set(np.round(np.abs(d), 12).ravel()) == {
        np.round(np.sqrt(2) / 2, 12),
        np.round(np.sqrt(3), 12),
    }
    # E d = 0, E|d|² = 1, E|d|⁴ = 2 (Candès–Li–Soltanolkotabi 2015)
    assert abs(np.mean(d)) < 0.02
    assert np.mean(np.abs(d) ** 2) == pytest.approx(1.0, abs=0.02)
    assert np.mean(np.abs(d) ** 4) == pytest.approx(2.0, abs=0.1)
    unimodular = coded_diffraction(16, 2, model="phase", seed=0)
    np.testing.assert_allclose(np.abs(unimodular.masks), 1.0)


def test_gaussian_matrices_have_unit_variance_entries():
    real = gaussian_measurements(400, 50, "real", seed=0)
    cplx = gaussian_measurements(400, 50, "complex", seed=0)
    assert not real.is_complex and cplx.is_complex
    assert np.mean(real.a**2) == pytest.approx(1.0, abs=0.03)
    assert np.mean(np.abs(cplx.a) ** 2) == pytest.approx(1.0, abs=0.03)
    assert np.mean(cplx.a.real**2) == pytest.approx(0.5, abs=0.03)


def test_seeded_operators_are_reproducible():
    np.testing.assert_array_equal(
        gaussian_measurements(6, 3, seed=5).a, gaussian_measurements(6, 3, seed=5).a
    )
    np.testing.assert_array_equal(
        coded_diffraction(6, 2, seed=5).masks, coded_diffraction(6, 2, seed=5).masks
    )
    assert not np.array_equal(
        coded_diffraction(6, 2, seed=5).masks, coded_diffraction(6, 2, seed=6).masks
    )


def test_user_matrices_and_masks_are_accepted():
    a = np.arange(6.0).reshape(3, 2)
    op = GaussianMeasurements(a)
    assert (op.m, op.n, op.signal_shape) == (3, 2, (2,))
    np.testing.assert_allclose(op.apply(np.array([1.0, -1.0])), [-1.0, -1.0, -1.0])
    masks = CodedDiffraction(np.ones((2, 3, 4)))
    assert masks.signal_shape == (3, 4) and masks.output_shape == (2, 3, 4) and masks.m == 24


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: GaussianMeasurements(np.ones(3)), "a must be an m × n matrix"),
        (lambda: GaussianMeasurements([[1.0, np.nan]]), "a must be finite"),
        (lambda: GaussianMeasurements([["x"]]), "a must be numeric"),
        (lambda: CodedDiffraction(np.ones(4)), r"masks must have shape \(L, n\)"),
        (lambda: CodedDiffraction(np.ones((1, 2, 3, 4))), r"masks must have shape \(L, n\)"),
        (lambda: CodedDiffraction([[1.0, np.inf]]), "masks must be finite"),
        (lambda: gaussian_measurements(0, 3), "m must be"),
        (lambda: gaussian_measurements(3, 3, field="quaternion"), "field must be"),
        (lambda: coded_diffraction((2, 3, 4)), "signal_shape must be"),
        (lambda: coded_diffraction(4, 2, model="binary"), "model must be"),
    ],
)
def test_bad_input_names_the_argument(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_products_refuse_the_wrong_shape():
    op = coded_diffraction((4, 4), 2, seed=0)
    with pytest.raises(ValueError, match=r"x must end with the signal shape \(4, 4\)"):
        op.apply(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"y must end with the measurement shape \(2, 4, 4\)"):
        op.adjoint(np.ones((3, 4, 4)))
    gauss = gaussian_measurements(5, 3, seed=0)
    with pytest.raises(ValueError, match="x must end with the signal shape"):
        gauss.apply(np.ones(4))
