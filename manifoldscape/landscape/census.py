"""Census of critical points: every index, merged modulo symmetry, certified, counted.

``census(problem, starts, seed=...)`` looks for the critical points of a problem from many random
starts and reports each class of critical points modulo the symmetry group once: its cost, its
Morse index (negative Hessian eigenvalues off the symmetry orbit), the certificate's verdict, the
distance to the ground truth and how many runs reached it.  It checks seed 003's slogans on any
problem (§1: "the (only!) local minimizers are symmetric versions of the ground truth" and "there
is negative curvature in directions that break symmetry") and feeds its Morse diagram — cost
against index, seed 003 Fig. 6 (right); ``Census.plot``.

Each random start x₀ (a child of ``numpy.random.SeedSequence(seed)``, so the census is the same
for the same seed) goes to one search, in turn:

* **minimize** f with a registered solver (trust regions by default), and on compact manifolds
  **maximize** f by minimizing −f: the minimizers and maximizers.  With ``trajectory_starts`` the
  iterates where the gradient norm has a local minimum along the descent — where the trajectory
  slows down near a saddle — are polished too;
* **eigenvector following** toward index k, for k = 0, …, d (d = dim M): in the eigenbasis
  Hess f(x) = Σ λ_i q_i q_iᵀ (λ ascending) of the Riemannian Hessian in an orthonormal tangent
  basis (``manifoldscape.geometry.tangent_basis``; Boumal, *An Introduction to Optimization on
  Smooth Manifolds*, §5.5), step

      η = −Σ_i σ_i ⟨q_i, grad f(x)⟩ / max(|λ_i|, δ) q_i,   σ_i = −1 for i ≤ k, +1 for i > k,

  restricted to a trust radius and retracted: ascent along the k lowest curvature directions,
  descent along the others (Cerjan and Miller, J. Chem. Phys. 75, 1981; Wales, *Energy
  Landscapes*, §6.2).  At a nondegenerate critical point of index k the signs σ_i are those of
  λ_i, η is the Newton step and the point is an attractor; critical points of any other index
  repel.  The step is also a saddle-free Gauss–Newton step for ½‖grad f‖², whose Riemannian
  gradient is Hess f(x)[grad f(x)] for the Levi-Civita connection (metric compatibility and the
  self-adjointness of the Hessian, Boumal, Prop. 5.15 and §5.5), so every critical point is a
  global minimizer of it.

Then the **explore phase** (``explore=True``, the default) walks outward from the classes found,
lowest cost first, by mode following (Cerjan and Miller, J. Chem. Phys. 75, 2800, 1981; Wales,
*Energy Landscapes*, Cambridge 2003, §6.2).  At a class representative x of index k, with the
Hessian eigenpairs (λ_j, v_j) off the symmetry orbit (orbit directions are skipped: they stay in
the class) and N the k negative-curvature modes, each mode is followed from both displaced points
R_x(±ε v_j) by the step above with the ascent directions
N ∪ {v_j} when λ_j ≥ 0 (uphill, toward index k + 1) and N ∖ {v_j} when λ_j < 0 (downhill,
toward index k − 1); along the way the ascent directions are the eigenvectors that overlap most
with those followed at the previous step.  The aim is the neighbours of x in the Morse–Smale
complex of f, the critical points joined to x by gradient flow lines (Banyaga and Hurtubise,
*Lectures on Morse Homology*, Kluwer 2004), and — the slogan of seed 003 §1 that there is
negative curvature in directions that break symmetry — the saddles next to a minimizer sit along
its softest modes, where random starts rarely land: the small basins of eigenvector following.
Every new class is explored in turn until none is left or ``explore_runs`` displaced runs were
made.  One representative per class suffices: for a finite group G (``Sign``,
``SignedPermutation``) the runs from g·x are the images under g of those from x, ending in the
same classes, and a continuous group's orbit directions are skipped.  The phase has no randomness
(ε = 0.05 ℓ, modes softest first), so the census stays a function of the seed.

Every search ends with **Riemannian Newton** steps, Hess f(x)[η] = −grad f(x), solved in tangent
coordinates (dense eigen-decomposition up to ``dense_limit`` tangent dimensions, MINRES on the
matrix-free indefinite Hessian beyond), until ‖grad f‖ stops decreasing at round-off.  A point is
converged unless the certificate's gradient test (``manifoldscape.core.tolerance``) finds it
not critical for sure:

    ‖grad f(x)‖ ≤ rtol_gradient · ‖Hess f(x)‖ · max(‖x‖, 1) + ρ_grad(x),

with ρ_grad the round-off floor of the computed gradient;
the others are discarded and counted as *not converged*.  Two converged points are the same class
when dist_G(x, y) ≤ tolerance · max(‖x‖, ‖y‖, ℓ) (``problem.symmetry.distance``; plain distance
when the group is trivial; ℓ is ‖x♮‖, or the norm of the first start without a truth).  Each
class is certified once (``certify``), which reports the orbit's zero eigenvalues as symmetry
and a class whose Hessian test is inconclusive as ``degenerate`` — shown, never hidden.

Counting honestly (``manifoldscape.landscape.orbits``): each class reports its orbit size, the
number of critical points it stands for under a finite group (so "242 critical points in 5
classes" for −Σq⁴ on S⁴ is read off the census), and the census reports how saturated its random
starts look (classes found once, the Good–Turing and Chao estimates, late discoveries) and
whether the explore phase stopped on its budget with classes left to explore.  With
``connect=True`` the census also computes the cascade graph of its classes
(``manifoldscape.landscape.graph``), from which barriers, the disconnectivity graph and basin
sizes follow (``Census.graph``, ``barriers()``, ``disconnectivity()``, ``basins()``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from pymanopt.manifolds import (
    Grassmann,
    Product,
    SpecialOrthogonalGroup,
    Sphere,
    Stiefel,
)

from manifoldscape.boundary.arguments import Seed, require_positive_int
from manifoldscape.boundary.keywords import checked_keywords
from manifoldscape.boundary.threads import small_dense_threads
from manifoldscape.core.certificate import Certificate, Verdict, certify
from manifoldscape.core.problem import Problem
from manifoldscape.core.symmetry import Identity
from manifoldscape.core.tolerance import (
    EPSILON,
    SAFETY,
)
from manifoldscape.geometry import point_norm, random_point, tangent_basis
from manifoldscape.landscape.classes import Census, CriticalClass
from manifoldscape.landscape.following import RunResult, displacements
from manifoldscape.landscape.orbits import completeness, orbit_size
from manifoldscape.landscape.starts import SearchPool, StartSearches, check_scheduler, negated

logger = logging.getLogger(__name__)

__all__ = ["Census", "CriticalClass", "census"]

#: searches that are not random starts (left out of the completeness statistics)
_NOT_SAMPLED = ("explore", "split")
#: explore phase: displacement ε along a Hessian eigenvector, relative to the problem's length
_EXPLORE_DISPLACEMENT = 0.05


_COMPACT = (Sphere, Stiefel, Grassmann, SpecialOrthogonalGroup)


def _is_compact(manifold: Any) -> bool:
    if isinstance(manifold, Product):
        return all(_is_compact(m) for m in manifold.manifolds)
    return isinstance(manifold, _COMPACT)


# --------------------------------------------------------------------------- merging
class _Class:
    def __init__(self, x: Any, gnorm: float, search: str, cost: float, scale: float):
        self.point, self.gradient_norm = x, gnorm
        self.cost, self.scale = cost, scale
        self.members = [x]
        self.found_by = {search: 1}
        self.certificate: Certificate | None = None

    def add(self, x: Any, gnorm: float, search: str) -> None:
        self.members.append(x)
        self.found_by[search] = self.found_by.get(search, 0) + 1
        if gnorm < self.gradient_norm:
            self.point, self.gradient_norm = x, gnorm


def _same(group: Any, x: Any, y: Any, tolerance: float, length: float) -> bool:
    scale = max(point_norm(x), point_norm(y), length)
    return group.distance(x, y) <= tolerance * scale


def _same_cost(a: float, b: float, scale: float, length: float) -> bool:
    """Equal costs up to convergence (10⁻⁶ ‖Hess f‖ ℓ²) and round-off (γ ε (|a| + |b|))."""
    return abs(a - b) <= 1e-6 * scale * length + SAFETY * EPSILON * (abs(a) + abs(b))


def _same_spectrum(a: Certificate, b: Certificate) -> bool:
    """Same verdict, index and (dense) eigenvalues within both certificates' tolerances."""
    if (a.verdict, a.index, a.symmetry_dimension) != (b.verdict, b.index, b.symmetry_dimension):
        return False
    if a.method != "dense" or b.method != "dense" or len(a.eigenvalues) != len(b.eigenvalues):
        return True
    slack = max(
        a.eigenvalue_tolerance + a.eigenvalue_floor, b.eigenvalue_tolerance + b.eigenvalue_floor
    )
    return bool(np.all(np.abs(a.eigenvalues - b.eigenvalues) <= slack))


