"""Certify a point: critical or not, and minimizer, strict saddle, maximizer or degenerate.

Second-order classification on a manifold (seed 001, "Strict saddle function on manifold M",
Sun et al. 2015; seed 003 §1 and footnote 5: a strict saddle is a critical point where the
Hessian has a strictly negative eigenvalue).  At a critical point x (grad f(x) = 0) with
Riemannian Hessian eigenvalues λ_k off the symmetry orbit and tolerance τ:

* ``local_minimizer``: every λ_k > τ (a strict local minimizer modulo the symmetry);
* ``local_maximizer``: every λ_k < −τ;
* ``strict_saddle``: otherwise, some λ_k < −τ — whatever else the spectrum holds, zero
  eigenvalues included: a second-order method escapes along the negative direction, and the
  slogan "every saddle is strict" is checked on exactly these;
* ``degenerate``: no λ_k < −τ and some |λ_k| ≤ τ — the second-order test is inconclusive (a
  degenerate minimizer, a monkey saddle, a plateau).  It is also the answer when the numbers
  cannot decide: when round-off prevents deciding whether x is critical or the sign of an
  eigenvalue that matters, the certificate says ``degenerate`` and its notes name the cause;
* ``not_critical``: ‖grad f(x)‖ is above its tolerance.

``null_dimension`` counts the eigenvalues within τ of 0 off the orbit, and ``morse_nondegenerate``
says there are none (x is a nondegenerate critical point modulo the symmetry: Morse–Bott).

A continuous symmetry group G makes the orbit G·x a set of critical points, so the Hessian
vanishes along the orbit's tangent directions (seed 003 §2: "there is negative curvature in
directions that break symmetry" and none along it).  These directions, computed
rank-revealingly (a direction that collapses, such as the O(r) orbit at U = 0, is dropped), are
split off and reported as ``symmetry_eigenvalues``; the verdict and the index use the rest.  The
declaration is verified, not trusted: at a critical point the Hessian must map the orbit
directions to (numerically) zero; when it does not, the declared group does not leave the cost
invariant, the verdict is computed on the full spectrum, orbit directions included — a saddle is
never hidden behind a wrong declaration — and a note says so.

The tolerances and round-off floors are derived in ``manifoldscape.core.tolerance``: relative
accuracies on ‖Hess f(x)‖ (which shifts of the cost do not change) plus the floor of every
cancellation the computation makes, measured on the terms it cancels.  Explicit
``gradient_tolerance`` / ``eigenvalue_tolerance`` replace the relative parts; the floors stay.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.tolerance import (
    ambient_size,
    decide_below,
    eigenvalue_floor,
    gradient_floor,
    length_scale,
    relative_eigenvalue_tolerance,
    relative_gradient_tolerance,
    safe_norm,
)
from manifoldscape.geometry import TangentBasis

if TYPE_CHECKING:
    from manifoldscape.core.problem import Problem

logger = logging.getLogger(__name__)

__all__ = ["Certificate", "Verdict", "certify", "orbit_basis"]


class Verdict(enum.Enum):
    """Second-order classification of a point (module docstring)."""

    LOCAL_MINIMIZER = "local_minimizer"
    STRICT_SADDLE = "strict_saddle"
    LOCAL_MAXIMIZER = "local_maximizer"
    DEGENERATE = "degenerate"
    NOT_CRITICAL = "not_critical"


@dataclass(frozen=True)
class Certificate:
    """The second-order certificate of a point (see the module docstring for the rules).

    ``eigenvalues`` are the Hessian eigenvalues off the symmetry orbit, ascending (the whole
    spectrum when the declared symmetry failed its check, ``symmetry_verified`` False): all of them
    when ``method == "dense"``, the ``lanczos_k`` smallest and the largest when ``method ==
    "lanczos"``.  ``index`` counts the negative ones; it is exact unless ``index_exact`` is False
    (Lanczos found only negative eigenvalues among those it computed, so ``index`` is a lower bound;
    when round-off leaves the sign of an eigenvalue undecided the verdict is ``degenerate`` and
    ``index`` counts the certain ones).  ``null_dimension`` counts eigenvalues within tolerance of 0
    off the orbit. ``gradient_tolerance`` and ``eigenvalue_tolerance`` are the relative thresholds,
    ``gradient_floor`` and ``eigenvalue_floor`` the round-off floors
    (``manifoldscape.core.tolerance``); ``hessian_products`` counts the Hessian-vector products the
    certificate made.
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
    gradient_floor: float = 0.0
    eigenvalue_floor: float = 0.0
    morse_nondegenerate: bool = False
    symmetry_verified: bool = True
    hessian_products: int = 0

    @property
    def is_critical(self) -> bool:
        """Whether the gradient is within tolerance of zero (or round-off cannot tell)."""
        return self.verdict is not Verdict.NOT_CRITICAL

    def spectrum(self) -> tuple[np.ndarray, np.ndarray]:
        """All computed eigenvalues, ascending, and a mask of those along the symmetry orbit."""
        values = np.concatenate([self.eigenvalues, self.symmetry_eigenvalues])
        along = np.concatenate(
            [np.zeros(len(self.eigenvalues), bool), np.ones(len(self.symmetry_eigenvalues), bool)]
        )
        order = np.argsort(values, kind="stable")
        return values[order], along[order]

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
        if not self.symmetry_verified:
            text += ", declared symmetry refuted"
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
            "symmetry_verified": self.symmetry_verified,
            "null_dimension": self.null_dimension,
            "morse_nondegenerate": self.morse_nondegenerate,
            "gradient_norm": self.gradient_norm,
            "gradient_tolerance": self.gradient_tolerance,
            "gradient_floor": self.gradient_floor,
            "eigenvalue_tolerance": self.eigenvalue_tolerance,
            "eigenvalue_floor": self.eigenvalue_floor,
            "hessian_norm": self.hessian_norm,
            "tangent_dimension": self.tangent_dimension,
            "method": self.method,
            "hessian_products": self.hessian_products,
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
            f"  ‖grad f‖ = {self.gradient_norm:.3e} (tolerance {self.gradient_tolerance:.3e}, "
            f"round-off {self.gradient_floor:.1e}), eigenvalue tolerance "
            f"{self.eigenvalue_tolerance:.3e} (round-off {self.eigenvalue_floor:.1e}), "
            f"‖Hess f‖ = {self.hessian_norm:.4g}, "
            f"{self.method} on {self.tangent_dimension} tangent dimensions"
            + "".join(f"\n  note: {note}" for note in self.notes)
        )


