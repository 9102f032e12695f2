"""Sweeps: grid expressions, seeds, executors (pool, Dask), errors, resumption, CLI, acceptance."""

import importlib
import json
import os
import socket
import sys
import textwrap
import time

import matplotlib
import numpy as np
import pytest

from manifoldscape.cli import main
from manifoldscape.core.registry import problem_registry
from manifoldscape.experiments.store import DETERMINISTIC_COLUMNS, open_store
from manifoldscape.experiments.sweep import (
    SweepError,
    parse_expression,
    phase_transition,
    plan_sweep,
    summarize,
    sweep,
    wilson_interval,
)

matplotlib.use("Agg")

PR_GRID = {"n": [8], "m": ["3*n", "6*n"]}


def _deterministic(db):
    with open_store(db, readonly=True) as store:
        return [tuple(r[c] for c in DETERMINISTIC_COLUMNS) for r in store.records()]


# --------------------------------------------------------------------------- expressions
@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("2*n-1", {"n": 32}, 63.0),
        ("1.5*n", {"n": 33}, 49.5),
        ("1+2*3", {}, 7.0),
        ("(1+2)*3", {}, 9.0),
        ("-n/4+m", {"n": 8, "m": 5}, 3.0),
        ("2e1*k", {"k": 0.5}, 10.0),
    ],
)
def test_expressions_evaluate_with_usual_precedence(text, values, expected):
    assert parse_expression(text).evaluate(values) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2*", "ends too early"),
        ("(n+1", "missing '\\)'"),
        ("n)", "unexpected '\\)'"),
        ("n$2", "unexpected character '\\$'"),
        ("", "empty"),
    ],
)
def test_expressions_that_do_not_parse_say_where(text, message):
    with pytest.raises(ValueError, match=message):
        parse_expression(text)


def test_expression_refuses_division_by_zero_and_non_numbers():
    with pytest.raises(ValueError, match="division by zero"):
        parse_expression("n/(m-2)").evaluate({"n": 1, "m": 2})
    with pytest.raises(ValueError, match="must be a number"):
        parse_expression("2*loss").evaluate({"loss": "intensity"})


def test_wilson_interval_matches_published_values():
    # Wilson 95% intervals as tabulated by Newcombe (1998), Table I style: 0/20, 10/20, 20/20
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(0.16113, abs=1e-5)
    low, high = wilson_interval(10, 20)
    assert (low, high) == pytest.approx((0.29929, 0.70071), abs=1e-5)
    low, high = wilson_interval(20, 20)
    assert (low, high) == pytest.approx((0.83887, 1.0), abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)


# --------------------------------------------------------------------------- plans
def test_plan_resolves_ratios_rounding_half_up_for_integers():
    plan = plan_sweep("phase_retrieval", {"m": ["1.5*n", "2*n-1", 40]}, problem_options={"n": 33})
    assert [p.values["m"] for p in plan.points] == [50, 65, 40]
    plan = plan_sweep(
        "phase_retrieval", {"n": ["16", 32], "m": ["n", "8*n"], "loss": ["intensity"]}
    )
    assert [(p.values["n"], p.values["m"]) for p in plan.points] == [
        (16, 16),
        (16, 128),
        (32, 32),
        (32, 256),
    ]
    assert plan.definition["grid"] == [
        ["n", [16, 32]],
        ["m", ["n", "8*n"]],
        ["loss", ["intensity"]],
    ]


@pytest.mark.parametrize(
    ("grid", "options", "message"),
    [
        ({"q": [1]}, {}, "unknown grid key 'q' for problem 'phase_retrieval'; valid: .*m"),
        ({"seed": [1]}, {}, "grid key 'seed' is not allowed"),
        (
            {"m": ["abc"]},
            {},
            "grid m: expected 'none' or an integer or an expression .*, got 'abc'",
        ),
        ({"m": [1.5]}, {}, "grid m: expected an integer, got 1.5"),
        ({"m": ["4*k"]}, {"n": 8}, "'4\\*k' uses 'k', which is not a grid key"),
        ({"m": ["2*n"], "n": ["m/2"]}, {}, "cycle"),
        ({"m": ["2*n", "n*2"]}, {"n": 8}, "resolve to the same parameters"),
        ({"m": [16, 16]}, {"n": 8}, "repeated values"),
        ({"m": []}, {"n": 8}, "no values"),
        ({"m": [16]}, {"m": 8}, "given both in the grid and as a fixed parameter"),
        ({"m": [16]}, {"colour": 1}, "unknown problem option 'colour'"),
    ],
)
def test_plan_refuses_bad_grids(grid, options, message):
    with pytest.raises(SweepError, match=message):
        plan_sweep("phase_retrieval", grid, problem_options=options)


