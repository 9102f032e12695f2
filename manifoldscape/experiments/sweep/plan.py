"""The plan of a sweep: its validated definition, its grid points and, lazily, its trials.

``plan_sweep`` checks everything that can be checked before a trial runs, and refuses with a
``SweepError`` naming the grid key or option:

* grid keys and fixed parameters against the factory's signature, values against its
  annotations; expressions (``manifoldscape.boundary.expressions``) parsed, and evaluated at every
  grid point, with overflows and division by zero refused;
* the number of grid points against ``MANIFOLDSCAPE_MAX_TRIALS`` before any point is made
  (``sweep`` then checks points × trials), so an absurd grid costs nothing;
* every grid point against the factory's own argument checks, without building anything
  large: the factory runs inside ``budgets.planning_probe()`` and stops at its memory check
  (``require_memory``), which also refuses a point too large for the memory (a factory without
  such a check is built whole, within a time budget of a few seconds for all points);
* the solver's options, by building it, and the solver against the problem, by one iteration on
  the first grid point's instance (the msp solver on a Euclidean problem is refused here, not
  recorded as an error in every trial).

The last two run the factory in this process, so they are made for the library's own factories
only (``manifoldscape.problems``); a factory registered by a user, which might crash or allocate
without asking, is checked where its trials run, in the workers.

The trials themselves are never listed up front: ``SweepPlan.tasks(trials)`` is a lazy sequence
(trial-major: trial 0 of every point first, for early partial curves).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.boundary.budgets import (
    MAX_TRIALS,
    PlanCheckpoint,
    ResourceLimitError,
    planning_probe,
    require_plan_size,
)
from manifoldscape.boundary.expressions import Expression, parse_expression
from manifoldscape.experiments.store import canonical_json, definition_hash

logger = logging.getLogger(__name__)

DEFINITION_FORMAT = 1
#: seconds spent at most on checking grid points with factories that build in full
PROBE_BUDGET_S = 3.0


class SweepError(ValueError):
    """A sweep that cannot run as asked (bad grid, unreachable scheduler, ...)."""


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
    #: per-point instances: the entropy of the grid point's one instance (None: per trial)
    instance_entropy: tuple[int, ...] | None = None


class TaskList(Sequence[TrialTask]):
    """The trials of a plan, made on demand (trial-major); ``len`` without making any."""

    def __init__(self, plan: SweepPlan, trials: int, threads: int | None):
        self._plan = plan
        self._trials = int(trials)
        self._threads = threads
        d = plan.definition
        self._sweep = plan.sweep_id
        self._factory = plan.factory if _picklable(plan.factory) else None
        self._options = dict(d["problem_options"])
        self._words = [_point_words(point.key) for point in plan.points]

    def __len__(self) -> int:
        return self._trials * len(self._plan.points)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        trial, position = divmod(index, len(self._plan.points))
        return self._task(trial, position)

    def __iter__(self) -> Iterator[TrialTask]:
        for trial in range(self._trials):
            for position in range(len(self._plan.points)):
                yield self._task(trial, position)

    def _task(self, trial: int, position: int) -> TrialTask:
        d = self._plan.definition
        point = self._plan.points[position]
        return TrialTask(
            sweep=self._sweep,
            point=point.key,
            point_index=point.index,
            trial=trial,
            entropy=(d["seed"], *self._words[position], trial),
            problem=d["problem"],
            factory=self._factory,
            parameters={**self._options, **point.values},
            solver=d["solver"],
            solver_options=dict(d["solver_options"]),
            start=d["start"],
            modules=self._plan.modules,
            threads=self._threads,
            instance_entropy=(
                (d["seed"], *self._words[position])
                if d.get("instance", "per-trial") == "per-point"
                else None
            ),
        )


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

    def tasks(self, trials: int, threads: int | None = None) -> TaskList:
        """Every trial, trial-major (trial 0 of every point first), made lazily."""
        return TaskList(self, trials, threads)


#: the instance policies of ``plan_sweep``
INSTANCE_POLICIES = ("per-trial", "per-point")


def trial_seeds(entropy: Sequence[int]) -> tuple[int, int]:
    """(problem seed, solver seed): two non-negative 63-bit ints from the trial's SeedSequence."""
    words = np.random.SeedSequence(list(entropy)).generate_state(2, np.uint64)
    return int(words[0] >> np.uint64(1)), int(words[1] >> np.uint64(1))


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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
    if isinstance(value, np.ndarray):
        # an array is recorded as its nested list, so the definition's hash and the factory's
        # input are the same whether the user passed the array or the list
        if value.dtype.kind not in "biuf":
            raise SweepError(
                f"{what}: a sweep records arrays as JSON lists, so they must be real numeric "
                f"(bool, integer or float); got an array of dtype {value.dtype}"
            )
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise SweepError(f"{what}: expected finite numbers, got an array with NaN or Inf")
        return value.tolist()
    raise SweepError(
        f"{what}: a sweep records its definition as JSON, so values must be numbers, strings, "
        f"booleans, None, real numpy arrays or lists of them; got {type(value).__name__}"
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
        if not math.isfinite(value) or not value.is_integer():
            raise SweepError(f"{what}: expected an integer, got {value!r}")
        value = int(value)
    return value


def _classify(raw: Any, known: set[str], kinds: set[str], what: str) -> Any:
    """An ``Expression`` for "4*n"-like text, else the literal value."""
    numeric = not kinds or bool(kinds & {"int", "float"})
    if isinstance(raw, str) and numeric:
        try:
            expression = parse_expression(raw)
        except ValueError as exc:
            if "str" not in kinds and any(c in raw for c in "+-*/()"):
                raise SweepError(f"{what}: {exc}") from None
            expression = None
        if expression is not None and not expression.is_number:
            if not expression.is_name or expression.ordered_names()[0] in known:
                unknown = sorted(expression.names - known)
                if unknown:
                    raise SweepError(
                        f"{what}: {raw!r} uses {', '.join(map(repr, unknown))}, which is not a "
                        f"grid key or a fixed parameter (known: {', '.join(sorted(known)) or '-'})"
                    )
                return expression
        elif expression is not None and not expression.is_literal:
            try:
                return _round_for(expression.evaluate({}), kinds)  # constant arithmetic, "2*16"
            except ValueError as exc:
                raise SweepError(f"{what}: {exc}") from None
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
    instance: str = "per-trial",
    batch: int | None = None,
    check_points: bool = True,
) -> SweepPlan:
    """Validate a sweep and resolve its grid (see the module docstring); raises ``SweepError``.

    ``instance``: ``"per-trial"`` draws a new seeded instance for every trial (a phase
    transition over instances); ``"per-point"`` draws one seeded instance per grid point and
    makes the trials seeded starts on it ("from how many random starts does this instance
    recover?").  The instance seed then comes from the sweep seed and the point's key alone,
    the solver seed from those and the trial number, so each trial's start is the same under
    either policy.  A per-trial definition has no ``instance`` key, so stores made before the
    policy existed keep their hash and resume.

    ``batch``: with ``instance="per-point"``, run the trials of a grid point ``batch`` at a
    time through the solver's batched form (``Entry.batched``: K starts advanced together, one
    matrix-matrix product per step).  Trials ``[cK, (c+1)K)`` of a point always form one batch,
    whatever the workers or interruptions, so the numbers are reproducible; they agree with an
    unbatched sweep to round-off only, so ``batch`` is part of the definition (its hash).

    ``check_points=False`` skips the per-point factory checks and the solver's trial iteration
    (a plan for inspection only).
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
    if instance not in INSTANCE_POLICIES:
        raise SweepError(
            f"instance must be one of {', '.join(INSTANCE_POLICIES)}, got {instance!r}"
        )
    if batch is not None:
        _check_batch_policy(batch, instance, solver, solver_entry, solver_options)
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
    size = 1
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        values = list(values)
        if not values:
            raise SweepError(f"grid {key}: no values")
        size *= len(values)
        try:
            require_plan_size(size, f"a grid of {size} grid points or more", MAX_TRIALS)
        except ResourceLimitError as exc:
            raise SweepError(str(exc)) from None
        classified = [
            _classify(v, known - {key}, kinds.get(key, set()), f"grid {key}") for v in values
        ]
        raw = [v.text if isinstance(v, Expression) else v for v in classified]
        if len({canonical_json(_jsonable_value(v, f"grid {key}")) for v in raw}) != len(raw):
            raise SweepError(f"grid {key}: repeated values {raw}")
        axes.append((key, raw, classified))

    points = []
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
        raise SweepError(f"solver {solver!r}: {_one_line(exc)}") from None
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
    if instance != "per-trial":
        definition["instance"] = instance
    if batch is not None:
        definition["batch"] = int(batch)
    if check_points and (getattr(entry.factory, "__module__", None) or "").startswith(
        "manifoldscape."
    ):
        _check_points(entry.factory, points, fixed_values)
        _check_solver_fits(
            problem,
            entry.factory,
            solver,
            solver_entry.factory,
            options,
            points[0],
            fixed_values,
            solver_entry.batched if batch is not None else None,
        )
    return SweepPlan(
        definition=definition,
        points=tuple(points),
        factory=entry.factory,
        modules=_user_modules(entry.factory, solver_entry.factory),
    )


def _point_error(point: GridPoint, exc: BaseException) -> SweepError:
    where = f"grid point {point.key}" if point.key != "{}" else "the problem's parameters"
    return SweepError(f"{where}: {_one_line(exc)}")


def _check_points(
    factory: Callable[..., Any], points: Sequence[GridPoint], fixed: Mapping[str, Any]
) -> None:
    """Run the factory's argument checks at every grid point (see the module docstring)."""
    accepts_seed = "seed" in inspect.signature(factory).parameters
    spent = 0.0
    for point in points:
        started = time.perf_counter()
        stopped = False
        try:
            with planning_probe():
                factory(**{**fixed, **point.values}, **({"seed": 0} if accepts_seed else {}))
        except PlanCheckpoint:
            stopped = True
        except (ValueError, TypeError, MemoryError, OverflowError) as exc:
            raise _point_error(point, exc) from None
        except Exception:  # not a refusal of the arguments: the trial will record it
            stopped = True
        if not stopped:
            spent += time.perf_counter() - started
            if spent > PROBE_BUDGET_S:
                logger.info(
                    "checked %d grid point(s) by building them; the rest are checked when run",
                    point.index + 1,
                )
                return