# --------------------------------------------------------------------------- orbit
def orbit_basis(problem: Problem, x: Any, basis: TangentBasis) -> np.ndarray:
    """Orthonormal coordinates (d × s) of the tangent directions of the symmetry orbit at x.

    Rank-revealing: the orbit vectors are projected onto T_x M, and only the singular directions
    with σ > √ε · max(‖x‖, 1, σ_max) are kept — those whose direction is known to √ε on the
    length scale of the tolerances — so that a collapsing orbit (the O(r) orbit of a factor U
    with a zero column or at U ≈ 0, the rotations at W = H = 0) gives no false symmetry direction
    made of round-off.
    """
    vectors = problem.symmetry.orbit_tangent_vectors(x)
    if not vectors:
        return np.zeros((basis.dim, 0))
    columns = [basis.to_coordinates(problem.manifold.projection(x, v)) for v in vectors]
    s = np.stack(columns, axis=1)
    if not np.all(np.isfinite(s)):
        return np.zeros((basis.dim, 0))
    u, sigma, _ = np.linalg.svd(s, full_matrices=False)
    largest = float(sigma[0]) if sigma.size else 0.0
    keep = sigma > math.sqrt(np.finfo(float).eps) * max(length_scale(x), largest)
    return u[:, keep]


# --------------------------------------------------------------------------- deciding
_NEGATIVE, _ZERO, _POSITIVE = "N", "Z", "P"


def _classes(value: float, tol: float, floor: float) -> frozenset[str]:
    """The signs an eigenvalue computed as ``value`` (true value within ``floor``) may have."""
    out = set()
    if value - floor < -tol:
        out.add(_NEGATIVE)
    if value + floor > tol:
        out.add(_POSITIVE)
    if abs(value) - floor <= tol:
        out.add(_ZERO)
    return frozenset(out)


