"""The census: every critical point of known landscapes found, merged modulo symmetry, certified.

The known answers are independent of the census: eigenvectors of A and their index i − 1 for the
Rayleigh quotient (seed 001), the inverted-pair count for eigenspaces (seed 003 Fig. 4), the
classes of seed 003 Appendix A for symmetric factorization, and the circle plus the maximizer at
0 of phase retrieval with one unknown (seed 003 §2.1).
"""

from __future__ import annotations

import importlib.util
import itertools
import json

import autograd.numpy as anp
import numpy as np
import pytest
from pymanopt.manifolds import Euclidean

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.landscape.census import Census, CriticalClass, census
from manifoldscape.problems import (
    eigenspace,
    phase_retrieval_one_unknown,
    rayleigh,
    symmetric_factorization,
)
from manifoldscape.problems.low_rank import symmetric_factorization_critical_points

HAS_PLOTS = importlib.util.find_spec("manifoldscape.landscape.plots") is not None


def _eigenvector_index(problem, x):
    """The i with x = ±v_i, checked: x must be a unit eigenvector of A (residual at round-off)."""
    a = problem.objective.a
    rayleigh_value = x @ a @ x
    assert np.linalg.norm(a @ x - rayleigh_value * x) < 1e-12
    overlaps = np.abs(problem.objective.eigenvectors.T @ x)
    i = int(np.argmax(overlaps))
    assert overlaps[i] == pytest.approx(1.0, abs=1e-12)
    return i


# --------------------------------------------------------------------------- acceptance
@pytest.mark.parametrize(
    ("spectrum", "census_seed"),
    [("linear", 0)] + [("random", s) for s in range(5)],
)
def test_rayleigh_n8_all_16_critical_points_with_index_i_minus_1(spectrum, census_seed):
    problem = rayleigh(n=8, spectrum=spectrum, seed=3)
    lam = problem.objective.eigenvalues
    result = census(problem, starts=6, seed=census_seed)
    assert len(result.classes) == 8  # nothing else is reported as critical
    found = []
    for c in result.classes:
        i = _eigenvector_index(problem, c.point)
        found.append(i)
        assert c.index == i  # v_{i+1} in 1-based numbering: index i
        assert c.cost == pytest.approx(-lam[i], abs=1e-12)
        assert c.copies == 2  # both +v_i and −v_i were reached: 16 points
        expected = (
            ms.Verdict.LOCAL_MINIMIZER
            if i == 0
            else ms.Verdict.LOCAL_MAXIMIZER
            if i == 7
            else ms.Verdict.STRICT_SADDLE
        )
        assert c.verdict is expected
        assert c.symmetry_dimension == 0
        assert c.gradient_norm < 1e-13
    assert found == list(range(8))
    assert result.minimizers[0].distance_to_truth < 1e-12
    assert result.unconverged == 0


@pytest.mark.parametrize("census_seed", range(5))
def test_eigenspace_grassmann_n6_p2_all_15_subspaces(census_seed):
    # span{v1, v6} (index 4) has a small eigenvector-following basin: random starts alone reach
    # it about once in 36 runs; exploring outward from the classes found reaches it every time
    n, p = 6, 2
    problem = eigenspace(n=n, p=p, manifold="grassmann", spectrum="random", seed=4)
    lam, q = problem.objective.eigenvalues, problem.objective.eigenvectors
    result = census(problem, starts=10, seed=census_seed)
    subsets = {}
    for c in result.classes:
        weights = np.linalg.norm(c.point.T @ q, axis=0)  # ‖Xᵀ v_j‖: 1 inside the span, 0 outside
        subset = tuple(int(j) for j in np.flatnonzero(weights > 0.5))
        assert len(subset) == p
        np.testing.assert_allclose(np.sort(weights), [0] * (n - p) + [1] * p, atol=1e-10)
        expected = sum(1 for i in subset for j in range(n) if j not in subset and lam[j] > lam[i])
        assert c.index == expected, (subset, c.certificate)
        assert c.cost == pytest.approx(-0.5 * sum(lam[list(subset)]), abs=1e-12)
        subsets[subset] = c
    assert set(subsets) == set(itertools.combinations(range(n), p))
    assert len(result.classes) == 15