def _check_solver_fits(
    problem: str,
    factory: Callable[..., Any],
    solver: str,
    solver_factory: Callable[..., Any],
    options: Mapping[str, Any],
    point: GridPoint,
    fixed: Mapping[str, Any],
    batched: Callable[..., Any] | None = None,
) -> None:
    """Run one iteration of the solver (its ``batched`` form if given) on the first point."""
    from manifoldscape.core.problem import Problem

    accepts_seed = "seed" in inspect.signature(factory).parameters
    try:
        instance = factory(**{**fixed, **point.values}, **({"seed": 0} if accepts_seed else {}))
    except Exception:  # the trials record it
        return
    if not isinstance(instance, Problem):
        return
    if batched is None:
        try:
            configured = solver_factory(**{**options, "max_iterations": 1})
        except (TypeError, ValueError):
            return
    try:
        if batched is not None:
            from manifoldscape.core.loop import start_point

            start = np.reshape(start_point(instance, None, 0), (-1, 1))
            batched(instance, start, **{**options, "max_iterations": 1})
        else:
            configured.run(instance, seed=0, certify=False)
    except (TypeError, ValueError) as exc:
        raise SweepError(
            f"solver {solver!r} cannot run problem {problem!r} (tried at {point.key}): "
            f"{_one_line(exc)}"
        ) from None
    except Exception:
        return


def _check_batch_policy(
    batch: Any, instance: str, solver: str, entry: Any, options: Mapping[str, Any] | None
) -> None:
    """Refuse a ``batch`` that cannot run: not a count, per-trial instances, no batched form."""
    from manifoldscape.core.registry import solver_registry

    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise SweepError(f"batch must be a positive integer or None, got {batch!r}")
    if instance != "per-point":
        raise SweepError(
            "batch runs seeded starts of one instance together: it needs instance='per-point'"
        )
    if entry.batched is None:
        able = ", ".join(e.name for e in solver_registry if e.batched is not None)
        raise SweepError(f"solver {solver!r} has no batched form; batch works with: {able}")
    accepted = [
        k
        for k in inspect.signature(entry.batched).parameters
        if k not in ("problem", "starts", "certify", "certify_options")
    ]
    refused = sorted(set(options or {}) - set(accepted))
    if refused:
        valid = ", ".join(accepted)
        raise SweepError(
            f"solver option {', '.join(refused)} not available with batch; batched {solver} "
            f"takes: {valid}"
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
