"""The ``manifoldscape`` command line, in-process (``main(argv)``) and as the installed script."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.cli import main

SUMMARY_KEYS = {
    "problem",
    "solver",
    "cost",
    "gradient_norm",
    "iterations",
    "time_s",
    "stop_reason",
    "converged",
    "certificate",
    "distance_to_truth",
    "recovered",
    "parameters",
    "seed",
}
CERTIFICATE_KEYS = {"verdict", "index", "min_eigenvalue", "max_eigenvalue", "symmetry_dimension"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    # the library's logged warnings are the only thing allowed on stderr
    assert all(line.startswith("manifoldscape: warning: ") for line in err.splitlines()), err
    return json.loads(out)


def default_rayleigh():
    """The instance ``manifoldscape solve rayleigh`` builds: default parameters, seed 0."""
    return ms.make_problem("rayleigh", seed=0)


def console_script() -> str:
    """The ``manifoldscape`` script of this interpreter's environment."""
    beside = Path(sysconfig.get_path("scripts")) / "manifoldscape"
    found = str(beside) if beside.is_file() else shutil.which("manifoldscape")
    if found is None:
        pytest.fail("the manifoldscape console script is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="module")
def default_solve(tmp_path_factory):
    """``solve rayleigh --json --save-point`` once for the module: (summary, saved point file)."""
    point_file = tmp_path_factory.mktemp("cli") / "minimizer.npy"
    status = main(["solve", "rayleigh", "--json", "--save-point", str(point_file)])
    assert status == 0
    return point_file


# --------------------------------------------------------------------------- list
def test_list_shows_every_problem_and_solver_with_parameter_defaults(capsys):
    status, out, err = run(capsys, "list")
    assert status == 0 and err == ""
    for name in ms.problem_registry.names() + ms.solver_registry.names():
        assert name in out
    default_n = inspect.signature(ms.problem_registry.get("rayleigh").factory).parameters["n"]
    assert f"n={default_n.default!r}" in out


def test_list_json_matches_the_registries(capsys):
    listing = run_json(capsys, "list")
    assert [p["name"] for p in listing["problems"]] == ms.problem_registry.names()
    assert [s["name"] for s in listing["solvers"]] == ms.solver_registry.names()
    assert "trust-regions" in ms.solver_registry.names()
    for item in listing["problems"]:
        entry = ms.problem_registry.get(item["name"])
        assert item["description"] == entry.description
        signature = inspect.signature(entry.factory).parameters
        assert set(item["parameters"]) == set(signature) - {"seed"}
        for key, default in item["parameters"].items():
            assert default == signature[key].default


# --------------------------------------------------------------------------- solve
def test_solve_default_json_is_the_certified_top_eigenvector(capsys):
    summary = run_json(capsys, "solve", "rayleigh")
    assert SUMMARY_KEYS <= set(summary)
    assert CERTIFICATE_KEYS <= set(summary["certificate"])
    assert summary["problem"] == "rayleigh"
    assert summary["solver"] == "trust-regions"
    assert summary["seed"] == 0
    assert summary["converged"] is True
    assert summary["certificate"]["verdict"] == "local_minimizer"
    assert summary["certificate"]["index"] == 0
    assert summary["certificate"]["min_eigenvalue"] > 0
    assert summary["recovered"] is True
    problem = default_rayleigh()
    assert summary["parameters"]["n"] == problem.parameters["n"]
    assert summary["distance_to_truth"] <= problem.recovery_tolerance
    # the minimum of −xᵀAx on the sphere is −λ_max(A) (seed 001)
    top = np.linalg.eigvalsh(problem.objective.a)[-1]
    assert summary["cost"] == pytest.approx(-top, rel=1e-8)


def test_solve_is_reproducible_and_seeded(capsys):
    first = run_json(capsys, "solve", "rayleigh", "--param", "n=20")
    again = run_json(capsys, "solve", "rayleigh", "--param", "n=20")
    other = run_json(capsys, "solve", "rayleigh", "--param", "n=20", "--seed", "3")
    for key in ("cost", "gradient_norm", "iterations", "distance_to_truth"):
        assert first[key] == again[key]
    assert first["solver_seed"] == 1 and other["seed"] == 3 and other["solver_seed"] == 4
    # a different instance: a different matrix, the same spectrum, so the same minimum
    assert other["cost"] == pytest.approx(first["cost"], rel=1e-8)
    assert other["certificate"]["verdict"] == "local_minimizer"


def test_solve_human_output_is_a_table(capsys):
    status, out, err = run(capsys, "solve", "rayleigh", "--param", "n=10")
    assert status == 0 and err == ""
    labels = [line.split("  ")[0] for line in out.splitlines()]
    for label in (
        "problem",
        "solver",
        "cost",
        "gradient norm",
        "iterations",
        "time",
        "stop reason",
        "verdict",
        "index",
        "min eigenvalue",
        "max eigenvalue",
        "symmetry dimension",
        "distance to truth",
        "recovered",
    ):
        assert label in labels, f"no {label!r} row in:\n{out}"
    assert "local_minimizer" in out


def test_solve_reads_typed_parameters(capsys):
    spectrum = [3.0, 2.0, 0.5, -1.0]
    summary = run_json(
        capsys, "solve", "rayleigh", "--param", "n=4", "--param", "spectrum=3,2,0.5,-1"
    )
    assert summary["parameters"]["spectrum"] == spectrum
    assert summary["cost"] == pytest.approx(-max(spectrum), rel=1e-8)
    # an optional integer given as 'none' falls back to the factory's rule (n = m)
    pair = run_json(capsys, "solve", "singular_pair", "--param", "m=5", "--param", "n=none")
    assert pair["parameters"] == {"m": 5, "n": 5}
    assert pair["certificate"]["verdict"] == "local_minimizer"


def test_solve_reads_an_array_parameter_from_a_file(capsys, tmp_path):
    b = np.random.default_rng(7).standard_normal((8, 8))
    a = b + b.T
    matrix_file = tmp_path / "A.npy"
    np.save(matrix_file, a)
    summary = run_json(capsys, "solve", "rayleigh", "--param", f"A={matrix_file}")
    assert summary["parameters"]["A"] == str(matrix_file)
    assert summary["parameters"]["n"] == 8
    assert summary["cost"] == pytest.approx(-np.linalg.eigvalsh(a)[-1], rel=1e-8)
    assert summary["certificate"]["verdict"] == "local_minimizer"
    assert summary["recovered"] is True


def test_solve_with_another_solver_and_an_option(capsys):
    summary = run_json(
        capsys,
        "solve",
        "rayleigh",
        "--param",
        "n=10",
        "--solver",
        "gradient-descent",
        "--option",
        "max_iterations=2",
    )
    assert summary["solver"] == "gradient-descent"
    assert summary["options"] == {"max_iterations": 2}
    assert summary["iterations"] <= 2
    assert summary["stop_reason"] == "max_iterations"
    assert summary["converged"] is False


def test_solve_without_truth_reports_null(capsys, tmp_path):
    # a repeated top eigenvalue: the top eigenvector is not unique, so there is no truth
    matrix_file = tmp_path / "A.npy"
    np.save(matrix_file, np.diag([2.0, 2.0, 1.0, 0.0]))
    status, out, err = run(capsys, "solve", "rayleigh", "--param", f"A={matrix_file}", "--json")
    assert status == 0
    assert err.startswith("manifoldscape: warning: ") and "repeated eigenvalue" in err
    summary = json.loads(out)
    assert summary["distance_to_truth"] is None
    assert summary["recovered"] is None
    assert summary["cost"] == pytest.approx(-2.0, rel=1e-8)


# --------------------------------------------------------------------------- certify
def test_certify_the_saved_minimizer(capsys, default_solve):
    point = np.load(default_solve)
    assert np.linalg.norm(point) == pytest.approx(1.0)
    report = run_json(capsys, "certify", "rayleigh", "--point", str(default_solve))
    assert report["certificate"]["verdict"] == "local_minimizer"
    assert report["certificate"]["index"] == 0
    assert report["recovered"] is True
    assert report["distance_to_truth"] == pytest.approx(
        default_rayleigh().distance_to_truth(point), abs=1e-12
    )
    status, out, _ = run(capsys, "certify", "rayleigh", "--point", str(default_solve))
    assert status == 0 and "local_minimizer" in out


def test_certify_the_second_eigenvector_is_a_strict_saddle_of_index_one(capsys, tmp_path):
    problem = default_rayleigh()
    _, vectors = np.linalg.eigh(problem.objective.a)
    second = tmp_path / "v2.npy"
    np.save(second, vectors[:, -2])
    report = run_json(capsys, "certify", "rayleigh", "--point", str(second))
    assert report["certificate"]["verdict"] == "strict_saddle"
    assert report["certificate"]["index"] == 1
    assert report["certificate"]["min_eigenvalue"] < 0 < report["certificate"]["max_eigenvalue"]
    assert report["recovered"] is False
    # the same point of a different instance (other seed) is not critical
    other = run_json(capsys, "certify", "rayleigh", "--point", str(second), "--seed", "5")
    assert other["certificate"]["verdict"] == "not_critical"


def test_solve_and_certify_a_product_manifold_point(capsys, tmp_path):
    saved = tmp_path / "pair.npz"
    summary = run_json(
        capsys, "solve", "singular_pair", "--param", "m=5", "--save-point", str(saved)
    )
    with np.load(saved) as archive:
        assert sorted(archive.keys()) == ["arr_0", "arr_1"]
    report = run_json(capsys, "certify", "singular_pair", "--param", "m=5", "--point", str(saved))
    assert report["certificate"]["verdict"] == summary["certificate"]["verdict"]
    assert report["cost"] == pytest.approx(summary["cost"], rel=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.fixture
def bad_files(tmp_path):
    n = default_rayleigh().parameters["n"]
    np.save(tmp_path / "off.npy", np.ones(n))
    np.save(tmp_path / "short.npy", np.ones(n - 1) / np.sqrt(n - 1))
    np.save(tmp_path / "unit.npy", np.eye(n)[0])
    (tmp_path / "corrupt.npy").write_bytes(b"this is not a numpy file")
    np.savez(tmp_path / "odd.npz", first=np.eye(n)[0])
    return tmp_path


BAD_INPUT = [
    ([], "required"),
    (["frobnicate"], "frobnicate"),
    (["solve"], "NAME"),
    (["solve", "nope"], "unknown problem 'nope'"),
    (["solve", "rayleigh", "--solver", "nope"], "unknown solver 'nope'"),
    (["solve", "rayleigh", "--param", "foo=1"], "unknown parameter 'foo'"),
    (["solve", "rayleigh", "--param", "n=abc"], "--param n: expected an integer, got 'abc'"),
    (["solve", "rayleigh", "--param", "n"], "KEY=VALUE"),
    (["solve", "rayleigh", "--param", "n=3", "--param", "n=4"], "given twice"),
    (["solve", "rayleigh", "--param", "n=1"], "n must be at least 2"),
    (["solve", "rayleigh", "--param", "spectrum=flat"], "spectrum"),
    (["solve", "rayleigh", "--param", "seed=3"], "--seed"),
    (["solve", "rayleigh", "--param", "A={tmp}/missing.npy"], "missing.npy"),
    (["solve", "rayleigh", "--param", "A={tmp}/corrupt.npy"], "not a NumPy .npy file"),
    (["solve", "rayleigh", "--param", "A=matrix.txt"], ".npy"),
    (["solve", "rayleigh", "--option", "nonsense=1"], "nonsense"),
    (["solve", "rayleigh", "--option", "max_iterations=many"], "max_iterations"),
    (["solve", "rayleigh", "--seed", "-1"], "--seed"),
    (["solve", "rayleigh", "--seed", "x"], "--seed"),
    (["solve", "rayleigh", "--save-point", "{tmp}/x.txt"], ".npy or .npz"),
    (["solve", "singular_pair", "--save-point", "{tmp}/x.npy"], ".npz"),
    (["solve", "rayleigh", "--save-point", "{tmp}/no/such/dir/x.npy"], "does not exist"),
    (["certify", "rayleigh"], "--point"),
    (["certify", "rayleigh", "--point", "{tmp}/missing.npy"], "no such file"),
    (["certify", "rayleigh", "--point", "{tmp}/corrupt.npy"], "not a NumPy .npy file"),
    (["certify", "rayleigh", "--point", "{tmp}/off.npy"], "not on"),
    (["certify", "rayleigh", "--point", "{tmp}/short.npy"], "shape"),
    (["certify", "rayleigh", "--point", "{tmp}/odd.npz"], "arr_0"),
    (["certify", "singular_pair", "--point", "{tmp}/unit.npy"], "list of 2 arrays"),
    (["certify", "nope", "--point", "{tmp}/unit.npy"], "unknown problem 'nope'"),
]


@pytest.mark.parametrize(("argv", "fragment"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line(capsys, bad_files, argv, fragment):
    status, out, err = run(capsys, *[a.replace("{tmp}", str(bad_files)) for a in argv])
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("manifoldscape: error: ")
    assert fragment in lines[0]


def test_help_exits_0(capsys):
    status, out, _ = run(capsys, "solve", "--help")
    assert status == 0
    assert "--param" in out and "--save-point" in out


# --------------------------------------------------------------------------- the installed script
def test_console_script_solves_the_default_instance():
    completed = subprocess.run(
        [console_script(), "solve", "rayleigh", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["certificate"]["verdict"] == "local_minimizer"
    assert summary["recovered"] is True


def test_console_script_bad_input_is_one_line_without_traceback(tmp_path):
    completed = subprocess.run(
        [console_script(), "certify", "rayleigh", "--point", str(tmp_path / "missing.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == [
        f"manifoldscape: error: --point: no such file {str(tmp_path / 'missing.npy')!r}"
    ]


@pytest.mark.parametrize(
    ("text", "kinds", "expected"),
    [
        ("7", {"int"}, 7),
        ("7", {"float"}, 7.0),
        ("none", {"int", "none"}, None),
        ("yes", {"bool"}, True),
        ("0", {"bool"}, False),
        ("1", set(), 1),  # no annotation: an integer, not a boolean
        ("3,2.5,-1", {"list", "str"}, [3.0, 2.5, -1.0]),
        ("linear", {"list", "str"}, "linear"),
    ],
)
def test_values_are_read_by_the_annotated_kind(text, kinds, expected):
    from manifoldscape.boundary.parsing import parse_value

    value = parse_value(text, kinds, "--param x")
    assert value == expected and type(value) is type(expected)
