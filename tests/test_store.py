"""The SQLite sweep store: schema, WAL, refusals that leave files untouched, export, SIGKILL."""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from manifoldscape.experiments.store import (
    COLUMNS,
    DETERMINISTIC_COLUMNS,
    SCHEMA_VERSION,
    StoreError,
    definition_hash,
    open_store,
)

DEFINITION = {
    "format": 1,
    "problem": "rayleigh",
    "grid": [["n", [3, 4]]],
    "problem_options": {},
    "solver": "trust-regions",
    "solver_options": {},
    "start": "random",
    "seed": 0,
}


def _record(point, trial, **fields):
    record = {
        "sweep": definition_hash(DEFINITION),
        "point": json.dumps({"n": point}),
        "trial": trial,
        "point_index": point,
        "success": True,
        "cost": 0.1 * trial + point,
        "verdict": "local_minimizer",
    }
    record.update(fields)
    return record


def _filled(path):
    with open_store(path) as store:
        store.bind(DEFINITION)
        for trial in range(3):
            for point in (3, 4):
                store.add(_record(point, trial))
    return path


def test_new_store_has_schema_version_and_wal(tmp_path):
    path = tmp_path / "s.sqlite"
    with open_store(path) as store:
        assert store.definition() is None
        key = store.bind(DEFINITION)
        assert key == definition_hash(DEFINITION)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("SELECT version FROM schema_version").fetchall() == [
        (SCHEMA_VERSION,)
    ]
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert {"schema_version", "sweeps", "trials"} <= tables
    connection.close()


def test_add_commits_each_trial_and_keeps_the_first_copy(tmp_path):
    path = tmp_path / "s.sqlite"
    with open_store(path) as store:
        sweep = store.bind(DEFINITION)
        assert store.add(_record(3, 0, cost=1.5))
        # visible to another connection at once: committed, not buffered
        other = sqlite3.connect(path)
        assert other.execute("SELECT cost FROM trials").fetchall() == [(1.5,)]
        other.close()
        assert not store.add(_record(3, 0, cost=99.0))
        assert store.count() == 1
        assert store.records()[0]["cost"] == 1.5
        assert store.done(sweep) == {(json.dumps({"n": 3}), 0)}
        with pytest.raises(ValueError, match="unknown trial field"):
            store.add({**_record(3, 1), "colour": "red"})


def test_a_different_definition_is_refused(tmp_path):
    path = _filled(tmp_path / "s.sqlite")
    other = {**DEFINITION, "grid": [["n", [3, 5]]], "seed": 1}
    with open_store(path) as store, pytest.raises(StoreError, match=r"another sweep.*grid, seed"):
        store.bind(other)
    with open_store(path) as store:
        assert store.bind(DEFINITION) == definition_hash(DEFINITION)
        assert store.count() == 6


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = _filled(tmp_path / "s.sqlite")
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    connection.close()
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer manifoldscape"):
            open_store(path, readonly=readonly)
    assert path.read_bytes() == before


def test_not_sqlite_is_refused_and_left_unchanged(tmp_path, rng):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(rng.bytes(5000))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an SQLite database"):
        open_store(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


@pytest.mark.parametrize("damage", ["pages", "truncate"])
def test_damaged_store_is_refused_and_left_unchanged(tmp_path, rng, damage):
    path = tmp_path / "s.sqlite"
    with open_store(path) as store:
        store.bind(DEFINITION)
        for trial in range(400):  # several pages of trials
            store.add(_record(3, trial, traceback="x" * 200))
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    if damage == "pages":
        data[4096 : len(data)] = rng.bytes(len(data) - 4096)
    else:
        data = data[: len(data) // 3]
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"damaged|not a readable sweep store"):
        open_store(path)
    assert path.read_bytes() == bytes(data)


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a manifoldscape sweep store"):
        open_store(path)
    assert path.read_bytes() == before


def test_readonly_open_needs_an_existing_store(tmp_path):
    with pytest.raises(StoreError, match="no such sweep store"):
        open_store(tmp_path / "missing.sqlite", readonly=True)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "no" / "dir.sqlite")
    path = _filled(tmp_path / "s.sqlite")
    with open_store(path, readonly=True) as store, pytest.raises(StoreError, match="read-only"):
        store.add(_record(3, 9))


def test_export_to_dataframe_and_csv(tmp_path):
    path = _filled(tmp_path / "s.sqlite")
    with open_store(path, readonly=True) as store:
        frame = store.to_dataframe()
        out = store.to_csv(tmp_path / "trials.csv")
    assert list(frame.columns) == [*COLUMNS, "n"]
    assert len(frame) == 6
    assert sorted(frame["n"]) == [3, 3, 3, 4, 4, 4]
    expected_costs = sorted(0.1 * t + p for t in range(3) for p in (3, 4))
    assert sorted(frame["cost"]) == expected_costs
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["n"] for r in rows] == ["3", "3", "3", "4", "4", "4"]  # by point, then trial
    assert sorted(float(r["cost"]) for r in rows) == expected_costs


