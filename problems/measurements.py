"""Matrix-free measurement operators for phase retrieval: Gaussian and coded diffraction.

A measurement operator is a linear map 𝒜 from signals x (a vector of shape (n,) or an image of
shape (n1, n2), real or complex) to measurements 𝒜x of shape ``output_shape`` (m = its size in
total).  Every operator gives

* ``apply(x)``   = 𝒜 x,   for x of shape (*batch, *signal_shape) → (*batch, *output_shape);
* ``adjoint(y)`` = 𝒜* y,  for y of shape (*batch, *output_shape) → (*batch, *signal_shape),

the adjoint for the real inner product Re⟨u, v⟩ = Re Σ ū v on both sides, which for a complex
operator is the usual conjugate transpose: ⟨𝒜x, y⟩ = ⟨x, 𝒜*y⟩.  Leading batch axes are
supported by both products (one BLAS call or one FFT for a whole batch).

Models
------
``GaussianMeasurements(a)``: 𝒜x = A x with a dense m × n matrix whose rows are the measurement
vectors a_iᴴ (seed 003 §2.2: y = |A x|², "generic" A; seed 000: a_i i.i.d. Gaussian).
``gaussian_measurements(m, n, field, seed)`` draws A with i.i.d. N(0, 1) entries (real) or
(N(0, 1) + i N(0, 1))/√2 entries (complex), so that E|a_ij|² = 1 and E 𝒜*𝒜 = m I in both
fields.

``CodedDiffraction(masks)``: the coded diffraction patterns (CDP) of Candès, Li and
Soltanolkotabi, "Phase retrieval from coded diffraction patterns", ACHA 39 (2015) 277–299
(seed 003 ref. [83], seed 003 §2 "Structured measurements" y_l = |F[d_l ∘ x]|; seed 000,
"Diffraction imaging": A = [F Diag(d_1) … F Diag(d_L)]ᵀ):

    𝒜x = [F(d_1 ∘ x), …, F(d_L ∘ x)],   output shape (L, *signal_shape),  m = L · n,

with F the *unnormalised* discrete Fourier transform (``numpy.fft.fft`` for 1-D signals,
``numpy.fft.fft2`` for images: F x[k] = Σ_t x[t] e^{−2πi k t / n}).  Its adjoint is

    𝒜*y = Σ_l conj(d_l) ∘ F* y_l,   F* = n · ifft  (n1 n2 · ifft2 for images),

so F*F = n I and 𝒜*𝒜 = n Σ_l diag(|d_l|²).  No m × n matrix is ever formed: one product costs
L FFTs of the signal's size.  ``coded_diffraction(signal_shape, L, seed)`` draws the masks of
the octanary model of Candès–Li–Soltanolkotabi (2015; also used in Candès–Li–Soltanolkotabi,
"Phase retrieval via Wirtinger flow", IEEE Trans. Inf. Theory 61 (2015), §4, CDP experiments):
d = b₁ b₂ with b₁ uniform on {1, −1, i, −i} and, independently, b₂ = √2/2 with probability
4/5 and √3 with probability 1/5, so that E d = 0, E|d|² = 1 and E|d|⁴ = 2 — the same second
moment as a Gaussian entry, hence E 𝒜*𝒜 = m I as for ``gaussian_measurements``.
``model="phase"`` (b₁ alone, |d| = 1) is the simpler unimodular variant.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    require_finite,
    require_positive_int,
)

__all__ = [
    "CodedDiffraction",
    "GaussianMeasurements",
    "MeasurementOperator",
    "coded_diffraction",
    "gaussian_measurements",
]

_FIELDS = ("real", "complex")


def _check_field(field: Any) -> str:
    if field not in _FIELDS:
        raise ValueError(f"field must be 'real' or 'complex', got {field!r}")
    return field


def _numeric_array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(complex if array.dtype.kind == "c" else float)
    require_finite(array, name)
    return array


def _single(v: np.ndarray) -> np.ndarray:
    """The array rounded to complex64 (complex) or float32 (real)."""
    return np.asarray(v).astype(np.complex64 if np.iscomplexobj(v) else np.float32, copy=False)


class MeasurementOperator(abc.ABC):
    """A linear map x ↦ 𝒜x with its adjoint, applied without forming a matrix.

    Attributes: ``signal_shape`` (shape of x), ``output_shape`` (shape of 𝒜x), ``n`` and ``m``
    (their sizes), ``is_complex`` (whether 𝒜 has complex entries, so that 𝒜x is complex even
    for real x).
    """

    signal_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    is_complex: bool

    @property
    def n(self) -> int:
        """Number of unknowns (entries of x)."""
        return int(np.prod(self.signal_shape))

    @property
    def m(self) -> int:
        """Number of measurements (entries of 𝒜x)."""
        return int(np.prod(self.output_shape))

    @abc.abstractmethod
    def apply(self, x: np.ndarray) -> np.ndarray:
        """𝒜x for x of shape (*batch, *signal_shape)."""

    @abc.abstractmethod
    def adjoint(self, y: np.ndarray) -> np.ndarray:
        """𝒜*y for y of shape (*batch, *output_shape)."""

    @abc.abstractmethod
    def autograd_apply(self, x: Any) -> Any:
        """𝒜x written with ``autograd.numpy`` (the reference for autograd twins)."""

    @abc.abstractmethod
    def row_norms_squared(self) -> np.ndarray:
        """‖a_i‖² for every measurement i, of shape ``output_shape``."""

    #: whether ``apply_single``/``adjoint_single`` compute in single precision (not rounded)
    computes_single = False

    def apply_single(self, x: np.ndarray) -> np.ndarray:
        """𝒜x in single precision (float32 or complex64) for a single-precision x.

        The default computes in double and rounds; operators with single-precision kernels
        (``computes_single``) compute in float32/complex64 throughout, to float32 round-off.
        """
        double = np.complex128 if np.iscomplexobj(x) else np.float64
        return _single(self.apply(np.asarray(x, dtype=double)))

    def adjoint_single(self, y: np.ndarray) -> np.ndarray:
        """𝒜*y in single precision for a single-precision y (see ``apply_single``)."""
        double = np.complex128 if np.iscomplexobj(y) else np.float64
        return _single(self.adjoint(np.asarray(y, dtype=double)))

    def dense(self) -> np.ndarray:
        """The m × n matrix of 𝒜 (rows a_iᴴ): for tests at small sizes only."""
        eye = np.eye(self.n).reshape(self.n, *self.signal_shape)
        return self.apply(eye).reshape(self.n, self.m).T

    def _check_signal(self, x: np.ndarray, name: str = "x") -> None:
        shape = np.shape(x)
        k = len(self.signal_shape)
        if tuple(shape[len(shape) - k :]) != self.signal_shape or len(shape) < k:
            raise ValueError(
                f"{name} must end with the signal shape {self.signal_shape}, got shape {shape}"
            )

    def _check_output(self, y: np.ndarray, name: str = "y") -> None:
        shape = np.shape(y)
        k = len(self.output_shape)
        if tuple(shape[len(shape) - k :]) != self.output_shape or len(shape) < k:
            raise ValueError(
                f"{name} must end with the measurement shape {self.output_shape}, got shape {shape}"
            )


class GaussianMeasurements(MeasurementOperator):
    """𝒜x = A x for a dense m × n matrix A (rows a_iᴴ), real or complex (seed 003 §2.2).

    ``a`` must be a finite two-dimensional numeric array; it is stored as float or complex.
    """

    def __init__(self, a: Any):
        a = _numeric_array(a, "a")
        if a.ndim != 2 or min(a.shape) < 1:
            raise ValueError(f"a must be an m × n matrix (2 dimensions), got shape {a.shape}")
        self.a = a
        self.is_complex = a.dtype.kind == "c"
        self.signal_shape = (a.shape[1],)
        self.output_shape = (a.shape[0],)
        self._a_h = a.conj().T if self.is_complex else a.T

    def apply(self, x: np.ndarray) -> np.ndarray:  # noqa: D102
        self._check_signal(x)
        return x @ self.a.T if np.ndim(x) > 1 else self.a @ x

    def adjoint(self, y: np.ndarray) -> np.ndarray:  # noqa: D102
        self._check_output(y, "y")
        return y @ self.a.conj() if np.ndim(y) > 1 else self._a_h @ y

    computes_single = True

    def _single_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """A and Aᴴ in float32/complex64, made on first use (half of A's memory more)."""
        pair = self.__dict__.get("_single_pair")
        if pair is None:
            a = _single(self.a)
            pair = self._single_pair = (a, a.conj().T if self.is_complex else a.T)
        return pair

    def apply_single(self, x: np.ndarray) -> np.ndarray:
        """A x with a single-precision copy of A (float32 or complex64)."""
        self._check_signal(x)
        a, _ = self._single_matrices()
        return x @ a.T if np.ndim(x) > 1 else a @ x

    def adjoint_single(self, y: np.ndarray) -> np.ndarray:
        """Aᴴ y with a single-precision copy of A."""
        self._check_output(y, "y")
        a, a_h = self._single_matrices()
        return y @ a.conj() if np.ndim(y) > 1 else a_h @ y

    def autograd_apply(self, x: Any) -> Any:  # noqa: D102
        import autograd.numpy as anp

        return anp.dot(self.a, x)

    def row_norms_squared(self) -> np.ndarray:  # noqa: D102
        return np.sum(np.abs(self.a) ** 2, axis=1)

    def dense(self) -> np.ndarray:  # noqa: D102
        return self.a

    def __repr__(self) -> str:
        kind = "complex" if self.is_complex else "real"
        return f"GaussianMeasurements(m={self.m}, n={self.n}, {kind})"


def gaussian_measurements(
    m: int, n: int, field: str = "real", seed: Seed = None
) -> GaussianMeasurements:
    """A seeded Gaussian measurement matrix (seed 000; seed 003 §2.2).

    Real: A_ij ~ N(0, 1) i.i.d.  Complex: A_ij = (g + i h)/√2 with g, h ~ N(0, 1) i.i.d., i.e.
    a standard circularly-symmetric complex Gaussian, E|A_ij|² = 1.
    """
    m = require_positive_int(m, "m")
    n = require_positive_int(n, "n")
    field = _check_field(field)
    rng = as_generator(seed)
    if field == "real":
        return GaussianMeasurements(rng.standard_normal((m, n)))
    return GaussianMeasurements(
        (rng.standard_normal((m, n)) + 1j * rng.standard_normal((m, n))) / np.sqrt(2.0)
    )


class CodedDiffraction(MeasurementOperator):
    """Coded diffraction patterns 𝒜x = [F(d_l ∘ x)]_{l=1..L} (Candès–Li–Soltanolkotabi 2015).

    ``masks`` has shape (L, n) for 1-D signals of shape (n,) or (L, n1, n2) for images of shape
    (n1, n2); entries finite.  F is the unnormalised DFT (``numpy.fft.fft`` / ``fft2``), the
    adjoint 𝒜*y = Σ_l conj(d_l) ∘ F*y_l with F* = (size) · ifft; see the module docstring.
    """

    def __init__(self, masks: Any):
        masks = _numeric_array(masks, "masks")
        if masks.ndim not in (2, 3):
            raise ValueError(
                "masks must have shape (L, n) for 1-D signals or (L, n1, n2) for images, "
                f"got shape {masks.shape}"
            )
        if min(masks.shape) < 1:
            raise ValueError(f"masks must not be empty, got shape {masks.shape}")
        self.masks = masks
        self.is_complex = True
        self.signal_shape = tuple(masks.shape[1:])
        self.output_shape = tuple(masks.shape)
        self._axes = tuple(range(-len(self.signal_shape), 0))
        self._masks_conj = masks.conj()

    @property
    def n_masks(self) -> int:
        """L, the number of masks."""
        return self.masks.shape[0]

    def apply(self, x: np.ndarray) -> np.ndarray:  # noqa: D102
        self._check_signal(x)
        k = len(self.signal_shape)
        x = np.asarray(x)
        expanded = x.reshape((*x.shape[: x.ndim - k], 1, *self.signal_shape))
        # scipy's pocketfft, in place on the fresh product d_l ∘ x (faster than numpy.fft)
        return scipy.fft.fftn(self.masks * expanded, axes=self._axes, overwrite_x=True)

    def adjoint(self, y: np.ndarray) -> np.ndarray:  # noqa: D102
        self._check_output(y, "y")
        # n · ifft as one unnormalised backward transform (norm="forward" puts 1/n on fft)
        back = scipy.fft.ifftn(y, axes=self._axes, norm="forward")
        back *= self._masks_conj
        return np.sum(back, axis=-len(self.output_shape))

    computes_single = True

    def _single_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """The masks and their conjugates in complex64, made on first use."""
        pair = self.__dict__.get("_single_pair")
        if pair is None:
            masks = self.masks.astype(np.complex64)
            pair = self._single_pair = (masks, masks.conj())
        return pair

    def apply_single(self, x: np.ndarray) -> np.ndarray:
        """[F(d_l ∘ x)]_l in complex64 (``scipy.fft`` keeps single precision)."""
        self._check_signal(x)
        masks, _ = self._single_masks()
        k = len(self.signal_shape)
        x = np.asarray(x)
        expanded = x.reshape((*x.shape[: x.ndim - k], 1, *self.signal_shape))
        return scipy.fft.fftn(masks * expanded, axes=self._axes, overwrite_x=True)

    def adjoint_single(self, y: np.ndarray) -> np.ndarray:
        """Σ_l conj(d_l) ∘ F*y_l in complex64."""
        self._check_output(y, "y")
        _, conj = self._single_masks()
        back = scipy.fft.ifftn(y, axes=self._axes, norm="forward")
        back *= conj
        return np.sum(back, axis=-len(self.output_shape))

    def autograd_apply(self, x: Any) -> Any:  # noqa: D102
        import autograd.numpy as anp

        if len(self.signal_shape) == 1:
            return anp.fft.fft(self.masks * x[None, :], axis=-1)
        return anp.fft.fft2(self.masks * x[None, :, :], axes=(-2, -1))

    def row_norms_squared(self) -> np.ndarray:  # noqa: D102
        # every Fourier row of F Diag(d_l) has squared norm Σ_t |d_l[t]|²
        per_mask = np.sum(np.abs(self.masks) ** 2, axis=self._axes)
        return np.broadcast_to(
            per_mask.reshape((-1,) + (1,) * len(self.signal_shape)), self.output_shape
        ).copy()

    def __repr__(self) -> str:
        return f"CodedDiffraction(L={self.n_masks}, signal_shape={self.signal_shape})"


def coded_diffraction(
    signal_shape: int | Sequence[int], n_masks: int = 6, model: str = "octanary", seed: Seed = None
) -> CodedDiffraction:
    """Random CDP masks: the octanary model of Candès–Li–Soltanolkotabi (2015).

    d = b₁ b₂, b₁ uniform on {1, −1, i, −i}, b₂ = √2/2 (probability 4/5) or √3 (probability
    1/5); ``model="phase"`` uses b₁ alone.  ``signal_shape`` is n (1-D) or (n1, n2) (images).
    """
    if isinstance(signal_shape, (int, np.integer)) and not isinstance(signal_shape, bool):
        shape: tuple[int, ...] = (require_positive_int(signal_shape, "signal_shape"),)
    elif isinstance(signal_shape, (tuple, list)) and len(signal_shape) in (1, 2):
        shape = tuple(require_positive_int(s, "signal_shape") for s in signal_shape)
    else:
        raise ValueError(f"signal_shape must be n or (n1, n2), got {signal_shape!r}")
    n_masks = require_positive_int(n_masks, "n_masks")
    if model not in ("octanary", "phase"):
        raise ValueError(f"model must be 'octanary' or 'phase', got {model!r}")
    rng = as_generator(seed)
    size = (n_masks, *shape)
    b1 = np.array([1.0, -1.0, 1j, -1j])[rng.integers(0, 4, size=size)]
    if model == "phase":
        return CodedDiffraction(b1)
    b2 = np.where(rng.random(size) < 0.8, np.sqrt(2.0) / 2.0, np.sqrt(3.0))
    return CodedDiffraction(b1 * b2)
