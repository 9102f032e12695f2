"""One trial of a sweep: build the seeded instance, solve it, certify the final point.

``run_trial`` is a top-level function so that process pools and Dask workers can run it; it
never raises for a failure of the trial itself (the error and its traceback are recorded).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

from manifoldscape.experiments.sweep.plan import TrialTask, trial_seeds


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and message."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Build, solve and certify one trial; the stored record (an error is recorded, not raised).

    A top-level function so that process pools and Dask workers can run it.
    """
    from manifoldscape.core.workflows import make_solver

    problem_seed, solver_seed = task_seeds(task)
    record = base_record(task, problem_seed, solver_seed)
    started = time.perf_counter()
    try:
        with thread_limit(task.threads):
            problem = build_instance(task, problem_seed)
            built = time.perf_counter()
            x0 = None
            if task.start != "random":
                x0 = method_start(problem, task.start, solver_seed)
            result = make_solver(task.solver, **task.solver_options).run(
                problem, x0=x0, seed=solver_seed, certify=True
            )
            solved = time.perf_counter()
            record.update(
                result_fields(problem, result),
                build_time=built - started,
                solve_time=float(result.time_s),
                certify_time=max(solved - built - float(result.time_s), 0.0),
            )
            record.update(certificate_fields(result.certificate))
    except Exception as exc:
        record["error"] = one_line(exc)
        record["traceback"] = traceback.format_exc()
    record["trial_time"] = time.perf_counter() - started
    return record


def task_seeds(task: TrialTask) -> tuple[int, int]:
    """(problem seed, solver seed) of a trial: a per-point instance's seed comes from its point."""
    problem_seed, solver_seed = trial_seeds(task.entropy)
    if task.instance_entropy is not None:
        problem_seed = trial_seeds(task.instance_entropy)[0]
    return problem_seed, solver_seed


def build_instance(task: TrialTask, problem_seed: int) -> Any:
    """Import the user's modules and build the trial's seeded instance (a ``Problem``)."""
    from manifoldscape.core.problem import Problem

    for module in task.modules:
        importlib.import_module(module)
    if task.factory is not None:
        factory = task.factory
    else:
        from manifoldscape.core.registry import problem_registry

        factory = problem_registry.get(task.problem).factory
    problem = instance_for(task, factory, problem_seed)
    if not isinstance(problem, Problem):
        raise TypeError(
            f"factory of {task.problem!r} returned {type(problem).__name__}, not a Problem"
        )
    return problem


def method_start(problem: Any, start: str, seed: int) -> Any:
    """The problem family's ``initial_point(problem, start, seed=seed)`` (e.g. spectral)."""
    initial_point = sys.modules[type(problem.objective).__module__].initial_point
    return initial_point(problem, start, seed=seed)


def base_record(task: TrialTask, problem_seed: int, solver_seed: int) -> dict[str, Any]:
    """The fields of a trial's record known before it runs."""
    return {
        "sweep": task.sweep,
        "point": task.point,
        "trial": task.trial,
        "point_index": task.point_index,
        "problem_seed": problem_seed,
        "solver_seed": solver_seed,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def result_fields(problem: Any, result: Any) -> dict[str, Any]:
    """What a record stores of a solver's ``Result`` (recovery against the truth if known)."""
    has_truth = problem.truth is not None
    return {
        "success": bool(problem.recovered(result.point)) if has_truth else None,
        "distance": float(problem.distance_to_truth(result.point)) if has_truth else None,
        "cost": float(result.cost),
        "start_cost": float(result.history.cost[0]) if len(result.history) else None,
        "truth_cost": float(problem.cost(problem.truth)) if has_truth else None,
        "gradient_norm": float(result.gradient_norm),
        "iterations": int(result.iterations),
        "cost_evaluations": int(result.counts.cost),
        "gradient_evaluations": int(result.counts.gradient),
        "hessian_evaluations": int(result.counts.hessian),
        "stop_reason": result.stop_reason.value,
    }


def certificate_fields(certificate: Any) -> dict[str, Any]:
    """What a record stores of a ``Certificate`` (nothing for None)."""
    if certificate is None:
        return {}
    return {
        "verdict": certificate.verdict.value,
        "hessian_index": int(certificate.index),
        "index_exact": bool(certificate.index_exact),
        "min_eigenvalue": float(certificate.min_eigenvalue),
        "symmetry_dimension": int(certificate.symmetry_dimension),
        "null_dimension": int(certificate.null_dimension),
        "morse_nondegenerate": bool(certificate.morse_nondegenerate),
    }


#: the last per-point instance built in this process: trials of one grid point that land on
#: the same worker solve it without rebuilding (a sweep over starts runs point by point)
_LAST_INSTANCE: dict[tuple[str, str, int], Any] = {}


def instance_for(task: TrialTask, factory: Any, problem_seed: int) -> Any:
    """The trial's instance; a per-point instance is built once per process and point."""
    if task.instance_entropy is None:
        return factory(**task.parameters, seed=problem_seed)
    key = (task.problem, task.point, problem_seed)
    if key not in _LAST_INSTANCE:
        _LAST_INSTANCE.clear()
        _LAST_INSTANCE[key] = factory(**task.parameters, seed=problem_seed)
    return _LAST_INSTANCE[key]


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS threads with threadpoolctl (a dependency; without it the environment decides)."""
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
