"""Fuzzing the boundary: hostile argument vectors, values, expressions, array files and stores.

Hypothesis, derandomized (the same examples on every run and in CI), a few thousand examples in
all.  The properties:

* the CLI (``main(argv)`` in-process, every command) ends with status 0 or 2, never raises, and a
  status 2 comes with exactly one line ``manifoldscape: error: …`` on standard error; each run
  ends within the example deadline;
* a few argument vectors also run as real processes under a memory limit (``RLIMIT_AS``): no
  signal, no traceback, status 0 or 2;
* value parsing, grid expressions and plans raise only their documented errors, never a
  RecursionError, OverflowError or anything else;
* an array file with a random header loads or is refused with ``ArrayFileError``, and never
  allocates past the size limit;
* a store with random edits opens and summarises, or is refused with ``StoreError``, and a
  refused store is left byte for byte as it was: no stored trial is ever lost.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifoldscape.boundary.expressions import Expression, parse_expression
from manifoldscape.boundary.files import ArrayFileError, load_array_file
from manifoldscape.boundary.parsing import UsageError, parse_value
from manifoldscape.cli import main
from manifoldscape.experiments.store import StoreError, open_store
from manifoldscape.experiments.sweep import SweepError, plan_sweep, summarize

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
_counter = itertools.count()


def _unique(directory, suffix):
    return directory / f"f{next(_counter)}{suffix}"


# --------------------------------------------------------------------------- shared files
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A directory of good and bad inputs the argument vectors refer to."""
    root = tmp_path_factory.mktemp("fuzz")
    np.save(root / "unit3.npy", np.eye(3)[0])
    np.save(root / "unit50.npy", np.eye(50)[0])
    np.save(root / "sym3.npy", np.diag([3.0, 2.0, 1.0]))
    np.save(root / "empty.npy", np.zeros((0, 0)))
    np.save(root / "nan.npy", np.full((3, 3), np.nan))
    np.save(root / "strings.npy", np.array(["a", "b"]))
    np.savez(root / "pair.npz", np.eye(3)[0], np.eye(3)[1])
    (root / "text.npy").write_text("hello\n")
    (root / "dir.npy").mkdir()
    (root / "dir.png").mkdir()
    np.savez(
        root / "crafted.npz",
        format=np.array(b"csr"),
        shape=np.array([8, 8]),
        data=np.ones(2),
        indices=np.array([100, 2**40]),
        indptr=np.array([0, 1, 2, 2, 2, 2, 2, 2, 2]),
    )
    (root / "notsqlite.sqlite").write_bytes(b"\x00" * 100)
    status = main(
        [
            "sweep",
            "rayleigh",
            "--param",
            "n=3",
            "--trials",
            "2",
            "--workers",
            "0",
            "--db",
            str(root / "store.sqlite"),
            "--no-progress",
            "--json",
        ]
    )
    assert status == 0
    return root


# --------------------------------------------------------------------------- CLI argument vectors
PROBLEMS = [
    "rayleigh",
    "singular_pair",
    "phase_retrieval_one_unknown",
    "dictionary_learning_one_sparse",
    "symmetric_factorization",
    "tensor_decomposition",
    "nope",
    "",
]
KEYS = ["n", "m", "A", "p", "r", "spectrum", "loss", "mu", "seed", "K", "components", "x", ""]
NUMBERS = [
    "-1",
    "0",
    "1",
    "2",
    "3",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e999",
    "1000000000",
    "99999999999999999999",
    "0x10",
    "1_000",
    "abc",
    "",
    "none",
    "true",
    "1,2,3",
    "3,",
    "2*n",
    "(((1)))",
    "-" * 300 + "1",
    "é",
    "\x00",
]
FILES = [
    "unit3.npy",
    "sym3.npy",
    "empty.npy",
    "nan.npy",
    "strings.npy",
    "pair.npz",
    "text.npy",
    "dir.npy",
    "crafted.npz",
    "missing.npy",
    "x.txt",
]
SOLVERS = ["trust-regions", "gradient-descent", "msp", "pymanopt-steepest-descent", "nope"]
OPTIONS = ["max_iterations", "step_size", "max_time", "rtol_gradient", "beta_rule", "colour"]
SMALL = ["-1", "0", "1", "2", "abc", "1e3", "100000000", "99999999999999999999", "nan"]


