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

from manifoldscape.boundary.arguments import Seed, as_generator
from manifoldscape.boundary.keywords import checked_keywords
from manifoldscape.boundary.threads import small_dense_threads
from manifoldscape.core.diagnosis import orbit_coordinates, suggest_symmetry
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.spectrum import Spectrum, choose_method, dense_spectrum, krylov_spectrum
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

    Rank-revealing, see ``diagnosis.orbit_coordinates``.
    """
    return orbit_coordinates(problem.manifold, basis, x, problem.symmetry.orbit_tangent_vectors(x))


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


def _possible_verdicts(groups: list[tuple[frozenset[str], int]]) -> set[Verdict]:
    """The verdicts some assignment of signs gives (module docstring).

    ``groups`` pairs each set of possible signs with the number of eigenvalues that share it.
    """
    groups = [(c, n) for c, n in groups if n > 0]
    if not groups:
        return {Verdict.DEGENERATE}
    out = set()
    if all(_POSITIVE in c for c, _ in groups):
        out.add(Verdict.LOCAL_MINIMIZER)
    if all(_NEGATIVE in c for c, _ in groups):
        out.add(Verdict.LOCAL_MAXIMIZER)
    # a saddle needs one eigenvalue that can be negative and another that can be something else
    can_negative = sum(n for c, n in groups if _NEGATIVE in c)
    can_other = sum(n for c, n in groups if c - {_NEGATIVE})
    both = sum(n for c, n in groups if _NEGATIVE in c and c - {_NEGATIVE})
    if can_negative and can_other and not (can_negative == can_other == both == 1):
        out.add(Verdict.STRICT_SADDLE)
    if all(c - {_NEGATIVE} for c, _ in groups) and any(_ZERO in c for c, _ in groups):
        out.add(Verdict.DEGENERATE)
    return out


@dataclass(frozen=True)
class _Context:
    """What the decision needs besides the spectrum: the gradient and the tolerance settings."""

    gradient_norm: float
    egrad_norm: float
    size: int
    length: float
    rtol_gradient: float
    rtol_eigenvalue: float
    gradient_tolerance: float | None
    eigenvalue_tolerance: float | None
    orbit_size: int
    symmetry_name: str
    hessian_error: float = 0.0  # the products' own error, reported by the objective


@dataclass
class _Decision:
    """The verdict a spectrum supports, with everything the certificate reports about it."""

    verdict: Verdict | None  # None: the spectrum is not resolved enough (Krylov goes on)
    eigenvalues: np.ndarray
    symmetry_eigenvalues: np.ndarray
    index: int
    index_exact: bool
    null_dimension: int
    morse: bool
    critical: bool | None
    tau_g: float
    tau_e: float
    floor_g: float
    floor_e: float
    verified: bool
    notes: list[str]


def _decide(spectrum: Spectrum, hessian: RiemannianHessian, ctx: _Context) -> _Decision:
    """Classify from a (possibly partial) spectrum: the rules of the module docstring."""
    floor_g = gradient_floor(ctx.egrad_norm, ctx.gradient_norm, ctx.size)
    floor_e = max(
        eigenvalue_floor(hessian.term_size, ctx.size, hessian.asymmetry_norm),
        10.0 * ctx.hessian_error,
    )
    norm = spectrum.hessian_norm
    tau_g = (
        relative_gradient_tolerance(ctx.rtol_gradient, norm, ctx.length)
        if ctx.gradient_tolerance is None
        else float(ctx.gradient_tolerance)
    )
    tau_e = (
        relative_eigenvalue_tolerance(ctx.rtol_eigenvalue, norm, ctx.gradient_norm, ctx.length)
        if ctx.eigenvalue_tolerance is None
        else float(ctx.eigenvalue_tolerance)
    )
    critical = decide_below(ctx.gradient_norm, tau_g, floor_g)
    notes: list[str] = []

    eigs, radii = spectrum.eigenvalues, spectrum.radii
    sym_eigs, verified = spectrum.symmetry_eigenvalues, True
    if ctx.orbit_size and critical is not False and spectrum.orbit_leak > tau_e + floor_e:
        verified = False
        notes.append(
            f"the declared symmetry {ctx.symmetry_name} does not leave the cost invariant "
            f"here: the Hessian maps its orbit directions to vectors of norm up to "
            f"{spectrum.orbit_leak:.3g} > tolerance {tau_e:.3g}; the verdict uses the whole "
            "spectrum, orbit directions included"
        )
        if spectrum.full is not None:
            eigs, radii = spectrum.full, np.zeros(spectrum.full.size)
        else:
            order = np.argsort(np.concatenate([eigs[:-1], sym_eigs]), kind="stable")
            eigs = np.concatenate([np.concatenate([eigs[:-1], sym_eigs])[order], eigs[-1:]])
            radii = np.concatenate(
                [np.concatenate([radii[:-1], np.zeros(sym_eigs.size)])[order], radii[-1:]]
            )
        sym_eigs = np.zeros(0)

    sets = [_classes(float(v), tau_e, floor_e + float(r)) for v, r in zip(eigs, radii, strict=True)]
    if spectrum.method == "krylov" and not np.isfinite(spectrum.hidden_low) and len(sets) > 1:
        sets[0] = sets[0] | _interval_classes(-np.inf, float(eigs[0]), tau_e, floor_e)
    groups = [(c, 1) for c in sets]
    between: frozenset[str] = frozenset()
    if spectrum.hidden and len(eigs):
        top = float(eigs[-1] + radii[-1])
        between = _interval_classes(spectrum.hidden_low, top, tau_e, floor_e)
        groups.insert(len(groups) - 1, (between, spectrum.hidden))
    index = sum(n for c, n in groups if c == {_NEGATIVE})
    index_exact = all(c == {_NEGATIVE} or _NEGATIVE not in c for c, _ in groups)
    null_dimension = sum(n for c, n in groups if c == {_ZERO})
    possible = _possible_verdicts(groups)

    if norm <= floor_e:
        notes.append(
            f"the Hessian (norm {norm:.3g}) is below its round-off floor {floor_e:.3g}: the cost "
            "is constant near this point to working precision (or shifted or scaled beyond "
            "double precision)"
        )
    verdict: Verdict | None
    if critical is False:
        verdict = Verdict.NOT_CRITICAL
    elif critical is None:
        verdict = Verdict.DEGENERATE
        notes.append(
            f"round-off prevents deciding whether the point is critical: ‖grad f‖ = "
            f"{ctx.gradient_norm:.3g} is within the round-off floor {floor_g:.3g} of the "
            f"tolerance {tau_g:.3g} (the cancellation in projecting ∇f of norm "
            f"{ctx.egrad_norm:.3g})"
        )
    elif not len(eigs):
        verdict = Verdict.DEGENERATE
        notes.append("the tangent space holds only symmetry directions")
    elif len(possible) == 1 and index_exact:
        verdict = possible.pop()
    else:
        resolved = [_classes(float(v), tau_e, floor_e) for v in eigs]
        open_interval = spectrum.hidden and len(between) > 1
        if spectrum.method == "krylov" and (
            open_interval or any(len(c) > len(r) for c, r in zip(sets, resolved, strict=True))
        ):
            verdict = None  # the Krylov intervals, not round-off, leave it open: go on
        else:
            verdict = Verdict.DEGENERATE
            undecided = sum(n for c, n in groups if len(c) > 1)
            names = ", ".join(sorted(v.value for v in possible))
            notes.append(
                f"round-off prevents a decision: {undecided} eigenvalue(s) lie within the "
                f"round-off floor {floor_e:.3g} of the tolerance {tau_e:.3g}, consistent with "
                f"{names} (or with more than one index)"
            )
    if spectrum.method == "krylov" and spectrum.radii.size and spectrum.radii[-1] > 1e-3 * norm:
        verdict = None  # ‖Hess f‖, and with it every tolerance, is not known yet
    return _Decision(
        verdict=verdict,
        eigenvalues=np.asarray(eigs, dtype=float),
        symmetry_eigenvalues=np.asarray(sym_eigs, dtype=float),
        index=int(index),
        index_exact=bool(index_exact),
        null_dimension=int(null_dimension),
        morse=bool(
            verdict not in (None, Verdict.NOT_CRITICAL, Verdict.DEGENERATE)
            and len(eigs) > 0
            and all(_ZERO not in c for c, _ in groups)
        ),
        critical=critical,
        tau_g=float(tau_g),
        tau_e=float(tau_e),
        floor_g=float(floor_g),
        floor_e=float(floor_e),
        verified=verified,
        notes=notes,
    )


# --------------------------------------------------------------------------- certify
_METHODS = ("auto", "dense", "krylov")


def _check_options(
    gradient_tolerance: Any,
    eigenvalue_tolerance: Any,
    rtol_gradient: Any,
    rtol_eigenvalue: Any,
    dense_limit: Any,
    lanczos_k: Any,
    method: Any,
    max_krylov_steps: Any,
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
    for name, value, minimum in (
        ("dense_limit", dense_limit, 0),
        ("lanczos_k", lanczos_k, 0),
        ("max_krylov_steps", max_krylov_steps, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")


@checked_keywords()
@small_dense_threads
def certify(
    problem: Problem,
    point: Any,
    *,
    gradient_tolerance: float | None = None,
    eigenvalue_tolerance: float | None = None,
    rtol_gradient: float = 1e-6,
    rtol_eigenvalue: float = 1e-6,
    method: str = "auto",
    dense_limit: int = 2000,
    lanczos_k: int = 0,
    max_krylov_steps: int = 600,
    seed: Seed = 0,
) -> Certificate:
    """Classify ``point`` by its Riemannian gradient and Hessian, modulo the problem's symmetry.

    ``method``: "dense" computes every Hessian eigenvalue from the matrix in an orthonormal
    tangent basis (at most ``dense_limit`` tangent dimensions); "krylov" runs Lanczos on the
    matrix-free operator until the verdict and the index are decided
    (``manifoldscape.core.spectrum``; at most ``max_krylov_steps`` steps, then the dense matrix
    if it is allowed); "auto" (the default) takes whichever counts fewer operations.  The
    certificate's ``method`` and ``hessian_products`` say which it took and what it cost.
    ``lanczos_k`` asks Krylov for that many bottom eigenvalues resolved as well; ask
    ``method="dense"`` for the full spectrum.  Explicit ``gradient_tolerance`` /
    ``eigenvalue_tolerance`` replace the relative thresholds rtol · ‖Hess f‖ · ℓ and
    rtol · ‖Hess f‖ + ‖grad f‖/ℓ; the round-off floors always apply
    (``manifoldscape.core.tolerance``), and an objective that reports the error of its
    Hessian-vector products (``hessian_error(problem, x)``, as finite differences do) raises the
    eigenvalue floor to ten times it.  A Hessian that cannot be computed (NaN or Inf products)
    gives a ``degenerate`` certificate whose note says so.
    """
    _check_options(
        gradient_tolerance,
        eigenvalue_tolerance,
        rtol_gradient,
        rtol_eigenvalue,
        dense_limit,
        lanczos_k,
        method,
        max_krylov_steps,
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
    hessian = RiemannianHessian(problem, x)
    d = hessian.dim
    orbit = orbit_basis(problem, x, hessian.basis)
    ctx = _Context(
        gradient_norm=float(gradient_norm),
        egrad_norm=float(egrad_norm),
        size=size,
        length=length_scale(x),
        rtol_gradient=float(rtol_gradient),
        rtol_eigenvalue=float(rtol_eigenvalue),
        gradient_tolerance=gradient_tolerance,
        eigenvalue_tolerance=eigenvalue_tolerance,
        orbit_size=orbit.shape[1],
        symmetry_name=problem.symmetry.name,
        hessian_error=_hessian_error(problem, x),
    )
    off = d - orbit.shape[1]
    notes: list[str] = []
    try:
        if off <= 0:
            spectrum = Spectrum(np.zeros(0), np.zeros(orbit.shape[1]), 0.0, "dense")
        else:
            chosen = method
            if method == "auto":
                chosen = choose_method(hessian, orbit.shape[1], problem.objective.batched_hessian)
            if chosen == "dense" and d > dense_limit and off > 2:
                chosen = "krylov"
            if chosen == "dense":
                spectrum = dense_spectrum(hessian, orbit)
            else:
                spectrum = _krylov(
                    hessian, orbit, ctx, as_generator(seed), lanczos_k, max_krylov_steps
                )
                if _decide(spectrum, hessian, ctx).verdict is None:
                    if d <= dense_limit:
                        notes.append(
                            f"Krylov did not decide in {spectrum.steps} steps: dense spectrum"
                        )
                        spectrum = dense_spectrum(hessian, orbit)
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        return _unknown_hessian(
            problem, x, cost, gradient_norm, egrad_norm, size, d, orbit, hessian, exc
        )
    decision = _decide(spectrum, hessian, ctx)
    notes = notes + decision.notes
    verdict = decision.verdict
    if verdict is None:
        verdict = Verdict.DEGENERATE
        notes.append(
            f"Krylov did not resolve the spectrum in {spectrum.steps} steps and the tangent "
            f"space is too large for the dense matrix (dense_limit {dense_limit})"
        )
    if verdict is Verdict.DEGENERATE and problem.symmetry.dimension == 0:
        try:
            suggestion = suggest_symmetry(
                problem.manifold,
                hessian,
                x,
                decision.tau_e + decision.floor_e,
                decision.null_dimension,
            )
        except (FloatingPointError, np.linalg.LinAlgError):
            suggestion = None
        if suggestion is not None:
            notes.append(suggestion)
    for note in decision.notes[:1]:
        if not decision.verified:
            logger.warning(note)
    sym_eigs = decision.symmetry_eigenvalues
    if (
        len(sym_eigs)
        and decision.verified
        and np.max(np.abs(sym_eigs)) > (decision.tau_e + decision.floor_e)
    ):
        notes.append(
            f"the Hessian is not flat along the symmetry orbit (|eigenvalue| up to "
            f"{np.max(np.abs(sym_eigs)):.3g}): the point is not critical"
        )
    asymmetry = float(getattr(hessian, "asymmetry", 0.0))
    model_floor = eigenvalue_floor(hessian.term_size, size)
    if hessian.asymmetry_norm > max(math.sqrt(d) * model_floor, 1e-6 * spectrum.hessian_norm):
        notes.append(
            f"the Hessian matrix is not symmetric (relative asymmetry {asymmetry:.3g}): check "
            "the Hessian-vector product"
        )
        logger.warning(notes[-1])
    eigs = decision.eigenvalues
    return Certificate(
        verdict=verdict,
        cost=float(cost),
        gradient_norm=float(gradient_norm),
        index=decision.index,
        index_exact=decision.index_exact,
        min_eigenvalue=float(eigs[0]) if len(eigs) else 0.0,
        max_eigenvalue=float(eigs[-1]) if len(eigs) else 0.0,
        eigenvalues=eigs,
        symmetry_eigenvalues=sym_eigs,
        symmetry_dimension=len(sym_eigs),
        null_dimension=decision.null_dimension,
        tangent_dimension=int(d),
        hessian_norm=float(spectrum.hessian_norm),
        gradient_tolerance=decision.tau_g,
        eigenvalue_tolerance=decision.tau_e,
        method=spectrum.method,
        hessian_asymmetry=asymmetry,
        notes=tuple(notes),
        gradient_floor=decision.floor_g,
        eigenvalue_floor=decision.floor_e,
        morse_nondegenerate=decision.morse,
        symmetry_verified=decision.verified,
        hessian_products=int(hessian.applications),
    )


def _hessian_error(problem: Problem, x: Any) -> float:
    """The error of a unit Hessian-vector product an objective reports (finite differences)."""
    report = getattr(problem.objective, "hessian_error", None)
    if not callable(report):
        return 0.0
    error = float(report(problem, x)[0])
    return error if math.isfinite(error) else math.inf


def _krylov(
    hessian: RiemannianHessian,
    orbit: np.ndarray,
    ctx: _Context,
    rng: np.random.Generator,
    lowest: int,
    max_steps: int,
) -> Spectrum:
    """Lanczos until ``_decide`` gives a verdict (``manifoldscape.core.spectrum``)."""

    def decided(spectrum: Spectrum) -> bool:
        return _decide(spectrum, hessian, ctx).verdict is not None

    def negative_below(spectrum: Spectrum) -> float | None:
        decision = _decide(spectrum, hessian, ctx)
        if decision.verdict is Verdict.STRICT_SADDLE:
            return -decision.tau_e
        return None

    return krylov_spectrum(
        hessian, orbit, rng, decided, negative_below, max_steps=max_steps, lowest=lowest
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
