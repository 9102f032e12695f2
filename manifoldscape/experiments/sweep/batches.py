"""Batched trials: the seeded starts of one grid point's instance, solved K at a time.

With ``sweep(..., instance="per-point", batch=K)`` the trials of a grid point are cut into
fixed batches, trials ``[cK, (c+1)K)`` for c = 0, 1, …, and each batch runs as one task: the
instance is built once, the K start points are the ones the unbatched trials would use (each
from its own trial's solver seed), the solver's batched form (``Entry.batched``, e.g.
``batched_trust_regions``) advances them together with one matrix-matrix product per step, and
every final point is certified on its own, as an unbatched trial certifies it.

Reproducibility.  Which trials share a batch depends only on the trial numbers, never on the
workers, the order of completion or an interruption; a batch with some trials already stored
(an interrupted sweep, ``retry_errors``) runs whole again and returns records for the missing
trials only.  So a resumed batched sweep stores bit for bit the numbers of an uninterrupted one.
A batched run agrees with K separate runs to round-off (a matrix-matrix product sums in another
order than matrix-vector products), which is why ``batch`` is part of the sweep's definition.

Times.  ``solve_time`` of a batched trial is the batch's solve time divided by its size (the
batch is one computation); ``certify_time`` is the trial's own certificate.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from manifoldscape.boundary.budgets import require_memory
from manifoldscape.experiments.sweep.plan import TrialTask
from manifoldscape.experiments.sweep.trial import (
    base_record,
    build_instance,
    certificate_fields,
    method_start,
    one_line,
    result_fields,
    run_trial,
    task_seeds,
    thread_limit,
)


@dataclass(frozen=True)
class BatchTask:
    """The trials of one batch (``members``, in trial order) and which of them to return."""

    members: tuple[TrialTask, ...]
    wanted: frozenset[int]

    @property
    def sweep(self) -> str:
        """The sweep's id."""
        return self.members[0].sweep

    @property
    def point(self) -> str:
        """The grid point's key."""
        return self.members[0].point

    @property
    def point_index(self) -> int:
        """The grid point's position."""
        return self.members[0].point_index

    @property
    def trial(self) -> int:
        """The batch's first trial number (its name in logs and Dask keys)."""
        return self.members[0].trial

    @property
    def batch(self) -> int:
        """The batch size (the last batch of a point may hold fewer members)."""
        return len(self.members)


Task = TrialTask | BatchTask


def batch_tasks(
    tasks: Any, points: int, trials: int, size: int, done: set[tuple[str, int]]
) -> Iterator[BatchTask]:
    """The batches holding a trial not in ``done``, batch-major (batch 0 of every point first).

    ``tasks`` is the plan's trial list (``TaskList``, indexed trial-major: trial t of point p
    at ``t * points + p``); a batch is listed whole, with ``wanted`` the trials still missing.
    """
    for first in range(0, trials, size):
        for position in range(points):
            members = tuple(
                tasks[t * points + position] for t in range(first, min(first + size, trials))
            )
            wanted = frozenset(m.trial for m in members if (m.point, m.trial) not in done)
            if wanted:
                yield BatchTask(members, wanted)


def run_task(task: Task) -> list[dict[str, Any]]:
    """The records of a task: one for a trial, the wanted trials' for a batch (never raises)."""
    if isinstance(task, BatchTask):
        return run_batch(task)
    return [run_trial(task)]


def died_records(task: Task, attempts: int, how: str) -> list[dict[str, Any]]:
    """The records of a task whose worker died ``attempts`` times (every wanted trial)."""
    members = task.members if isinstance(task, BatchTask) else (task,)
    wanted = task.wanted if isinstance(task, BatchTask) else {task.trial}
    records = []
    for member in members:
        if member.trial in wanted:
            record = base_record(member, *task_seeds(member))
            del record["worker"]
            record["error"] = f"WorkerDied: {how} while running this trial ({attempts} attempts)"
            records.append(record)
    return records


def run_batch(task: BatchTask) -> list[dict[str, Any]]:
    """Build the point's instance once, solve the batch's starts together, certify each.

    An error building the instance or in the batched solve is recorded in every wanted trial;
    an error certifying one final point only in that trial.  A top-level function, so that
    process pools and Dask workers can run it.
    """
    from manifoldscape.core.certificate import certify
    from manifoldscape.core.loop import start_point
    from manifoldscape.core.registry import solver_registry

    first = task.members[0]
    assert first.instance_entropy is not None, "batches need per-point instances"
    problem_seed = task_seeds(first)[0]
    seeds = [task_seeds(m)[1] for m in task.members]
    records = [base_record(m, problem_seed, s) for m, s in zip(task.members, seeds, strict=True)]
    started = time.perf_counter()
    try:
        with thread_limit(first.threads):
            problem = build_instance(first, problem_seed)
            built = time.perf_counter()
            columns = []
            for seed in seeds:
                x0 = None if first.start == "random" else method_start(problem, first.start, seed)
                columns.append(np.reshape(start_point(problem, x0, seed), -1))
            batched = solver_registry.get(first.solver).batched
            if batched is None:
                raise TypeError(f"solver {first.solver!r} has no batched form")
            starts = np.column_stack(columns)
            require_memory(
                _batch_bytes(problem, starts),
                f"batch={len(columns)} at grid point {first.point}: {len(columns)} starts "
                "solved together (lower batch)",
            )
            results = batched(problem, starts, **first.solver_options)
            solved = time.perf_counter()
            share = (solved - built) / len(results)
            for record, result in zip(records, results, strict=True):
                if record["trial"] not in task.wanted:
                    continue
                record.update(
                    result_fields(problem, result),
                    build_time=(built - started) / len(results),
                    solve_time=share,
                )
                began = time.perf_counter()
                try:
                    record.update(certificate_fields(certify(problem, result.point)))
                except Exception as exc:
                    record["error"] = one_line(exc)
                    record["traceback"] = traceback.format_exc()
                record["certify_time"] = time.perf_counter() - began
    except Exception as exc:
        for record in records:
            record["error"] = one_line(exc)
            record["traceback"] = traceback.format_exc()
    elapsed = time.perf_counter() - started
    wanted = [r for r in records if r["trial"] in task.wanted]
    for record in wanted:
        record["trial_time"] = elapsed / len(records)
    return wanted


#: the batched solvers keep about this many arrays of the per-column size at once (an upper
#: estimate: iterate, gradient, step, inner-iteration vectors, the objective's prepared data for
#: the current and the trial points, and their temporaries)
_WORKING_COPIES = 16


def _batch_bytes(problem: Any, starts: np.ndarray) -> float:
    """The memory a batched solve of ``starts`` (n × K) needs, estimated from one column.

    The objective's prepared data for one column (e.g. A x and its loss terms for phase
    retrieval, m numbers each) plus the column itself, times K columns and ``_WORKING_COPIES``.
    """
    column = starts[:, :1]
    per_column = float(column.nbytes)
    prepare = getattr(problem.objective, "prepare_batch", None)
    if prepare is not None:
        data = prepare(column)
        values = data.values() if isinstance(data, dict) else [data]
        per_column += sum(float(getattr(v, "nbytes", 0)) for v in values)
    return _WORKING_COPIES * per_column * starts.shape[1]


def member_keys(tasks: Iterable[Task]) -> list[tuple[str, int]]:
    """(point, trial) of every wanted trial of ``tasks`` (for logs and tests)."""
    keys = []
    for task in tasks:
        if isinstance(task, BatchTask):
            keys += [(m.point, m.trial) for m in task.members if m.trial in task.wanted]
        else:
            keys.append((task.point, task.trial))
    return keys