@st.composite
def _assignment(draw, keys, values):
    key = draw(st.sampled_from(keys))
    value = draw(st.one_of(st.sampled_from(values), st.text(max_size=12)))
    separator = draw(st.sampled_from(["=", "=", "=", ""]))
    return f"{key}{separator}{value}"


@st.composite
def argument_vectors(draw, root):
    """An argument vector for one of the commands, with hostile values mixed in."""
    path = str(root)
    values = NUMBERS + [f"{path}/{name}" for name in FILES]
    command = draw(
        st.sampled_from(
            [
                "list",
                "solve",
                "certify",
                "census",
                "sweep",
                "sweep-show",
                "plot-sphere",
                "plot-slice",
                "plot-profile",
                "plot-spectrum",
                "plot-convergence",
                "plot-morse",
                "plot-phase-transition",
                "garbage",
            ]
        )
    )
    argv: list[str] = []
    params = draw(st.lists(_assignment(KEYS, values), max_size=3))
    param_flags = [item for p in params for item in ("--param", p)]
    name = draw(st.sampled_from(PROBLEMS))
    seed = ["--seed", draw(st.sampled_from(["0", "1", "-1", "x", "99999999999999999999"]))]
    json_flag = draw(st.sampled_from([[], ["--json"]]))
    output = [
        "--output",
        f"{path}/{draw(st.sampled_from(['o.png', 'o.svg', 'o.txt', 'dir.png', 'no/o.png']))}",
    ]
    point = f"{path}/{draw(st.sampled_from([*FILES, 'unit50.npy']))}"
    options = draw(st.lists(_assignment(OPTIONS, NUMBERS), max_size=2))
    option_flags = [item for o in options for item in ("--option", o)]
    if command == "list":
        argv = ["list", *json_flag]
    elif command == "solve":
        argv = ["solve", name, *param_flags, *seed, *json_flag, *option_flags]
        argv += ["--solver", draw(st.sampled_from(SOLVERS))]
        argv += ["--option", "max_iterations=50"] if not option_flags else []
        if draw(st.booleans()):
            target = draw(st.sampled_from(["s.npy", "s.npz", "dir.npy", "s.txt", "no/s.npy"]))
            argv += ["--save-point", f"{path}/{target}"]
    elif command == "certify":
        argv = ["certify", name, *param_flags, *seed, *json_flag, "--point", point]
    elif command in ("census", "plot-morse"):
        argv = ["census", name] if command == "census" else ["plot", "morse", name, *output]
        argv += [*param_flags, *seed, "--no-progress", "--no-explore"]
        argv += ["--starts", draw(st.sampled_from(SMALL))]
    elif command == "sweep":
        grid = draw(st.lists(_assignment(KEYS, NUMBERS), max_size=2))
        argv = ["sweep", name, *[item for g in grid for item in ("--grid", g)], *param_flags]
        argv += ["--trials", draw(st.sampled_from(SMALL)), "--workers", "0", "--no-progress"]
        db = draw(st.sampled_from(["new.sqlite", "notsqlite.sqlite", "dir.npy", "no/x.sqlite"]))
        argv += ["--db", f"{path}/{db}"]
        argv += ["--timeout", draw(st.sampled_from(["1", "nan", "-1", "inf", "x"]))]
        argv += [*option_flags, "--option", "max_iterations=20", *json_flag]
        if draw(st.booleans()):
            argv += ["--retry-errors"]
        if draw(st.booleans()):
            argv += ["--instance", draw(st.sampled_from(["per-point", "per-trial", "x"]))]
        if draw(st.booleans()):
            argv += ["--batch", draw(st.sampled_from([*SMALL, "-1", "1e9", "x"]))]
    elif command == "sweep-show":
        db = draw(
            st.sampled_from(["store.sqlite", "notsqlite.sqlite", "missing.sqlite", "dir.npy"])
        )
        argv = ["sweep", "show", f"{path}/{db}", *json_flag]
    elif command == "plot-phase-transition":
        db = draw(st.sampled_from(["store.sqlite", "notsqlite.sqlite", "missing.sqlite"]))
        argv = ["plot", "phase-transition", f"{path}/{db}", *output]
        argv += draw(st.sampled_from([[], ["--x", "n"], ["--x", "m/k"], ["--x", "(" * 60]]))
        argv += draw(st.sampled_from([[], ["--line", "a=1"], ["--line", "bad"]]))
    elif command.startswith("plot-"):
        kind = command[5:]
        argv = ["plot", kind, name, *param_flags, *seed, *output, *json_flag]
        if kind == "sphere":
            argv += ["--resolution", draw(st.sampled_from(["3", "0", "100000", "x"]))]
            argv += ["--starts", draw(st.sampled_from(["0", "2", "100000000"]))]
        elif kind == "slice":
            argv += ["--resolution", draw(st.sampled_from(["3", "0", "100000"]))]
            argv += ["--radius", draw(st.sampled_from(["1", "0", "nan", "inf"]))]
        elif kind == "profile":
            argv += ["--from", point, "--to", point, "--samples", draw(st.sampled_from(SMALL))]
        elif kind == "spectrum":
            argv += ["--point", point]
        else:
            argv += ["--option", "max_iterations=5", *option_flags]
    else:
        argv = draw(st.lists(st.text(max_size=8), max_size=4))
    if draw(st.integers(0, 9)) == 0:  # now and then, noise anywhere
        position = draw(st.integers(0, len(argv)))
        argv.insert(
            position, draw(st.sampled_from(["--", "-", "--bogus", "\x00", "--json", "-vv"]))
        )
    return argv


