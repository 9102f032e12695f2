"""Running a sweep: plan, bind the store, run the pending trials, commit each as it arrives.

The order of ``sweep`` is the order of its refusals, each before anything it would spoil:
arguments; the plan (every grid point, the solver against the problem); the plan's size
(grid points × trials against ``MANIFOLDSCAPE_MAX_TRIALS``) — all before the store file is
even created; then the store (a corrupt, foreign, newer, edited or read-only file, or another
sweep's, is refused before any trial runs); then the executor (a Dask scheduler that cannot be
reached within ``timeout``).  The trials are made lazily from the plan, the ones already stored
skipped (and, with ``retry_errors``, the ones stored as errors run again and replace them).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from manifoldscape.boundary.budgets import MAX_TRIALS, ResourceLimitError, require_plan_size
from manifoldscape.experiments.store import SweepStore, open_store
from manifoldscape.experiments.sweep.batches import Task, batch_tasks
from manifoldscape.experiments.sweep.executors import (
    MAIN_GUARD_EXIT,
    Stats,
    check_timeout,
    close_client,
    dask_client,
    in_spawned_bootstrap,
    run_dask,
    run_pool,
    run_serial,
)
from manifoldscape.experiments.sweep.plan import SweepError, plan_sweep
from manifoldscape.experiments.sweep.summary import format_summary, summarize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did, and access to everything its store holds.

    ``ran`` trials were run now, ``skipped`` were already stored; ``errors`` counts the trials
    run now that raised, ``stored_errors`` the errors the store holds after the run (retry them
    with ``retry_errors=True``).  ``executor`` says how the trials ran (workers, BLAS threads).
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
    stored_errors: int = 0
    planned: int = 0
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
        from manifoldscape.experiments.sweep.picture import phase_transition

        return phase_transition(self, **options)

    def headline(self) -> str:
        """One line: trials run and skipped, errors of this run and errors stored, time."""
        text = (
            f"sweep {self.sweep_id} in {self.db}: {self.planned} trial(s) planned, {self.ran} "
            f"run, {self.skipped} already stored, {self.errors} error(s) in this run, "
            f"{self.stored_errors} error(s) stored"
        )
        if self.stored_errors:
            text += " (run again with --retry-errors, or retry_errors=True, to retry them)"
        return f"{text}, {self.elapsed_s:.1f} s"

    def __str__(self) -> str:
        return (
            f"{self.headline()} ({self.executor})\n"
            f"{format_summary(self.summary(), self.definition)}"
        )


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
        return "in this process" + ("" if threads is None else f", {blas}")
    return (
        f"local process pool: {workers} spawned worker process{'es' if workers > 1 else ''}, {blas}"
    )


def _check_arguments(
    trials: Any,
    workers: Any,
    threads_per_worker: Any,
    max_attempts: Any,
    scheduler: Any,
    db: Any,
    timeout: Any,
) -> float:
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
    return check_timeout(timeout)


def sweep(
    problem: str,
    grid: Mapping[str, Any] | None = None,
    *,
    trials: int = 20,
    db: str | Path,
    solver: str = "trust-regions",
    start: str = "random",
    instance: str = "per-trial",
    batch: int | None = None,
    solver_options: Mapping[str, Any] | None = None,
    problem_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int = 0,
    progress: bool = True,
    threads_per_worker: int | None = 1,
    max_attempts: int = 2,
    timeout: float = 10.0,
    retry_errors: bool = False,
) -> SweepResult:
    """Run (or resume) a phase-transition sweep; every finished trial is committed to ``db``.

    ``problem``: a registered problem name; ``grid``: parameter → list of values (numbers,
    strings, or expressions like ``"4*n"``; see ``manifoldscape.experiments.sweep``); ``trials``
    per grid point; ``solver``/``solver_options``: a registered solver and its options;
    ``start``: ``"random"`` (the solver's seeded random point) or a start method of the
    problem's family (for phase retrieval ``"spectral"``, ``"truncated_spectral"``);
    ``instance``: ``"per-trial"`` (a new seeded instance per trial) or ``"per-point"`` (one
    seeded instance per grid point, the trials are seeded starts on it; see ``plan_sweep``);
    ``batch``: with per-point instances, solve the trials of a point K at a time with the
    solver's batched form (``experiments.sweep.batches``; part of the definition);
    ``problem_options``: fixed parameters.

    ``workers``: 0 runs in this process, W ≥ 1 on a local pool of W processes (default: the CPUs
    available), or the number of LocalCluster workers with ``scheduler="local"``;
    ``scheduler``: ``"local"`` or a Dask scheduler address (reached within ``timeout`` seconds;
    it must be trusted: Dask clients unpickle what it sends); ``threads_per_worker``: BLAS
    threads per worker process (None: leave the environment alone); ``max_attempts``: how often
    a trial may kill its worker, run alone, before it is recorded as an error;
    ``retry_errors``: run the trials stored as errors again, replacing them.

    Raises ``SweepError`` (a ``ValueError``) for a bad grid or options, a grid point the
    factory refuses or that does not fit in memory, a solver that cannot run the problem, a plan
    beyond ``MANIFOLDSCAPE_MAX_TRIALS``, a store that is corrupt, edited, too new, read-only or
    holds another sweep (``StoreError``), or an unreachable scheduler — before any trial runs,
    with the store's contents untouched.  A full disk during the sweep raises ``StoreError``;
    every trial committed before is kept.
    """
    from importlib.metadata import version

    if in_spawned_bootstrap():
        # a worker process importing a script that runs a sweep at import time: stop at once,
        # and let the parent recognise why (see executors.MAIN_GUARD_EXIT)
        raise SystemExit(MAIN_GUARD_EXIT)
    timeout = _check_arguments(
        trials, workers, threads_per_worker, max_attempts, scheduler, db, timeout
    )
    plan = plan_sweep(
        problem,
        grid,
        solver=solver,
        start=start,
        solver_options=solver_options,
        problem_options=problem_options,
        seed=seed,
        instance=instance,
        batch=batch,
    )
    all_tasks = plan.tasks(int(trials), threads_per_worker)
    points = len(plan.points)
    try:
        require_plan_size(
            len(all_tasks),
            f"{points} grid point{'s' if points != 1 else ''} × {int(trials)} trials = "
            f"{len(all_tasks)} trials",
            MAX_TRIALS,
        )
    except ResourceLimitError as exc:
        raise SweepError(str(exc)) from None
    if workers is None:
        workers = 2 if scheduler == "local" else _default_workers()
    if scheduler == "local" and workers < 1:
        raise SweepError("a LocalCluster needs workers ≥ 1")
    description = _describe_executor(int(workers), scheduler, threads_per_worker)
    started = time.perf_counter()
    stats = Stats()
    store = open_store(db)
    client = None
    try:
        if store.definition() is not None:
            store.bind(plan.definition)  # refuses another sweep before any connection is made
        sweep_id = plan.sweep_id
        done = store.done(sweep_id, include_errors=not retry_errors)
        planned_keys = {point.key for point in plan.points}
        skipped = sum(1 for point, trial in done if trial < trials and point in planned_keys)
        pending: Iterator[Task]
        if batch is None:
            pending = (task for task in all_tasks if (task.point, task.trial) not in done)
        else:
            pending = batch_tasks(all_tasks, points, int(trials), int(batch), done)
        count = len(all_tasks) - skipped
        if count and scheduler is not None:
            client = dask_client(scheduler, int(workers), threads_per_worker, timeout)
        store.bind(plan.definition, version("manifoldscape"))
        logger.info(
            "sweep %s: %d grid point(s) × %d trial(s); %d to run, %d already stored; %s",
            sweep_id,
            points,
            trials,
            count,
            skipped,
            description,
        )
        if not count:
            records: Iterator[dict[str, Any]] = iter(())
        elif client is not None:
            records = run_dask(pending, client, int(workers), stats)
        elif workers == 0:
            records = run_serial(pending, stats)
        else:
            records = run_pool(pending, int(workers), threads_per_worker, max_attempts, stats)
        ran, errors = _consume(
            records, store, len(all_tasks), skipped, progress, problem, retry_errors
        )
        stored = store.count()
        stored_errors = store.error_count()
    finally:
        store.close()
        if client is not None:
            close_client(client)
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
        stored=stored,
        stored_errors=stored_errors,
        planned=len(all_tasks),
    )


def _consume(
    records: Iterator[dict[str, Any]],
    store: SweepStore,
    total: int,
    skipped: int,
    progress: bool,
    name: str,
    replace_errors: bool,
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
            store.add(record, replace_error=replace_errors)
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
