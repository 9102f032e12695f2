"""Batched sweeps: the trials of a per-point instance solved K at a time (``batch=K``)."""

import sqlite3

import numpy as np
import pytest

from manifoldscape.cli import main
from manifoldscape.core.registry import Registry
from manifoldscape.experiments.store import DETERMINISTIC_COLUMNS, open_store
from manifoldscape.experiments.sweep import SweepError, plan_sweep, sweep, trial_seeds
from manifoldscape.experiments.sweep.batches import (
    BatchTask,
    batch_tasks,
    died_records,
    member_keys,
    run_task,
)

PR = {"grid": {"m": [48, 96]}, "problem_options": {"n": 8}}


def _rows(db):
    with open_store(db, readonly=True) as store:
        return {(r["point"], r["trial"]): r for r in store.records()}


def _deterministic(db):
    with open_store(db, readonly=True) as store:
        return [tuple(r[c] for c in DETERMINISTIC_COLUMNS) for r in store.records()]


def _run(db, **options):
    base = {"trials": 6, "instance": "per-point", "workers": 0, "progress": False}
    return sweep("phase_retrieval", db=db, **{**PR, **base, **options})


@pytest.mark.parametrize("solver", ["trust-regions", "gradient-descent"])
def test_a_batched_sweep_agrees_with_the_unbatched_one_trial_by_trial(tmp_path, solver):
    plain = _run(tmp_path / "plain.db", solver=solver)
    batched = _run(tmp_path / "batched.db", solver=solver, batch=4)
    assert plain.ran == batched.ran == 12 and batched.errors == 0
    assert batched.sweep_id != plain.sweep_id and batched.definition["batch"] == 4
    a, b = _rows(tmp_path / "plain.db"), _rows(tmp_path / "batched.db")
    assert a.keys() == b.keys()
    for key, row in a.items():
        other = b[key]
        for column in ("problem_seed", "solver_seed", "iterations", "stop_reason", "success"):
            assert row[column] == other[column], (key, column)
        for column in ("verdict", "hessian_index", "null_dimension"):
            assert row[column] == other[column], (key, column)
        assert abs(row["cost"] - other["cost"]) <= 1e-10 * max(1.0, abs(row["cost"]))
        assert abs(row["start_cost"] - other["start_cost"]) <= 1e-12 * abs(row["start_cost"])
        assert abs(row["distance"] - other["distance"]) <= 1e-7
        assert other["solve_time"] > 0 and other["certify_time"] > 0


def test_batches_are_fixed_by_trial_number_whatever_the_workers(tmp_path):
    serial = _run(tmp_path / "serial.db", batch=4)
    pool = _run(tmp_path / "pool.db", batch=4, workers=2)
    dask = _run(tmp_path / "dask.db", batch=4, workers=2, scheduler="local")
    assert serial.ran == pool.ran == dask.ran == 12
    assert "Dask LocalCluster" in dask.executor
    stored = _deterministic(tmp_path / "serial.db")
    assert stored == _deterministic(tmp_path / "pool.db") == _deterministic(tmp_path / "dask.db")


def test_an_interrupted_batched_sweep_resumes_with_the_same_numbers(tmp_path):
    db = tmp_path / "s.db"
    _run(db, batch=4)
    before = _deterministic(db)
    # an interruption in the middle of batches: some trials of a batch stored, others not
    connection = sqlite3.connect(db)
    with connection:
        connection.execute("DELETE FROM trials WHERE trial IN (1, 2, 5)")
    connection.close()
    resumed = _run(db, batch=4)
    assert resumed.ran == 6 and resumed.skipped == 6 and resumed.stored == 12
    assert _deterministic(db) == before  # the whole batch ran again; each trial kept once
    again = _run(db, batch=4)
    assert again.ran == 0 and again.skipped == 12


def test_batch_tasks_cover_each_missing_trial_once():
    plan = plan_sweep("rayleigh", {"n": [4, 5, 6]}, instance="per-point", batch=4)
    tasks = plan.tasks(10)
    done = {(plan.points[1].key, 0), (plan.points[0].key, 9), (plan.points[0].key, 8)}
    batches = list(batch_tasks(tasks, 3, 10, 4, done))
    keys = member_keys(batches)
    assert len(keys) == len(set(keys)) == 30 - 3
    assert not set(keys) & done
    assert [len(b.members) for b in batches] == [4, 4, 4, 4, 4, 4, 2, 2]
    assert all(isinstance(b, BatchTask) for b in batches)
    for b in batches:  # members of one batch: one point, consecutive trials from a multiple of 4
        assert len({m.point for m in b.members}) == 1
        trials = [m.trial for m in b.members]
        assert trials[0] % 4 == 0 and trials == list(range(trials[0], trials[0] + len(trials)))