def _check_cli(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exc:  # pragma: no cover - reported as a failure below
        pytest.fail(f"main({argv!r}) raised SystemExit({exc.code})")
    _out, err = capsys.readouterr()
    assert status in (0, 2), (argv, status, err)
    if status == 2:
        errors = [line for line in err.splitlines() if line.startswith("manifoldscape: error: ")]
        assert len(errors) == 1, (argv, err)
        assert err.rstrip().endswith(errors[0]), (argv, err)
    assert "Traceback" not in err, (argv, err)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_cli_argument_vectors_end_in_status_0_or_2_with_one_line(files, capsys, data):
    argv = data.draw(argument_vectors(files))
    _check_cli(argv, capsys)


def _limit_memory():
    limit = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@settings(FUZZ, max_examples=6)
@given(data=st.data())
def test_cli_processes_under_a_memory_limit_never_die_of_a_signal(files, data):
    argv = data.draw(argument_vectors(files))
    argv = [a.replace("\x00", "") for a in argv]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from manifoldscape.cli import main; sys.exit(main())",
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode in (0, 2), (argv, done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, (argv, done.stderr[-2000:])


# --------------------------------------------------------------------------- values and expressions
KINDS = ["none", "bool", "int", "float", "list", "str"]


@settings(FUZZ, max_examples=800)
@given(
    text=st.one_of(st.text(max_size=40), st.sampled_from(NUMBERS)),
    kinds=st.sets(st.sampled_from(KINDS)),
)
def test_values_parse_or_are_refused_with_a_usage_error(text, kinds):
    try:
        parse_value(text, set(kinds), "--param x")
    except UsageError as exc:
        assert str(exc).startswith("--param x"), exc


_EXPRESSION_TOKENS = st.sampled_from([*"0123456789.eE+-*/() nmk_x", "1e308", "n", "m", "2.5"])


@settings(FUZZ, max_examples=1500)
@given(
    text=st.one_of(
        st.lists(_EXPRESSION_TOKENS, max_size=80).map("".join),
        st.text(max_size=30),
        st.builds(
            lambda k, body: "(" * k + body + ")" * k,
            st.integers(0, 600),
            st.sampled_from(["1", "n", "-n"]),
        ),
        st.builds(
            lambda k, op: op * k + "2",
            st.integers(0, 1500),
            st.sampled_from(["-", "+", "1+", "2*"]),
        ),
    ),
    n=st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_grid_expressions_parse_and_evaluate_or_say_why(text, n):
    try:
        expression = parse_expression(text)
    except ValueError:
        return
    assert isinstance(expression, Expression)
    try:
        value = expression.evaluate({"n": n, "m": 3, "k": 0.5, "x": 2, "_": 1})
    except ValueError:
        return
    assert np.isfinite(value)


@settings(FUZZ, max_examples=150)
@given(
    grid=st.dictionaries(
        st.sampled_from(["n", "spectrum", "seed", "q", "A"]),
        st.lists(st.one_of(st.sampled_from(NUMBERS), st.integers(-5, 10), st.floats()), max_size=3),
        max_size=2,
    ),
    options=st.dictionaries(st.sampled_from(OPTIONS), st.sampled_from(NUMBERS), max_size=2),
    batch=st.one_of(st.none(), st.sampled_from([0, 1, 3, -2, 2.5, True, "4"])),
    instance=st.sampled_from(["per-trial", "per-point"]),
)
def test_plans_are_refused_only_with_sweep_errors(grid, options, batch, instance):
    try:
        plan = plan_sweep(
            "rayleigh",
            grid,
            solver_options=options,
            solver="gradient-descent",
            batch=batch,
            instance=instance,
        )
    except (SweepError, TypeError):
        return
    assert plan.points


# --------------------------------------------------------------------------- array files
_DESCRS = ["<f8", ">f8", "<i4", "|b1", "<c16", "|O", "<U3", "|S2", "V8", "<f2", "garbage", "<M8[D]"]


@st.composite
def npy_bytes(draw):
    """A .npy file: a random (often hostile) header and random data."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=200))
    shape = draw(
        st.one_of(
            st.lists(st.integers(0, 6), max_size=3).map(tuple),
            st.lists(st.integers(-3, 10**12), max_size=4).map(tuple),
            st.sampled_from(["(3,)", "3", "((2,),)", "(1e3,)", "()"]),
        )
    )
    header = {
        "descr": draw(st.sampled_from(_DESCRS)),
        "fortran_order": draw(st.sampled_from([False, True, 1, "no"])),
        "shape": shape,
    }
    text = repr(header) if draw(st.integers(0, 5)) else draw(st.text(max_size=40))
    if draw(st.integers(0, 9)) == 0:
        text = "{" * draw(st.integers(1, 3000))
    raw = text.encode("latin1", "replace")
    raw += b" " * (-(len(raw) + 11) % 64) + b"\n"
    version = draw(st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x00"]))
    length = len(raw).to_bytes(2 if version[0] == 1 else 4, "little")
    if draw(st.integers(0, 9)) == 0:
        length = (2**16 - 1 if version[0] == 1 else 2**31).to_bytes(len(length), "little")
    data = draw(st.binary(max_size=256))
    return b"\x93NUMPY" + version + length + raw + data


@settings(FUZZ, max_examples=400)
@given(content=npy_bytes(), as_npz=st.booleans(), compressed=st.booleans())
def test_array_files_with_random_headers_load_or_are_refused(
    tmp_path_factory, content, as_npz, compressed, monkeypatch
):
    monkeypatch.setenv("MANIFOLDSCAPE_MAX_ARRAY_BYTES", str(1 << 20))
    directory = tmp_path_factory.getbasetemp()
    if as_npz:
        path = _unique(directory, ".npz")
        buffer = io.BytesIO()
        method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
        with zipfile.ZipFile(buffer, "w", method) as archive:
            archive.writestr("arr_0.npy", content)
        path.write_bytes(buffer.getvalue())
    else:
        path = _unique(directory, ".npy")
        path.write_bytes(content)
    try:
        array = load_array_file(path, "--param A")
    except ArrayFileError as exc:
        assert str(exc).startswith("--param A"), exc
        return
    finally:
        path.unlink()
    assert array.nbytes <= 1 << 20


# --------------------------------------------------------------------------- stores
class _Template:
    """The bytes of a store with a few trials (short repr: hypothesis prints its arguments)."""

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return f"<store template of {len(self.data)} bytes>"


@pytest.fixture(scope="module")
def template(files):
    """A store with a few trials (checkpointed and closed)."""
    return _Template((files / "store.sqlite").read_bytes())


_COLUMNS = [
    "cost",
    "trial",
    "point",
    "point_index",
    "success",
    "verdict",
    "error",
    "sweep",
    "iterations",
]
_VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.binary(max_size=6),
    st.sampled_from(['{"n": 3}', '{"n": 4}', "[]", "{", '{"n": "x"}']),
)
_DEFINITIONS = st.one_of(
    st.sampled_from(["[1, 2]", "{}", "null", "not json", '{"grid": 5}', "[" * 5000]),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=8,
    ).map(json.dumps),
)


@settings(FUZZ, max_examples=250)
@given(
    edits=st.lists(
        st.one_of(
            st.tuples(st.just("column"), st.sampled_from(_COLUMNS), _VALUES),
            st.tuples(st.just("definition"), _DEFINITIONS, st.none()),
            st.tuples(st.just("bytes"), st.integers(0, 20000), st.binary(min_size=1, max_size=8)),
            st.tuples(st.just("version"), st.integers(-1, 4), st.none()),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_stores_with_random_edits_open_or_are_refused_and_lose_nothing(
    tmp_path_factory, template, edits
):
    path = _unique(tmp_path_factory.getbasetemp(), ".sqlite")
    path.write_bytes(template.data)
    for kind, first, second in edits:
        if kind == "bytes":
            data = bytearray(path.read_bytes())
            position = first % len(data)
            data[position : position + len(second)] = second
            path.write_bytes(bytes(data))
            continue
        try:
            connection = sqlite3.connect(path)
            with connection:
                if kind == "column":
                    connection.execute(
                        f"UPDATE OR IGNORE trials SET {first} = ? WHERE rowid = 1", (second,)
                    )
                elif kind == "definition":
                    connection.execute("UPDATE sweeps SET definition = ?", (first,))
                else:
                    connection.execute("UPDATE schema_version SET version = ?", (first,))
            connection.close()
        except sqlite3.Error:
            pass  # the edit itself broke on a damaged file: the file is what it is
    before = path.read_bytes()
    for readonly in (True, False):
        try:
            with open_store(path, readonly=readonly) as store:
                stored = store.definition()
                records = store.records()
                if stored is not None:
                    summarize(records, stored[1])
                count = store.count()
        except StoreError:
            assert path.read_bytes() == before  # refused: nothing written, nothing lost
            continue
        assert count == len(records)
    for companion in (path, *path.parent.glob(f"{path.name}-*")):
        companion.unlink()


def test_a_refused_store_is_never_rewritten(tmp_path, files):
    """The stored trials of a store refused for another sweep stay as they were."""
    db = tmp_path / "s.sqlite"
    shutil.copy(files / "store.sqlite", db)
    before = db.read_bytes()
    from manifoldscape.experiments.sweep import sweep

    with pytest.raises(StoreError, match="holds another sweep"):
        sweep("rayleigh", {"n": [4]}, trials=1, db=db, workers=0, progress=False)
    assert db.read_bytes() == before