def _copies(members: list[Any], tolerance: float, length: float) -> int:
    plain = Identity()
    distinct: list[Any] = []
    for x in members:
        if not any(_same(plain, x, y, tolerance, length) for y in distinct):
            distinct.append(x)
    return len(distinct)


# --------------------------------------------------------------------------- census
def _seed_sequence(seed: Seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return np.random.SeedSequence(int(seed))
    raise TypeError(
        f"seed must be an int, a numpy.random.Generator, a SeedSequence or None, "
        f"got {type(seed).__name__}"
    )


def _check_solvers(solvers: Any) -> tuple[str, ...]:
    from manifoldscape.core.registry import solver_registry

    if isinstance(solvers, str):
        solvers = (solvers,)
    if not isinstance(solvers, Sequence) or not all(isinstance(s, str) for s in solvers):
        raise TypeError(
            f"solver must be a registered solver name or a sequence of them, got {solvers!r}"
        )
    for name in solvers:
        solver_registry.get(name)  # ValueError listing the known solvers
    return tuple(dict.fromkeys(solvers))


@checked_keywords(renamed={"solvers": "solver"})
@small_dense_threads
def census(
    problem: Problem,
    starts: int = 200,
    *,
    seed: Seed = None,
    solver: str | Sequence[str] = "trust-regions",
    saddle_search: bool = True,
    maximize: bool | None = None,
    trajectory_starts: bool = True,
    tolerance: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    max_steps: int = 100,
    newton_steps: int = 60,
    dense_limit: int = 500,
    max_matrix_free_index: int = 6,
    rtol_gradient: float = 1e-6,
    explore: bool = True,
    explore_runs: int | None = None,
    progress: bool = False,
    callback: Callable[[int, int], Any] | None = None,
    connect: bool = False,
    connect_options: Mapping[str, Any] | None = None,
    workers: int = 1,
    scheduler: Any = None,
) -> Census:
    """Find the critical points of every index of ``problem`` and certify them (module docstring).

    ``starts`` random starts, drawn from the children of ``SeedSequence(seed)``, go in turn to
    the searches: minimizing with ``solver``, a registered solver name or a sequence of names
    (options ``solver_options``; the old keyword ``solvers=`` still works with a
    ``DeprecationWarning``), maximizing
    with them (``maximize``; default: on compact manifolds only, where −f is bounded below), and
    eigenvector following toward each index 0, …, d (``saddle_search``; up to
    ``max_matrix_free_index`` beyond ``dense_limit`` tangent dimensions).  ``max_steps`` bounds
    each eigenvector-following run and ``newton_steps`` each Newton polish.  Points are one class
    when their distance modulo the symmetry group is at most ``tolerance`` (default 1e-3)
    relative to their norm; ``rtol_gradient`` is the certificate's relative gradient test.
    ``explore`` (default on) then explores outward from the classes found (module docstring):
    at most ``explore_runs`` displaced runs, made IN ADDITION to the ``starts`` random starts
    (default: max(starts, 8 m), four classes' worth of the 2 m displaced runs per class, m the
    tangent dimension d, or ``max_matrix_free_index`` + 1 beyond ``dense_limit``; 0 turns the
    phase off like ``explore=False``).  The random-start phase is the same with or without it.
    ``progress`` shows a bar on standard error; ``callback(done, starts)`` is called after each
    start.  ``connect`` computes the cascade graph of the classes as well (``Census.graph``;
    ``landscape.graph.cascade_graph`` with ``connect_options``).  ``workers`` > 1 runs the
    random starts, and each explored class's displaced runs, on that many processes
    (``manifoldscape.landscape.starts``; the problem must pickle): each start is seeded by its
    own child seed and the runs are merged in submission order, so the census is the same —
    classes, costs, indices, counts — for any number of workers.  ``scheduler`` runs them on a
    Dask cluster instead, with the same guarantee: a ``distributed.Client``, or the address
    ``tcp://HOST:PORT`` of a scheduler (connected to within 10 s and closed afterwards; Dask
    unpickles what the scheduler sends, so use only schedulers you trust).  Choosing the next
    class to explore, the merging and the certificates stay in this process.
    """
    wall = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(
            f"problem must be a manifoldscape Problem, got {type(problem).__name__}; build one "
            "with make_problem(name, ...) or a factory of manifoldscape.problems"
        )
    starts = require_positive_int(starts, "starts")
    max_steps = require_positive_int(max_steps, "max_steps")
    newton_steps = require_positive_int(newton_steps, "newton_steps")
    dense_limit = require_positive_int(dense_limit, "dense_limit")
    max_matrix_free_index = require_positive_int(max_matrix_free_index, "max_matrix_free_index")
    workers = require_positive_int(workers, "workers")
    check_scheduler(scheduler, workers)
    if not isinstance(explore, (bool, np.bool_)):
        raise TypeError(f"explore must be True or False, got {explore!r}")
    if explore_runs is not None:
        if isinstance(explore_runs, bool) or not isinstance(explore_runs, (int, np.integer)):
            raise TypeError(f"explore_runs must be a non-negative integer, got {explore_runs!r}")
        if explore_runs < 0:
            raise ValueError(f"explore_runs must be a non-negative integer, got {explore_runs}")
    solver_names = _check_solvers(solver)
    for name, value in (("tolerance", tolerance), ("rtol_gradient", rtol_gradient)):
        if value is not None and not (
            isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
        ):
            raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    tolerance = 1e-3 if tolerance is None else float(tolerance)
    if solver_options is not None and not isinstance(solver_options, Mapping):
        raise TypeError(f"solver_options must be a mapping, got {type(solver_options).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(done, starts), got {callback!r}")
    if not isinstance(connect, (bool, np.bool_)):
        raise TypeError(f"connect must be True or False, got {connect!r}")
    if connect_options is not None and not isinstance(connect_options, Mapping):
        raise TypeError(f"connect_options must be a mapping, got {type(connect_options).__name__}")
    options = dict(solver_options or {})
    from manifoldscape.core.workflows import make_solver

    configured = {name: make_solver(name, **options) for name in solver_names}
    sequence = _seed_sequence(seed)
    children = sequence.spawn(starts)
    first = random_point(problem.manifold, np.random.default_rng(children[0]))
    dim = tangent_basis(problem.manifold, first).dim
    if maximize is None:
        maximize = _is_compact(problem.manifold)
    length = point_norm(problem.truth) if problem.truth is not None else point_norm(first)
    length = max(length, 1e-300)

    searches: list[tuple[str, Any]] = [(f"minimize ({s})", ("min", s)) for s in solver_names]
    if maximize:
        searches += [(f"maximize ({s})", ("max", s)) for s in solver_names]
    if saddle_search:
        top = dim if dim <= dense_limit else min(dim, max_matrix_free_index)
        searches += [(f"index {k}", ("follow", k)) for k in range(top + 1)]
    if not searches:
        raise ValueError("nothing to search: give at least one solver or saddle_search=True")
    follow_options = {
        "max_steps": max_steps,
        "newton_steps": newton_steps,
        "dense_limit": dense_limit,
        "rtol_gradient": rtol_gradient,
        "divergence": 1e6 * max(length, point_norm(first)),
    }
    radius = 0.25 * max(point_norm(first), length)
    start_searches = StartSearches(
        problem=problem,
        negated=negated(problem) if maximize else None,
        solvers=configured,
        searches=tuple(searches),
        follow_options=follow_options,
        radius=radius,
        trajectory_starts=bool(trajectory_starts),
    )

    classes: list[_Class] = []
    first_run: dict[int, int] = {}  # when each class was found first, for the completeness
    runs = unconverged = 0
    mismatched: set[str] = set()

    def record(run: RunResult, search: str) -> None:
        nonlocal runs, unconverged
        runs += 1
        if not run.converged:
            unconverged += 1
            return
        cost = problem.cost(run.point)
        run_length = max(point_norm(run.point), 1.0)
        for cls in classes:
            # the cost test first: it is cheaper than the distance and rejects most classes
            if _same_cost(cost, cls.cost, max(run.scale, cls.scale), run_length) and _same(
                problem.symmetry, run.point, cls.point, tolerance, length
            ):
                cls.add(run.point, run.gradient_norm, search)
                return
        if any(_same(problem.symmetry, run.point, c.point, tolerance, length) for c in classes):
            mismatched.add(problem.symmetry.name)
        classes.append(_Class(run.point, run.gradient_norm, search, cost, run.scale))
        first_run[id(classes[-1])] = runs - 1

    with SearchPool(start_searches, workers, scheduler) as pool:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=starts, desc=f"census {problem.name}", file=sys.stderr, unit="start")
        try:
            for i, start in enumerate(pool.starts(children)):
                for run, label in start:
                    record(run, label)
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(i + 1, starts)
        finally:
            if bar is not None:
                bar.close()

        random_runs = runs
        budget = 0
        if explore:
            modes = dim if dim <= dense_limit else min(dim, max_matrix_free_index + 1)
            budget = max(starts, 8 * modes) if explore_runs is None else int(explore_runs)
        explored = 0
        epsilon = _EXPLORE_DISPLACEMENT * max(length, point_norm(first))
        visited: set[int] = set()
        cut = False  # a class whose displaced runs the budget cut short
        while explored < budget:
            pending = [c for c in classes if id(c) not in visited]
            if not pending:
                break  # every class explored and no new one appeared
            source = min(pending, key=lambda c: problem.cost(c.point))  # lowest cost first
            visited.add(id(source))
            tasks = []
            for task in displacements(
                problem,
                source.point,
                dense_limit=dense_limit,
                max_matrix_free_index=max_matrix_free_index,
                epsilon=epsilon,
            ):
                if explored + len(tasks) >= budget:
                    cut = True
                    break
                tasks.append(task)
            explored += len(tasks)
            # the next source is chosen after all of this source's runs are recorded, in order
            for run in pool.explore(tasks):
                record(run, "explore")
    if explored:
        logger.info("census of %s: %d explore runs", problem.name, explored)
    unexplored = sum(1 for c in classes if id(c) not in visited) + int(cut)
    exhausted = budget > 0 and explored >= budget and unexplored > 0
    if exhausted:
        logger.info(
            "census of %s: the exploration budget (%d runs) ran out with %d class(es) not fully "
            "explored; raise explore_runs for a complete census",
            problem.name,
            budget,
            unexplored,
        )
    first_of: dict[int, int] = {}  # id of a class's point → the run that found it first

    found: list[CriticalClass] = []
    notes: list[str] = []
    for cls in _split_by_spectrum(problem, classes, tolerance, length, rtol_gradient, notes):
        certificate = cls.certificate
        count = len(cls.members)
        if certificate.verdict is Verdict.NOT_CRITICAL:
            unconverged += count
            continue
        distance = None if problem.truth is None else float(problem.distance_to_truth(cls.point))
        first_of[id(cls.point)] = first_run.get(id(cls), random_runs)
        found.append(
            CriticalClass(
                point=cls.point,
                cost=float(certificate.cost),
                index=int(certificate.index),
                verdict=certificate.verdict,
                count=count,
                distance_to_truth=distance,
                symmetry_dimension=int(certificate.symmetry_dimension),
                gradient_norm=float(certificate.gradient_norm),
                certificate=certificate,
                copies=_copies(cls.members, tolerance, length),
                found_by=dict(cls.found_by),
                orbit_size=orbit_size(problem.symmetry, cls.point),
            )
        )
    if mismatched:
        notes.append(
            f"the declared symmetry ({', '.join(sorted(mismatched))}) maps critical points of "
            "different cost onto each other: it is not a symmetry of this instance, and those "
            "points are listed as separate classes"
        )
    found = _merge_constant(found, notes)
    found.sort(key=lambda c: (c.index, c.cost))
    result = Census(
        problem=problem.name,
        classes=tuple(found),
        starts=starts,
        runs=runs,
        unconverged=unconverged,
        explore_runs=explored,
        time_s=time.perf_counter() - wall,
        seed=int(sequence.entropy) if isinstance(sequence.entropy, int) else None,
        searches=tuple(label for label, _ in searches),
        tolerance=tolerance,
        parameters=dict(problem.parameters),
        notes=tuple(notes),
        length=length,
        completeness=completeness(
            [sum(v for k, v in c.found_by.items() if k not in _NOT_SAMPLED) for c in found],
            [first_of.get(id(c.point), random_runs) for c in found],
            random_runs,
            explore_exhausted=exhausted,
            unexplored=unexplored,
        ),
        instance=problem,
    )
    if connect:
        from manifoldscape.landscape.cascade import cascade_graph

        graph = cascade_graph(problem, result, **dict(connect_options or {}))
        result = replace(result, cascade=graph)
    for note in notes:
        logger.warning("census of %s: %s", problem.name, note)
    logger.info(
        "census of %s: %d classes from %d starts (%d runs, %d not converged)",
        problem.name,
        len(found),
        starts,
        runs,
        unconverged,
    )
    return result