def test_a_batch_that_fails_records_the_error_in_each_wanted_trial(tmp_path):
    plan = plan_sweep("rayleigh", {"n": [5]}, instance="per-point", batch=3)
    members = tuple(plan.tasks(3))
    broken = tuple(
        type(m)(**{**m.__dict__, "solver_options": {"max_radius": -1.0}}) for m in members
    )
    records = run_task(BatchTask(broken, frozenset({0, 2})))
    assert [r["trial"] for r in records] == [0, 2]
    assert all("max_radius" in r["error"] and r["traceback"] for r in records)
    instance_seed = trial_seeds(members[0].instance_entropy)[0]
    assert all(r["problem_seed"] == instance_seed for r in records)
    died = died_records(BatchTask(members, frozenset({1, 2})), 2, "the worker process died")
    assert [r["trial"] for r in died] == [1, 2]
    assert all(r["problem_seed"] == instance_seed for r in died)
    assert all(r["error"].startswith("WorkerDied: the worker process died") for r in died)
    assert [r["solver_seed"] for r in died] == [trial_seeds(m.entropy)[1] for m in members[1:]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch": 4}, "needs instance='per-point'"),
        ({"batch": 0, "instance": "per-point"}, "batch must be a positive integer"),
        ({"batch": True, "instance": "per-point"}, "batch must be a positive integer"),
        ({"batch": 2, "instance": "per-point", "solver": "msp"}, "has no batched form"),
        (
            {"batch": 2, "instance": "per-point", "solver_options": {"subproblem": "lanczos"}},
            "subproblem not available with batch",
        ),
    ],
)
def test_a_batch_that_cannot_run_is_refused_at_planning(options, message):
    with pytest.raises(SweepError, match=message):
        plan_sweep("rayleigh", {"n": [5]}, **options)


def test_a_problem_without_batch_methods_is_refused_before_the_store_exists(tmp_path):
    db = tmp_path / "d.db"
    with pytest.raises(SweepError, match="no batch methods"):
        sweep(
            "dictionary_learning",
            {"n": [4]},
            trials=2,
            db=db,
            instance="per-point",
            batch=2,
            progress=False,
        )
    assert not db.exists()


def test_cli_batch_runs_shows_and_refuses(tmp_path, capsys):
    db = str(tmp_path / "c.db")
    argv = ["sweep", "rayleigh", "--grid", "n=6,7", "--trials", "5", "--db", db, "--workers", "0"]
    assert main([*argv, "--instance", "per-point", "--batch", "3", "--no-progress"]) == 0
    assert "10 run" in capsys.readouterr().out
    assert main(["sweep", "show", db]) == 0
    assert "batch 3" in capsys.readouterr().out
    assert main([*argv, "--batch", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "per-point" in err
    assert main([*argv, "--instance", "per-point", "--batch", "x"]) == 2
    assert "positive integer" in capsys.readouterr().err


def test_a_registered_batched_form_must_be_callable():
    registry = Registry("solver")
    with pytest.raises(TypeError, match="batched form"):
        registry.register("mine", lambda **_: None, batched=3)
    registry.register("mine", lambda **_: None, batched=np.sum)
    assert registry.get("mine").batched is np.sum


def test_a_batch_beyond_the_memory_is_recorded_as_an_error_naming_batch(monkeypatch):
    from manifoldscape.boundary import budgets

    plan = plan_sweep("phase_retrieval", {"n": [16]}, instance="per-point", batch=8)
    # the instance (m × n = 96 × 16) fits, the batch's 8 columns of m-vectors do not
    monkeypatch.setattr(budgets, "available_memory", lambda: 100_000)
    records = run_task(BatchTask(tuple(plan.tasks(8)), frozenset(range(8))))
    assert len(records) == 8
    assert all("batch=8" in r["error"] and "memory" in r["error"] for r in records)
