"""Counting honestly: orbit sizes, completeness, basin sizes, barriers and their pictures.

Orbit sizes are checked against brute-force enumeration of the group; the barrier computation
against a hand-built graph whose minimax paths are known; basin sizes and Wilson intervals
against their definitions.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.core.certificate import Verdict
from manifoldscape.core.symmetry import (
    Identity,
    OrthogonalRight,
    Phase,
    ProductGroup,
    Sign,
    SignedPermutation,
    SignedShift,
)
from manifoldscape.landscape.barriers import merge_tree
from manifoldscape.landscape.basins import wilson_interval
from manifoldscape.landscape.graph import CascadeGraph, Edge, Node
from manifoldscape.landscape.orbits import completeness, orbit_size
from manifoldscape.problems import rayleigh, tensor_decomposition


# --------------------------------------------------------------------------- orbit sizes
def _brute_force_sp(x: np.ndarray) -> int:
    n = x.size
    images = set()
    for perm in itertools.permutations(range(n)):
        for signs in itertools.product((1.0, -1.0), repeat=n):
            images.add(tuple(np.round(np.array(signs) * x[list(perm)], 9) + 0.0))
    return len(images)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, -0.5, 1.0, 2.0, -2.0]), min_size=1, max_size=4))
def test_signed_permutation_orbit_size_matches_enumeration(values):
    # repeated magnitudes, opposite signs and zeros: the cases where the stabiliser is not trivial
    x = np.array(values)
    assert orbit_size(SignedPermutation(x.size), x) == _brute_force_sp(x)


def test_orbit_sizes_of_other_groups(rng):
    x = rng.standard_normal(4)
    assert orbit_size(Identity(), x) == 1
    assert orbit_size(Sign(), x) == 2 and orbit_size(Sign(), np.zeros(4)) == 1
    assert orbit_size(SignedShift(4), np.array([1.0, 0.0, 1.0, 0.0])) == 4
    assert orbit_size(SignedShift(4), x) == 8
    assert orbit_size(SignedShift(4), np.array([1.0, -1.0, 1.0, -1.0])) == 2
    assert orbit_size(ProductGroup([Sign(), Sign()]), [x, x]) == 4
    assert orbit_size(Phase(), x + 1j * x) is None
    assert orbit_size(OrthogonalRight(2), rng.standard_normal((3, 2))) is None
    # signed permutations of the columns of a matrix: equal columns up to sign count once
    m = np.array([[1.0, -1.0, 0.0], [2.0, -2.0, 0.0]])
    assert orbit_size(SignedPermutation(3, axis=-1), m) == 3 * 2**2
    with pytest.raises(TypeError, match="group must be a SymmetryGroup"):
        orbit_size("sign", x)


def test_l4_census_on_s4_stands_for_242_points():
    problem = tensor_decomposition(n=5, manifold="sphere", seed=0)
    result = ms.census(problem, starts=60, seed=0)
    sizes = sorted(c.orbit_size for c in result.classes)
    assert sizes == sorted(math.comb(5, k) * 2**k for k in range(1, 6))
    assert result.points == 242
    assert "they stand for 242 critical points" in result.table()
    assert json.loads(json.dumps(result.to_json()))["critical_point_count"] == 242


# --------------------------------------------------------------------------- completeness
def test_completeness_statistics():
    c = completeness([5, 1, 2, 1, 0], [0, 3, 1, 99, 10], runs=100)
    assert (c.singletons, c.doubletons) == (2, 1)
    assert c.new_probability == pytest.approx(0.02)
    assert c.estimated_classes == pytest.approx(4 + 2**2 / 2)  # Chao1
    assert c.late_discoveries == 1  # the class first found at run 99 of 100
    assert not c.looks_complete
    saturated = completeness([30, 40, 30], [0, 1, 2], runs=100)
    assert saturated.looks_complete and saturated.estimated_classes == 3


def test_census_reports_an_exhausted_exploration_budget():
    problem = tensor_decomposition(n=5, manifold="sphere", seed=0)
    short = ms.census(problem, starts=6, seed=0, explore_runs=3)
    assert short.completeness.explore_exhausted and short.completeness.unexplored >= 1
    assert "exploration budget exhausted" in short.table()
    assert short.to_json()["completeness"]["explore_exhausted"] is True
    # the default budget, max(starts, 8 · 4) = 32 runs, is less than the 5 · 8 displaced runs
    # the five classes ask for: said, not hidden
    default = ms.census(problem, starts=6, seed=0)
    assert default.completeness.explore_exhausted
    full = ms.census(problem, starts=6, seed=0, explore_runs=200)
    assert not full.completeness.explore_exhausted and full.explore_runs == 40
    assert "exploration budget exhausted" not in full.table()


# --------------------------------------------------------------------------- basins
def test_wilson_interval():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson_interval(120, 1000)
    assert low < 0.12 < high and high - low < 0.05


def test_basins_rayleigh_all_starts_reach_the_minimizer():
    problem = rayleigh(n=5, seed=0)
    result = ms.census(problem, starts=10, seed=0)
    basins = result.basins(solver="trust-regions", starts=20, seed=1)
    assert basins.share(1).count == 20 and basins.share(1).fraction == 1.0
    assert basins.share(1).low == pytest.approx(wilson_interval(20, 20)[0])
    assert all(s.count == 0 for s in basins.shares[1:])
    assert basins.unmatched == basins.not_converged == 0 and basins.spurious == 0.0
    data = json.loads(json.dumps(basins.to_json()))
    assert data["starts"] == 20 and data["shares"][0]["fraction"] == 1.0
    assert "20 starts of trust-regions" in basins.table()
    again = result.basins(solver="trust-regions", starts=20, seed=1)
    assert [s.count for s in again.shares] == [s.count for s in basins.shares]
    with pytest.raises(ValueError, match="unknown solver"):
        result.basins(solver="nope")
    with pytest.raises(ValueError, match="starts must be at least 1"):
        result.basins(starts=0)


# --------------------------------------------------------------------------- barriers
def _node(k, cost, index):
    verdict = Verdict.STRICT_SADDLE if index else Verdict.LOCAL_MINIMIZER
    return Node(k, cost, index, verdict, 1, 1, "census", None, None)


def _graph(nodes, edges):
    made = [_node(k, cost, index) for k, (cost, index) in enumerate(nodes, 1)]
    links = [Edge(s, t, nodes[s - 1][0] - nodes[t - 1][0], 1, 0, 1, ("x",)) for s, t in edges]
    return CascadeGraph("hand-built", tuple(made), tuple(links), (), 0.0, 1e-3, 1.0)


def test_barriers_are_minimax_levels_on_the_graph():
    # minima A(0), B(0.5), C(1); saddles S1 (2) A–B, S2 (1.5) B–C, S3 (3) A–C; D (0.2) alone
    graph = _graph(
        [(0.0, 0), (0.5, 0), (1.0, 0), (2.0, 1), (1.5, 1), (3.0, 1), (0.2, 0)],
        [(4, 1), (4, 2), (5, 2), (5, 3), (6, 1), (6, 3)],
    )
    found = {(b.a, b.b): b for b in graph.barriers()}
    assert found[(1, 2)].level == 2.0 and found[(1, 2)].saddle == 4
    assert found[(2, 3)].level == 1.5 and found[(2, 3)].saddle == 5
    assert found[(1, 3)].level == 2.0  # through S2 then S1, not over S3
    assert found[(1, 3)].height_a == 2.0 and found[(1, 3)].height_b == 1.0
    assert found[(1, 7)].level is None  # no path to D
    roots = merge_tree(graph)
    assert len(roots) == 2
    top = next(r for r in roots if not r.is_leaf)
    assert top.level == 2.0 and top.saddle == 4 and sorted(top.minima) == [1, 2, 3]
    inner = next(c for c in top.children if not c.is_leaf)
    assert inner.level == 1.5 and sorted(inner.minima) == [2, 3]


def test_cli_census_connect_and_pictures(tmp_path, capsys):
    base = ["census", "rayleigh", "--param", "n=4", "--starts", "8", "--no-progress"]
    assert main([*base, "--connect", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["graph"]["edges"]) == 6 and data["barriers"][0]["saddle"] == 2
    assert main([*base, "--connect"]) == 0
    out = capsys.readouterr().out
    assert "6 edge(s) between 4 class(es)" in out and "#1 ↔ #1 copies" in out
    for kind in ("cascade", "disconnectivity"):
        output = tmp_path / f"{kind}.png"
        argv = ["plot", kind, "rayleigh", "--param", "n=4", "--starts", "8", "--no-progress",
                "--output", str(output)]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr().err
        assert output.stat().st_size > 1000
