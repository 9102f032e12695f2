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


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Build, solve and certify one trial; the stored record (an error is recorded, not raised).

    A top-level function so that process pools and Dask workers can run it.
    """
    from manifoldscape.core.problem import Problem
    from manifoldscape.core.workflows import make_solver

    problem_seed, solver_seed = trial_seeds(task.entropy)
    if task.instance_entropy is not None:
        problem_seed = trial_seeds(task.instance_entropy)[0]
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
            problem = _instance(task, factory, problem_seed)
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
                    morse_nondegenerate=bool(certificate.morse_nondegenerate),
                )
    except Exception as exc:
        record["error"] = _one_line(exc)
        record["traceback"] = traceback.format_exc()
    record["trial_time"] = time.perf_counter() - started
    return record


#: the last per-point instance built in this process: trials of one grid point that land on
#: the same worker solve it without rebuilding (a sweep over starts runs point by point)
_LAST_INSTANCE: dict[tuple[str, str, int], Any] = {}


def _instance(task: TrialTask, factory: Any, problem_seed: int) -> Any:
    if task.instance_entropy is None:
        return factory(**task.parameters, seed=problem_seed)
    key = (task.problem, task.point, problem_seed)
    if key not in _LAST_INSTANCE:
        _LAST_INSTANCE.clear()
        _LAST_INSTANCE[key] = factory(**task.parameters, seed=problem_seed)
    return _LAST_INSTANCE[key]


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