# --------------------------------------------------------------------------- classes
#: at most this many distinct copies of a class are certified to check their spectra agree
_SPECTRUM_CHECKS = 4


def _split_by_spectrum(
    problem: Problem,
    classes: list[_Class],
    tolerance: float,
    length: float,
    rtol_gradient: float,
    notes: list[str],
) -> list[_Class]:
    """Certify every class; split off copies whose spectrum differs from the representative's.

    Copies (members at a plain distance apart) of one class are images of each other under the
    declared group, so their spectra agree when the group is a symmetry of the cost; a copy
    whose certificate disagrees (verdict, index or eigenvalues) becomes a class of its own.
    """
    plain = Identity()
    out: list[_Class] = []
    split = 0
    for cls in classes:
        cls.certificate = certify(problem, cls.point, rtol_gradient=rtol_gradient)
        distinct: list[Any] = [cls.point]
        for x in cls.members:
            if len(distinct) > _SPECTRUM_CHECKS:
                break
            if not any(_same(plain, x, y, tolerance, length) for y in distinct):
                distinct.append(x)
        for copy in distinct[1:]:
            other = certify(problem, copy, rtol_gradient=rtol_gradient)
            if _same_spectrum(cls.certificate, other):
                continue
            moved = [x for x in cls.members if _same(plain, x, copy, tolerance, length)]
            cls.members = [x for x in cls.members if not any(x is m for m in moved)]
            new = _Class(copy, other.gradient_norm, "split", other.cost, cls.scale)
            new.members, new.found_by, new.certificate = moved, {"split": len(moved)}, other
            out.append(new)
            split += 1
        out.append(cls)
    if split:
        notes.append(
            f"{split} class(es) split off because copies related by the declared symmetry "
            f"{problem.symmetry.name} have different Hessian spectra: it is not a symmetry of "
            "this instance"
        )
    return out


