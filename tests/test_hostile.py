"""Hostile input and concurrent use: one regression test per failure seen by a hostile user.

Each test names the behaviour it pins down: a crafted file that crashed the process, a size that
allocated before failing, unbounded work, store races, full and read-only disks, edited stores,
errors stored for good, unreachable Dask schedulers, grid expressions that recursed, output paths
checked after the work, API rough edges, scripts without a main guard, and CLI details.  Where a
run could crash, hang or allocate on a broken build it runs in a subprocess with a timeout and a
memory limit.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zipfile

import numpy as np
import pytest

from manifoldscape.cli import main
from manifoldscape.experiments.store import StoreError, open_store

MEMORY_LIMIT = 3 << 30
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
RUN_CLI = "import sys; from manifoldscape.cli import main; sys.exit(main())"


def _limited(limit=MEMORY_LIMIT):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def cli_process(*argv, timeout=60, env=None, limit=MEMORY_LIMIT, cwd=None):
    """Run ``manifoldscape ARGV`` in a subprocess under a memory limit: (status, out, err, s)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN_CLI, *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env or ENV,
            preexec_fn=_limited(limit),
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"manifoldscape {' '.join(map(str, argv))} ran past {timeout} s")
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *fragments):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("manifoldscape: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# --------------------------------------------------------------------------- 1. crafted sparse file
def _crafted_csr(path):
    np.savez(
        path,
        format=np.array(b"csr"),
        shape=np.array([8, 8]),
        data=np.ones(2),
        indices=np.array([100, 2**40]),
        indptr=np.array([0, 1, 2, 2, 2, 2, 2, 2, 2]),
    )


@pytest.mark.parametrize("command", ["solve", "certify", "census"])
def test_crafted_sparse_npz_is_refused_before_scipy_touches_it(tmp_path, command):
    bad = tmp_path / "bad.npz"
    _crafted_csr(bad)
    point = tmp_path / "x.npy"
    np.save(point, np.eye(8)[0])
    extra = {"solve": [], "certify": ["--point", point], "census": ["--starts", 2]}[command]
    status, _, err, _ = cli_process(command, "rayleigh", "--param", f"A={bad}", *extra)
    assert status != -signal.SIGSEGV, "the process died of a segmentation fault"
    assert_one_line_error(status, err, "--param A", "indices")


# --------------------------------------------------------------------------- 2. decompression bomb
def test_array_sizes_are_read_from_headers_before_the_data(tmp_path):
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, np.zeros(8_000_000))  # 64 MB of zeros in a small file
    assert bomb.stat().st_size < 1_000_000
    env = {**ENV, "MANIFOLDSCAPE_MAX_ARRAY_BYTES": "1000000"}
    status, _, err, _ = cli_process("solve", "rayleigh", "--param", f"A={bomb}", env=env)
    assert_one_line_error(
        status, err, "--param A", "64000000 bytes", "MANIFOLDSCAPE_MAX_ARRAY_BYTES"
    )


