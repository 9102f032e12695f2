"""The census's runs — random starts and explore runs — serially, on a process pool or on Dask.

Start i draws its point x₀ from ``numpy.random.default_rng(children[i])``, the i-th child of the
census's ``SeedSequence``, and goes to the search ``searches[i mod len(searches)]`` (module
docstring of ``manifoldscape.landscape.census``).  A start is a pure function of the problem, the
search settings and its child seed, so the starts are independent: with ``workers`` > 1 they run
on a ``concurrent.futures.ProcessPoolExecutor``, with a ``scheduler`` on a Dask cluster (the
search settings scattered to every worker once), and their results are handed back IN START
ORDER, so the census merges exactly the same runs in the same order — the same classes, costs,
indices and counts — whatever runs them.  Likewise the explore phase sends the displaced runs of
one class at a time to the pool and records them in order before it picks the next class,
exactly as the serial loop does.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.boundary.arguments import scheduler_location
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.geometry import random_point
from manifoldscape.landscape.following import RunResult, follow


# --------------------------------------------------------------------------- −f
def _negate(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_negate(v) for v in value]
    return -value


class _NegatedObjective(Objective):
    """−f, to find the maximizers of f with a minimizer."""

    def __init__(self, objective: Objective):
        self.objective = objective
        self.batched_hessian = objective.batched_hessian

    def prepare(self, x: Any) -> Any:
        return self.objective.prepare(x)

    def cost(self, x: Any, data: Any) -> float:
        return -self.objective.cost(x, data)

    def euclidean_gradient(self, x: Any, data: Any) -> Any:
        return _negate(self.objective.euclidean_gradient(x, data))

    def euclidean_hessian(self, x: Any, data: Any, direction: Any) -> Any:
        return _negate(self.objective.euclidean_hessian(x, data, direction))

    def autograd_cost(self, x: Any) -> Any:
        return -self.objective.autograd_cost(x)


def negated(problem: Problem) -> Problem:
    """−f on the same manifold with the same symmetry: its minimizers are f's maximizers."""
    return Problem(
        problem.manifold,
        _NegatedObjective(problem.objective),
        name=f"−{problem.name}",
        symmetry=problem.symmetry,
    )


def _plateaus(gradient_norms: np.ndarray, limit: int = 3) -> list[int]:
    """Interior iterates where the gradient norm has a strict local minimum (the smallest few)."""
    g = np.asarray(gradient_norms, dtype=float)
    if g.size < 3:
        return []
    interior = np.arange(1, g.size - 1)
    minima = interior[(g[interior] < g[interior - 1]) & (g[interior] <= g[interior + 1])]
    minima = minima[g[minima] < 0.5 * g[0]]
    return sorted(minima[np.argsort(g[minima])][:limit].tolist())


# --------------------------------------------------------------------------- one start
@dataclass(frozen=True)
class StartSearches:
    """Everything one random start needs; picklable, sent once to each worker process."""

    problem: Problem
    negated: Problem | None
    solvers: Mapping[str, Any]
    searches: Sequence[tuple[str, tuple[str, Any]]]
    follow_options: Mapping[str, Any]
    radius: float
    trajectory_starts: bool

    def run(self, i: int, child: np.random.SeedSequence) -> list[tuple[RunResult, str]]:
        """The runs of start ``i`` (seeded by ``child``) with their search labels, in order."""
        x0 = random_point(self.problem.manifold, np.random.default_rng(child))
        label, (kind, what) = self.searches[i % len(self.searches)]
        options = dict(self.follow_options)
        if kind == "follow":
            return [(follow(self.problem, x0, target=what, radius=self.radius, **options), label)]
        solved = self.solvers[what].run(
            self.negated if kind == "max" else self.problem,
            x0=x0,
            keep_iterates=self.trajectory_starts,
            certify=False,
        )
        polish = {"target": None, "radius": self.radius, **options}
        out = [(follow(self.problem, solved.point, **polish), label)]
        iterates = solved.history.iterates
        if self.trajectory_starts and iterates:
            for j in _plateaus(solved.history.gradient_norm):
                out.append((follow(self.problem, iterates[j], **polish), "trajectory"))
        return out

    def explore(self, x0: Any, modes: list[Any]) -> RunResult:
        """One explore-phase run: mode following of ``modes`` from the displaced point x0."""
        return follow(
            self.problem, x0, target=None, modes=modes, radius=self.radius, **self.follow_options
        )


# --------------------------------------------------------------------------- the pool
_WORKER: StartSearches | None = None  # this worker process's copy, set by _install


def _install(searches: StartSearches) -> None:
    global _WORKER
    _WORKER = searches


def _run_in_worker(i: int, child: np.random.SeedSequence) -> list[tuple[RunResult, str]]:
    assert _WORKER is not None  # set by the pool's initializer
    return _WORKER.run(i, child)


def _explore_in_worker(x0: Any, modes: list[Any]) -> RunResult:
    assert _WORKER is not None
    return _WORKER.explore(x0, modes)


def _run_on_dask(searches: StartSearches, i: int, child: np.random.SeedSequence) -> Any:
    return searches.run(i, child)


