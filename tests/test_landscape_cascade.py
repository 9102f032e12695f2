"""The cascade graph on landscapes whose flow connections are known in closed form.

* Rayleigh quotient f(x) = −xᵀAx on S^{n−1} (seed 001), eigenvalues λ₁ > … > λ_n: the critical
  points ±v_i have index i − 1, and the flow ẋ = 2(A − xᵀAx)x keeps span{v_i, v_j}: leaving v_i
  along ±v_j (j < i) reaches ±v_j, a cost drop of λ_j − λ_i; a generic direction reaches ±v₁.
* −Σ_k ⟨a_k, x⟩⁴ on S^{n−1} (seed 003 eq. 3.17, orthonormal a_k): the critical points are the
  balanced points k^{−1/2} Σ_{i∈I} ±a_i of index |I| − 1 and cost −1/|I|.  In the coordinates
  q = Aᵀx the flow is q̇_i = 4 q_i (q_i² − Σ q⁴): signs and zeros are kept and
  d/dt log(q_i/q_j) = 4(q_i² − q_j²), so the order of the |q_i| is kept and the largest ones win:
  from I the flow reaches every J ⊂ I (the |J| coordinates that were largest and equal), the
  class with one fewer active coordinate along a direction that keeps |I| − 1 of them equal —
  the graded edges, one index down — and the minimizers ±a_i along a generic direction.
* ¼‖Y − UUᵀ‖² with Y = diag(3/4, 1/2), U ∈ R^{2×2} (seed 003 Fig. 8, Appendix A): classes
  S = {1, 2} (cost 0), {1} (1/16), {2} (9/64), ∅ (13/64), and the flow from S reaches every
  S' ⊋ S… read top down: ∅ → {1}, {2}, {1, 2}; {2} → {1} (rotating the column) and {1, 2};
  {1} → {1, 2}.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.landscape.cascade import cascade_graph
from manifoldscape.landscape.flow import FlatTangent, gradient_flow
from manifoldscape.problems import rayleigh, symmetric_factorization, tensor_decomposition


def _eigenvector_index(problem, x):
    overlaps = np.abs(problem.objective.eigenvectors.T @ x)
    i = int(np.argmax(overlaps))
    assert overlaps[i] == pytest.approx(1.0, abs=1e-10)
    return i


@pytest.fixture(scope="module", params=[5, 10])
def rayleigh_census(request):
    n = request.param
    problem = rayleigh(n=n, seed=0)
    result = ms.census(problem, starts=2 * n, seed=0, connect=True)
    assert len(result.classes) == n
    return problem, result


# --------------------------------------------------------------------------- Rayleigh
def test_rayleigh_graph_is_exactly_every_pair_downward(rayleigh_census):
    problem, result = rayleigh_census
    n = len(result.classes)
    lam = problem.objective.eigenvalues
    which = {k: _eigenvector_index(problem, c.point) for k, c in enumerate(result.classes, 1)}
    graph = result.graph
    edges = {(which[e.source], which[e.target]) for e in graph.edges}
    assert edges == {(i, j) for i in range(n) for j in range(i)}
    assert graph.unresolved == 0 and graph.graded
    for e in graph.edges:
        i, j = which[e.source], which[e.target]
        # cost −xᵀAx: the drop from v_i to v_j is λ_j − λ_i
        assert e.cost_drop == pytest.approx(lam[j] - lam[i], abs=1e-8)
        assert e.copies == 2  # both +v_j and −v_j
    # leaving v_i along ±v_j reaches ±v_j: the m-th unstable eigenvector of Hess f(v_i) is v_m
    for d in graph.departures:
        if d.label.startswith("eigenvector"):
            m = int(d.label.split()[1]) - 1
            assert which[d.target] == m, d
            if graph.node(d.source).index >= 2:  # other unstable directions to hold at zero
                assert d.constrained and d.defect <= 1e-12
            assert _eigenvector_index(problem, d.end) == m


def test_rayleigh_only_index_one_class_joins_the_two_minimizers(rayleigh_census):
    problem, result = rayleigh_census
    lam = problem.objective.eigenvalues
    graph = result.graph
    index_one = [n for n in graph.nodes if n.index == 1]
    assert len(index_one) == 1
    saddle = index_one[0]
    assert _eigenvector_index(problem, saddle.point) == 1
    minimum = next(n for n in graph.nodes if n.index == 0)
    ends = [d.end for d in graph.departures if d.source == saddle.number]
    assert any(np.allclose(e, minimum.point, atol=1e-8) for e in ends)
    assert any(np.allclose(e, -minimum.point, atol=1e-8) for e in ends)
    (copies,) = [b for b in result.barriers() if b.a == b.b]
    assert copies.saddle == saddle.number
    assert copies.height_a == pytest.approx(lam[0] - lam[1], abs=1e-10)


def test_rayleigh_cascade_is_dispersive_to_round_off(rayleigh_census):
    _, result = rayleigh_census
    graph = result.graph
    measured = [e for e in graph.edges if e.dispersion is not None]
    n = len(result.classes)
    assert len(measured) == (n - 1) * (n - 2) // 2  # every edge between saddles
    assert graph.dispersive
    assert graph.dispersion <= 1e-6


# --------------------------------------------------------------------------- −Σ q⁴
def _support(problem, x):
    q = problem.objective.components.T @ x
    return frozenset(int(i) for i in np.flatnonzero(np.abs(q) > 1e-3))


@pytest.mark.parametrize("n", [3, 4, 5])
def test_l4_sphere_cascade_graded_barrier_and_dispersive(n):
    problem = tensor_decomposition(n=n, manifold="sphere", seed=0)
    result = ms.census(problem, starts=40, seed=0, connect=True)
    graph = result.graph
    active = {node.number: len(_support(problem, node.point)) for node in graph.nodes}
    assert sorted(active.values()) == list(range(1, n + 1))
    for node in graph.nodes:
        k = active[node.number]
        assert node.cost == pytest.approx(-1.0 / k, abs=1e-12)
        assert node.index == k - 1
        assert node.orbit_size == math.comb(n, k) * 2**k
    assert result.points == 3**n - 1  # 242 on S⁴
    assert graph.graded and graph.unresolved == 0
    for node in graph.nodes:
        k = active[node.number]
        targets = graph.successors(node.number)
        # one index down: exactly the class with one fewer active coordinate
        assert [t for t in targets if active[t] == k - 1] == (
            [next(m for m, a in active.items() if a == k - 1)] if k > 1 else []
        )
        # and every flow line stays in the coordinates it started with
        for d in graph.departures:
            if d.source == node.number:
                assert _support(problem, d.end) < _support(problem, node.point)
        assert {active[t] for t in targets} == set(range(1, k))
    for e in graph.edges:
        assert e.cost_drop == pytest.approx(1.0 / active[e.target] - 1.0 / active[e.source])
        if active[e.target] > 1:
            assert e.dispersive and e.dispersion <= 1e-6
    (barrier,) = result.barriers()  # one minima class: the barrier between its copies
    assert barrier.level == pytest.approx(-0.5, abs=1e-12)
    assert barrier.height_a == pytest.approx(-1 / 2 - (-1 / 1), abs=1e-12)
    assert active[barrier.saddle] == 2


# --------------------------------------------------------------------------- seed 003 Fig. 8
def test_rank2_factorization_fig8_four_classes_and_exact_drops():
    problem = symmetric_factorization(np.diag([0.75, 0.5]), r=2)
    result = ms.census(problem, starts=40, seed=0, connect=True)
    cost = {(0, 1): 0.0, (0,): 1 / 16, (1,): 9 / 64, (): 13 / 64}  # ¼ Σ_{i∉S} λ_i²
    which = {}
    for k, c in enumerate(result.classes, 1):
        (name,) = [s for s, v in cost.items() if abs(v - c.cost) < 1e-10]
        which[k] = name
    assert sorted(which.values()) == sorted(cost)
    graph = result.graph
    edges = {(which[e.source], which[e.target]) for e in graph.edges}
    assert edges == {
        ((), (0,)),
        ((), (1,)),
        ((), (0, 1)),
        ((1,), (0,)),
        ((1,), (0, 1)),
        ((0,), (0, 1)),
    }
    for e in graph.edges:
        assert e.cost_drop == pytest.approx(
            cost[which[e.source]] - cost[which[e.target]], abs=1e-12
        )
    assert graph.graded and graph.dispersive
    # O(2) is continuous: no orbit sizes, no barrier between copies
    assert result.points is None
    assert all(b.level is None for b in result.barriers())


# --------------------------------------------------------------------------- the integrator
@pytest.mark.parametrize(
    ("method", "rtol"),
    [("dormand-prince", 1e-4), ("dormand-prince", 1e-7), ("bogacki-shampine", 1e-5)],
)
def test_flow_follows_the_closed_form_rayleigh_flow(rng, method, rtol):
    # ẋ = −grad f = 2(A − xᵀAx)x on the sphere: x(t) = e^{2At}x₀ / ‖e^{2At}x₀‖
    problem = rayleigh(n=6, seed=1)
    a = problem.objective.a
    lam, v = np.linalg.eigh(a)
    x0 = rng.standard_normal(6)
    x0 /= np.linalg.norm(x0)
    line = gradient_flow(problem, x0, stop_gradient=0.0, length=1.0, rtol=rtol, until=3.0,
                         method=method)  # fmt: skip
    assert line.status == "time" and line.time == pytest.approx(3.0, abs=1e-12)
    exact = v @ (np.exp(2 * lam * 3.0) * (v.T @ x0))
    exact /= np.linalg.norm(exact)
    # the local error is rtol × the step; over this path the global error is ≈ 0.06 rtol
    assert np.linalg.norm(line.end - exact) < 0.2 * rtol
    assert line.cost_end < line.cost_start
    stopped = gradient_flow(problem, x0, stop_gradient=1e-3, length=1.0, method=method)
    assert stopped.converged and problem.gradient_norm(stopped.end) <= 1e-3
    with pytest.raises(ValueError, match="method must be one of"):
        gradient_flow(problem, x0, stop_gradient=1e-3, length=1.0, method="euler")


def test_constraint_is_kept_only_while_the_gradient_respects_it():
    problem = rayleigh(n=6, seed=1)
    v = problem.objective.eigenvectors
    flat = FlatTangent(problem, v[:, 5], np.random.default_rng(0))
    assert flat.exact
    start = v[:, 5] + 1e-2 * v[:, 3]
    start /= np.linalg.norm(start)
    scale = 4.0
    # span{v₆, v₄} is invariant: removing v₁, v₂, v₃, v₅ changes nothing but round-off
    kept = gradient_flow(
        problem,
        start,
        stop_gradient=1e-9,
        length=1.0,
        constraint=[v[:, [0, 1, 2, 4]]],
        flat=flat,
        defect_tolerance=1e-10 * scale,
    )
    assert kept.constrained and kept.defect <= 1e-13
    assert abs(v[:, 3] @ kept.end) == pytest.approx(1.0, abs=1e-12)
    # a direction the gradient does not respect is dropped and the flow goes on unconstrained
    mixed = (v[:, 0] + v[:, 3]) / np.sqrt(2)
    other = np.linalg.qr(np.stack([mixed, v[:, 1]], axis=1))[0]
    dropped = gradient_flow(
        problem,
        start,
        stop_gradient=1e-9,
        length=1.0,
        constraint=[other],
        flat=flat,
        defect_tolerance=1e-10 * scale,
    )
    assert not dropped.constrained
    assert abs(v[:, 0] @ dropped.end) == pytest.approx(1.0, abs=1e-8)


# --------------------------------------------------------------------------- output, input
def test_graph_json_table_and_pictures():
    import matplotlib

    matplotlib.use("Agg")
    problem = rayleigh(n=4, seed=0)
    result = ms.census(problem, starts=8, seed=0)
    assert "graph" not in json.loads(json.dumps(result.to_json()))  # computed on demand only
    assert result.graph is result.graph  # computed once, then kept
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    n = len(result.classes)
    assert len(data["graph"]["edges"]) == n * (n - 1) // 2
    assert {"source", "target", "cost_drop", "count", "dispersion", "dispersive"} <= set(
        data["graph"]["edges"][0]
    )
    assert data["graph"]["dispersive"] is True and data["graph"]["graded"] is True
    assert data["barriers"][0]["saddle"] == 2
    assert data["critical_point_count"] == 2 * n
    text = result.graph.table()
    assert f"{n * (n - 1) // 2} edge(s) between {n} class(es)" in text
    for figure in (result.graph.plot(), result.disconnectivity()):
        assert figure.axes and len(figure.axes[0].lines + figure.axes[0].texts) > 0


def test_cascade_refuses_bad_input():
    problem = rayleigh(n=4, seed=0)
    result = ms.census(problem, starts=4, seed=0)
    with pytest.raises(TypeError, match="census must be a Census"):
        cascade_graph(problem, "census")
    with pytest.raises(ValueError, match="census is of problem 'rayleigh'"):
        cascade_graph(tensor_decomposition(n=3, manifold="sphere", seed=0), result)
    with pytest.raises(ValueError, match=r"displacement must be a number in \(0, 1\)"):
        cascade_graph(problem, result, displacement=2.0)
    with pytest.raises(ValueError, match="random_directions must be a non-negative integer"):
        cascade_graph(problem, result, random_directions=-1)
    with pytest.raises(TypeError, match="connect must be True or False"):
        ms.census(problem, starts=2, connect="yes")