def _interval_classes(low: float, high: float, tol: float, floor: float) -> frozenset[str]:
    """The signs an eigenvalue somewhere in [low, high] (each end within ``floor``) may have."""
    out = set()
    if low - floor < -tol:
        out.add(_NEGATIVE)
    if high + floor > tol:
        out.add(_POSITIVE)
    if low - floor <= tol and high + floor >= -tol:
        out.add(_ZERO)
    return frozenset(out)


def _index_decided(sets: list[frozenset[str]], hidden: int) -> bool:
    """Whether round-off leaves the number of negative eigenvalues decided.

    The ``hidden`` eigenvalues Lanczos did not compute (the second to last ``sets`` before the
    largest) are a lower bound by construction, not a round-off question, and are skipped.
    """
    computed = sets if not hidden else sets[: -hidden - 1] + sets[-1:]
    return all(s == {_NEGATIVE} or _NEGATIVE not in s for s in computed)


def _possible_verdicts(sets: list[frozenset[str]]) -> set[Verdict]:
    """The verdicts some assignment of signs (one from each set) gives (module docstring)."""
    if not sets:
        return {Verdict.DEGENERATE}
    out = set()
    if all(_POSITIVE in s for s in sets):
        out.add(Verdict.LOCAL_MINIMIZER)
    if all(_NEGATIVE in s for s in sets):
        out.add(Verdict.LOCAL_MAXIMIZER)
    can_negative = [i for i, s in enumerate(sets) if _NEGATIVE in s]
    can_other = [i for i, s in enumerate(sets) if s - {_NEGATIVE}]
    if can_negative and can_other and (len(can_negative) > 1 or can_other != can_negative):
        out.add(Verdict.STRICT_SADDLE)
    if all(s - {_NEGATIVE} for s in sets) and any(_ZERO in s for s in sets):
        out.add(Verdict.DEGENERATE)
    return out


@dataclass
class _Spectrum:
    """What the eigenvalue computation found (off-orbit values, orbit block, products)."""

    eigenvalues: np.ndarray  # ascending; Lanczos: the k smallest, then the largest
    symmetry_eigenvalues: np.ndarray
    hessian_norm: float
    method: str
    hidden: int = 0  # eigenvalues not computed (Lanczos), lying between the last two listed
    orbit_leak: float = 0.0  # max ‖H s‖ over orbit directions s (0 without orbit)
    full: np.ndarray | None = None  # the whole spectrum, orbit included, when it was cheap


def _dense_spectrum(hessian: RiemannianHessian, orbit: np.ndarray) -> _Spectrum:
    h = hessian.matrix()
    if not np.all(np.isfinite(h)):
        raise FloatingPointError("the Hessian matrix holds NaN or Inf")
    full = np.linalg.eigvalsh(h)
    k = orbit.shape[1]
    if k:
        q = scipy.linalg.qr(orbit, mode="full")[0]
        complement = q[:, k:]
        eigs = np.linalg.eigvalsh(complement.T @ h @ complement)
        block = orbit.T @ h @ orbit
        sym_eigs = np.linalg.eigvalsh(0.5 * (block + block.T))
        leak = float(np.max(np.linalg.norm(h @ orbit, axis=0)))
    else:
        eigs, sym_eigs, leak = full, np.zeros(0), 0.0
    hessian_norm = float(np.max(np.abs(full))) if full.size else 0.0
    return _Spectrum(eigs, sym_eigs, hessian_norm, "dense", 0, leak, full)