def _merge_constant(found: list[CriticalClass], notes: list[str]) -> list[CriticalClass]:
    """One degenerate class when the cost is constant on the manifold (to working precision).

    Constant: every class's Hessian is below its round-off floor and all the costs agree to
    round-off, so the "critical points" are just the points the searches stopped at.
    """
    if not found or not all(
        c.certificate.hessian_norm <= c.certificate.eigenvalue_floor for c in found
    ):
        return found
    costs = np.array([c.cost for c in found])
    if np.ptp(costs) > SAFETY * EPSILON * float(np.max(np.abs(costs)) + 1e-300) * len(costs):
        return found
    first = found[0]
    merged = CriticalClass(
        point=first.point,
        cost=first.cost,
        index=0,
        verdict=Verdict.DEGENERATE,
        count=sum(c.count for c in found),
        distance_to_truth=first.distance_to_truth,
        symmetry_dimension=first.symmetry_dimension,
        gradient_norm=first.gradient_norm,
        certificate=first.certificate,
        copies=sum(c.copies for c in found),
        found_by={
            key: sum(c.found_by.get(key, 0) for c in found)
            for key in dict.fromkeys(k for c in found for k in c.found_by)
        },
    )
    notes.append(
        f"the cost is constant on the manifold to working precision (value {first.cost:.12g}, "
        f"Hessian below its round-off floor at all {len(found)} points reached): every point "
        "is a degenerate critical point"
    )
    return [merged]