def _explore_on_dask(searches: StartSearches, x0: Any, modes: list[Any]) -> RunResult:
    return searches.explore(x0, modes)


#: seconds to wait for a Dask scheduler given by its address
SCHEDULER_TIMEOUT = 10.0


class SearchPool:
    """The census's runs: in this process, on a process pool, or on a Dask cluster; a context.

    ``workers`` > 1 runs them on a ``ProcessPoolExecutor``; ``client`` (a
    ``distributed.Client``, or a scheduler address ``tcp://HOST:PORT`` to connect to within
    ``SCHEDULER_TIMEOUT`` seconds and close afterwards) on a Dask cluster, the search settings
    scattered to every worker once.  Results always come back in submission order, so the
    census is the same whatever runs it.
    """

    def __init__(self, searches: StartSearches, workers: int = 1, client: Any = None):
        self.searches, self.workers = searches, workers
        self._pool: ProcessPoolExecutor | None = None
        self._given = client
        self._client: Any = None
        self._remote: Any = None  # the searches, scattered to the Dask workers

    def _check_picklable(self, where: str) -> None:
        try:
            pickle.dumps(self.searches)
        except Exception as exc:  # lambdas, closures, open handles in a user's problem
            raise TypeError(
                f"{where} needs a picklable problem and solvers (they are sent to worker "
                f"processes), but pickling failed: {exc}; use workers=1"
            ) from exc

    def __enter__(self) -> SearchPool:
        if self._given is not None:
            self._check_picklable("a Dask scheduler")
            self._client = self._given
            if isinstance(self._given, str):
                self._client = _connect(self._given)
            try:
                self._remote = self._client.scatter(self.searches, broadcast=True, hash=False)
            except BaseException:
                self.__exit__()
                raise
        elif self.workers > 1:
            self._check_picklable(f"workers={self.workers}")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_install, initargs=(self.searches,)
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._client is not None:
            if self._remote is not None:
                self._remote.release()
                self._remote = None
            if isinstance(self._given, str):  # a client this pool opened
                self._client.close()
            self._client = None

    def _dask(self, function: Any, *arguments: Sequence[Any]) -> Iterator[Any]:
        """``function(searches, *items)`` for each item, on the cluster, yielded in order."""
        count = len(arguments[0])
        futures = self._client.map(function, [self._remote] * count, *arguments, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self._client.cancel(futures)  # what is left if the caller stopped early

    def _chunk(self, count: int) -> int:
        return max(1, count // (4 * self.workers))

    def starts(
        self, children: Sequence[np.random.SeedSequence]
    ) -> Iterator[list[tuple[RunResult, str]]]:
        """Yield each random start's runs (with their search labels) in start order."""
        if self._remote is not None:
            yield from self._dask(_run_on_dask, range(len(children)), children)
            return
        if self._pool is None or len(children) == 1:
            for i, child in enumerate(children):
                yield self.searches.run(i, child)
            return
        chunk = self._chunk(len(children))
        yield from self._pool.map(_run_in_worker, range(len(children)), children, chunksize=chunk)

    def explore(self, tasks: Sequence[tuple[Any, list[Any]]]) -> Iterator[RunResult]:
        """Yield the explore runs from the displaced points ``tasks`` (x0, modes), in order."""
        if self._remote is not None and tasks:
            points, modes = [t[0] for t in tasks], [t[1] for t in tasks]
            yield from self._dask(_explore_on_dask, points, modes)
            return
        if self._pool is None or len(tasks) == 1:
            for x0, modes in tasks:
                yield self.searches.explore(x0, modes)
            return
        points, modes = [t[0] for t in tasks], [t[1] for t in tasks]
        yield from self._pool.map(
            _explore_in_worker, points, modes, chunksize=self._chunk(len(tasks))
        )


def check_scheduler(scheduler: Any, workers: int) -> None:
    """Refuse a ``scheduler`` that is neither a Dask client nor a ``tcp://HOST:PORT`` address."""
    if scheduler is None:
        return
    if workers > 1:
        raise ValueError(
            f"give workers={workers} or a scheduler, not both (a Dask cluster has its own workers)"
        )
    if isinstance(scheduler, str):
        if scheduler_location(scheduler) is None:
            raise ValueError(
                f"scheduler must be a Dask scheduler address tcp://HOST:PORT, got {scheduler!r}"
            )
        return
    if not all(callable(getattr(scheduler, name, None)) for name in ("scatter", "map", "cancel")):
        raise TypeError(
            "scheduler must be a distributed.Client or a Dask scheduler address "
            f"tcp://HOST:PORT, got {type(scheduler).__name__}"
        )


def _connect(address: str) -> Any:
    """A ``distributed.Client`` at a scheduler address, within ``SCHEDULER_TIMEOUT`` seconds."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(
            "a Dask scheduler needs dask.distributed: pip install 'manifoldscape[dask]'"
        ) from None
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address!r} within {SCHEDULER_TIMEOUT:g} s: "
            f"{' '.join(str(exc).split())[:200]}"
        ) from exc
