"""The census on a Dask cluster: the same classes as in one process, and its argument checks."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.landscape import starts
from manifoldscape.landscape.census import census


def _key(result):
    return [(c.cost, c.index, c.count, c.copies, c.point.tobytes()) for c in result.classes]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_census_on_a_local_cluster_equals_one_process():
    distributed = pytest.importorskip("distributed")
    problem = ms.make_problem("rayleigh", n=5, seed=0)
    serial = census(problem, 12, seed=5)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as stream:
            on_client = census(problem, 12, seed=5, scheduler=client)
        at_address = census(problem, 12, seed=5, scheduler=cluster.scheduler_address)
        assert client.status == "running"  # a client given by the caller stays open
    # the starts and the explore runs ran as tasks on the cluster's workers
    keys = [task["key"] for task in stream.data]
    assert sum("_run_on_dask" in str(k) for k in keys) == 12
    assert sum("_explore_on_dask" in str(k) for k in keys) == serial.explore_runs
    assert serial.explore_runs > 0
    for result in (on_client, at_address):
        assert _key(result) == _key(serial)
        assert (result.runs, result.explore_runs) == (serial.runs, serial.explore_runs)


@pytest.mark.parametrize(
    ("scheduler", "workers", "error", "message"),
    [
        ("http://127.0.0.1:8786", 1, ValueError, "tcp://HOST:PORT"),
        ("tcp://127.0.0.1", 1, ValueError, "tcp://HOST:PORT"),
        ("tcp://127.0.0.1:70000", 1, ValueError, "port 70000 is out of range"),
        ("tcp://127.0.0.1:8786", 2, ValueError, "not both"),
        (object(), 1, TypeError, "distributed.Client"),
    ],
)
def test_census_refuses_a_bad_scheduler(scheduler, workers, error, message):
    problem = ms.make_problem("rayleigh", n=3, seed=0)
    with pytest.raises(error, match=message):
        census(problem, 2, scheduler=scheduler, workers=workers)


def test_census_with_an_unreachable_scheduler_fails_fast(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(starts, "SCHEDULER_TIMEOUT", 0.5)
    problem = ms.make_problem("rayleigh", n=3, seed=0)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler"):
        census(problem, 2, scheduler=f"tcp://127.0.0.1:{_free_port()}")
    assert time.monotonic() - started < 8


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--scheduler", "http://127.0.0.1:8786"], "--scheduler: scheduler must be"),
        (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "exclude each other"),
    ],
)
def test_cli_census_scheduler_errors_are_one_line(capsys, flags, message):
    status = main(["census", "rayleigh", "--param", "n=3", "--starts", "2", *flags])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and message in err


def test_cli_census_on_a_local_cluster(capsys):
    pytest.importorskip("distributed")
    base = ["census", "rayleigh", "--param", "n=4", "--starts", "3", "--json", "--no-progress"]
    assert main(base) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main([*base, "--scheduler", "local", "--workers", "2"]) == 0
    clustered = json.loads(capsys.readouterr().out)
    assert clustered["critical_points"] == serial["critical_points"]
    assert clustered["explore_runs"] == serial["explore_runs"] > 0