def test_plan_refuses_bad_solver_problem_and_start():
    with pytest.raises(SweepError, match="unknown problem 'nope'"):
        plan_sweep("nope", {})
    with pytest.raises(SweepError, match="unknown solver 'nope'"):
        plan_sweep("phase_retrieval", {}, solver="nope")
    with pytest.raises(SweepError, match=r"solver 'trust-regions': .*max_iterations"):
        plan_sweep("phase_retrieval", {}, solver_options={"max_iterations": -1})
    with pytest.raises(SweepError, match="start must be 'random' or one of"):
        plan_sweep("phase_retrieval", {}, start="psychic")
    with pytest.raises(SweepError, match="has no initial_point"):
        plan_sweep("rayleigh", {}, start="spectral")


def test_trial_seeds_depend_only_on_the_trial_key():
    from manifoldscape.experiments.sweep import _trial_seeds

    wide = plan_sweep("phase_retrieval", {"n": [8], "m": ["2*n", "4*n"]}).tasks(3)
    narrow = plan_sweep("phase_retrieval", {"n": [8], "m": ["4*n"]}).tasks(5)
    by_key = {(t.point, t.trial): t.entropy for t in wide}
    shared = [t for t in narrow if (t.point, t.trial) in by_key]
    assert len(shared) == 3  # same point JSON {"m":32,"n":8}: same seeds, whatever the grid
    assert all(by_key[(t.point, t.trial)] == t.entropy for t in shared)
    seeds = [_trial_seeds(t.entropy) for t in wide]
    assert len({s for pair in seeds for s in pair}) == 2 * len(wide)
    other_seed = plan_sweep("phase_retrieval", {"n": [8], "m": ["2*n", "4*n"]}, seed=1).tasks(3)
    assert not {_trial_seeds(t.entropy) for t in other_seed} & set(seeds)


# --------------------------------------------------------------------------- running
def test_resume_skips_done_trials_and_extends_to_more_trials(tmp_path):
    db = tmp_path / "s.sqlite"
    first = sweep("phase_retrieval", PR_GRID, trials=2, db=db, workers=0, progress=False)
    assert (first.ran, first.skipped, first.stored) == (4, 0, 4)
    again = sweep("phase_retrieval", PR_GRID, trials=2, db=db, workers=0, progress=False)
    assert (again.ran, again.skipped) == (0, 4)
    more = sweep("phase_retrieval", PR_GRID, trials=3, db=db, workers=0, progress=False)
    assert (more.ran, more.skipped, more.stored) == (2, 4, 6)
    fresh = tmp_path / "fresh.sqlite"
    sweep("phase_retrieval", PR_GRID, trials=3, db=fresh, workers=0, progress=False)
    assert sorted(_deterministic(db)) == sorted(_deterministic(fresh))
    with pytest.raises(ValueError, match=r"another sweep .* differs in seed"):
        sweep("phase_retrieval", PR_GRID, trials=3, db=db, workers=0, seed=5, progress=False)


def test_records_agree_with_an_independent_solve(tmp_path):
    import manifoldscape as ms
    from manifoldscape.problems import phase_retrieval

    result = sweep(
        "phase_retrieval",
        {"m": [48]},
        problem_options={"n": 8},
        trials=2,
        db=tmp_path / "s.sqlite",
        workers=0,
        progress=False,
    )
    for record in result.records():
        problem = phase_retrieval(n=8, m=48, seed=record["problem_seed"])
        solved = ms.solve(problem, seed=record["solver_seed"])
        assert record["cost"] == solved.cost
        assert record["iterations"] == solved.iterations
        assert record["verdict"] == solved.certificate.verdict.value
        assert record["distance"] == problem.distance_to_truth(solved.point)
        assert record["success"] == int(problem.recovered(solved.point))