def test_explore_phase_adds_runs_after_the_same_random_starts():
    problem = eigenspace(n=6, p=2, manifold="grassmann", spectrum="random", seed=4)
    plain = census(problem, starts=12, seed=1, explore=False)
    explored = census(problem, starts=12, seed=1)
    assert plain.explore_runs == 0
    # the default budget: four classes' worth of displaced runs, 2 · dim Gr(6, 2) = 16 per class
    assert explored.explore_runs == 8 * 8
    assert explored.runs == plain.runs + explored.explore_runs
    assert explored.to_json()["explore_runs"] == 64
    # the random-start phase is unchanged: every class it found is still there, found as often
    before = {round(c.cost, 9): c.found_by for c in plain.classes}
    after = {round(c.cost, 9): c.found_by for c in explored.classes}
    for cost, found_by in before.items():
        assert {k: v for k, v in after[cost].items() if k != "explore"} == found_by
    assert len(plain.classes) < 15 == len(explored.classes)
    assert sum("explore" in c.found_by for c in explored.classes) >= 15 - len(plain.classes)
    # a budget of 0 is the same as no explore phase
    off = census(problem, starts=12, seed=1, explore_runs=0)
    assert off.runs == plain.runs and len(off.classes) == len(plain.classes)


def test_symmetric_factorization_rank2_appendix_a_classes():
    problem = symmetric_factorization(n=6, r=2, seed=0)  # Y = X* of rank 2
    expected = symmetric_factorization_critical_points(problem)
    assert len(expected) == 4  # S = {1, 2}, {1}, {2}, ∅
    result = census(problem, starts=60, seed=0)
    assert len(result.classes) == len(expected)
    values, vectors = np.linalg.eigh(problem.objective.y)
    values, vectors = values[::-1], vectors[:, ::-1]
    for e in expected:
        matches = [
            c
            for c in result.classes
            # zero columns along null eigenvectors are quartic directions: located to ε^(1/3)
            if problem.symmetry.distance(c.point, e.point) <= 1e-4 * max(np.linalg.norm(e.point), 1)
        ]
        assert len(matches) == 1, e.selected
        c = matches[0]
        assert c.verdict is e.expected_verdict, (e.selected, c.certificate)
        assert c.index == e.expected_index
        # the O(r) orbit's zero eigenvalues are symmetry, the rest of the zeros are degeneracy
        assert c.symmetry_dimension == e.orbit_dimension
        assert c.certificate.null_dimension == e.expected_null
        assert c.cost == pytest.approx(e.cost, abs=1e-12)
        if e.selected == (0, 1):
            assert c.verdict is ms.Verdict.LOCAL_MINIMIZER and c.distance_to_truth < 1e-10
            continue
        # negative curvature −λ_i toward a neglected leading eigenvector ξ_i (eq. A.6): move a
        # zero column of U (a right null vector w of U) toward ξ_i
        assert c.verdict is not ms.Verdict.LOCAL_MINIMIZER
        u = c.point
        w = np.linalg.svd(u)[2][-1]
        # a zero column in a quartic direction: located to (round-off)^(1/3) ≈ 5e-6
        assert np.linalg.norm(u @ w) < 2e-5
        for i in (0, 1):
            if i in e.selected:
                continue
            direction = np.outer(vectors[:, i], w)
            curvature = np.sum(direction * problem.riemannian_hessian(u, direction))
            assert curvature == pytest.approx(-values[i], abs=1e-6)
    # only the top eigenvectors give minimizers (slogan I)
    assert len(result.minimizers) == 1
    # U = 0 has negative and zero eigenvalues and no positive one: a strict saddle (seed 003 §1)
    # that is not Morse — its zero eigenvalues are counted, not hidden
    assert not result.degenerate
    top = result.classes[-1]
    assert (top.index, top.verdict) == (4, ms.Verdict.STRICT_SADDLE)
    assert top.certificate.null_dimension > 0 and not top.certificate.morse_nondegenerate