# --------------------------------------------------------------------------- 3. sizes
@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "rayleigh", "--param", "n=100000"],
        ["solve", "tensor_decomposition", "--param", "n=100000"],
        ["solve", "sas_deconvolution", "--param", "m=1000000000"],
        [
            "plot",
            "sphere",
            "dictionary_learning_one_sparse",
            "--resolution",
            "100000",
            "--starts",
            "0",
            "--output",
            "{tmp}/s.png",
        ],
    ],
    ids=["rayleigh", "tensor", "sas-1e9", "plot-sphere"],
)
def test_sizes_beyond_the_memory_are_refused_before_allocating(tmp_path, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    status, _, err, elapsed = cli_process(*argv, timeout=60)
    assert_one_line_error(status, err, "memory", "MANIFOLDSCAPE_ALLOW_LARGE")
    assert elapsed < 30


def test_allow_large_lets_the_factory_try_and_fails_cleanly(tmp_path):
    status, _, err, _ = cli_process(
        "--allow-large", "solve", "sas_deconvolution", "--param", "m=1000000000", limit=2 << 30
    )
    assert_one_line_error(status, err, "out of memory")


# --------------------------------------------------------------------------- 4. unbounded work
def test_absurd_plans_are_refused_at_once_and_create_no_store(tmp_path):
    db = tmp_path / "s.sqlite"
    status, _, err, elapsed = cli_process(
        "census", "rayleigh", "--param", "n=3", "--starts", "100000000", timeout=60
    )
    assert_one_line_error(status, err, "--starts", "100000000")
    values = ",".join(str(v) for v in range(60, 120))
    grid = [f"--grid=n={values}", f"--grid=m={values}"]
    grid += [f"--grid=alpha={','.join(str(0.1 + v / 100) for v in range(60))}"]
    grid += [f"--grid=beta={','.join(str(1 + v / 10) for v in range(60))}"]
    status, _, err, elapsed = cli_process("sweep", "phase_retrieval", *grid, "--db", db)
    assert_one_line_error(status, err, "12960000 grid points")
    assert elapsed < 30 and not db.exists()
    status, _, err, elapsed = cli_process(
        "sweep", "rayleigh", "--param", "n=3", "--trials", "100000000", "--db", db
    )
    assert_one_line_error(status, err, "100000000 trials", "MANIFOLDSCAPE_MAX_TRIALS")
    assert elapsed < 30 and not db.exists()


# --------------------------------------------------------------------------- 5. store races
def _definition(n):
    return {
        "format": 1,
        "problem": "rayleigh",
        "grid": [["n", [n]]],
        "problem_options": {},
        "solver": "trust-regions",
        "solver_options": {},
        "start": "random",
        "seed": 0,
    }


def _bind_after_barrier(path, definition, barrier, results):
    try:
        barrier.wait(timeout=30)
        with open_store(path) as store:
            store.bind(definition)
        results.put("ok")
    except StoreError as exc:
        results.put(f"refused: {exc}")
    except BaseException as exc:
        results.put(f"crash: {type(exc).__name__}: {exc}")


def test_racing_binds_on_a_fresh_store_store_one_definition(tmp_path):
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("needs the fork start method")
    for round_ in range(8):
        path = tmp_path / f"race-{round_}.sqlite"
        definitions = [_definition(3 + k) for k in range(3)]
        barrier = context.Barrier(3)
        results = context.Queue()
        processes = [
            context.Process(target=_bind_after_barrier, args=(path, d, barrier, results))
            for d in definitions
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert not [o for o in outcomes if o.startswith("crash")], outcomes
        assert outcomes.count("ok") == 1, outcomes
        assert all("holds another sweep" in o for o in outcomes if o != "ok"), outcomes
        connection = sqlite3.connect(path)
        assert connection.execute("SELECT COUNT(*) FROM sweeps").fetchone()[0] == 1
        connection.close()


# --------------------------------------------------------------------------- 6. disks
def test_a_full_disk_during_creation_leaves_a_usable_file(small_filesystem):
    definition = _definition(3)
    failures = 0
    for leave in (0, 1024, 4096, 8192, 12288, 16384, 24576, 32768):
        db = small_filesystem.path / f"s{leave}.sqlite"
        filler = small_filesystem.fill(leave)
        try:
            with open_store(db) as store:
                store.bind(definition)
        except StoreError as exc:
            failures += 1
            assert "full" in str(exc) or "space" in str(exc), exc
        filler.unlink()
        with open_store(db) as store:  # not refused forever
            store.bind(definition)
    assert failures >= 1


def _sweep_argv(db, trials):
    return [
        "sweep",
        "rayleigh",
        "--param",
        "n=3",
        "--grid",
        "spectrum=linear,random",
        "--trials",
        str(trials),
        "--db",
        str(db),
        "--workers",
        "0",
        "--no-progress",
    ]


def _stored(db):
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    finally:
        connection.close()


def test_a_full_disk_mid_sweep_is_one_line_and_keeps_the_trials(small_filesystem, capsys):
    db = small_filesystem.path / "s.sqlite"
    status, _, err = cli(capsys, *_sweep_argv(db, 2))
    assert status == 0, err
    filler = small_filesystem.fill(48 * 1024)
    status, _, err = cli(capsys, *_sweep_argv(db, 400))
    assert_one_line_error(status, err, "full")
    filler.unlink()
    kept = _stored(db)
    assert kept >= 4
    status, out, err = cli(capsys, *_sweep_argv(db, 400))
    assert status == 0, err
    assert f"{kept} already stored" in out
    assert _stored(db) == 800


def test_a_file_size_limit_mid_sweep_is_one_line_and_keeps_the_trials(tmp_path):
    """The same without root: RLIMIT_FSIZE (SIGXFSZ ignored) makes writes past it fail."""
    db = tmp_path / "s.sqlite"
    assert cli_process(*_sweep_argv(db, 2))[0] == 0
    limit = db.stat().st_size + 24 * 1024

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *_sweep_argv(db, 2000)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        preexec_fn=limited,
        check=False,
    )
    assert_one_line_error(done.returncode, done.stderr, "a write failed", "kept")
    kept = _stored(db)
    assert kept >= 4
    status, _, err, _ = cli_process(*_sweep_argv(db, 3))
    assert status == 0, err
    assert _stored(db) == max(kept, 6)


def test_a_read_only_store_can_be_shown_and_is_refused_before_any_trial(small_filesystem, capsys):
    db = small_filesystem.path / "s.sqlite"
    assert cli(capsys, *_sweep_argv(db, 2))[0] == 0
    before = db.read_bytes()
    small_filesystem.read_only()  # a read-only store in a read-only directory
    status, out, err = cli(capsys, "sweep", "show", db)
    assert status == 0 and "4 trial(s) stored" in out, err
    status, _, err = cli(capsys, *_sweep_argv(db, 3))
    assert_one_line_error(status, err, "read-only")
    small_filesystem.writable()
    assert db.read_bytes() == before
    small_filesystem.read_only(db)  # a read-only file in a writable directory
    status, _, err = cli(capsys, *_sweep_argv(db, 3))
    assert_one_line_error(status, err, "read-only")
    status, out, err = cli(capsys, "sweep", "show", db)
    assert status == 0 and "4 trial(s) stored" in out, err
    small_filesystem.writable()
    assert _stored(db) == 4


# --------------------------------------------------------------------------- 7. edited stores
EDITS = {
    "definition-list": "UPDATE sweeps SET definition = '[1, 2]'",
    "definition-shape": """UPDATE sweeps SET definition = '{"problem": 5, "grid": 3}'""",
    "definition-not-json": "UPDATE sweeps SET definition = 'not json'",
    "cost-text": "UPDATE trials SET cost = 'abc'",
    "index-text": "UPDATE trials SET point_index = 'x'",
    "trial-text": "UPDATE trials SET trial = 't'",
    "point-not-json": "UPDATE trials SET point = 'nope' WHERE point_index = 0",
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_edited_store_contents_are_refused_on_one_line(tmp_path, capsys, edit):
    db = tmp_path / "s.sqlite"
    assert cli(capsys, *_sweep_argv(db, 1))[0] == 0
    connection = sqlite3.connect(db)
    with connection:
        connection.execute(EDITS[edit])
    connection.close()
    before = db.read_bytes()
    status, _, err = cli(capsys, "sweep", "show", db)
    assert_one_line_error(status, err, str(db))
    status, _, err = cli(capsys, *_sweep_argv(db, 2))
    assert_one_line_error(status, err, str(db))
    status, _, err = cli(capsys, "plot", "phase-transition", db, "--output", tmp_path / "p.png")
    assert_one_line_error(status, err, str(db))
    assert db.read_bytes() == before


# --------------------------------------------------------------------------- 8. errors at plan time
@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--grid", "n=3,0"], ['grid point {"n":0}', "n must be at least 2"]),
        (["--grid", "n=3,1000000000"], ['grid point {"n":1000000000}', "memory"]),
    ],
)
def test_grid_points_are_validated_at_plan_time(tmp_path, capsys, extra, fragments):
    db = tmp_path / "s.sqlite"
    status, _, err = cli(capsys, "sweep", "rayleigh", *extra, "--db", db, "--workers", "0")
    assert_one_line_error(status, err, *fragments)
    assert not db.exists()


