"""Basin sizes: which class of critical points a solver reaches from random starts, and how often.

``basin_sizes(problem, census, solver=..., starts=N)`` runs the solver from N random starts
(children of ``numpy.random.SeedSequence(seed)``, so the study is a function of the seed) and
matches each end point to a class of the census modulo the symmetry group, with the census's
tolerance (after a Riemannian Newton polish when the solver stopped short of it).  For every
class it reports the fraction p̂ = k/N of the starts that ended there with the Wilson score
interval

    (p̂ + z²/2N ± z √(p̂(1 − p̂)/N + z²/4N²)) / (1 + z²/N),   z the normal quantile,

which keeps its coverage near 0 and 1 where the normal interval fails (Wilson, J. Am. Stat.
Assoc. 22, 1927; Brown, Cai and DasGupta, Stat. Sci. 16, 2001) — what a sweep needs to say "this
spurious minimum took 12 % (9–16 %) of the starts".  Starts that end at no class of the census
are counted apart: ``unmatched`` (a critical point the census missed) and ``not_converged``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.stats

from manifoldscape.boundary.arguments import Seed, require_positive_int
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import point_norm, random_point
from manifoldscape.landscape.following import newton_polish

if TYPE_CHECKING:
    from manifoldscape.landscape.classes import Census

__all__ = ["BasinShare", "BasinSizes", "basin_sizes", "wilson_interval"]


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (module docstring)."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    z = float(scipy.stats.norm.ppf(0.5 + 0.5 * confidence))
    p = successes / trials
    denominator = 1.0 + z * z / trials
    center = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True)
class BasinShare:
    """The starts that ended in class ``number`` (census numbering): count, fraction, interval."""

    number: int
    cost: float
    index: int
    verdict: str
    count: int
    fraction: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "number": self.number,
            "cost": self.cost,
            "index": self.index,
            "verdict": self.verdict,
            "count": self.count,
            "fraction": self.fraction,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class BasinSizes:
    """Where ``starts`` runs of ``solver`` ended, class by class (module docstring)."""

    problem: str
    solver: str
    starts: int
    seed: int | None
    confidence: float
    shares: tuple[BasinShare, ...]
    unmatched: int
    not_converged: int
    time_s: float

    def share(self, number: int) -> BasinShare:
        """The share of class ``number``."""
        for s in self.shares:
            if s.number == number:
                return s
        raise KeyError(f"no class #{number} in the census")

    @property
    def spurious(self) -> float:
        """The fraction of starts that ended at a minimizer that is not the best one."""
        minima = [s for s in self.shares if s.verdict == "local_minimizer"]
        if not minima:
            return 0.0
        best = min(s.cost for s in minima)
        slack = 1e-9 * (abs(best) + 1.0)
        return sum(s.count for s in minima if s.cost > best + slack) / self.starts

    def table(self) -> str:
        """Class, cost, index, verdict, starts and fraction with its interval."""
        level = f"{100 * self.confidence:g} %"
        lines = [
            f"#   cost              index  verdict          starts  fraction  ({level} Wilson)"
        ]
        for s in self.shares:
            lines.append(
                f"{s.number:<3} {s.cost:<17.10g} {s.index:>5}  {s.verdict:<15}  {s.count:>6}  "
                f"{s.fraction:>8.3f}  ({s.low:.3f}–{s.high:.3f})"
            )
        lines.append(
            f"{self.starts} starts of {self.solver}: {self.unmatched} ended at a critical point "
            f"the census does not hold, {self.not_converged} did not converge; "
            f"{100 * self.spurious:.1f} % at a spurious minimizer ({self.time_s:.2f} s)"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "problem": self.problem,
            "solver": self.solver,
            "starts": self.starts,
            "seed": self.seed,
            "confidence": self.confidence,
            "shares": [s.to_dict() for s in self.shares],
            "unmatched": self.unmatched,
            "not_converged": self.not_converged,
            "spurious": self.spurious,
            "time_s": self.time_s,
        }

    def __str__(self) -> str:
        return self.table()


def basin_sizes(
    problem: Problem,
    census: Census,
    *,
    solver: str = "trust-regions",
    starts: int = 100,
    seed: Seed = 0,
    confidence: float = 0.95,
    solver_options: Mapping[str, Any] | None = None,
) -> BasinSizes:
    """Run ``solver`` from ``starts`` random starts; count where each ended (module docstring)."""
    from manifoldscape.core.workflows import make_solver
    from manifoldscape.landscape.census import _seed_sequence
    from manifoldscape.landscape.classes import Census

    wall = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    if not isinstance(census, Census):
        raise TypeError(f"census must be a Census, got {type(census).__name__}")
    starts = require_positive_int(starts, "starts")
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if solver_options is not None and not isinstance(solver_options, Mapping):
        raise TypeError(f"solver_options must be a mapping, got {type(solver_options).__name__}")
    configured = make_solver(solver, **dict(solver_options or {}))
    sequence = _seed_sequence(seed)
    length = float(getattr(census, "length", 0.0) or 0.0)
    if length <= 0:
        reference = problem.truth if problem.truth is not None else census.classes[0].point
        length = max(point_norm(reference), 1e-300)
    tolerance = census.tolerance
    counts = [0] * len(census.classes)
    unmatched = not_converged = 0

    def match(x: Any) -> int | None:
        best = None
        for k, c in enumerate(census.classes):
            d = problem.symmetry.distance(x, c.point)
            if d <= tolerance * max(point_norm(x), point_norm(c.point), length):
                if best is None or d < best[0]:
                    best = (d, k)
        return None if best is None else best[1]

    for child in sequence.spawn(starts):
        x0 = random_point(problem.manifold, np.random.default_rng(child))
        end = configured.run(problem, x0=x0, certify=False).point
        k = match(end)
        if k is None:
            polished, gnorm, scale, floor = newton_polish(
                problem,
                end,
                newton_steps=30,
                radius=0.25 * length,
                dense_limit=500,
                divergence=1e6 * length,
            )
            k = match(polished)
            if k is None:
                if gnorm <= 1e-6 * scale + floor:
                    unmatched += 1
                else:
                    not_converged += 1
                continue
        counts[k] += 1
    shares = []
    for k, c in enumerate(census.classes):
        low, high = wilson_interval(counts[k], starts, confidence)
        shares.append(
            BasinShare(
                number=k + 1,
                cost=float(c.cost),
                index=int(c.index),
                verdict=c.verdict.value,
                count=counts[k],
                fraction=counts[k] / starts,
                low=low,
                high=high,
            )
        )
    return BasinSizes(
        problem=problem.name,
        solver=solver,
        starts=starts,
        seed=int(sequence.entropy) if isinstance(sequence.entropy, int) else None,
        confidence=confidence,
        shares=tuple(shares),
        unmatched=unmatched,
        not_converged=not_converged,
        time_s=time.perf_counter() - wall,
    )