def test_phase_retrieval_one_unknown_circle_and_maximizer_at_zero():
    problem = phase_retrieval_one_unknown(seed=0)
    result = census(problem, starts=24, seed=0)
    assert len(result.classes) == 2
    circle, top = result.classes
    assert circle.verdict is ms.Verdict.LOCAL_MINIMIZER
    assert circle.symmetry_dimension == 1  # the phase
    assert circle.distance_to_truth < 1e-10
    assert abs(abs(circle.point[0]) - abs(problem.truth[0])) < 1e-12
    assert circle.copies > 1  # several points of the circle, one class modulo phase
    assert top.verdict is ms.Verdict.LOCAL_MAXIMIZER and top.index == 2
    assert abs(top.point[0]) < 1e-10


# --------------------------------------------------------------------------- behaviour
def test_same_seed_same_census_and_json_shape():
    problem = rayleigh(n=5, seed=1)
    first = census(problem, starts=14, seed=7)
    second = census(problem, starts=14, seed=7)
    untimed = [line for line in first.table().splitlines() if "class(es) of" not in line]
    assert untimed == [line for line in second.table().splitlines() if "class(es) of" not in line]
    a, b = first.to_json(), second.to_json()
    a.pop("time_s"), b.pop("time_s")
    assert a == b
    data = json.loads(json.dumps(first.to_json(), allow_nan=False))
    assert data["starts"] == 14 and data["seed"] == 7
    assert len(data["critical_points"]) == 5
    for item in data["critical_points"]:
        assert {"cost", "index", "verdict", "count", "distance_to_truth"} <= set(item)
        assert {"symmetry_dimension", "gradient_norm"} <= set(item)
    assert (
        sum(item["count"] for item in data["critical_points"]) + data["unconverged"]
        == (data["runs"])
    )
    assert isinstance(first, Census) and isinstance(first.classes[0], CriticalClass)
    assert [c.index for c in first.classes] == sorted(c.index for c in first.classes)


def test_points_that_do_not_converge_are_counted_not_reported():
    # f(x) = exp(x₁) + x₂ on R²: the gradient (exp(x₁), 1) never vanishes
    problem = ms.Problem.from_autograd(Euclidean(2), lambda x: anp.exp(x[0]) + x[1])
    result = census(
        problem,
        starts=4,
        seed=0,
        max_steps=10,
        newton_steps=5,
        solver_options={"max_iterations": 5},
    )
    assert result.classes == ()
    assert result.unconverged == result.runs >= 4
    assert "0 class(es)" in result.table()


def test_census_refuses_bad_input():
    problem = rayleigh(n=4, seed=0)
    with pytest.raises(ValueError, match="starts must be at least 1"):
        census(problem, starts=0)
    with pytest.raises(TypeError, match="problem must be a manifoldscape Problem"):
        census("rayleigh")
    with pytest.raises(ValueError, match="unknown solver 'nope'"):
        census(problem, solver=("nope",))
    with pytest.raises(ValueError, match=r"tolerance must be a number in \(0, 1\)"):
        census(problem, tolerance=2.0)
    with pytest.raises(TypeError, match="unknown option"):
        census(problem, starts=2, solver_options={"bogus": 1})
    with pytest.raises(TypeError, match="explore must be True or False"):
        census(problem, starts=2, explore="yes")
    with pytest.raises(ValueError, match="explore_runs must be a non-negative integer"):
        census(problem, starts=2, explore_runs=-1)
    with pytest.raises(TypeError, match="explore_runs must be a non-negative integer"):
        census(problem, starts=2, explore_runs=2.5)
    with pytest.raises(ValueError, match="nothing to search"):
        census(problem, solver=(), saddle_search=False)