def _lanczos_spectrum(
    hessian: RiemannianHessian, orbit: np.ndarray, k: int, rng: np.random.Generator
) -> _Spectrum:
    """Smallest k and largest eigenvalue of H off the orbit, the orbit block, and ‖H‖.

    The orbit directions S are moved out of the way of each extreme by a shift:
    H_± = (I − SSᵀ) H (I − SSᵀ) ± σ SSᵀ with σ = 2‖H‖ + 1, so the eigenvalues ARPACK converges to
    are those of the complement.
    """
    d = hessian.dim
    s = orbit.shape[1]
    plain = hessian.linear_operator()

    def checked(c: np.ndarray) -> np.ndarray:
        out = plain.matvec(c)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError("a Hessian-vector product holds NaN or Inf")
        return out

    op = scipy.sparse.linalg.LinearOperator((d, d), matvec=checked, dtype=float)
    v0 = rng.standard_normal(d)
    norm = scipy.sparse.linalg.eigsh(
        op, k=1, which="LM", v0=v0, tol=1e-3, return_eigenvectors=False
    )
    hessian_norm = abs(float(norm[0]))
    if s:
        images = np.column_stack([op.matvec(orbit[:, j]) for j in range(s)])
        block = orbit.T @ images
        sym_eigs = np.linalg.eigvalsh(0.5 * (block + block.T))
        leak = float(np.max(np.linalg.norm(images, axis=0)))
    else:
        sym_eigs, leak = np.zeros(0), 0.0
    shift = 2.0 * hessian_norm + 1.0

    def shifted(sign: float) -> scipy.sparse.linalg.LinearOperator:
        def matvec(c: np.ndarray) -> np.ndarray:
            c = np.asarray(c).reshape(-1)
            if not s:
                return op.matvec(c)
            s_c = orbit.T @ c
            out = op.matvec(c - orbit @ s_c)
            return out - orbit @ (orbit.T @ out) + sign * shift * (orbit @ s_c)

        return scipy.sparse.linalg.LinearOperator((d, d), matvec=matvec, dtype=float)

    k = max(min(k, d - s - 1), 1)
    ncv = min(d, max(2 * k + 1, 40))  # a longer Krylov basis restarts less on clustered spectra
    smallest = scipy.sparse.linalg.eigsh(
        shifted(+1.0), k=k, which="SA", v0=v0, tol=1e-8, ncv=ncv, return_eigenvectors=False
    )
    largest = scipy.sparse.linalg.eigsh(
        shifted(-1.0), k=1, which="LA", v0=v0, tol=1e-8, ncv=ncv, return_eigenvectors=False
    )
    hessian_norm = max(
        hessian_norm,
        float(np.max(np.abs(smallest))),
        float(np.max(np.abs(largest))),
        float(np.max(np.abs(sym_eigs), initial=0.0)),
    )
    eigs = np.concatenate([np.sort(smallest), largest])
    return _Spectrum(eigs, sym_eigs, hessian_norm, "lanczos", d - s - k - 1, leak)


