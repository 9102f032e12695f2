"""Recovery experiments at scale: a grid of instance parameters × trials, solved and certified.

The seeds' central empirical claims are phase transitions: for generalized phase retrieval "m =
O(n) equations are sufficient" and nonconvex methods "work well even with a random
initialization" (seed 000, "Solving phase retrieval", Cai et al.; seed 003 §2.2), while for a
real signal m ≥ 2n − 1 generic measurements are needed for x to be determined up to sign at all
(seed 000, "Solvability", Wang & Xu 2015).  ``sweep`` measures such transitions:

    sweep("phase_retrieval", grid={"n": [32], "m": ["1*n", "1.5*n", "2*n", "8*n"]},
          trials=20, db="pr.sqlite")

Each trial builds a seeded instance of a registered problem, solves it from the chosen start,
certifies the final point by its Riemannian Hessian (``certify``) and records whether the truth
was recovered modulo the symmetry group (``Problem.recovered``: dist_G(x, x♮)/‖x♮‖ ≤ the
problem's ``recovery_tolerance``), with the verdict, the index, cost, gradient norm, iterations,
evaluation counts and times — or the error if the trial raised (the sweep goes on).

**Grid values** are numbers, strings (``loss="intensity"``), or arithmetic expressions in the
other parameters: ``"4*n"``, ``"2*n-1"``, ``"n/2"`` (numbers, parameter names, ``+ - * /`` and
parentheses; parsed by a small recursive-descent parser, never ``eval``).  A result that is not
an integer is rounded half up for an integer parameter (``m``).  The names may be other grid keys
or fixed ``problem_options``.

**Seeds.** Trial t at grid point p draws ``SeedSequence([seed, h(p)..., t])`` (h: the SHA-256 of
the grid point's canonical JSON, as four 32-bit words) and from it a problem seed and a solver
seed.  A trial's numbers therefore depend on its key only, never on which worker or executor ran
it or on interruptions; two sweeps with the same seed and grid solve the same instances from the
same starts (a paired comparison of losses or solvers set in ``problem_options``).

**Execution.** ``workers=0`` runs in this process; ``workers=W`` (default: the CPUs available)
in a ``ProcessPoolExecutor`` of W spawned processes with one BLAS thread each (OPENBLAS, OMP,
MKL, VECLIB and NUMEXPR thread counts set to ``threads_per_worker`` in their environment); a
worker that dies (``BrokenProcessPool``) restarts the pool, and the trials that were in flight
are retried one at a time; a trial that kills its worker ``max_attempts`` times running alone is
recorded with that error.  ``scheduler="local"`` starts a Dask ``LocalCluster`` of W worker
processes (one thread each); ``scheduler="tcp://host:port"`` uses that Dask scheduler
(unreachable within ``timeout`` seconds: a ``SweepError``).

**Store.** Every finished trial is committed by this process as it arrives, to the SQLite file
``db`` (``manifoldscape.experiments.store``): a re-run skips what is done, a different definition
under the same file is refused.  ``trials`` is not part of the definition: running again with more
trials adds them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import importlib
import inspect
import json
import logging
import math
import multiprocessing
import os
import re
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from manifoldscape.experiments.store import (
    COLUMNS,
    SweepStore,
    canonical_json,
    definition_hash,
    open_store,
)

__all__ = [
    "SweepError",
    "SweepPlan",
    "SweepResult",
    "format_summary",
    "parse_expression",
    "phase_transition",
    "plan_sweep",
    "run_trial",
    "summarize",
    "sweep",
    "wilson_interval",
]

logger = logging.getLogger(__name__)

DEFINITION_FORMAT = 1
_BLAS_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_Z95 = 1.959963984540054  # the 0.975 quantile of N(0, 1)


class SweepError(ValueError):
    """A sweep that cannot run as asked (bad grid, unreachable scheduler, ...)."""


# --------------------------------------------------------------------------- expressions
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>[-+*/()]))"
)


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression: ``tree`` of numbers, names and (op, left, right) nodes."""

    text: str
    tree: Any

    @property
    def names(self) -> set[str]:
        """The parameter names the expression uses."""
        out: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, str):
                out.add(node)
            elif isinstance(node, tuple):
                for child in node[1:]:
                    walk(child)

        walk(self.tree)
        return out

    def ordered_names(self) -> list[str]:
        """The names in order of first appearance, left to right."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, str):
                if node not in out:
                    out.append(node)
            elif isinstance(node, tuple):
                for child in node[1:]:
                    walk(child)

        walk(self.tree)
        return out

    @property
    def is_number(self) -> bool:
        """Whether the expression is a constant (no names)."""
        return not self.names

    def evaluate(self, values: Mapping[str, Any]) -> float:
        """The value with the names bound by ``values`` (numbers)."""

        def value(node: Any) -> float:
            if isinstance(node, float):
                return node
            if isinstance(node, str):
                bound = values.get(node)
                if isinstance(bound, bool) or not isinstance(bound, (int, float, np.number)):
                    raise ValueError(f"{self.text!r}: {node!r} must be a number, got {bound!r}")
                return float(bound)
            op, *children = node
            args = [value(child) for child in children]
            if op == "neg":
                return -args[0]
            if op == "+":
                return args[0] + args[1]
            if op == "-":
                return args[0] - args[1]
            if op == "*":
                return args[0] * args[1]
            if args[1] == 0:
                raise ValueError(f"{self.text!r}: division by zero")
            return args[0] / args[1]

        return value(self.tree)

    def ratio(self) -> tuple[float, str] | None:
        """(c, name) when the expression is c*name or name*c (or just name), else None."""
        tree = self.tree
        if isinstance(tree, str):
            return 1.0, tree
        if isinstance(tree, tuple) and tree[0] == "*":
            left, right = tree[1], tree[2]
            if isinstance(left, float) and isinstance(right, str):
                return left, right
            if isinstance(left, str) and isinstance(right, float):
                return right, left
        return None


def parse_expression(text: str) -> Expression:
    """Parse ``text`` (numbers, names, ``+ - * /``, parentheses, unary minus).

    Raises ``ValueError`` saying where the text stops making sense.
    """
    if not isinstance(text, str):
        raise TypeError(f"an expression must be a string, got {type(text).__name__}")
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise ValueError(f"{text!r}: unexpected character {stripped[position:].lstrip()[0]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise ValueError("an empty expression")
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def expression() -> Any:
        node = term()
        while (token := peek()) is not None and token[1] in ("+", "-"):
            node = (take()[1], node, term())
        return node

    def term() -> Any:
        node = factor()
        while (token := peek()) is not None and token[1] in ("*", "/"):
            node = (take()[1], node, factor())
        return node

    def factor() -> Any:
        token = peek()
        if token is None:
            raise ValueError(f"{text!r}: ends too early")
        kind, value = take()
        if kind == "number":
            return float(value)
        if kind == "name":
            return value
        if value == "-":
            return ("neg", factor())
        if value == "+":
            return factor()
        if value == "(":
            node = expression()
            if peek() != ("op", ")"):
                raise ValueError(f"{text!r}: missing ')'")
            take()
            return node
        raise ValueError(f"{text!r}: unexpected {value!r}")

    tree = expression()
    if index != len(tokens):
        raise ValueError(f"{text!r}: unexpected {tokens[index][1]!r}")
    return Expression(text.strip(), tree)


# --------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class GridPoint:
    """One grid point: its position, the resolved values and the key text stored with trials."""

    index: int
    values: dict[str, Any]
    key: str


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs to run one trial (picklable; no open resources)."""

    sweep: str
    point: str
    point_index: int
    trial: int
    entropy: tuple[int, ...]
    problem: str
    factory: Callable[..., Any] | None
    parameters: dict[str, Any]
    solver: str
    solver_options: dict[str, Any]
    start: str
    modules: tuple[str, ...] = ()
    threads: int | None = None


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its definition (what the store hashes) and its grid points."""

    definition: dict[str, Any]
    points: tuple[GridPoint, ...]
    factory: Callable[..., Any]
    modules: tuple[str, ...]

    @property
    def sweep_id(self) -> str:
        """The hash of the definition (the store's key)."""
        return definition_hash(self.definition)

    def tasks(self, trials: int, threads: int | None = None) -> list[TrialTask]:
        """Every trial, trial-major (trial 0 of every point first: early partial curves)."""
        d = self.definition
        sweep_id = self.sweep_id
        factory = self.factory if _picklable(self.factory) else None
        options = dict(d["problem_options"])
        return [
            TrialTask(
                sweep=sweep_id,
                point=point.key,
                point_index=point.index,
                trial=trial,
                entropy=(d["seed"], *_point_words(point.key), trial),
                problem=d["problem"],
                factory=factory,
                parameters={**options, **point.values},
                solver=d["solver"],
                solver_options=dict(d["solver_options"]),
                start=d["start"],
                modules=self.modules,
                threads=threads,
            )
            for trial in range(trials)
            for point in self.points
        ]


def _point_words(key: str) -> tuple[int, ...]:
    digest = hashlib.sha256(key.encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def _picklable(obj: Any) -> bool:
    import pickle

    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return getattr(obj, "__module__", "") != "__main__"


def _user_modules(*callables: Any) -> tuple[str, ...]:
    """Modules a worker must import so that user-registered factories exist there too."""
    names = set()
    for obj in callables:
        for owner in (obj, _return_annotation(obj)):
            module = getattr(owner, "__module__", None)
            if isinstance(module, str) and module not in ("__main__", "builtins"):
                if not module.startswith("manifoldscape"):
                    names.add(module)
    return tuple(sorted(names))


def _return_annotation(obj: Any) -> Any:
    try:
        return inspect.signature(obj).return_annotation
    except (TypeError, ValueError):
        return None


def _kinds(factory: Callable[..., Any]) -> dict[str, set[str]]:
    from manifoldscape.boundary.parsing import parameter_kinds

    return parameter_kinds(factory)


def _jsonable_value(value: Any, what: str) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SweepError(f"{what}: expected a finite number, got {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable_value(v, what) for v in value]
    raise SweepError(
        f"{what}: a sweep records its definition as JSON, so values must be numbers, strings, "
        f"booleans, None or lists of them; got {type(value).__name__}"
    )


def _literal(value: Any, kinds: set[str], what: str) -> Any:
    """A grid or option value given as text or a Python value, checked against ``kinds``."""
    if isinstance(value, str):
        from manifoldscape.boundary.parsing import UsageError, parse_value

        try:
            value = parse_value(value, kinds, what)
        except UsageError as exc:
            text = str(exc)
            if kinds & {"int", "float"}:
                text = text.replace(", got", " or an expression of other parameters (2*n), got")
            raise SweepError(text) from None
    if (
        isinstance(value, float)
        and "int" in kinds
        and "float" not in kinds
        and not isinstance(value, bool)
    ):
        if not value.is_integer():
            raise SweepError(f"{what}: expected an integer, got {value!r}")
        value = int(value)
    return value


def _classify(raw: Any, known: set[str], kinds: set[str], what: str) -> Any:
    """An ``Expression`` for "4*n"-like text, else the literal value."""
    if isinstance(raw, str):
        try:
            expression = parse_expression(raw)
        except ValueError:
            expression = None
        if expression is not None and not expression.is_number:
            single_name = isinstance(expression.tree, str)
            if not single_name or expression.tree in known:
                unknown = sorted(expression.names - known)
                if unknown:
                    raise SweepError(
                        f"{what}: {raw!r} uses {', '.join(map(repr, unknown))}, which is not a "
                        f"grid key or a fixed parameter (known: {', '.join(sorted(known)) or '-'})"
                    )
                return expression
        elif expression is not None and not isinstance(expression.tree, float):
            return _round_for(expression.evaluate({}), kinds)  # constant arithmetic, "2*16"
    return _literal(raw, kinds, what)


def _round_for(value: float, kinds: set[str]) -> int | float:
    """An integral value as int; otherwise rounded half up for an integer-only parameter."""
    if math.isfinite(value) and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value)):
        return round(value)
    if "int" in kinds and "float" not in kinds:
        return math.floor(value + 0.5)
    return value


def plan_sweep(
    problem: str,
    grid: Mapping[str, Any] | None = None,
    *,
    solver: str = "trust-regions",
    start: str = "random",
    solver_options: Mapping[str, Any] | None = None,
    problem_options: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> SweepPlan:
    """Validate a sweep and resolve its grid (see ``sweep``); raises ``SweepError``.

    Grid keys and ``problem_options`` are checked against the factory's signature, values
    against its annotations, expressions parsed and evaluated at every grid point, solver
    options by building the solver.
    """
    from manifoldscape.core.registry import problem_registry, solver_registry

    if not isinstance(problem, str):
        raise TypeError(f"problem must be a registered problem name, got {type(problem).__name__}")
    try:
        entry = problem_registry.get(problem)
        solver_entry = solver_registry.get(solver)
    except ValueError as exc:
        raise SweepError(str(exc)) from None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SweepError(f"seed must be a non-negative integer, got {seed!r}")
    grid = dict(grid or {})
    fixed = dict(problem_options or {})
    parameters = entry.parameters()
    kinds = _kinds(entry.factory)
    valid = ", ".join(k for k in parameters if k != "seed")
    for source, keys in (("grid key", grid), ("problem option", fixed)):
        for key in keys:
            if key == "seed":
                raise SweepError(
                    f"{source} 'seed' is not allowed: each trial's seed comes from the sweep seed "
                    "and the trial key"
                )
            if key not in parameters:
                raise SweepError(
                    f"unknown {source} {key!r} for problem {problem!r}; valid: {valid}"
                )
    both = sorted(set(grid) & set(fixed))
    if both:
        raise SweepError(f"{', '.join(both)} given both in the grid and as a fixed parameter")

    fixed_values = {
        key: _literal(value, kinds.get(key, set()), f"problem option {key}")
        for key, value in fixed.items()
    }
    numeric_fixed = {
        k
        for k, v in fixed_values.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    known = set(grid) | numeric_fixed
    axes: list[tuple[str, list[Any], list[Any]]] = []  # key, raw values, classified values
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        values = list(values)
        if not values:
            raise SweepError(f"grid {key}: no values")
        classified = [
            _classify(v, known - {key}, kinds.get(key, set()), f"grid {key}") for v in values
        ]
        raw = [v.text if isinstance(v, Expression) else v for v in classified]
        if len({canonical_json(_jsonable_value(v, f"grid {key}")) for v in raw}) != len(raw):
            raise SweepError(f"grid {key}: repeated values {raw}")
        axes.append((key, raw, classified))

    points = []
    import itertools

    for index, combination in enumerate(itertools.product(*[a[2] for a in axes])):
        chosen = dict(zip([a[0] for a in axes], combination, strict=True))
        values = _resolve_point(chosen, fixed_values, kinds)
        key = canonical_json({k: _jsonable_value(values[k], f"grid {k}") for k in grid})
        points.append(GridPoint(index, {k: values[k] for k in grid}, key))
    if len({p.key for p in points}) != len(points):
        raise SweepError("two grid points resolve to the same parameters; remove the duplicates")

    options = dict(solver_options or {})
    option_kinds = _kinds(solver_entry.factory)
    options = {
        k: _literal(v, option_kinds.get(k, set()), f"solver option {k}") for k, v in options.items()
    }
    try:
        solver_entry.factory(**options)
    except (TypeError, ValueError) as exc:
        raise SweepError(f"solver {solver!r}: {exc}") from None
    _check_start(start, entry.factory)

    definition = {
        "format": DEFINITION_FORMAT,
        "problem": problem,
        "grid": [[key, [_jsonable_value(v, f"grid {key}") for v in raw]] for key, raw, _ in axes],
        "problem_options": {
            k: _jsonable_value(v, f"problem option {k}") for k, v in fixed_values.items()
        },
        "solver": solver,
        "solver_options": {k: _jsonable_value(v, f"solver option {k}") for k, v in options.items()},
        "start": start,
        "seed": int(seed),
    }
    return SweepPlan(
        definition=definition,
        points=tuple(points),
        factory=entry.factory,
        modules=_user_modules(entry.factory, solver_entry.factory),
    )


def _resolve_point(
    chosen: Mapping[str, Any], fixed: Mapping[str, Any], kinds: Mapping[str, set[str]]
) -> dict[str, Any]:
    values = dict(fixed)
    pending = {}
    for key, value in chosen.items():
        if isinstance(value, Expression):
            pending[key] = value
        else:
            values[key] = value
    while pending:
        ready = [k for k, e in pending.items() if e.names <= set(values)]
        if not ready:
            raise SweepError(
                f"grid expressions refer to each other in a cycle: "
                f"{', '.join(f'{k}={e.text}' for k, e in pending.items())}"
            )
        for key in ready:
            expression = pending.pop(key)
            try:
                result = expression.evaluate(values)
            except ValueError as exc:
                raise SweepError(f"grid {key}: {exc}") from None
            values[key] = _round_for(result, kinds.get(key, set()))
    return values


def _check_start(start: Any, factory: Callable[..., Any]) -> None:
    if start == "random":
        return
    if not isinstance(start, str):
        raise SweepError(f"start must be 'random' or a start method name, got {start!r}")
    function = getattr(sys.modules.get(factory.__module__), "initial_point", None)
    if function is None:
        raise SweepError(
            f"start {start!r}: the problem's module {factory.__module__} has no initial_point(); "
            "only start='random' is available"
        )
    choices = getattr(sys.modules[factory.__module__], "INITS", None)
    if choices is not None and start not in choices:
        raise SweepError(f"start must be 'random' or one of {', '.join(choices)}, got {start!r}")


# --------------------------------------------------------------------------- one trial
def _trial_seeds(entropy: Sequence[int]) -> tuple[int, int]:
    """(problem seed, solver seed): two non-negative 63-bit ints from the trial's SeedSequence."""
    words = np.random.SeedSequence(list(entropy)).generate_state(2, np.uint64)
    return int(words[0] >> np.uint64(1)), int(words[1] >> np.uint64(1))


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Build, solve and certify one trial; the stored record (an error is recorded, not raised).

    A top-level function so that process pools and Dask workers can run it.
    """
    from manifoldscape.core.problem import Problem
    from manifoldscape.core.workflows import make_solver

    problem_seed, solver_seed = _trial_seeds(task.entropy)
    record: dict[str, Any] = {
        "sweep": task.sweep,
        "point": task.point,
        "trial": task.trial,
        "point_index": task.point_index,
        "problem_seed": problem_seed,
        "solver_seed": solver_seed,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    started = time.perf_counter()
    try:
        with _thread_limit(task.threads):
            for module in task.modules:
                importlib.import_module(module)
            if task.factory is not None:
                factory = task.factory
            else:
                from manifoldscape.core.registry import problem_registry

                factory = problem_registry.get(task.problem).factory
            problem = factory(**task.parameters, seed=problem_seed)
            if not isinstance(problem, Problem):
                raise TypeError(
                    f"factory of {task.problem!r} returned {type(problem).__name__}, not a Problem"
                )
            built = time.perf_counter()
            x0 = None
            if task.start != "random":
                initial_point = sys.modules[type(problem.objective).__module__].initial_point
                x0 = initial_point(problem, task.start, seed=solver_seed)
            result = make_solver(task.solver, **task.solver_options).run(
                problem, x0=x0, seed=solver_seed, certify=True
            )
            solved = time.perf_counter()
            certificate = result.certificate
            has_truth = problem.truth is not None
            record.update(
                success=bool(problem.recovered(result.point)) if has_truth else None,
                distance=float(problem.distance_to_truth(result.point)) if has_truth else None,
                cost=float(result.cost),
                start_cost=float(result.history.cost[0]) if len(result.history) else None,
                truth_cost=float(problem.cost(problem.truth)) if has_truth else None,
                gradient_norm=float(result.gradient_norm),
                iterations=int(result.iterations),
                cost_evaluations=int(result.counts.cost),
                gradient_evaluations=int(result.counts.gradient),
                hessian_evaluations=int(result.counts.hessian),
                stop_reason=result.stop_reason.value,
                build_time=built - started,
                solve_time=float(result.time_s),
                certify_time=max(solved - built - float(result.time_s), 0.0),
            )
            if certificate is not None:
                record.update(
                    verdict=certificate.verdict.value,
                    hessian_index=int(certificate.index),
                    index_exact=bool(certificate.index_exact),
                    min_eigenvalue=float(certificate.min_eigenvalue),
                    symmetry_dimension=int(certificate.symmetry_dimension),
                    null_dimension=int(certificate.null_dimension),
                )
    except Exception as exc:
        record["error"] = _one_line(exc)
        record["traceback"] = traceback.format_exc()
    record["trial_time"] = time.perf_counter() - started
    return record


@contextlib.contextmanager
def _thread_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS threads with threadpoolctl when it is installed (else the environment decides)."""
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads):
        yield


# --------------------------------------------------------------------------- executors
@contextlib.contextmanager
def _blas_environment(threads: int | None) -> Iterator[None]:
    """Set the BLAS thread variables that processes started inside inherit; restore them after."""
    if threads is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in _BLAS_VARIABLES}
    os.environ.update({name: str(threads) for name in _BLAS_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _worker_initializer(parent: int) -> None:
    """In each pool worker: leave Ctrl-C to the parent, and exit if the parent dies."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _worker_died_record(task: TrialTask, attempts: int, how: str) -> dict[str, Any]:
    problem_seed, solver_seed = _trial_seeds(task.entropy)
    return {
        "sweep": task.sweep,
        "point": task.point,
        "trial": task.trial,
        "point_index": task.point_index,
        "problem_seed": problem_seed,
        "solver_seed": solver_seed,
        "error": f"WorkerDied: {how} while running this trial ({attempts} attempts)",
    }


@dataclass
class _Stats:
    restarts: int = 0


def _run_serial(tasks: Sequence[TrialTask], stats: _Stats) -> Iterator[dict[str, Any]]:
    for task in tasks:
        yield run_trial(task)


def _new_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_initializer,
        initargs=(os.getpid(),),
    )


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor, kill: bool) -> None:
    if kill:
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_pool(
    tasks: Sequence[TrialTask],
    workers: int,
    threads: int | None,
    max_attempts: int,
    stats: _Stats,
) -> Iterator[dict[str, Any]]:
    """Run ``tasks`` on a process pool; see the module docstring for worker deaths."""
    normal: deque[TrialTask] = deque(tasks)
    suspects: deque[TrialTask] = deque()
    deaths: dict[tuple[str, int], int] = {}
    window = 4 * workers
    with _blas_environment(threads):
        pool = _new_pool(workers)
        clean = False
        try:
            while normal or suspects:
                careful = bool(suspects)
                source, limit = (suspects, 1) if careful else (normal, window)
                running: dict[concurrent.futures.Future, TrialTask] = {}
                broken = False
                while (source or running) and not broken:
                    while source and len(running) < limit:
                        task = source.popleft()
                        try:
                            running[pool.submit(run_trial, task)] = task
                        except concurrent.futures.process.BrokenProcessPool:
                            source.appendleft(task)
                            broken = True
                            break
                    if not running:
                        break
                    finished, _ = concurrent.futures.wait(
                        running, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    for future in finished:
                        task = running.pop(future)
                        try:
                            record = future.result()
                        except concurrent.futures.process.BrokenProcessPool:
                            running[future] = task
                            broken = True
                            continue
                        yield record
                    if careful and not broken:
                        break  # a suspect passed alone: back to the normal pace
                if broken:
                    for future in [f for f in running if f.done() and not f.exception()]:
                        yield future.result()  # finished just before the pool broke
                        del running[future]
                    stats.restarts += 1
                    logger.warning(
                        "a worker process died; restarting the pool and retrying %d trial(s)",
                        len(running),
                    )
                    for task in running.values():
                        key = (task.point, task.trial)
                        if not careful:  # which of the trials in flight died is unknown
                            suspects.append(task)
                            continue
                        deaths[key] = deaths.get(key, 0) + 1  # it ran alone: it was the one
                        if deaths[key] >= max_attempts:
                            yield _worker_died_record(task, deaths[key], "the worker process died")
                        else:
                            suspects.append(task)
                    _stop_pool(pool, kill=True)
                    pool = _new_pool(workers)
            clean = True
        finally:
            _stop_pool(pool, kill=not clean)


def _dask_client(scheduler: str, workers: int, threads: int | None, timeout: float) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            "a Dask scheduler needs dask.distributed: pip install 'manifoldscape[dask]'"
        ) from None
    if scheduler == "local":
        with _blas_environment(threads):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        return Client(cluster, timeout=timeout)
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(
            f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s: "
            f"{' '.join(str(exc).split())}"
        ) from None


def _run_dask(
    tasks: Sequence[TrialTask], client: Any, workers: int, stats: _Stats
) -> Iterator[dict[str, Any]]:
    from distributed import as_completed

    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover - older layouts
        from distributed.scheduler import KilledWorker

    queue = deque(tasks)
    window = max(4 * workers, 8)
    pending: dict[Any, TrialTask] = {}

    def submit() -> Any:
        task = queue.popleft()
        future = client.submit(
            run_trial, task, pure=False, key=f"trial-{task.sweep}-{task.point_index}-{task.trial}"
        )
        pending[future] = task
        return future

    initial = [submit() for _ in range(min(window, len(queue)))]
    completed = as_completed(initial)
    try:
        for future in completed:
            task = pending.pop(future)
            try:
                record = future.result()
            except KilledWorker:
                record = _worker_died_record(task, 1, "Dask reported the worker killed")
            yield record
            if queue:
                completed.add(submit())
    finally:
        for future in pending:
            future.cancel()


# --------------------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class SweepResult:
    """What a sweep did, and access to everything its store holds.

    ``ran`` trials were run now, ``skipped`` were already stored; ``errors`` counts the trials
    run now that raised.  ``executor`` says how the trials ran (workers, BLAS threads).
    """

    db: Path
    sweep_id: str
    definition: dict[str, Any]
    trials: int
    ran: int
    skipped: int
    errors: int
    restarts: int
    executor: str
    elapsed_s: float
    stored: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def records(self) -> list[dict[str, Any]]:
        """Every stored trial (see ``manifoldscape.experiments.store.COLUMNS``)."""
        with open_store(self.db, readonly=True) as store:
            return store.records()

    def table(self) -> Any:
        """The trials as a ``pandas.DataFrame``, one column per grid parameter added."""
        with open_store(self.db, readonly=True) as store:
            return store.to_dataframe()

    def to_csv(self, path: str | Path) -> Path:
        """Write the trials to a CSV file."""
        with open_store(self.db, readonly=True) as store:
            return store.to_csv(path)

    def summary(self) -> list[dict[str, Any]]:
        """Success rate per grid point with its Wilson 95% interval (see ``summarize``)."""
        return summarize(self.records(), self.definition)

    def summary_frame(self) -> Any:
        """``summary()`` as a ``pandas.DataFrame``."""
        import pandas as pd

        return pd.DataFrame.from_records(self.summary())

    def plot(self, **options: Any) -> Any:
        """The phase-transition picture (``phase_transition``); returns the Figure."""
        return phase_transition(self, **options)

    def __str__(self) -> str:
        head = (
            f"sweep {self.sweep_id} in {self.db}: {self.ran} trial(s) run, {self.skipped} already "
            f"stored, {self.errors} error(s), {self.elapsed_s:.1f} s ({self.executor})"
        )
        return head + "\n" + format_summary(self.summary(), self.definition)


def _default_workers() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return max(os.cpu_count() or 1, 1)


def _describe_executor(workers: int, scheduler: str | None, threads: int | None) -> str:
    blas = (
        "BLAS threads as configured"
        if threads is None
        else f"{threads} BLAS thread{'s' if threads != 1 else ''} per worker "
        f"(OPENBLAS/OMP/MKL_NUM_THREADS={threads})"
    )
    if scheduler == "local":
        return f"Dask LocalCluster: {workers} worker processes, 1 thread each, {blas}"
    if scheduler is not None:
        return f"Dask scheduler {scheduler}, {blas}"
    if workers == 0:
        return "in this process" + (
            "" if threads is None else f", {blas} if threadpoolctl is installed"
        )
    return (
        f"local process pool: {workers} spawned worker process{'es' if workers > 1 else ''}, {blas}"
    )


def sweep(
    problem: str,
    grid: Mapping[str, Any] | None = None,
    *,
    trials: int = 20,
    db: str | Path,
    solver: str = "trust-regions",
    start: str = "random",
    solver_options: Mapping[str, Any] | None = None,
    problem_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int = 0,
    progress: bool = True,
    threads_per_worker: int | None = 1,
    max_attempts: int = 2,
    timeout: float = 10.0,
) -> SweepResult:
    """Run (or resume) a phase-transition sweep; every finished trial is committed to ``db``.

    ``problem``: a registered problem name; ``grid``: parameter → list of values (numbers,
    strings, or expressions like ``"4*n"``; see the module docstring); ``trials`` per grid point;
    ``solver``/``solver_options``: a registered solver and its options; ``start``: ``"random"``
    (the solver's seeded random point) or a start method of the problem's family (for phase
    retrieval ``"spectral"``, ``"truncated_spectral"``); ``problem_options``: fixed parameters.

    ``workers``: 0 runs in this process, W ≥ 1 on a local pool of W processes (default: the CPUs
    available), or the number of LocalCluster workers with ``scheduler="local"``;
    ``scheduler``: ``"local"`` or a Dask scheduler address (reached within ``timeout`` seconds);
    ``threads_per_worker``: BLAS threads per worker process (None: leave the environment alone);
    ``max_attempts``: how often a trial may kill its worker, run alone, before it is recorded as
    an error.

    Raises ``SweepError`` (a ``ValueError``) for a bad grid or options, a store that is corrupt,
    too new or holds another sweep (``StoreError``), or an unreachable scheduler — before any
    trial runs, with the store's contents untouched.
    """
    from importlib.metadata import version

    __version__ = version("manifoldscape")

    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise SweepError(f"trials must be a positive integer, got {trials!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0
    ):
        raise SweepError(f"workers must be a non-negative integer or None, got {workers!r}")
    if threads_per_worker is not None and (
        not isinstance(threads_per_worker, int) or threads_per_worker < 1
    ):
        raise SweepError(
            f"threads_per_worker must be a positive integer or None, got {threads_per_worker!r}"
        )
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise SweepError(f"max_attempts must be a positive integer, got {max_attempts!r}")
    if scheduler is not None and not (isinstance(scheduler, str) and scheduler):
        raise SweepError(
            f"scheduler must be 'local' or a Dask scheduler address, got {scheduler!r}"
        )
    if scheduler not in (None, "local") and workers is not None:
        raise SweepError("workers is set by the Dask cluster at a scheduler address; leave it out")
    if db is None:
        raise SweepError("db: give the SQLite file that stores the trials")
    plan = plan_sweep(
        problem,
        grid,
        solver=solver,
        start=start,
        solver_options=solver_options,
        problem_options=problem_options,
        seed=seed,
    )
    if workers is None:
        workers = 2 if scheduler == "local" else _default_workers()
    if scheduler == "local" and workers < 1:
        raise SweepError("a LocalCluster needs workers ≥ 1")
    description = _describe_executor(int(workers), scheduler, threads_per_worker)
    started = time.perf_counter()
    stats = _Stats()
    store = open_store(db)
    client = None
    try:
        stored = store.definition()
        if stored is not None:
            store.bind(plan.definition)  # refuses another sweep before any connection is made
        sweep_id = plan.sweep_id
        done = store.done(sweep_id)
        all_tasks = plan.tasks(int(trials), threads_per_worker)
        pending = [t for t in all_tasks if (t.point, t.trial) not in done]
        skipped = len(all_tasks) - len(pending)
        if pending and scheduler is not None:
            client = _dask_client(scheduler, int(workers), threads_per_worker, timeout)
        store.bind(plan.definition, __version__)
        logger.info(
            "sweep %s: %d trial(s) to run, %d already stored; %s",
            sweep_id,
            len(pending),
            skipped,
            description,
        )
        if not pending:
            records: Iterator[dict[str, Any]] = iter(())
        elif client is not None:
            records = _run_dask(pending, client, int(workers), stats)
        elif workers == 0:
            records = _run_serial(pending, stats)
        else:
            records = _run_pool(pending, int(workers), threads_per_worker, max_attempts, stats)
        ran, errors = _consume(records, store, len(all_tasks), skipped, progress, problem)
        count = store.count()
    finally:
        store.close()
        if client is not None:
            _close_client(client)
    return SweepResult(
        db=Path(db),
        sweep_id=sweep_id,
        definition=plan.definition,
        trials=int(trials),
        ran=ran,
        skipped=skipped,
        errors=errors,
        restarts=stats.restarts,
        executor=description,
        elapsed_s=time.perf_counter() - started,
        stored=count,
    )


def _consume(
    records: Iterator[dict[str, Any]],
    store: SweepStore,
    total: int,
    skipped: int,
    progress: bool,
    name: str,
) -> tuple[int, int]:
    from tqdm import tqdm

    ran = errors = 0
    bar = tqdm(
        total=total,
        initial=skipped,
        unit="trial",
        desc=name,
        disable=not progress,
        dynamic_ncols=True,
        smoothing=0.1,
    )
    try:
        for record in records:
            store.add(record)
            ran += 1
            if record.get("error"):
                errors += 1
                bar.set_postfix_str(f"{errors} error(s)", refresh=False)
            bar.update(1)
    finally:
        if hasattr(records, "close"):
            records.close()  # type: ignore[union-attr]
        bar.close()
    return ran, errors


def _close_client(client: Any) -> None:
    cluster = getattr(client, "cluster", None)
    with contextlib.suppress(Exception):
        client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


# --------------------------------------------------------------------------- summary
def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927), 95% by default.

    (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n); (0, 1) when n = 0.
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def summarize(
    records: Iterable[Mapping[str, Any]], definition: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per grid point: trials, successes, success rate and its Wilson 95% interval.

    The rate counts the trials that ran to the end (errors are listed apart).  Among failures,
    the certificates sort the final points: ``spurious_minimizers`` (a local minimizer whose cost
    is above the truth's), ``other_global_minimizers`` (a local minimizer as good as the truth
    but not it, cost ≤ f(x♮) + 1e-6 |f(x₀)|: the data do not determine x, as below m = 2n − 1
    for real phase retrieval, seed 000 "Solvability"), ``saddles`` (strict saddles),
    ``degenerate`` and ``other_failures`` (not critical — the solver stopped early — or a
    maximizer).
    """
    keys = [key for key, _ in definition.get("grid", [])]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    order: dict[str, int] = {}
    for record in records:
        groups.setdefault(record["point"], []).append(record)
        order[record["point"]] = int(record["point_index"])
    rows = []
    for point in sorted(groups, key=lambda p: order[p]):
        trials = groups[point]
        finished = [r for r in trials if not r.get("error")]
        judged = [r for r in finished if r.get("success") is not None]
        successes = sum(1 for r in judged if r["success"])
        failures = [r for r in judged if not r["success"]]
        low, high = wilson_interval(successes, len(judged))
        verdicts = [r.get("verdict") for r in failures]
        minimizers = [r for r in failures if r.get("verdict") == "local_minimizer"]
        global_ = sum(1 for r in minimizers if _as_good_as_truth(r))
        spurious = len(minimizers) - global_
        saddles = verdicts.count("strict_saddle")
        degenerate = verdicts.count("degenerate")
        values = json.loads(point)
        row: dict[str, Any] = {key: values.get(key) for key in keys}
        row.update(
            point_index=order[point],
            trials=len(trials),
            successes=successes,
            rate=successes / len(judged) if judged else None,
            rate_low=low if judged else None,
            rate_high=high if judged else None,
            spurious_minimizers=spurious,
            other_global_minimizers=global_,
            saddles=saddles,
            degenerate=degenerate,
            other_failures=len(failures) - len(minimizers) - saddles - degenerate,
            errors=len(trials) - len(finished),
            median_iterations=_median([r.get("iterations") for r in finished]),
            median_solve_time=_median([r.get("solve_time") for r in finished]),
        )
        rows.append(row)
    return rows


def _as_good_as_truth(record: Mapping[str, Any]) -> bool:
    cost, truth, start = record.get("cost"), record.get("truth_cost"), record.get("start_cost")
    if cost is None or truth is None:
        return False
    return cost <= truth + 1e-6 * abs(start if start is not None else cost)


def _median(values: Sequence[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return float(np.median(present)) if present else None


def format_summary(rows: Sequence[Mapping[str, Any]], definition: Mapping[str, Any]) -> str:
    """The summary as an aligned text table."""
    keys = [key for key, _ in definition.get("grid", [])]
    header = [
        *keys,
        "trials",
        "success",
        "rate",
        "95% CI",
        "spurious min",
        "other global",
        "saddles",
        "degenerate",
        "other",
        "errors",
        "median it",
    ]
    lines = [header]
    for row in rows:
        rate = "-" if row["rate"] is None else f"{row['rate']:.2f}"
        interval = (
            "-" if row["rate_low"] is None else f"[{row['rate_low']:.2f}, {row['rate_high']:.2f}]"
        )
        iterations = "-" if row["median_iterations"] is None else f"{row['median_iterations']:g}"
        lines.append(
            [
                *(str(row[k]) for k in keys),
                str(row["trials"]),
                str(row["successes"]),
                rate,
                interval,
                str(row["spurious_minimizers"]),
                str(row["other_global_minimizers"]),
                str(row["saddles"]),
                str(row["degenerate"]),
                str(row["other_failures"]),
                str(row["errors"]),
                iterations,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


# --------------------------------------------------------------------------- the picture
def _load(source: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if isinstance(source, SweepResult):
        return source.summary(), source.definition
    with open_store(source, readonly=True) as store:
        stored = store.definition()
        if stored is None:
            raise SweepError(f"{source} holds no sweep")
        return summarize(store.records(), stored[1]), stored[1]


def _default_axis(definition: Mapping[str, Any], exclude: str | None) -> str:
    """The first varying grid key given as ratios c*name (then "key/name"), else the first one."""
    grid = [(k, v) for k, v in definition.get("grid", []) if k != exclude]
    if not grid:
        raise SweepError("the sweep has no grid parameter to plot against")
    varying = [(k, v) for k, v in grid if len(v) > 1] or grid
    for key, values in varying:
        bases = {_ratio_base(value) for value in values}
        if len(bases) == 1 and None not in bases:
            return f"{key}/{bases.pop()}"
    return varying[0][0]


def _ratio_base(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        ratio = parse_expression(value).ratio()
    except ValueError:
        return None
    return None if ratio is None else ratio[1]


def _axis_values(
    rows: Sequence[Mapping[str, Any]], axis: str, definition: Mapping[str, Any]
) -> list[Any]:
    keys = [k for k, _ in definition.get("grid", [])]
    fixed = dict(definition.get("problem_options", {}))
    if axis in keys:
        return [row[axis] for row in rows]
    try:
        expression = parse_expression(axis)
    except ValueError as exc:
        raise SweepError(f"axis {axis!r}: not a grid key ({', '.join(keys)}) nor {exc}") from None
    unknown = expression.names - set(keys) - set(fixed)
    if unknown:
        raise SweepError(
            f"axis {axis!r}: unknown {', '.join(sorted(unknown))}; grid keys: {', '.join(keys)}"
        )
    return [expression.evaluate({**fixed, **row}) for row in rows]


def phase_transition(
    source: Any,
    x: str | None = None,
    y: str | None = None,
    *,
    lines: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Any:
    """The phase-transition picture of a sweep (a ``SweepResult`` or a store file).

    One parameter (``x``: a grid key or an expression of them like ``"m/n"``; by default the
    varying grid key, as a ratio when its values were given as ``c*name``): success rate against
    x with Wilson 95% intervals, one curve per value of the other varying keys, and below it the
    failures the certificates call spurious minimizers, saddles, and minimizers as good as the
    truth but not it (see ``summarize``).  Two (``x`` and ``y``): a
    heat map of the success rate, each cell annotated with its rate.  ``lines`` draws labelled
    vertical lines (e.g. the information-theoretic m = 2n − 1, seed 000 "Solvability").
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    rows, definition = _load(source)
    if not rows:
        raise SweepError("the sweep has no trials to plot yet")
    x = x or _default_axis(definition, y)
    xs = _axis_values(rows, x, definition)
    name = definition.get("problem", "")
    fixed = ", ".join(f"{k}={v}" for k, v in definition.get("problem_options", {}).items())
    name = f"{name} ({fixed})" if fixed else name
    if y is not None:
        ys = _axis_values(rows, y, definition)
        x_levels = sorted(set(xs), key=_sort_key)
        y_levels = sorted(set(ys), key=_sort_key)
        grid = np.full((len(y_levels), len(x_levels)), np.nan)
        for row, xv, yv in zip(rows, xs, ys, strict=True):
            if row["rate"] is not None:
                grid[y_levels.index(yv), x_levels.index(xv)] = row["rate"]
        figure, ax = plt.subplots(figsize=(1.0 + 0.55 * len(x_levels), 1.5 + 0.45 * len(y_levels)))
        image = ax.imshow(grid, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
        for i in range(len(y_levels)):
            for j in range(len(x_levels)):
                if np.isfinite(grid[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{grid[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if grid[i, j] < 0.5 else "black",
                    )
        ax.set_xticks(range(len(x_levels)), [_label(v) for v in x_levels], rotation=45)
        ax.set_yticks(range(len(y_levels)), [_label(v) for v in y_levels])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        figure.colorbar(image, ax=ax, label="success rate")
        ax.set_title(title or f"{name}: success rate")
        figure.tight_layout()
        return figure

    varying = [k for k, v in definition.get("grid", []) if len(v) > 1]
    along = next((k for k in _ordered_names(x) if k in varying), None)
    keys = [k for k in varying if k != along]
    curves: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for row, xv in zip(rows, xs, strict=True):
        label = ", ".join(f"{k}={row[k]}" for k in keys)
        curves.setdefault(label, []).append((xv, row))
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.4, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}
    )
    for index, (label, points) in enumerate(curves.items()):
        points.sort(key=lambda p: _sort_key(p[0]))
        px = [p[0] for p in points if p[1]["rate"] is not None]
        rate = np.array([p[1]["rate"] for p in points if p[1]["rate"] is not None])
        low = np.array([p[1]["rate_low"] for p in points if p[1]["rate"] is not None])
        high = np.array([p[1]["rate_high"] for p in points if p[1]["rate"] is not None])
        color = f"C{index}"
        top.fill_between(px, low, high, color=color, alpha=0.2, linewidth=0)
        top.errorbar(
            px,
            rate,
            yerr=[rate - low, high - rate],
            color=color,
            marker="o",
            ms=4,
            capsize=2,
            label=label or None,
        )
        fx = [p[0] for p in points]
        bottom.plot(
            fx,
            [p[1]["spurious_minimizers"] for p in points],
            color=color,
            marker="v",
            ms=4,
            label="spurious minimizers" if index == 0 else None,
        )
        bottom.plot(
            fx,
            [p[1]["saddles"] for p in points],
            color=color,
            marker="x",
            ms=4,
            linestyle="--",
            label="saddles" if index == 0 else None,
        )
        bottom.plot(
            fx,
            [p[1]["other_global_minimizers"] for p in points],
            color=color,
            marker="s",
            ms=3,
            linestyle=":",
            label="minimizers as good as the truth" if index == 0 else None,
        )
    for text, position in (lines or {}).items():
        for ax in (top, bottom):
            ax.axvline(position, color="0.3", linestyle=":", linewidth=1.2)
        top.text(position, 0.5, f" {text}", rotation=90, va="center", ha="right", fontsize=8)
    top.set_ylim(-0.03, 1.03)
    top.set_ylabel("success rate (Wilson 95%)")
    top.grid(alpha=0.3)
    if any(curves):
        top.legend(fontsize=8, loc="lower right")
    top.set_title(title or f"{name}: phase transition")
    bottom.set_ylabel("failures")
    bottom.set_xlabel(x)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return figure


def _ordered_names(text: str) -> list[str]:
    try:
        return parse_expression(text).ordered_names()
    except ValueError:
        return [text]


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def columns() -> list[str]:
    """The stored columns of a trial (``manifoldscape.experiments.store.COLUMNS``)."""
    return list(COLUMNS)