# --------------------------------------------------------------------------- CLI and plot
def test_cli_census_json_and_table(capsys):
    status = main(["census", "rayleigh", "--param", "n=5", "--starts", "14", "--json",
                   "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.err == ""
    data = json.loads(captured.out)
    assert [p["index"] for p in data["critical_points"]] == [0, 1, 2, 3, 4]
    assert data["census_seed"] == 1 and data["parameters"]["n"] == 5
    # the same instance and starts in Python give the same classes
    again = census(ms.make_problem("rayleigh", n=5, seed=0), starts=14, seed=1)
    assert [p["count"] for p in data["critical_points"]] == [c.count for c in again.classes]
    status = main(["census", "rayleigh", "--param", "n=4", "--starts", "8"])
    captured = capsys.readouterr()
    assert status == 0
    assert "local_minimizer" in captured.out and "local_maximizer" in captured.out
    assert "census rayleigh" in captured.err  # the progress bar


def test_cli_census_explore_flags_reach_the_library(capsys):
    base = ["census", "rayleigh", "--param", "n=5", "--starts", "2", "--json", "--no-progress"]
    runs = {}
    for flags in ([], ["--no-explore"], ["--explore-runs", "3"]):
        assert main([*base, *flags]) == 0
        runs[tuple(flags)] = json.loads(capsys.readouterr().out)["explore_runs"]
    expected = census(ms.make_problem("rayleigh", n=5, seed=0), starts=2, seed=1).explore_runs
    assert runs[()] == expected > 0
    assert runs[("--no-explore",)] == 0
    assert runs[("--explore-runs", "3")] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["census", "no-such-problem"], "unknown problem 'no-such-problem'"),
        (["census", "rayleigh", "--starts", "0"], "--starts: expected a positive integer"),
        (["census", "rayleigh", "--solver", "nope"], "unknown solver 'nope'"),
        (["plot", "morse", "rayleigh", "--output", "x.pdf"], "--output must end in .png or .svg"),
    ],
)
def test_cli_census_errors_are_one_line(capsys, argv, message):
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and message in err


@pytest.mark.skipif(not HAS_PLOTS, reason="manifoldscape.landscape.plots is not there yet")
def test_morse_diagram_from_census_and_cli(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = census(rayleigh(n=4, seed=0), starts=8, seed=0)
    figure = result.plot()
    figure = figure if hasattr(figure, "savefig") else figure.figure
    plt.close(figure)
    output = tmp_path / "morse.png"
    status = main(["plot", "morse", "rayleigh", "--param", "n=4", "--starts", "8",
                   "--no-progress", "--output", str(output)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    assert output.stat().st_size > 1000


# --------------------------------------------------------------------------- workers
def test_workers_give_the_same_census_as_one_process():
    problem = rayleigh(n=4, seed=0)
    serial = census(problem, 12, seed=5, workers=1)
    pooled = census(problem, 12, seed=5, workers=2)
    assert serial.runs == pooled.runs and serial.unconverged == pooled.unconverged
    assert serial.explore_runs == pooled.explore_runs > 0
    key = [(c.cost, c.index, c.count, c.copies, c.found_by) for c in serial.classes]
    assert key == [(c.cost, c.index, c.count, c.copies, c.found_by) for c in pooled.classes]
    for a, b in zip(serial.classes, pooled.classes, strict=True):
        np.testing.assert_array_equal(a.point, b.point)


def test_workers_must_be_a_positive_integer():
    problem = rayleigh(n=3, seed=0)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        census(problem, 2, workers=0)
    with pytest.raises(TypeError, match="workers must be an integer"):
        census(problem, 2, workers=1.5)


def test_cli_census_workers_flag_gives_the_same_json(capsys):
    outputs = []
    for workers in ("1", "2"):
        status = main(["census", "rayleigh", "--param", "n=3", "--starts", "6", "--json",
                       "--no-progress", "--no-explore", "--workers", workers])  # fmt: skip
        captured = capsys.readouterr()
        assert status == 0, captured.err
        data = json.loads(captured.out)
        outputs.append([(c["cost"], c["index"], c["count"]) for c in data["critical_points"]])
    assert outputs[0] == outputs[1] and len(outputs[0]) == 3


def test_census_workers_refuse_an_unpicklable_problem_by_name() -> None:
    """A problem whose cost is a lambda cannot go to worker processes: one clear TypeError."""
    from pymanopt.manifolds import Sphere

    a = np.diag([1.0, 2.0, 3.0])
    problem = ms.Problem.from_autograd(Sphere(3), lambda x: x @ a @ x)
    with pytest.raises(TypeError, match="workers=2 needs a picklable problem"):
        ms.census(problem, starts=2, seed=0, workers=2)
