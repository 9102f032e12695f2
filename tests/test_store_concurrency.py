"""Sweeps racing on one fresh store: one definition is ever stored, every loser gets a clear error.

Each round starts two or three sweep processes on a store file that does not exist yet, released
together by a barrier and then delayed by random amounts (so both orders and true overlaps
occur), with the same definition, different ones, or a mix.  After the round: the file holds
exactly one sweep definition, every process either finished or was refused with "holds another
sweep", nothing crashed, and every stored trial is readable, belongs to the stored sweep and is
stored once.  The default run plays 12 rounds with tiny trials; the full study (50 rounds) is
marked slow.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import traceback

import numpy as np
import pytest

from manifoldscape.experiments.store import StoreError, open_store

TRIALS = 2


def _racer(db, grid, delay, barrier, results):
    import time

    from manifoldscape.experiments.sweep import sweep

    try:
        barrier.wait(timeout=60)
        time.sleep(delay)
        result = sweep("rayleigh", grid, trials=TRIALS, db=db, workers=0, progress=False)
        results.put(("ok", result.sweep_id, result.ran, result.skipped))
    except StoreError as exc:
        results.put(("refused", str(exc), 0, 0))
    except BaseException as exc:
        results.put(("crash", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", 0, 0))


def _round(tmp_path, index, rng, context):
    db = tmp_path / f"race-{index}.sqlite"
    mode = ("same", "different", "mixed")[index % 3]
    count = 2 + int(rng.integers(0, 2))
    grids = {
        "same": [{"n": [3, 4]}] * count,
        "different": [{"n": [3 + k, 6]} for k in range(count)],
        "mixed": [{"n": [3, 4]}] * (count - 1) + [{"n": [5]}],
    }[mode]
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [
        context.Process(
            target=_racer,
            args=(str(db), grid, float(rng.uniform(0, 0.05)), barrier, results),
        )
        for grid in grids
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0, process.exitcode
    crashes = [o for o in outcomes if o[0] == "crash"]
    assert not crashes, crashes[0][1]
    winners = [o for o in outcomes if o[0] == "ok"]
    losers = [o for o in outcomes if o[0] == "refused"]
    assert winners, outcomes
    assert len({o[1] for o in winners}) == 1, outcomes  # one definition won
    assert all("holds another sweep" in o[1] for o in losers), losers
    distinct = {str(g) for g in grids}
    if len(distinct) == 1:
        assert not losers, losers
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        definitions = connection.execute("SELECT hash FROM sweeps").fetchall()
        duplicates = connection.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM trials GROUP BY sweep, point, trial "
            "HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    finally:
        connection.close()
    assert definitions == [(winners[0][1],)]
    assert duplicates == 0
    with open_store(db, readonly=True) as store:
        records = store.records()
        assert store.definition()[0] == winners[0][1]
    assert all(r["sweep"] == winners[0][1] and r["error"] is None for r in records)
    points = {r["point"] for r in records}
    assert len(records) == TRIALS * len(points)
    return mode, len(winners), len(losers)


def _rounds(tmp_path, rounds):
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("needs the fork start method to start racing processes quickly")
    from manifoldscape.experiments.sweep import plan_sweep

    plan_sweep("rayleigh", {"n": [3]})  # import the libraries once, before forking
    rng = np.random.default_rng(20261203)
    tally = {}
    for index in range(rounds):
        mode, won, lost = _round(tmp_path, index, rng, context)
        key = (mode, won, lost)
        tally[key] = tally.get(key, 0) + 1
    return tally


def test_racing_sweeps_on_a_fresh_store(tmp_path):
    tally = _rounds(tmp_path, 12)
    assert any(lost for (_, _, lost) in tally), tally  # different definitions did race


@pytest.mark.slow
def test_racing_sweeps_on_a_fresh_store_fifty_rounds(tmp_path):
    tally = _rounds(tmp_path, 50)
    print("rounds by (mode, finished, refused):", dict(sorted(tally.items())))


def _opener(db, barrier, results):
    from manifoldscape.experiments.store import StoreError, open_store

    try:
        barrier.wait(timeout=60)
        store = open_store(db)
        store.close()
        results.put(("ok", ""))
    except StoreError as exc:
        results.put(("refused", str(exc)))
    except BaseException as exc:
        results.put(("crash", f"{type(exc).__name__}: {exc}"))


def test_processes_opening_one_fresh_store_at_once_all_succeed(tmp_path):
    """Three processes create one store at the same instant, 40 times: none is refused.

    Switching the new file to write-ahead logging needs an exclusive lock, which SQLite refuses
    at once (no busy wait) while another process holds any lock; a process refused there used
    to remove the file the others were creating, and they failed with "disk I/O error".
    """
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("needs the fork start method to start racing processes quickly")
    for index in range(40):
        db = tmp_path / f"open-{index}.sqlite"
        barrier = context.Barrier(3)
        results = context.Queue()
        processes = [
            context.Process(target=_opener, args=(str(db), barrier, results)) for _ in range(3)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0, process.exitcode
        assert all(kind == "ok" for kind, _ in outcomes), outcomes
        connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            assert connection.execute("SELECT version FROM schema_version").fetchone()
        finally:
            connection.close()
