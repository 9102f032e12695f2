"""Certify a point: critical or not, and minimizer, strict saddle, maximizer or degenerate.

Second-order classification on a manifold (seed 001, "Strict saddle function on manifold M", Sun
et al. 2015): at a critical point x (grad f(x) = 0) with Riemannian Hessian eigenvalues λ_k,

* all λ_k > 0 — strict local minimizer;
* some λ_k < 0 — negative curvature: a *strict saddle* if some other λ_k > 0, a strict local
  maximizer if all λ_k < 0;
* otherwise (an eigenvalue within tolerance of 0 and no sign that decides) — *degenerate*: the
  second-order test says nothing, and the certificate says so instead of over-claiming.

A continuous symmetry group G makes the orbit G·x a set of critical points, so the Hessian
vanishes along the orbit's tangent directions (seed 003 §2: "there is negative curvature in
directions that break symmetry" and none along it).  These directions are split off first and
reported as ``symmetry_eigenvalues``; the verdict and the index use the rest of the spectrum.

Tolerances scale with the problem (never a bare 1e-8):

    gradient_tolerance   = rtol_gradient · (‖Hess f(x)‖ · max(‖x‖, 1) + ‖∇f(x)‖)
    eigenvalue_tolerance = rtol_eigenvalue · ‖Hess f(x)‖ + ‖grad f(x)‖ / max(‖x‖, 1)

The first compares the gradient with the size it would have after a relative move of
``rtol_gradient`` and with the round-off floor of projecting ∇f; the second adds to the relative
accuracy of the eigenvalues the error they inherit from evaluating the Hessian at a point whose
gradient is not exactly zero.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.geometry import point_norm

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem

logger = logging.getLogger(__name__)


class Verdict(enum.Enum):
    """Second-order classification of a point."""

    LOCAL_MINIMIZER = "local_minimizer"
    STRICT_SADDLE = "strict_saddle"
    LOCAL_MAXIMIZER = "local_maximizer"
    DEGENERATE = "degenerate"
    NOT_CRITICAL = "not_critical"


@dataclass(frozen=True)
class Certificate:
    """The second-order certificate of a point (see the module docstring for the rules).

    ``eigenvalues`` are the Hessian eigenvalues off the symmetry orbit, ascending: all of them
    when ``method == "dense"``, the ``lanczos_k`` smallest and the largest when
    ``method == "lanczos"``.  ``index`` counts the negative ones; it is exact unless
    ``index_exact`` is False (Lanczos found only negative eigenvalues among those it computed, so
    the true index may be larger).  ``null_dimension`` counts eigenvalues within tolerance of 0
    off the orbit (exact for dense, a count among those computed for Lanczos).
    """

    verdict: Verdict
    cost: float
    gradient_norm: float
    index: int
    index_exact: bool
    min_eigenvalue: float
    max_eigenvalue: float
    eigenvalues: np.ndarray
    symmetry_eigenvalues: np.ndarray
    symmetry_dimension: int
    null_dimension: int
    tangent_dimension: int
    hessian_norm: float
    gradient_tolerance: float
    eigenvalue_tolerance: float
    method: str
    hessian_asymmetry: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def morse_nondegenerate(self) -> bool:
        """No eigenvalue within tolerance of 0 off the symmetry orbit (a Morse–Bott point)."""
        return self.null_dimension == 0 and len(self.eigenvalues) > 0

    @property
    def is_critical(self) -> bool:
        """Whether the gradient is within tolerance of zero."""
        return self.verdict is not Verdict.NOT_CRITICAL

    def summary(self) -> str:
        """One line: verdict, index and extreme eigenvalues."""
        index = f"{self.index}" if self.index_exact else f"≥{self.index}"
        text = (
            f"{self.verdict.value}, index {index}, eigenvalues in "
            f"[{self.min_eigenvalue:.4g}, {self.max_eigenvalue:.4g}]"
        )
        if self.symmetry_dimension:
            text += f", {self.symmetry_dimension} symmetry direction(s)"
        if self.null_dimension:
            text += f", {self.null_dimension} zero eigenvalue(s) off the orbit"
        return text

    def to_dict(self, max_eigenvalues: int = 200) -> dict[str, Any]:
        """Plain dict for JSON (eigenvalues listed when there are at most ``max_eigenvalues``)."""
        out: dict[str, Any] = {
            "verdict": self.verdict.value,
            "index": self.index,
            "index_exact": self.index_exact,
            "min_eigenvalue": self.min_eigenvalue,
            "max_eigenvalue": self.max_eigenvalue,
            "symmetry_dimension": self.symmetry_dimension,
            "null_dimension": self.null_dimension,
            "morse_nondegenerate": self.morse_nondegenerate,
            "gradient_norm": self.gradient_norm,
            "gradient_tolerance": self.gradient_tolerance,
            "eigenvalue_tolerance": self.eigenvalue_tolerance,
            "hessian_norm": self.hessian_norm,
            "tangent_dimension": self.tangent_dimension,
            "method": self.method,
            "cost": self.cost,
            "notes": list(self.notes),
        }
        if len(self.eigenvalues) <= max_eigenvalues:
            out["eigenvalues"] = self.eigenvalues.tolist()
            out["symmetry_eigenvalues"] = self.symmetry_eigenvalues.tolist()
        return out

    def __str__(self) -> str:
        return (
            f"{self.summary()}\n"
            f"  ‖grad f‖ = {self.gradient_norm:.3e} (tolerance {self.gradient_tolerance:.3e}), "
            f"eigenvalue tolerance {self.eigenvalue_tolerance:.3e}, "
            f"‖Hess f‖ = {self.hessian_norm:.4g}, "
            f"{self.method} on {self.tangent_dimension} tangent dimensions"
        )


def _orbit_coordinates(problem: Problem, x: Any, hessian: RiemannianHessian) -> np.ndarray:
    """Orthonormal coordinates (d × k) of the tangent directions of the symmetry orbit at x."""
    vectors = problem.symmetry.orbit_tangent_vectors(x)
    if not vectors:
        return np.zeros((hessian.dim, 0))
    columns = []
    for v in vectors:
        tangent = problem.manifold.projection(x, v)
        columns.append(hessian.basis.to_coordinates(tangent))
    s = np.stack(columns, axis=1)
    u, sigma, _ = np.linalg.svd(s, full_matrices=False)
    keep = sigma > 1e-8 * max(point_norm(x), 1.0)
    return u[:, keep]


def _classify(eigs_min: float, eigs_max: float, tol: float) -> Verdict:
    if eigs_min > tol:
        return Verdict.LOCAL_MINIMIZER
    if eigs_max < -tol:
        return Verdict.LOCAL_MAXIMIZER
    if eigs_min < -tol and eigs_max > tol:
        return Verdict.STRICT_SADDLE
    return Verdict.DEGENERATE


def certify(
    problem: Problem,
    point: Any,
    *,
    gradient_tolerance: float | None = None,
    eigenvalue_tolerance: float | None = None,
    rtol_gradient: float = 1e-6,
    rtol_eigenvalue: float = 1e-6,
    dense_limit: int = 2000,
    lanczos_k: int = 6,
    seed: Seed = 0,
) -> Certificate:
    """Classify ``point`` by its Riemannian gradient and Hessian, modulo the problem's symmetry.

    All Hessian eigenvalues are computed from the matrix in an orthonormal tangent basis when the
    tangent dimension is at most ``dense_limit``; beyond, the ``lanczos_k`` smallest and the
    largest come from Lanczos on the matrix-free operator (nothing of size d × d is formed).
    Explicit ``gradient_tolerance`` / ``eigenvalue_tolerance`` override the scaled defaults.
    """
    for name, value in (("rtol_gradient", rtol_gradient), ("rtol_eigenvalue", rtol_eigenvalue)):
        if not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    for name, value in (
        ("gradient_tolerance", gradient_tolerance),
        ("eigenvalue_tolerance", eigenvalue_tolerance),
    ):
        if value is not None and not (isinstance(value, (int, float)) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number or None, got {value!r}")
    if not (isinstance(lanczos_k, int) and lanczos_k >= 1):
        raise ValueError(f"lanczos_k must be a positive integer, got {lanczos_k!r}")
    x = problem.check_point(point, "point")
    cost = problem.cost(x)
    gradient_norm = problem.gradient_norm(x)
    if not (np.isfinite(cost) and np.isfinite(gradient_norm)):
        raise ValueError(
            f"cannot certify a point where the cost or gradient is not finite (cost {cost})"
        )
    hessian = RiemannianHessian(problem, x)
    d = hessian.dim
    orbit = _orbit_coordinates(problem, x, hessian)
    k_sym = orbit.shape[1]
    notes: list[str] = []
    asymmetry = 0.0
    if d - k_sym <= 0:
        eigs = np.zeros(0)
        sym_eigs = np.zeros(k_sym)
        method, index_exact = "dense", True
        hessian_norm = 0.0
    elif d <= dense_limit:
        h = hessian.matrix()
        asymmetry = hessian.asymmetry
        if k_sym:
            q = scipy.linalg.qr(orbit, mode="full")[0]
            complement = q[:, k_sym:]
            eigs = np.linalg.eigvalsh(complement.T @ h @ complement)
            sym_eigs = np.linalg.eigvalsh(orbit.T @ h @ orbit)
        else:
            eigs = np.linalg.eigvalsh(h)
            sym_eigs = np.zeros(0)
        hessian_norm = float(max(np.max(np.abs(eigs)), np.max(np.abs(sym_eigs), initial=0.0)))
        method, index_exact = "dense", True
    else:
        eigs, sym_eigs, hessian_norm = _lanczos_spectrum(
            hessian, orbit, lanczos_k, as_generator(seed)
        )
        method = "lanczos"
        index_exact = False  # refined below
    length = max(point_norm(x), 1.0)
    if gradient_tolerance is None:
        egrad_norm = point_norm(problem.euclidean_gradient(x))
        gradient_tolerance = rtol_gradient * (hessian_norm * length + egrad_norm)
    if eigenvalue_tolerance is None:
        eigenvalue_tolerance = rtol_eigenvalue * hessian_norm + gradient_norm / length
    tol = float(eigenvalue_tolerance)
    negative = int(np.sum(eigs < -tol))
    if method == "lanczos":
        n_small = len(eigs) - 1  # the last entry is the largest eigenvalue
        index_exact = negative < n_small
        negative = min(negative, n_small)
    null_dimension = int(np.sum(np.abs(eigs) <= tol))
    if k_sym and np.max(np.abs(sym_eigs)) > tol:
        notes.append(
            f"the Hessian is not flat along the symmetry orbit (|eigenvalue| up to "
            f"{np.max(np.abs(sym_eigs)):.3g} > {tol:.3g}): the point is not critical or the "
            "declared symmetry does not leave the cost invariant"
        )
        logger.warning(notes[-1])
    if asymmetry > 1e-6:
        notes.append(f"the Hessian matrix is not symmetric (relative asymmetry {asymmetry:.3g})")
        logger.warning(notes[-1])
    min_eig = float(eigs[0]) if len(eigs) else 0.0
    max_eig = float(eigs[-1]) if len(eigs) else 0.0
    if gradient_norm > gradient_tolerance:
        verdict = Verdict.NOT_CRITICAL
    elif len(eigs) == 0:
        verdict = Verdict.DEGENERATE
        notes.append("the tangent space holds only symmetry directions")
    else:
        verdict = _classify(min_eig, max_eig, tol)
    return Certificate(
        verdict=verdict,
        cost=float(cost),
        gradient_norm=float(gradient_norm),
        index=negative,
        index_exact=bool(index_exact),
        min_eigenvalue=min_eig,
        max_eigenvalue=max_eig,
        eigenvalues=np.asarray(eigs, dtype=float),
        symmetry_eigenvalues=np.asarray(sym_eigs, dtype=float),
        symmetry_dimension=k_sym,
        null_dimension=null_dimension,
        tangent_dimension=d,
        hessian_norm=float(hessian_norm),
        gradient_tolerance=float(gradient_tolerance),
        eigenvalue_tolerance=tol,
        method=method,
        hessian_asymmetry=asymmetry,
        notes=tuple(notes),
    )


def _lanczos_spectrum(
    hessian: RiemannianHessian, orbit: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """Smallest k and largest eigenvalue of H off the orbit, the orbit's eigenvalues, and ‖H‖.

    The orbit directions S are moved out of the way of each extreme by a shift:
    H_± = (I − SSᵀ) H (I − SSᵀ) ± σ SSᵀ with σ = 2‖H‖ + 1, so the eigenvalues ARPACK converges to
    are those of the complement.
    """
    d = hessian.dim
    op = hessian.linear_operator()
    v0 = rng.standard_normal(d)
    if orbit.shape[1]:
        norm = scipy.sparse.linalg.eigsh(
            op, k=1, which="LM", v0=v0, tol=1e-3, return_eigenvectors=False
        )
        hessian_norm = abs(float(norm[0]))
        sym = orbit.T @ np.column_stack([op.matvec(orbit[:, j]) for j in range(orbit.shape[1])])
        sym_eigs = np.linalg.eigvalsh(0.5 * (sym + sym.T))
    else:
        hessian_norm = 0.0
        sym_eigs = np.zeros(0)
    shift = 2.0 * hessian_norm + 1.0

    def shifted(sign: float) -> scipy.sparse.linalg.LinearOperator:
        def matvec(c: np.ndarray) -> np.ndarray:
            c = np.asarray(c).reshape(-1)
            if not orbit.shape[1]:
                return op.matvec(c)
            s_c = orbit.T @ c
            inner = c - orbit @ s_c
            out = op.matvec(inner)
            return out - orbit @ (orbit.T @ out) + sign * shift * (orbit @ s_c)

        return scipy.sparse.linalg.LinearOperator((d, d), matvec=matvec, dtype=float)

    k = min(k, d - orbit.shape[1] - 1)
    ncv = min(d, max(2 * k + 1, 40))  # a longer Krylov basis restarts less on clustered spectra
    smallest = scipy.sparse.linalg.eigsh(
        shifted(+1.0), k=max(k, 1), which="SA", v0=v0, tol=1e-8, ncv=ncv, return_eigenvectors=False
    )
    largest = scipy.sparse.linalg.eigsh(
        shifted(-1.0), k=1, which="LA", v0=v0, tol=1e-8, ncv=ncv, return_eigenvectors=False
    )
    hessian_norm = max(
        hessian_norm, float(np.max(np.abs(smallest))), float(np.max(np.abs(largest)))
    )
    eigs = np.concatenate([np.sort(smallest), largest])
    return eigs, sym_eigs, hessian_norm