# --------------------------------------------------------------------------- SIGKILL
_SWEEP_CODE = """
import sys
from manifoldscape.experiments.sweep import sweep
for db in sys.argv[2:]:
    sweep("phase_retrieval", {{"n": [8], "m": ["3*n", "4*n", "6*n"]}}, trials={trials},
          db=db, workers=int(sys.argv[1]), progress=False)
"""


def _run_sweep(workers, trials, env, *dbs):
    return subprocess.Popen(
        [sys.executable, "-c", _SWEEP_CODE.format(trials=trials), str(workers), *map(str, dbs)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _count(db):
    if not db.exists():
        return 0
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def _rows(db):
    connection = sqlite3.connect(db)
    try:
        keys = connection.execute(
            "SELECT point, trial, COUNT(*) FROM trials GROUP BY point, trial"
        ).fetchall()
        rows = connection.execute(
            f"SELECT {', '.join(DETERMINISTIC_COLUMNS)} FROM trials ORDER BY point, trial"
        ).fetchall()
    finally:
        connection.close()
    return keys, rows


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path, rng):
    trials, points = 20, 3
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    db = tmp_path / "killed.sqlite"
    kills = []
    for round_ in range(3):
        # the local pool, then the in-process executor, then the pool again
        process = _run_sweep(1 if round_ != 1 else 0, trials, env, db)
        threshold = _count(db) + int(rng.integers(1, 10))
        deadline = time.monotonic() + 60
        while process.poll() is None and _count(db) < threshold and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0, 0.03)))  # land anywhere in a trial or a commit
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills.append(_count(db))
        process.wait(timeout=30)
        process.stderr.close()
    assert len(kills) >= 2, kills
    assert 0 < kills[-1] < trials * points

    # resume the killed sweep, then run the same sweep uninterrupted into another file
    reference_db = tmp_path / "reference.sqlite"
    final = _run_sweep(0, trials, env, db, reference_db)
    assert final.wait(timeout=120) == 0, final.stderr.read().decode()
    final.stderr.close()

    keys, rows = _rows(db)
    reference_keys, reference_rows = _rows(reference_db)
    assert len(keys) == trials * points
    assert all(count == 1 for _, _, count in keys)
    assert keys == reference_keys
    assert rows == reference_rows  # bit for bit: SQLite REALs are the doubles computed
    assert np.mean([row[DETERMINISTIC_COLUMNS.index("success")] for row in rows]) > 0.5


# --------------------------------------------------------------------------- schema 1 → 2
def _version_1_store(path):
    """A store as schema version 1 wrote it: no morse_nondegenerate column."""
    from manifoldscape.experiments.store import _SCHEMA_SQL

    connection = sqlite3.connect(path)
    with connection:
        for statement in _SCHEMA_SQL:
            connection.execute(statement)
        connection.execute("ALTER TABLE trials DROP COLUMN morse_nondegenerate")
        connection.execute("INSERT INTO schema_version (version) VALUES (1)")
        connection.execute(
            "INSERT INTO sweeps (hash, definition) VALUES (?, ?)",
            (definition_hash(DEFINITION), json.dumps(DEFINITION)),
        )
        for trial in range(2):
            record = _record(3, trial)
            names = list(record)
            connection.execute(
                f"INSERT INTO trials ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [int(v) if isinstance(v, bool) else v for v in record.values()],
            )
    connection.close()
    return path


def test_a_version_1_store_is_read_unchanged_and_migrated_when_written(tmp_path):
    path = _version_1_store(tmp_path / "old.sqlite")
    before = path.read_bytes()
    with open_store(path, readonly=True) as store:
        assert store.version == 1
        records = store.records()
    assert [r["morse_nondegenerate"] for r in records] == [None, None]
    assert path.read_bytes() == before  # reading changes nothing
    with open_store(path) as store:
        assert store.bind(DEFINITION) == definition_hash(DEFINITION)
        store.add(_record(3, 2, morse_nondegenerate=True))
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    stored = connection.execute("SELECT trial, morse_nondegenerate FROM trials ORDER BY trial")
    assert stored.fetchall() == [(0, None), (1, None), (2, 1)]
    connection.close()


def test_sweeps_record_whether_the_point_is_morse_nondegenerate(tmp_path):
    from manifoldscape.experiments.sweep import sweep

    result = sweep("rayleigh", {"n": [4]}, trials=2, db=tmp_path / "s.sqlite", workers=0,
                   progress=False)  # fmt: skip
    assert [r["morse_nondegenerate"] for r in result.records()] == [1, 1]


def test_a_version_1_sweep_resumes(tmp_path):
    from manifoldscape.experiments.sweep import sweep

    db = tmp_path / "s.sqlite"
    first = sweep("rayleigh", {"n": [4]}, trials=2, db=db, workers=0, progress=False)
    connection = sqlite3.connect(db)  # take the file back to schema version 1
    with connection:
        connection.execute("ALTER TABLE trials DROP COLUMN morse_nondegenerate")
        connection.execute("UPDATE schema_version SET version = 1")
    connection.close()
    again = sweep("rayleigh", {"n": [4]}, trials=3, db=db, workers=0, progress=False)
    assert (again.ran, again.skipped, again.stored) == (1, 2, 3)
    assert again.sweep_id == first.sweep_id
    assert [r["morse_nondegenerate"] for r in again.records()] == [None, None, 1]