def test_a_solver_that_does_not_fit_the_manifold_is_refused_at_plan_time(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    status, _, err = cli(
        capsys, "sweep", "phase_retrieval", "--param", "n=4", "--solver", "msp", "--db", db
    )
    assert_one_line_error(status, err, "msp", "Euclidean")
    assert not db.exists()


@pytest.fixture
def sometimes_broken(tmp_path, monkeypatch):
    """A registered problem that raises while the file ``broken`` exists beside it."""
    import importlib

    from manifoldscape.core.registry import problem_registry

    name = "manifoldscape_hostile_test_helpers"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f'''
            from pathlib import Path

            from manifoldscape.core.registry import problem_registry
            from manifoldscape.problems import rayleigh

            FLAG = Path({str(tmp_path / "broken")!r})


            def sometimes(n: int = 3, seed=None):
                """A Rayleigh quotient that raises while a flag file exists."""
                if FLAG.exists():
                    raise RuntimeError("deliberately broken")
                return rayleigh(n=n, seed=seed)


            problem_registry.register("sometimes_broken", sometimes, replace=True)
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module(name)
    (tmp_path / "broken").touch()
    yield tmp_path / "broken"
    problem_registry._entries.pop("sometimes_broken", None)
    sys.modules.pop(name, None)


def test_stored_errors_are_counted_and_retried_on_request(tmp_path, capsys, sometimes_broken):
    db = tmp_path / "s.sqlite"
    argv = ["sweep", "sometimes_broken", "--trials", "2", "--db", db, "--workers", "0"]
    status, out, err = cli(capsys, *argv, "--no-progress")
    assert status == 0, err
    assert "2 error(s) in this run" in out
    sometimes_broken.unlink()
    status, out, err = cli(capsys, *argv, "--no-progress")
    assert status == 0, err
    assert "2 trial(s) planned, 0 run" in out and "2 error(s) stored" in out
    assert "--retry-errors" in out
    status, out, err = cli(capsys, *argv, "--no-progress", "--retry-errors", "--json")
    assert status == 0, err
    data = json.loads(out)
    assert (data["ran"], data["errors"], data["stored_errors"], data["stored"]) == (2, 0, 0, 2)


# --------------------------------------------------------------------------- 9. Dask addresses
class _Server:
    """A TCP server on 127.0.0.1 that answers like an HTTP server (400) or never answers."""

    def __init__(self, mode):
        self.mode = mode
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.stop = threading.Event()
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.held.append(connection)
            if self.mode == "http":
                connection.settimeout(2)
                try:
                    connection.recv(4096)
                except OSError:
                    pass
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for connection in self.held:
            connection.close()
        self.socket.close()


@pytest.mark.parametrize("mode", ["http", "silent"])
def test_a_dask_address_that_is_not_a_scheduler_fails_within_the_timeout(tmp_path, mode):
    pytest.importorskip("distributed")
    server = _Server(mode)
    try:
        status, _, err, elapsed = cli_process(
            *_sweep_argv(tmp_path / "s.sqlite", 1)[:-3],
            "--scheduler",
            f"tcp://127.0.0.1:{server.port}",
            "--timeout",
            "3",
            "--no-progress",
            timeout=90,
        )
    finally:
        server.close()
    assert_one_line_error(status, err, "Dask scheduler", "3 s")
    assert elapsed < 20


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_a_bad_timeout_is_refused(tmp_path, value):
    status, _, err, _ = cli_process(
        *_sweep_argv(tmp_path / "s.sqlite", 1)[:-3],
        "--scheduler",
        "tcp://127.0.0.1:1",
        f"--timeout={value}",
        timeout=60,
    )
    assert_one_line_error(status, err, "--timeout")


# --------------------------------------------------------------------------- 10. expressions
@pytest.mark.parametrize(
    "text",
    ["(" * 400 + "3" + ")" * 400, "1+" * 900 + "3", "-" * 5000 + "3", "1e308*10", "2*n" * 400],
    ids=["parentheses", "chain", "unary", "overflow", "long"],
)
def test_hostile_grid_expressions_are_refused_naming_the_key(tmp_path, capsys, text):
    status, _, err = cli(
        capsys,
        "sweep",
        "phase_retrieval",
        "--param",
        "n=4",
        "--grid",
        f"m={text}",
        "--db",
        tmp_path / "s.sqlite",
    )
    assert_one_line_error(status, err, "grid m")


# --------------------------------------------------------------------------- 11. output paths
def _no_work(*args, **kwargs):
    raise AssertionError("the work started before the output path was checked")


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "rayleigh", "--save-point", "{tmp}/dir.npy"],
        ["plot", "slice", "rayleigh", "--output", "{tmp}/dir.png"],
        ["plot", "convergence", "rayleigh", "--output", "{tmp}/dir.png"],
        ["plot", "morse", "rayleigh", "--output", "{tmp}/dir.png"],
    ],
    ids=["save-point", "slice", "convergence", "morse"],
)
def test_output_paths_that_are_directories_are_refused_before_the_work(
    tmp_path, capsys, monkeypatch, argv
):
    import manifoldscape.core.workflows
    import manifoldscape.landscape.census

    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "dir.png").mkdir()
    monkeypatch.setattr(manifoldscape.core.workflows, "solve", _no_work)
    monkeypatch.setattr(manifoldscape.landscape.census, "census", _no_work)
    status, _, err = cli(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert_one_line_error(status, err, "is a directory")


def test_output_paths_on_a_read_only_filesystem_are_refused_before_the_work(
    small_filesystem, capsys, monkeypatch
):
    import manifoldscape.core.workflows

    small_filesystem.read_only()
    monkeypatch.setattr(manifoldscape.core.workflows, "solve", _no_work)
    target = small_filesystem.path / "x.npy"
    status, _, err = cli(capsys, "solve", "rayleigh", "--save-point", target)
    assert_one_line_error(status, err, "--save-point", "not writable")


# --------------------------------------------------------------------------- 12. API
def test_a_cost_returning_a_one_by_one_array_is_accepted():
    import autograd.numpy as anp
    from pymanopt.manifolds import Sphere

    import manifoldscape as ms

    a = np.diag(np.arange(5.0))
    problem = ms.Problem.from_autograd(Sphere(5, 1), lambda x: -anp.dot(x.T, anp.dot(a, x)))
    assert np.shape(problem.cost(np.eye(5)[:, :1])) == ()
    result = ms.solve(problem, seed=0)
    assert result.cost == pytest.approx(-4.0)


def test_derivatives_of_the_wrong_shape_are_named():
    from pymanopt.manifolds import Sphere

    import manifoldscape as ms
    from manifoldscape.core.problem import Objective, Problem

    a = np.diag(np.arange(5.0))

    class WrongHessian(Objective):
        def cost(self, x, data):
            return float(-x @ a @ x)

        def euclidean_gradient(self, x, data):
            return -2 * a @ x

        def euclidean_hessian(self, x, data, direction):
            return np.ones(3)

    class WrongGradient(WrongHessian):
        def euclidean_gradient(self, x, data):
            return np.ones((5, 1))

    with pytest.raises(ValueError, match=r"euclidean_hessian returned shape \(3,\).*\(5,\)"):
        ms.solve(Problem(Sphere(5), WrongHessian()), seed=0)
    with pytest.raises(ValueError, match=r"euclidean_gradient returned shape \(5, 1\).*\(5,\)"):
        ms.solve(Problem(Sphere(5), WrongGradient()), seed=0)


def test_plain_numpy_inside_an_autograd_cost_is_named():
    from pymanopt.manifolds import Sphere

    import manifoldscape as ms

    a = np.diag(np.arange(5.0))
    for cost in (lambda x: -float(x @ a @ x), lambda x: np.linalg.eigh(np.outer(x, x))[0][-1]):
        problem = ms.Problem.from_autograd(Sphere(5), cost)
        with pytest.raises(TypeError, match=r"autograd\.numpy"):
            ms.solve(problem, seed=0)


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        ("rayleigh", "A"),
        ("eigenspace", "A"),
        ("singular_pair", "A"),
        ("symmetric_factorization", "Y"),
        ("robust_recovery", "Y"),
        ("matrix_completion", "M"),
    ],
)
def test_an_empty_matrix_is_refused_by_name(factory, argument):
    import manifoldscape as ms

    with pytest.raises(ValueError, match=rf"{argument} must be a non-empty matrix, got shape"):
        ms.make_problem(factory, **{argument: np.zeros((0, 0))})


@pytest.mark.parametrize(
    "solver", ["pymanopt-trust-regions", "pymanopt-steepest-descent", "pymanopt-conjugate-gradient"]
)
def test_pymanopt_wrappers_return_a_result_when_the_cost_turns_nan(solver):
    import autograd.numpy as anp
    from pymanopt.manifolds import Sphere

    import manifoldscape as ms
    from manifoldscape.core.result import StopReason

    a = np.diag(np.arange(5.0))
    problem = ms.Problem.from_autograd(
        Sphere(5), lambda x: anp.where(x[4] > 0.9, anp.nan, -anp.dot(x, anp.dot(a, x)))
    )
    result = ms.solve(problem, solver=solver, x0=np.ones(5) / np.sqrt(5), certify=False)
    assert result.stop_reason is StopReason.NON_FINITE_COST
    assert np.isfinite(result.cost)


# --------------------------------------------------------------------------- 13. no main guard
def test_a_sweep_script_without_a_main_guard_stops_at_the_first_failure(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from manifoldscape.experiments.sweep import sweep

            sweep("rayleigh", {{"n": [3]}}, trials=2, db={str(tmp_path / "s.sqlite")!r},
                  workers=1, progress=False)
            """
        )
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env=ENV,
            cwd=tmp_path,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the sweep kept restarting its workers")
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr
    assert time.monotonic() - started < 60


# --------------------------------------------------------------------------- 14. CLI details
def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    process.stdout.close()  # the reader is gone before the first line is written
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
    assert process.returncode in (0, 141)


def test_version(capsys):
    from importlib.metadata import version

    status, out, _ = cli(capsys, "--version")
    assert status == 0 and out.strip() == f"manifoldscape {version('manifoldscape')}"


def test_a_text_file_named_npy_is_not_called_pickled(tmp_path, capsys):
    text = tmp_path / "x.npy"
    text.write_text("hello\n")
    for argv in (
        ["solve", "rayleigh", "--param", f"A={text}"],
        ["certify", "rayleigh", "--point", text],
    ):
        status, _, err = cli(capsys, *argv)
        assert_one_line_error(status, err, "not a NumPy .npy file")
        assert "pickle" not in err


def test_a_diverging_step_size_is_reported_as_divergence(capsys):
    status, _, err = cli(
        capsys, "solve", "rayleigh", "--solver", "gradient-descent", "--option", "step_size=1e300"
    )
    assert_one_line_error(status, err, "solver 'gradient-descent' diverged", "step_size=1e+300")


# --------------------------------------------------------------------------- a crafted zip
def test_an_npz_whose_member_lies_about_its_size_is_refused(tmp_path, capsys):
    path = tmp_path / "lies.npz"
    header = np.lib.format
    with zipfile.ZipFile(path, "w") as archive, archive.open("arr_0.npy", "w") as member:
        header.write_array_header_1_0(
            member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        member.write(b"\0" * 64)
    status, _, err = cli(capsys, "solve", "rayleigh", "--param", f"A={path}")
    assert_one_line_error(status, err, "--param A")