@pytest.fixture
def flaky_problem(tmp_path, monkeypatch):
    """A registered problem in an importable module that raises or kills its worker on request."""
    name = "manifoldscape_sweep_test_helpers"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            '''
            import os
            from pathlib import Path

            from manifoldscape.problems import rayleigh
            from manifoldscape.core.registry import problem_registry


            def flaky(n: int = 4, mode: str = "ok", marker: str = "", seed=None):
                """A Rayleigh quotient that raises or kills its process on request."""
                if mode == "raise":
                    raise RuntimeError("deliberate failure")
                if mode in ("once", "always"):
                    flag = Path(marker) / f"{mode}-{seed}"
                    if mode == "always" or not flag.exists():
                        flag.touch()
                        os._exit(3)
                return rayleigh(n=n, seed=seed)


            problem_registry.register("flaky_test_problem", flaky, replace=True)
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module(name)
    yield "flaky_test_problem"
    problem_registry._entries.pop("flaky_test_problem", None)
    sys.modules.pop(name, None)


def test_a_trial_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path, flaky_problem):
    result = sweep(
        flaky_problem,
        {"mode": ["ok", "raise"]},
        trials=3,
        db=tmp_path / "s.sqlite",
        workers=0,
        progress=False,
    )
    assert (result.ran, result.errors) == (6, 3)
    by_mode = {}
    for record in result.records():
        by_mode.setdefault(json.loads(record["point"])["mode"], []).append(record)
    assert all(r["error"] == "RuntimeError: deliberate failure" for r in by_mode["raise"])
    assert all("deliberate failure" in r["traceback"] for r in by_mode["raise"])
    assert all(r["error"] is None and r["success"] == 1 for r in by_mode["ok"])
    rows = {row["mode"]: row for row in result.summary()}
    assert rows["raise"]["errors"] == 3 and rows["raise"]["rate"] is None
    assert rows["ok"]["rate"] == 1.0


def test_a_dying_worker_is_replaced_and_its_trials_retried(tmp_path, flaky_problem):
    result = sweep(
        flaky_problem,
        {"mode": ["ok", "once", "always"]},
        problem_options={"marker": str(tmp_path)},
        trials=1,
        db=tmp_path / "s.sqlite",
        workers=1,
        max_attempts=2,
        progress=False,
    )
    assert result.stored == 3 and result.restarts >= 3
    for record in result.records():
        mode = json.loads(record["point"])["mode"]
        if mode == "always":
            assert record["error"].startswith("WorkerDied: the worker process died")
        else:  # "once" died on its first attempt and succeeded when retried
            assert record["error"] is None and record["success"] == 1, record
    assert len(list(tmp_path.glob("once-*"))) == 1


def test_one_worker_two_workers_and_a_dask_cluster_store_identical_results(tmp_path):
    pytest.importorskip("distributed")
    runs = {
        "pool-1": {"workers": 1},
        "pool-2": {"workers": 2},
        "dask": {"scheduler": "local", "workers": 2},
    }
    stored = {}
    for label, how in runs.items():
        db = tmp_path / f"{label}.sqlite"
        result = sweep("phase_retrieval", PR_GRID, trials=3, db=db, progress=False, **how)
        assert result.ran == 6 and result.errors == 0, label
        stored[label] = _deterministic(db)
        assert "1 BLAS thread per worker" in result.executor
    assert "Dask LocalCluster: 2 worker processes" in result.executor
    assert stored["pool-1"] == stored["pool-2"] == stored["dask"]
    # the same through a scheduler address (probed for its handshake before the client connects)
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        db = tmp_path / "address.sqlite"
        result = sweep(
            "phase_retrieval",
            PR_GRID,
            trials=3,
            db=db,
            progress=False,
            scheduler=cluster.scheduler_address,
            timeout=10,
        )
    assert result.ran == 6 and result.errors == 0
    assert _deterministic(db) == stored["pool-1"]
    with open_store(tmp_path / "dask.sqlite", readonly=True) as store:
        workers = {r["worker"] for r in store.records()}
    assert all(w.split(":")[1] != str(os.getpid()) for w in workers)  # ran in other processes


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_fails_fast_and_keeps_what_is_stored(tmp_path):
    pytest.importorskip("distributed")
    db = tmp_path / "s.sqlite"
    sweep("phase_retrieval", PR_GRID, trials=1, db=db, workers=0, progress=False)
    before = _deterministic(db)
    started = time.monotonic()
    with pytest.raises(SweepError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1"):
        sweep(
            "phase_retrieval",
            PR_GRID,
            trials=2,
            db=db,
            progress=False,
            scheduler=f"tcp://127.0.0.1:{_free_port()}",
            timeout=1,
        )
    assert time.monotonic() - started < 15
    assert _deterministic(db) == before


# --------------------------------------------------------------------------- summary and plot
def test_summary_counts_failures_by_certificate():
    definition = {"grid": [["m", [1]]]}
    point = json.dumps({"m": 1})
    verdicts = ["local_minimizer"] * 3 + ["strict_saddle"] * 2 + ["degenerate", "not_critical"]
    records = [
        {
            "point": point,
            "point_index": 0,
            "success": 0,
            "verdict": v,
            "error": None,
            "iterations": 10,
            "solve_time": 0.1,
            "cost": 2.0,
            "truth_cost": 0.0,
            "start_cost": 10.0,
        }
        for v in verdicts
    ]
    # a minimizer with the truth's cost (to 1e-6 of the start's) but not the truth
    records[0] = {**records[0], "cost": 5e-6}
    records += [
        {
            "point": point,
            "point_index": 0,
            "success": 1,
            "verdict": "local_minimizer",
            "error": None,
            "iterations": 20,
            "solve_time": 0.2,
        }
    ] * 3
    records += [{"point": point, "point_index": 0, "success": None, "error": "boom"}]
    (row,) = summarize(records, definition)
    assert (row["trials"], row["successes"], row["errors"]) == (11, 3, 1)
    assert row["rate"] == 0.3
    assert (row["rate_low"], row["rate_high"]) == wilson_interval(3, 10)
    assert (row["spurious_minimizers"], row["other_global_minimizers"]) == (2, 1)
    assert (row["saddles"], row["degenerate"]) == (2, 1)
    assert row["other_failures"] == 1
    assert row["median_iterations"] == 10.0


def test_phase_transition_picture_curves_and_heat_map(tmp_path):
    db = tmp_path / "s.sqlite"
    result = sweep(
        "phase_retrieval",
        {"n": [6, 8], "m": ["2*n", "6*n"]},
        trials=2,
        db=db,
        workers=0,
        progress=False,
    )
    figure = phase_transition(result, x="m/n")
    top, bottom = figure.axes
    assert bottom.get_xlabel() == "m/n"
    assert len(top.get_legend().get_texts()) == 2  # one curve per n
    figure = phase_transition(db, lines={"m = 2n - 1": 1.9})
    assert figure.axes[1].get_xlabel() == "m/n"  # ratio found from the grid's "c*n" values
    heat = phase_transition(db, x="m/n", y="n")
    assert heat.axes[0].get_ylabel() == "n"
    with pytest.raises(SweepError, match="unknown k"):
        phase_transition(db, x="m/k")


# --------------------------------------------------------------------------- CLI
def _cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_sweep_show_and_plot(tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    argv = [
        "sweep",
        "phase_retrieval",
        "--grid",
        "n=8",
        "--grid",
        "m=3*n,6*n",
        "--trials",
        "2",
        "--db",
        db,
        "--workers",
        "0",
        "--option",
        "max_iterations=200",
    ]
    status, out, err = _cli(capsys, *argv, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert (data["ran"], data["stored"]) == (4, 4)
    assert [row["m"] for row in data["summary"]] == [24, 48]
    assert data["definition"]["solver_options"] == {"max_iterations": 200}
    status, out, _ = _cli(capsys, *argv)
    assert status == 0 and "4 trial(s) planned, 0 run, 4 already stored" in out
    assert "spurious min" in out
    status, out, _ = _cli(capsys, "sweep", "show", db, "--json")
    shown = json.loads(out)
    assert shown["stored"] == 4 and shown["summary"] == data["summary"]
    status, out, _ = _cli(capsys, "sweep", "show", db)
    assert status == 0 and "4 trial(s) stored" in out
    png = tmp_path / "pt.png"
    status, out, err = _cli(
        capsys, "plot", "phase-transition", db, "--output", str(png), "--line", "m=2n-1=1.94"
    )
    assert status == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grid", "q=1,2"], "unknown grid key 'q'"),
        (["--grid", "m=abc"], "grid m: expected .*an integer"),
        (["--grid", "m=4*k"], "'4\\*k' uses 'k'"),
        (["--grid", "m"], "--grid expects KEY=V1,V2"),
        (["--scheduler", "tcp://127.0.0.1:{port}", "--timeout", "1"], "cannot reach the Dask"),
    ],
)
def test_cli_bad_input_is_one_line_with_status_2(tmp_path, capsys, extra, message):
    if "--scheduler" in extra:
        pytest.importorskip("distributed")
    extra = [e.format(port=_free_port()) for e in extra]
    db = tmp_path / "s.sqlite"
    status, _, err = _cli(
        capsys,
        "sweep",
        "phase_retrieval",
        "--param",
        "n=8",
        "--trials",
        "1",
        "--db",
        str(db),
        *extra,
    )
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("manifoldscape: error: ")
    assert __import__("re").search(message, err), err


def test_cli_refuses_corrupt_or_foreign_databases_and_leaves_them(tmp_path, capsys, rng):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(rng.bytes(3000))
    other = tmp_path / "other.sqlite"
    sweep(
        "phase_retrieval",
        {"m": [24]},
        problem_options={"n": 8},
        trials=1,
        db=other,
        workers=0,
        progress=False,
    )
    before = {path: path.read_bytes() for path in (corrupt, other)}
    for path, message in ((corrupt, "not an SQLite database"), (other, "holds another sweep")):
        status, _, err = _cli(
            capsys,
            "sweep",
            "phase_retrieval",
            "--grid",
            "m=32",
            "--param",
            "n=8",
            "--db",
            str(path),
            "--workers",
            "0",
        )
        assert status == 2 and message in err and err.count("\n") == 1
        status, _, err = _cli(capsys, "sweep", "show", str(path))
        assert status == (2 if path is corrupt else 0)
    assert {path: path.read_bytes() for path in (corrupt, other)} == before


# --------------------------------------------------------------------------- acceptance
def test_acceptance_fast_twin_phase_retrieval_n32(tmp_path):
    """The acceptance sweep's extreme points (same trial keys, first 10 trials): m/n = 1 and 8."""
    result = sweep(
        "phase_retrieval",
        {"n": [32], "m": ["1*n", "8*n"]},
        trials=10,
        db=tmp_path / "s.sqlite",
        workers=0,
        progress=False,
    )
    low, high = result.summary()
    assert low["rate"] <= 0.05 and high["rate"] >= 0.95
    assert low["errors"] == high["errors"] == 0


@pytest.mark.slow
def test_acceptance_phase_retrieval_n32_full(tmp_path):
    """Real Gaussian phase retrieval, n = 32, m/n ∈ {1, 1.5, …, 8}, 20 trials, random starts."""
    ratios = [1 + 0.5 * k for k in range(15)]
    result = sweep(
        "phase_retrieval",
        {"n": [32], "m": [f"{r:g}*n" for r in ratios]},
        trials=20,
        db=tmp_path / "acceptance.sqlite",
        workers=2,
        progress=False,
    )
    rows = result.summary()
    assert [row["m"] for row in rows] == [int(32 * r) for r in ratios]
    assert rows[0]["rate"] <= 0.05
    assert rows[-1]["rate"] >= 0.95
    rates = np.array([row["rate"] for row in rows])
    assert rates[:2].max() < 0.5 < rates[-4:].min()  # a transition in between
    figure = result.plot(lines={"m = 2n − 1": (2 * 32 - 1) / 32})
    figure.savefig(tmp_path / "acceptance.png")


def test_a_family_start_method_is_used(tmp_path):
    from manifoldscape.problems import phase_retrieval
    from manifoldscape.problems.phase_retrieval import initial_point

    result = sweep(
        "phase_retrieval",
        {"n": [16], "m": ["6*n"]},
        trials=2,
        start="spectral",
        db=tmp_path / "s.sqlite",
        workers=0,
        progress=False,
    )
    for record in result.records():
        assert record["error"] is None
        problem = phase_retrieval(n=16, m=96, seed=record["problem_seed"])
        x0 = initial_point(problem, "spectral", seed=record["solver_seed"])
        assert record["start_cost"] == problem.cost(x0)


def test_numpy_arrays_in_a_grid_are_recorded_as_their_lists(tmp_path) -> None:
    """An array and its nested list give the same definition (same store, same trials)."""
    import numpy as np

    import manifoldscape as ms

    a = np.diag([1.0, 2.0, 3.0, 4.0])
    first = ms.sweep(
        "rayleigh", grid={"A": [a]}, trials=2, db=tmp_path / "s.db", progress=False, workers=1
    )
    again = ms.sweep(
        "rayleigh",
        grid={"A": [a.tolist()]},
        trials=2,
        db=tmp_path / "s.db",
        progress=False,
        workers=1,
    )
    assert str(again).count("2 already stored") == 1, str(again)
    assert "2 run" in str(first)
    with pytest.raises(SweepError, match="real numeric"):
        ms.sweep(
            "rayleigh",
            grid={"A": [a * 1j]},
            trials=1,
            db=tmp_path / "t.db",
            progress=False,
            workers=1,
        )


def test_per_point_instances_share_the_instance_and_vary_the_start(tmp_path) -> None:
    """--instance per-point: one instance per grid point, seeded starts; per-trial unchanged."""
    import manifoldscape as ms
    from manifoldscape.experiments.sweep import plan_sweep

    grid = {"m": [24, 48]}
    options = {"n": 6}
    per_trial = plan_sweep("phase_retrieval", grid, problem_options=options)
    per_point = plan_sweep("phase_retrieval", grid, problem_options=options, instance="per-point")
    assert "instance" not in per_trial.definition  # old stores keep their hash
    assert per_point.definition["instance"] == "per-point"
    assert per_point.sweep_id != per_trial.sweep_id
    with pytest.raises(SweepError, match="per-trial, per-point"):
        plan_sweep("phase_retrieval", grid, problem_options=options, instance="per-run")

    result = ms.sweep(
        "phase_retrieval",
        grid,
        problem_options=options,
        trials=3,
        db=tmp_path / "p.db",
        instance="per-point",
        workers=0,
        progress=False,
    )
    assert "6 run" in str(result)
    store = ms.open_store(tmp_path / "p.db", readonly=True)
    rows = list(store.records())
    store.close()
    by_point: dict[str, set[int]] = {}
    for row in rows:
        by_point.setdefault(row["point"], set()).add(row["problem_seed"])
    assert len(by_point) == 2 and all(len(seeds) == 1 for seeds in by_point.values())
    assert len({row["solver_seed"] for row in rows}) == len(rows) == 6
    # the starts are those of the per-trial sweep: the solver seeds agree trial by trial
    trial_tasks = {(t.point, t.trial): t for t in per_trial.tasks(3)}
    from manifoldscape.experiments.sweep import trial_seeds

    for row in rows:
        assert (
            row["solver_seed"] == trial_seeds(trial_tasks[(row["point"], row["trial"])].entropy)[1]
        )


def test_cli_instance_per_point_and_show(tmp_path, capsys) -> None:
    from manifoldscape.cli import main

    db = str(tmp_path / "c.db")
    argv = ["sweep", "rayleigh", "--grid", "n=4,5", "--trials", "2", "--db", db]
    assert main([*argv, "--instance", "per-point", "--workers", "0", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["sweep", "show", db]) == 0
    assert "instance per-point" in capsys.readouterr().out
    assert main([*argv, "--instance", "per-run"]) == 2
    assert "per-trial" in capsys.readouterr().err


def test_a_factory_defined_in_executed_code_sweeps_in_process(tmp_path):
    """A factory whose ``__module__`` is None (defined by exec, as in a doctest) is accepted."""
    namespace = {"rayleigh": __import__("manifoldscape.problems", fromlist=["rayleigh"]).rayleigh}
    exec("def factory(n: int = 4, seed=None):\n    return rayleigh(n=n, seed=seed)\n", namespace)
    factory = namespace["factory"]
    factory.__module__ = None
    problem_registry.register("exec_test_problem", factory, replace=True)
    try:
        result = sweep(
            "exec_test_problem",
            {"n": [4]},
            trials=2,
            db=tmp_path / "exec.sqlite",
            workers=0,
            progress=False,
        )
        assert [row["trials"] for row in result.summary()] == [2]
    finally:
        problem_registry._entries.pop("exec_test_problem", None)
