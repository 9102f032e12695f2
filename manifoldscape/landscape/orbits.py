"""Counting honestly: orbit sizes of critical classes and how complete a census looks.

A class of critical points modulo a finite symmetry group G stands for |G · x| = |G| / |G_x|
distinct critical points (orbit–stabiliser), which ``orbit_size`` counts without enumerating G:

* {±1} (``Sign``): 2, or 1 at x = 0;
* signed permutations SP(r) (``SignedPermutation``, in its basis, on slices s_1, …, s_r of x):
  the slices fall into classes of slices equal up to sign (m_c of them in class c) and z zero
  slices; the distinct signed rearrangements number r! / Π_c m_c! · 2^{r − z} (the positions of
  each class are chosen, then a sign for every non-zero slice) — for the balanced points
  k^{−1/2} Σ_{i ∈ I} ±e_i of −Σq⁴ on S^{n−1}: C(n, k) 2^k, and Σ_k C(5, k) 2^k = 242 on S⁴;
* signed shifts Z_n × {±1} (``SignedShift``): 2n / #{(k, ±) : ±s_k[x] = x};
* products of these: the product of the sizes;

and None for a continuous group (the orbit is a manifold, of the dimension the certificate
reports as ``symmetry_dimension``) or a group it does not know.  Equality is up to ``tolerance``
relative to ‖x‖.

``completeness`` summarises how far a census's random starts are from saturating: the number of
classes found once (f₁) and twice (f₂), the Good–Turing estimate f₁/N of the probability that
one more start finds a class not yet seen (Good, Biometrika 40, 1953), Chao's lower bound
S + f₁²/(2 f₂) on the number of classes (Chao, Scand. J. Stat. 11, 1984; S + f₁(f₁ − 1)/2 when
f₂ = 0), and how many classes the last quarter of the runs found first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.core.symmetry import (
    Identity,
    ProductGroup,
    Sign,
    SignedPermutation,
    SignedShift,
    SymmetryGroup,
)

__all__ = ["Completeness", "completeness", "orbit_size"]


def _flat(x: Any) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        return np.concatenate([np.ravel(np.asarray(p)) for p in x])
    return np.ravel(np.asarray(x))


def orbit_size(group: SymmetryGroup, x: Any, tolerance: float = 1e-8) -> int | None:
    """The number of distinct points g · x, g ∈ G, for a finite G (module docstring); else None."""
    if not isinstance(group, SymmetryGroup):
        raise TypeError(f"group must be a SymmetryGroup, got {type(group).__name__}")
    own = getattr(group, "orbit_size", None)
    if callable(own):
        return own(x, tolerance)
    if group.dimension > 0:
        return None
    scale = max(float(np.linalg.norm(_flat(x))), 1e-300)
    eps = tolerance * scale
    if isinstance(group, Identity):
        return 1
    if isinstance(group, Sign):
        return 1 if float(np.linalg.norm(_flat(x))) <= eps else 2
    if isinstance(group, SignedPermutation):
        return _signed_permutation_orbit(group, x, eps)
    if isinstance(group, SignedShift):
        a = np.asarray(x, dtype=float)
        fixed = sum(
            1
            for k in range(group.n)
            for sign in (1.0, -1.0)
            if np.linalg.norm(sign * np.roll(a, k, axis=-1) - a) <= eps
        )
        return (2 * group.n) // max(fixed, 1)
    if isinstance(group, ProductGroup):
        sizes = [orbit_size(g, p, tolerance) for g, p in zip(group.factors, x, strict=True)]
        return None if any(s is None for s in sizes) else math.prod(sizes)
    return None


def _signed_permutation_orbit(group: SignedPermutation, x: Any, eps: float) -> int:
    a = np.asarray(x, dtype=float)
    rows = np.moveaxis(a, group.axis, 0).reshape(group.n, -1)
    if group.basis is not None:
        rows = group.basis.T @ rows  # the r permuted slices (the rest is fixed)
    norms = np.linalg.norm(rows, axis=1)
    zero = norms <= eps
    classes: list[tuple[np.ndarray, int]] = []
    for i in np.flatnonzero(~zero):
        for k, (representative, count) in enumerate(classes):
            if (
                min(
                    np.linalg.norm(rows[i] - representative),
                    np.linalg.norm(rows[i] + representative),
                )
                <= eps
            ):
                classes[k] = (representative, count + 1)
                break
        else:
            classes.append((rows[i], 1))
    r = rows.shape[0]
    arrangements = math.factorial(r) // math.factorial(int(zero.sum()))
    for _, count in classes:
        arrangements //= math.factorial(count)
    return arrangements * 2 ** int((~zero).sum())


@dataclass(frozen=True)
class Completeness:
    """How saturated the random-start phase of a census looks (module docstring).

    ``runs`` random-start runs found ``classes`` classes; ``singletons`` (f₁) and ``doubletons``
    (f₂) of them were reached by exactly one and two runs; ``new_probability`` is the
    Good–Turing estimate f₁/N; ``estimated_classes`` Chao's lower bound; ``late_discoveries`` the
    classes first found in the last quarter of the runs.  ``explore_exhausted`` tells whether the
    explore phase stopped on its budget with ``unexplored`` classes left to explore.
    """

    runs: int
    classes: int
    singletons: int
    doubletons: int
    new_probability: float
    estimated_classes: float
    late_discoveries: int
    explore_exhausted: bool = False
    unexplored: int = 0

    @property
    def looks_complete(self) -> bool:
        """No class found only once, none found late, and the exploration ran to its end."""
        return self.singletons == 0 and self.late_discoveries == 0 and not self.explore_exhausted

    def summary(self) -> str:
        """One line for the census table."""
        parts = [
            f"{self.singletons} class(es) found by one run only",
            f"estimated ≥ {self.estimated_classes:.1f} classes (Chao1)",
            f"chance that one more start finds a new class ≈ {self.new_probability:.2g}",
        ]
        if self.late_discoveries:
            parts.append(f"{self.late_discoveries} found in the last quarter of the runs")
        text = "completeness: " + "; ".join(parts)
        if self.explore_exhausted:
            text += (
                f"\nexploration budget exhausted with {self.unexplored} class(es) not fully "
                "explored: the census may be incomplete (raise explore_runs)"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "runs": self.runs,
            "classes": self.classes,
            "singletons": self.singletons,
            "doubletons": self.doubletons,
            "new_probability": self.new_probability,
            "estimated_classes": self.estimated_classes,
            "late_discoveries": self.late_discoveries,
            "explore_exhausted": self.explore_exhausted,
            "unexplored": self.unexplored,
            "looks_complete": self.looks_complete,
        }


def completeness(
    counts: Sequence[int],
    first_runs: Sequence[int],
    runs: int,
    *,
    explore_exhausted: bool = False,
    unexplored: int = 0,
) -> Completeness:
    """Completeness statistics from how many random-start runs reached each class.

    ``counts[c]`` is the number of random-start runs that ended in class c (0 for a class only
    the explore phase found), ``first_runs[c]`` the run (0-based) that found it first, ``runs``
    the number of random-start runs.
    """
    sampled = [int(c) for c in counts if c > 0]
    f1 = sum(1 for c in sampled if c == 1)
    f2 = sum(1 for c in sampled if c == 2)
    s = len(sampled)
    chao = s + (f1 * f1 / (2.0 * f2) if f2 else f1 * (f1 - 1) / 2.0)
    cutoff = 0.75 * runs
    late = sum(1 for c, r in zip(counts, first_runs, strict=True) if c > 0 and r >= cutoff)
    return Completeness(
        runs=int(runs),
        classes=len(counts),
        singletons=f1,
        doubletons=f2,
        new_probability=f1 / runs if runs else 1.0,
        estimated_classes=float(max(chao, len(counts))),
        late_discoveries=late,
        explore_exhausted=bool(explore_exhausted),
        unexplored=int(unexplored),
    )
