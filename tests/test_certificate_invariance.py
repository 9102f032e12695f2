"""The certificate's verdict and index do not change when the cost is shifted or scaled.

For random instances of several problem families, random points (critical and not), shifts
f ↦ f + c·q with q constant on the manifold (‖x‖² on a sphere, Stiefel, Grassmann factor; the
constant 1 on a Euclidean space), c = ±10^[−8, 12], and scalings f ↦ s f, s = 10^[−150, 150],
the certificate of the modified problem at the same point has the same verdict, index and
recovery as the original's — or says ``degenerate`` with a note that round-off prevents a
decision.  Never a different definite verdict.  Hypothesis runs derandomized: the same examples
on every run.
"""

from __future__ import annotations

import functools
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymanopt.manifolds import Grassmann, Product, Sphere, Stiefel
from pymanopt.manifolds.manifold import Manifold

import manifoldscape as ms
from manifoldscape.core.certificate import Certificate, Verdict, certify
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.geometry import random_point
from manifoldscape.landscape.census import census
from manifoldscape.problems import (
    dictionary_learning,
    eigenspace,
    matrix_sensing,
    phase_retrieval,
    rayleigh,
    singular_pair,
)

SETTINGS = settings(
    derandomize=True,
    max_examples=32,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


# --------------------------------------------------------------------------- the modification
def _constant_on(manifold: Manifold) -> list[bool]:
    """Per factor: is ‖x‖² constant on it (a sphere, a Stiefel or Grassmann manifold)?"""
    parts = manifold.manifolds if isinstance(manifold, Product) else [manifold]
    return [isinstance(m, (Sphere, Stiefel, Grassmann)) for m in parts]


class ShiftedScaled(Objective):
    """s · (f(x) + c · q(x)): q = Σ ‖x_i‖² over the factors where it is constant, else 1."""

    def __init__(self, base: Objective, manifold: Manifold, c: float, s: float):
        self.base, self.c, self.s = base, float(c), float(s)
        self.product = isinstance(manifold, Product)
        self.quadratic = _constant_on(manifold)
        self.batched_hessian = base.batched_hessian

    def prepare(self, x: Any) -> Any:
        return self.base.prepare(x)

    def _parts(self, v: Any) -> list:
        return list(v) if self.product else [v]

    def _join(self, parts: list) -> Any:
        return parts if self.product else parts[0]

    def cost(self, x: Any, data: Any) -> float:
        q = sum(
            float(np.sum(np.abs(p) ** 2)) if quad else 0.0
            for p, quad in zip(self._parts(x), self.quadratic, strict=True)
        )
        q = q if any(self.quadratic) else 1.0
        return self.s * (self.base.cost(x, data) + self.c * q)

    def _add(self, value: Any, direction: Any) -> Any:
        out = [
            self.s * (v + 2.0 * self.c * d) if quad else self.s * v
            for v, d, quad in zip(
                self._parts(value), self._parts(direction), self.quadratic, strict=True
            )
        ]
        return self._join(out)

    def euclidean_gradient(self, x: Any, data: Any) -> Any:
        return self._add(self.base.euclidean_gradient(x, data), x)

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:
        return self._add(self.base.euclidean_hessian(x, data, direction), direction)


def modified(problem: Problem, c: float, s: float) -> Problem:
    """The same landscape, shifted by c·q and scaled by s; same symmetry and truth."""
    return Problem(
        problem.manifold,
        ShiftedScaled(problem.objective, problem.manifold, c, s),
        name=f"{problem.name} shifted",
        symmetry=problem.symmetry,
        truth=problem.truth,
        recovery_tolerance=problem.recovery_tolerance,
    )


def consistent(base: Certificate, other: Certificate) -> bool:
    """Same verdict and index, or ``degenerate`` because round-off prevents a decision.

    The index of a point that is not critical means nothing and is not compared.
    """
    if other.verdict is base.verdict is Verdict.NOT_CRITICAL:
        return True
    if (other.verdict, other.index) == (base.verdict, base.index):
        return True
    return other.verdict is Verdict.DEGENERATE and any("round-off" in n for n in other.notes)


# --------------------------------------------------------------------------- instances
def _l4_sphere(n: int, seed: int) -> Problem:
    return ms.Problem.from_autograd(
        Sphere(n), lambda x: -anp.sum(x**4), symmetry=ms.symmetry.Sign(), name="l4"
    )


FAMILIES = {
    "rayleigh": lambda seed: rayleigh(n=10, spectrum="random", seed=seed),
    "singular_pair": lambda seed: singular_pair(m=5, n=4, seed=seed),
    "eigenspace_grassmann": lambda seed: eigenspace(n=7, p=2, seed=seed),
    "eigenspace_stiefel": lambda seed: eigenspace(n=6, p=2, manifold="stiefel", seed=seed),
    "phase_retrieval_real": lambda seed: phase_retrieval(n=5, m=40, seed=seed),
    "phase_retrieval_complex": lambda seed: phase_retrieval(n=4, m=48, field="complex", seed=seed),
    "matrix_sensing": lambda seed: matrix_sensing(n=5, r=2, seed=seed),
    "dictionary_learning": lambda seed: dictionary_learning(n=4, p=300, seed=seed),
    "from_autograd_l4": lambda seed: _l4_sphere(6, seed),
}


@functools.cache
def instance(family: str, seed: int) -> Problem:
    return FAMILIES[family](seed)


@functools.cache
def point_and_certificate(family: str, seed: int, kind: str) -> tuple[Any, Certificate]:
    """A point of the given kind and its certificate on the unmodified problem."""
    problem = instance(family, seed)
    if kind == "random":
        x = random_point(problem.manifold, seed + 100)
    elif kind == "truth" and problem.truth is not None:
        x = problem.truth
    elif kind == "saddle":  # a critical point of index ≥ 1 found by eigenvector following
        found = census(problem, starts=4, seed=seed, explore=False, maximize=False)
        saddles = [c for c in found.classes if c.index >= 1] or list(found.classes)
        x = saddles[seed % len(saddles)].point
    else:  # where a solver from a random start stops: a minimizer or a saddle
        x = ms.solve(problem, x0=random_point(problem.manifold, seed + 200), certify=False).point
    return x, certify(problem, x)


exponents = st.floats(min_value=-8.0, max_value=12.0, allow_nan=False)
shifts = st.tuples(st.sampled_from([1.0, -1.0]), exponents).map(lambda t: t[0] * 10.0 ** t[1])
scales = st.floats(min_value=-150.0, max_value=150.0).map(lambda e: 10.0**e)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@SETTINGS
@given(
    seed=st.integers(min_value=0, max_value=2),
    kind=st.sampled_from(["random", "truth", "solved", "saddle"]),
    c=shifts,
    s=scales,
)
def test_shifts_and_scalings_never_change_a_definite_verdict(family, seed, kind, c, s):
    problem = instance(family, seed)
    x, base = point_and_certificate(family, seed, kind)
    other = certify(modified(problem, c, s), x)
    assert consistent(base, other), (family, kind, c, s, base.summary(), other.summary())
    if problem.truth is not None:
        assert modified(problem, c, s).recovered(x) == problem.recovered(x)


@SETTINGS
@given(seed=st.integers(min_value=0, max_value=3), c=shifts, s=scales)
def test_rayleigh_saddles_keep_their_index(seed, c, s):
    problem = instance("rayleigh", seed % 3)
    vectors = np.linalg.eigh(problem.objective.a)[1]
    i = seed % 10
    x = vectors[:, ::-1][:, i]  # ±v_{i+1}: index i
    base = certify(problem, x)
    assert base.index == i and base.verdict is not Verdict.DEGENERATE
    assert consistent(base, certify(modified(problem, c, s), x))


def test_a_moderate_shift_decides_as_the_original():
    # below the round-off limit nothing may fall back to "degenerate"
    problem = instance("rayleigh", 0)
    vectors = np.linalg.eigh(problem.objective.a)[1][:, ::-1]
    for i in range(10):
        base = certify(problem, vectors[:, i])
        for c in (1e-8, -1.0, 1e4, -1e6):
            for s in (1e-150, 1.0, 1e150):
                other = certify(modified(problem, c, s), vectors[:, i])
                assert (other.verdict, other.index) == (base.verdict, base.index), (i, c, s)