# --------------------------------------------------------------------------- certify
def _check_options(
    gradient_tolerance: Any,
    eigenvalue_tolerance: Any,
    rtol_gradient: Any,
    rtol_eigenvalue: Any,
    dense_limit: Any,
    lanczos_k: Any,
) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        )

    for name, value in (("rtol_gradient", rtol_gradient), ("rtol_eigenvalue", rtol_eigenvalue)):
        if not (number(value) and 0 < value < math.inf):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    for name, value in (
        ("gradient_tolerance", gradient_tolerance),
        ("eigenvalue_tolerance", eigenvalue_tolerance),
    ):
        if value is not None and not (number(value) and 0 <= value < math.inf):
            raise ValueError(f"{name} must be a non-negative finite number or None, got {value!r}")
    for name, value, minimum in (("dense_limit", dense_limit, 0), ("lanczos_k", lanczos_k, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")


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
    Explicit ``gradient_tolerance`` / ``eigenvalue_tolerance`` replace the relative thresholds
    rtol · ‖Hess f‖ · ℓ and rtol · ‖Hess f‖ + ‖grad f‖/ℓ; the round-off floors always apply
    (``manifoldscape.core.tolerance``).  A Hessian that cannot be computed (NaN or Inf products)
    gives a ``degenerate`` certificate whose note says so.
    """
    _check_options(
        gradient_tolerance,
        eigenvalue_tolerance,
        rtol_gradient,
        rtol_eigenvalue,
        dense_limit,
        lanczos_k,
    )
    x = problem.check_point(point, "point")
    cost = problem.cost(x)
    gradient_norm = problem.gradient_norm(x)
    egrad_norm = safe_norm(problem.euclidean_gradient(x))
    if not (math.isfinite(cost) and math.isfinite(gradient_norm) and math.isfinite(egrad_norm)):
        raise ValueError(
            f"cannot certify a point where the cost or gradient is not finite (cost {cost}, "
            f"gradient norm {gradient_norm})"
        )
    size = ambient_size(x)
    length = length_scale(x)
    hessian = RiemannianHessian(problem, x)
    d = hessian.dim
    orbit = orbit_basis(problem, x, hessian.basis)
    notes: list[str] = []
    try:
        if d - orbit.shape[1] <= 0:
            spectrum = _Spectrum(np.zeros(0), np.zeros(orbit.shape[1]), 0.0, "dense")
        elif d <= dense_limit or d - orbit.shape[1] <= 2:
            spectrum = _dense_spectrum(hessian, orbit)
        else:
            spectrum = _lanczos_spectrum(hessian, orbit, lanczos_k, as_generator(seed))
    except (FloatingPointError, scipy.sparse.linalg.ArpackNoConvergence) as exc:
        return _unknown_hessian(
            problem, x, cost, gradient_norm, egrad_norm, size, d, orbit, hessian, exc
        )

    floor_g = gradient_floor(egrad_norm, gradient_norm, size)
    model_floor = eigenvalue_floor(hessian.term_size, size)
    floor_e = eigenvalue_floor(hessian.term_size, size, hessian.asymmetry_norm)
    hessian_norm = spectrum.hessian_norm
    tau_g = (
        relative_gradient_tolerance(rtol_gradient, hessian_norm, length)
        if gradient_tolerance is None
        else float(gradient_tolerance)
    )
    tau_e = (
        relative_eigenvalue_tolerance(rtol_eigenvalue, hessian_norm, gradient_norm, length)
        if eigenvalue_tolerance is None
        else float(eigenvalue_tolerance)
    )
    critical = decide_below(gradient_norm, tau_g, floor_g)

    # the declared symmetry, verified: at a critical point H maps the orbit to zero
    eigs, sym_eigs, verified = spectrum.eigenvalues, spectrum.symmetry_eigenvalues, True
    if orbit.shape[1] and critical is not False and spectrum.orbit_leak > tau_e + floor_e:
        verified = False
        notes.append(
            f"the declared symmetry {problem.symmetry.name} does not leave the cost invariant "
            f"here: the Hessian maps its orbit directions to vectors of norm up to "
            f"{spectrum.orbit_leak:.3g} > tolerance {tau_e:.3g}; the verdict uses the whole "
            "spectrum, orbit directions included"
        )
        if spectrum.full is not None:
            eigs = spectrum.full
        else:
            eigs = np.sort(np.concatenate([eigs, sym_eigs]))
        sym_eigs = np.zeros(0)
        logger.warning(notes[-1])
    k_sym = len(sym_eigs)

    # signs of the eigenvalues, with the hidden Lanczos ones as an interval
    sets = [_classes(float(v), tau_e, floor_e) for v in eigs]
    if spectrum.hidden and len(eigs) >= 2:
        between = _interval_classes(float(eigs[-2]), float(eigs[-1]), tau_e, floor_e)
        sets = sets[:-1] + [between] * spectrum.hidden + sets[-1:]
    index = sum(1 for s in sets if s == {_NEGATIVE})
    index_exact = all(s == {_NEGATIVE} or _NEGATIVE not in s for s in sets)
    null_dimension = sum(1 for s in sets if s == {_ZERO})
    possible = _possible_verdicts(sets)

    if hessian_norm <= floor_e:
        notes.append(
            f"the Hessian (norm {hessian_norm:.3g}) is below its round-off floor {floor_e:.3g}: "
            "the cost is constant near this point to working precision (or shifted or scaled "
            "beyond double precision)"
        )
    if critical is False:
        verdict = Verdict.NOT_CRITICAL
    elif critical is None:
        verdict = Verdict.DEGENERATE
        notes.append(
            f"round-off prevents deciding whether the point is critical: ‖grad f‖ = "
            f"{gradient_norm:.3g} is within the round-off floor {floor_g:.3g} of the tolerance "
            f"{tau_g:.3g} (the cancellation in projecting ∇f of norm {egrad_norm:.3g})"
        )
    elif not len(eigs):
        verdict = Verdict.DEGENERATE
        notes.append("the tangent space holds only symmetry directions")
    elif len(possible) == 1 and _index_decided(sets, spectrum.hidden):
        verdict = possible.pop()
    else:
        verdict = Verdict.DEGENERATE
        undecided = sum(1 for s in sets if len(s) > 1)
        names = ", ".join(sorted(v.value for v in possible))
        notes.append(
            f"round-off prevents a decision: {undecided} eigenvalue(s) lie within the round-off "
            f"floor {floor_e:.3g} of the tolerance {tau_e:.3g}, consistent with {names} "
            "(or with more than one index)"
        )
    if k_sym and verified and np.max(np.abs(sym_eigs)) > tau_e + floor_e:
        notes.append(
            f"the Hessian is not flat along the symmetry orbit (|eigenvalue| up to "
            f"{np.max(np.abs(sym_eigs)):.3g}): the point is not critical"
        )
    asymmetry = float(getattr(hessian, "asymmetry", 0.0))
    if hessian.asymmetry_norm > max(math.sqrt(d) * model_floor, 1e-6 * hessian_norm):
        notes.append(
            f"the Hessian matrix is not symmetric (relative asymmetry {asymmetry:.3g}): check "
            "the Hessian-vector product"
        )
        logger.warning(notes[-1])
    min_eig = float(eigs[0]) if len(eigs) else 0.0
    max_eig = float(eigs[-1]) if len(eigs) else 0.0
    return Certificate(
        verdict=verdict,
        cost=float(cost),
        gradient_norm=float(gradient_norm),
        index=int(index),
        index_exact=bool(index_exact),
        min_eigenvalue=min_eig,
        max_eigenvalue=max_eig,
        eigenvalues=np.asarray(eigs, dtype=float),
        symmetry_eigenvalues=np.asarray(sym_eigs, dtype=float),
        symmetry_dimension=int(k_sym),
        null_dimension=int(null_dimension),
        tangent_dimension=int(d),
        hessian_norm=float(hessian_norm),
        gradient_tolerance=float(tau_g),
        eigenvalue_tolerance=float(tau_e),
        method=spectrum.method,
        hessian_asymmetry=asymmetry,
        notes=tuple(notes),
        gradient_floor=float(floor_g),
        eigenvalue_floor=float(floor_e),
        morse_nondegenerate=bool(
            verdict not in (Verdict.NOT_CRITICAL, Verdict.DEGENERATE)
            and len(eigs) > 0
            and all(_ZERO not in s for s in sets)
        ),
        symmetry_verified=verified,
        hessian_products=int(hessian.applications),
    )


def _unknown_hessian(
    problem: Problem,
    x: Any,
    cost: float,
    gradient_norm: float,
    egrad_norm: float,
    size: int,
    d: int,
    orbit: np.ndarray,
    hessian: RiemannianHessian,
    exc: BaseException,
) -> Certificate:
    """The certificate of a point whose Hessian could not be computed: ``degenerate``, with why."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    note = (
        f"the Hessian could not be computed ({reason}); the Hessian-vector product may return "
        "NaN or Inf here"
    )
    logger.warning(note)
    return Certificate(
        verdict=Verdict.DEGENERATE,
        cost=float(cost),
        gradient_norm=float(gradient_norm),
        index=0,
        index_exact=False,
        min_eigenvalue=math.nan,
        max_eigenvalue=math.nan,
        eigenvalues=np.zeros(0),
        symmetry_eigenvalues=np.zeros(0),
        symmetry_dimension=int(orbit.shape[1]),
        null_dimension=0,
        tangent_dimension=int(d),
        hessian_norm=math.nan,
        gradient_tolerance=math.nan,
        eigenvalue_tolerance=math.nan,
        method="failed",
        notes=(note,),
        gradient_floor=gradient_floor(egrad_norm, gradient_norm, size),
        eigenvalue_floor=math.nan,
        hessian_products=int(hessian.applications),
    )
