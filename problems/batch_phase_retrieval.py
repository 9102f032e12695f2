"""Batched evaluation of real Gaussian phase retrieval: K points as the columns of Z (n × K).

A mixin of ``PhaseRetrievalObjective`` (``problems.phase_retrieval``) for the batched
multi-start solvers (``manifoldscape.solvers.batched``, issue 14 item 2).  With W = A Z (m × K,
one matrix-matrix product for all K points), U = W ∘ W and the per-measurement functions r_i of
the loss (seed 000; module docstring of ``problems.phase_retrieval``), column k holds

    f(z_k)        = (1/m) Σ_i ρ_i(U_ik),
    ∇f(z_k)       = (1/m) Aᵀ(2 r'(U) ∘ W)_{:,k},
    ∇²f(z_k)[v_k] = (1/m) Aᵀ((2 r'(U) + 4 r''(U) ∘ W ∘ W) ∘ A V)_{:,k},

the same formulas, elementwise, as the per-point methods ``prepare`` / ``cost`` /
``euclidean_gradient`` / ``euclidean_hessian``: one A Z per set of points, one Aᵀ for the
gradients, one A V and one Aᵀ per batch of Hessian-vector products.  Covered: a real signal
measured by a real dense matrix (``GaussianMeasurements``) with the intensity, amplitude and
smoothed-amplitude losses; other configurations raise ``NotImplementedError``.

``data`` (from ``prepare_batch``) is a dict of arrays whose last axis indexes the columns, so a
solver may keep a subset of columns by indexing every array's last axis.  For the Lanczos
estimates of the batched stopping rule: ``prepare_hessian_batch`` (the Hessian's factor alone),
``hessian_batch_common`` (one direction u at every point: one A u) and
``hessian_quadratic_batch`` (⟨v_k, ∇²f(z_k)[v_k]⟩: one A V, no Aᵀ).  Products with 48 columns
or more are made in column blocks of at most 32 (``_product``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from manifoldscape.geometry.batched import column_dots
from manifoldscape.problems.measurements import GaussianMeasurements

__all__ = ["BATCH_LOSSES", "PhaseRetrievalBatch"]

BATCH_LOSSES = ("intensity", "amplitude", "smoothed_amplitude")

_WIDE = 48  # from this many columns on, a product is made in blocks of at most 32 columns


def _product(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A Z, in column blocks of at most 32 when Z has ``_WIDE`` columns or more.

    With one thread, OpenBLAS multiplies a 384 × 64 matrix by 64 columns some 20% slower per
    column than by 32 (measured here); column j of the product is A z_j either way.
    """
    k = z.shape[1]
    if k < _WIDE:
        return a @ z
    out = np.empty((a.shape[0], k), dtype=np.result_type(a, z))
    blocks = -(-k // 32)
    for lo, hi in itertools.pairwise([k * i // blocks for i in range(blocks + 1)]):
        np.matmul(a, z[:, lo:hi], out=out[:, lo:hi])
    return out


def amplitude_terms(
    u: np.ndarray, s: np.ndarray, loss: str, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ρ(u), r'(u), r''(u) of the amplitude losses, elementwise in u = |a_iᴴz|² (any shape).

    Amplitude: ρ = ½(√u − s)², r' = ½(1 − s/√u), r'' = ¼ s u^{−3/2} (0 where u = 0); smoothed
    amplitude replaces them inside √u ≤ α s by ½ c², c = u/(2α s) + (α/2 − 1) s (module
    docstring of ``problems.phase_retrieval``).  Shared by ``prepare`` and ``prepare_batch``,
    ``s`` broadcast against ``u``.
    """
    absw = np.sqrt(u)
    inv = np.divide(1.0, absw, out=np.zeros_like(absw), where=absw > 0)
    rho = 0.5 * (absw - s) ** 2
    r1 = 0.5 * (1.0 - s * inv)
    r2 = 0.25 * s * inv**3
    if loss == "smoothed_amplitude":
        c_a, c_b = 0.5 / alpha, 0.5 * alpha
        inside = (absw <= alpha * s) & (s > 0)
        s_in = np.where(inside, s, 1.0)
        core = c_a * u / s_in + (c_b - 1.0) * s_in
        rho = np.where(inside, 0.5 * core**2, rho)
        r1 = np.where(inside, c_a / s_in * core, r1)
        r2 = np.where(inside, c_a**2 / s_in**2, r2)
    return rho, r1, r2


class PhaseRetrievalBatch:
    """``prepare_batch``, ``cost_batch``, ``gradient_batch``, ``hessian_batch`` on columns."""

    # set by PhaseRetrievalObjective
    operator: Any
    y: np.ndarray
    s: np.ndarray
    loss: str
    real: bool
    scale: float
    alpha: float
    # caches, set on first use
    _batch_a: np.ndarray | None = None
    _y_tiled: np.ndarray | None = None

    def _batch_matrix(self) -> np.ndarray:
        if self._batch_a is not None:  # checked before
            return self._batch_a
        op = self.operator
        if not (self.real and isinstance(op, GaussianMeasurements) and not op.is_complex):
            raise NotImplementedError(
                "batch methods of phase retrieval need a real signal and real Gaussian "
                f"measurements, got field={'real' if self.real else 'complex'} and {op!r}"
            )
        if self.loss not in BATCH_LOSSES:
            raise NotImplementedError(
                f"batch methods of phase retrieval cover the losses {', '.join(BATCH_LOSSES)}, "
                f"got {self.loss!r}"
            )
        self._batch_a = op.a
        return op.a

    def _tiled_y(self, k: int) -> np.ndarray:
        """The intensities y repeated in k columns (m × k), kept for the last k.

        A broadcast subtraction costs several times a contiguous one on a batch's small blocks.
        """
        tiled = self._y_tiled
        if tiled is None or tiled.shape[1] != k:
            tiled = self._y_tiled = np.repeat(self.y[:, None], k, axis=1)
        return tiled

    def prepare_batch(self, z: np.ndarray) -> dict[str, Any]:
        """W = A Z (one product), U = W ∘ W and r'(U), r''(U) for every column of Z (n × K)."""
        a = self._batch_matrix()
        w = _product(a, z)
        if self.loss == "intensity":
            e = w * w
            tiled = self._y_tiled
            e -= (
                tiled if tiled is not None and tiled.shape == e.shape else self._tiled_y(e.shape[1])
            )
            # ρ = ½ e², r' = e, r'' = 1 (as in ``prepare``)
            return {"w": w, "total": 0.5 * column_dots(e, e), "r1": e}
        u = w**2
        rho, r1, r2 = amplitude_terms(u, self.s[:, None], self.loss, self.alpha)
        return {"w": w, "total": np.sum(rho, axis=0), "r1": r1, "r2": r2}

    def cost_batch(self, z: np.ndarray, data: dict[str, Any]) -> np.ndarray:
        """f(z_k) for every column (shape (K,))."""
        return self.scale * data["total"]

    def gradient_batch(self, z: np.ndarray, data: dict[str, Any]) -> np.ndarray:
        """∇f(z_k) = (1/m) Aᵀ(2 r' ∘ w_k), column by column (n × K): one product Aᵀ."""
        a = self._batch_matrix()
        inner = data["r1"] * data["w"]
        out = _product(a.T, inner)
        out *= 2.0 * self.scale  # = scale · Aᵀ(2 r' ∘ w) exactly (a factor 2 is exact)
        return out

    def hessian_data_batch(self, z: np.ndarray, data: dict[str, Any]) -> dict[str, Any]:
        """The part of ``data`` that ``hessian_batch`` reads: the factor 2 r' + 4 r'' w² (m × K).

        Solvers that apply many Hessians at the same points and drop columns as they go carry
        this instead of all of ``data``.
        """
        if "hessian_factor" not in data:
            w = data["w"]
            r2 = data.get("r2")
            r2 = 1.0 if r2 is None else r2
            data["hessian_factor"] = 2.0 * data["r1"] + 4.0 * r2 * w * w
        return {"hessian_factor": data["hessian_factor"]}

    def prepare_hessian_batch(self, z: np.ndarray) -> dict[str, Any]:
        """``hessian_data_batch(z, prepare_batch(z))`` without the cost terms: W = A Z, U = W ∘ W.

        For solvers that only apply Hessians at points already evaluated (the batched gradient
        test's Lanczos estimates).  The intensity loss in fewer passes, with the same roundings
        as ``hessian_data_batch``: 2 r' + 4 r'' w² = 2 (U − y) + 4 U (r'' = 1, 4 w · w = 4 U
        exactly).
        """
        a = self._batch_matrix()
        if self.loss != "intensity":
            return self.hessian_data_batch(z, self.prepare_batch(z))
        w = _product(a, z)
        u = w * w
        factor = u - self.y[:, None]
        factor *= 2.0
        u *= 4.0
        factor += u
        return {"hessian_factor": factor}

    def hessian_batch(
        self, z: np.ndarray, v: np.ndarray, data: dict[str, Any] | None = None
    ) -> np.ndarray:
        """∇²f(z_k)[v_k] column by column (n × K): one product A V and one Aᵀ.

        ``data`` is ``prepare_batch(z)`` or ``hessian_data_batch(z, ·)`` of it (computed here
        if None); the elementwise factor 2 r' + 4 r'' w² is cached in it by the first product.
        """
        if data is None:
            data = self.prepare_batch(z)  # checks the configuration
        factor = data.get("hessian_factor")
        if factor is None:
            factor = self.hessian_data_batch(z, data)["hessian_factor"]
        a = self.operator.a
        av = _product(a, v)
        av *= factor
        out = _product(a.T, av)
        out *= self.scale
        return out

    def _factor(self, z: np.ndarray, data: dict[str, Any]) -> np.ndarray:
        factor = data.get("hessian_factor")
        if factor is None:
            factor = self.hessian_data_batch(z, data)["hessian_factor"]
        return factor

    def hessian_batch_common(
        self, z: np.ndarray, u: np.ndarray, data: dict[str, Any]
    ) -> np.ndarray:
        """∇²f(z_k)[u] for one direction u (shape (n,)) at every column z_k: one product A u.

        (1/m) Aᵀ((2 r' + 4 r'' w²) ∘ A u), the factor per column; ``data`` as for
        ``hessian_batch`` (not None).
        """
        a = self._batch_matrix()
        inner = self._factor(z, data) * (a @ u)[:, None]
        out = _product(a.T, inner)
        out *= self.scale
        return out

    def hessian_quadratic_batch(
        self, z: np.ndarray, v: np.ndarray, data: dict[str, Any]
    ) -> np.ndarray:
        """⟨v_k, ∇²f(z_k)[v_k]⟩ = (1/m) Σ_i (2 r' + 4 r'' w²)_ik (A V)_ik² per column: one A V.

        ``data`` as for ``hessian_batch`` (not None); shape (K,).
        """
        av = _product(self._batch_matrix(), v)
        weighted = self._factor(z, data) * av
        return self.scale * column_dots(weighted, av)

    def euclidean_hessian_single(
        self, x: np.ndarray, data: dict[str, Any], direction: np.ndarray
    ) -> np.ndarray:
        """∇²f(x)[u] = (1/m) Aᵀ((2 r' + 4 r'' w²) ∘ A u) in float32, for a float32 direction u.

        For trust regions with ``inner_precision="single"`` (``Problem.riemannian_hessian_single``).
        In the configurations of the batch methods (real signal, real ``GaussianMeasurements``,
        the losses ``BATCH_LOSSES``) it uses a float32 copy of A, made on the first call (50%
        more memory for A, spent only when single precision is asked for), and the per-point
        factor rounded once and cached in ``data``; elsewhere it is the double product, rounded.
        """
        try:
            a = self._batch_matrix()
        except NotImplementedError:
            product = self.euclidean_hessian(x, data, direction.astype(np.float64))  # type: ignore[attr-defined]
            return np.asarray(product).astype(np.float32)
        a_single = getattr(self, "_a_single", None)
        if a_single is None:
            a_single = self._a_single = np.ascontiguousarray(a, dtype=np.float32)
        factor = data.get("hessian_factor_single")
        if factor is None:
            double = self.hessian_data_batch(x, data)["hessian_factor"]
            factor = data["hessian_factor_single"] = double.astype(np.float32)
        av = a_single @ direction
        av *= factor
        out = a_single.T @ av
        out *= np.float32(self.scale)
        return out
