"""Pictures (``manifoldscape.landscape.plots``, ``manifoldscape plot``): files written, data right.

Each test reads the data back from the returned Figure (the mesh's array, scatter offsets, line
data) and compares it with an independent computation: the cost at the grid points, the
Rayleigh quotient's known critical points and Hessian eigenvalues, the solver histories.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from pymanopt.manifolds import Sphere

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.landscape import plots
from manifoldscape.problems import (
    eigenspace,
    phase_retrieval_one_unknown,
    rank1_phase_retrieval,
    rayleigh,
)

matplotlib.use("Agg")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAMBDA = np.array([1.0, 0.3, -1.0])  # A = diag(λ): critical points ±e_i of index i (0-based)


@pytest.fixture
def sphere_problem():
    return rayleigh(np.diag(LAMBDA))


def rayleigh_cost(x: np.ndarray) -> np.ndarray:
    """−xᵀ diag(λ) x for rows x (independent of the library)."""
    x = np.asarray(x, dtype=float)
    return -np.sum(LAMBDA * x * x, axis=-1)


def by_gid(ax, prefix: str) -> dict:
    return {c.get_gid(): c for c in ax.collections if (c.get_gid() or "").startswith(prefix)}


# --------------------------------------------------------------------------- the sphere
def lopsided(x):
    """A cost on S² with no symmetry at all (so a mirrored or shifted grid would show)."""
    return x[..., 0] + 0.5 * x[..., 1] * x[..., 2] + 0.3 * x[..., 2] + x[..., 1] ** 2


def test_sphere_heat_map_is_the_cost_at_the_cell_centres():
    problem = ms.Problem.from_autograd(Sphere(3), lopsided, name="lopsided")
    fig = plots.sphere_landscape(problem, resolution=10)
    ax = fig.axes[0]
    (mesh,) = by_gid(ax, "landscape").values()
    corners = mesh.get_coordinates()  # (rows + 1, columns + 1, 2) in (longitude, latitude)
    assert corners.shape == (11, 21, 2)
    centres = 0.25 * (corners[:-1, :-1] + corners[1:, :-1] + corners[:-1, 1:] + corners[1:, 1:])
    lon, lat = centres[..., 0], centres[..., 1]
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    values = np.asarray(mesh.get_array()).reshape(10, 20)
    np.testing.assert_allclose(values, lopsided(points), rtol=1e-12, atol=1e-14)
    assert [problem.cost(p) for p in points[3, :4]] == pytest.approx(values[3, :4])
    assert fig.axes[1].get_xlabel() == "cost f(x)"  # the colourbar


def test_sphere_marks_each_certified_point_and_its_sign_copy_by_index(sphere_problem):
    fig = plots.sphere_landscape(sphere_problem, resolution=8, critical_points=list(np.eye(3)))
    ax = fig.axes[0]
    marks = by_gid(ax, "critical-index-")
    expected = {0: "local_minimizer", 1: "strict_saddle", 2: "local_maximizer"}
    assert set(marks) == {f"critical-index-{i}-{v}" for i, v in expected.items()}
    for i, verdict in expected.items():
        scatter = marks[f"critical-index-{i}-{verdict}"]
        assert scatter.get_label().startswith(f"index {i}: ")
        lon, lat = np.asarray(scatter.get_offsets(), dtype=float).T
        xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
        # ±e_i (the point on the map's seam is drawn on both edges)
        assert np.allclose(np.abs(xyz[:, i]), 1.0)
        assert {round(float(s)) for s in xyz[:, i]} == {1, -1}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["index 0: minimizer", "index 1: strict saddle", "index 2: maximizer"]


def test_sphere_takes_a_census_as_given_without_recertifying(sphere_problem):
    fake = SimpleNamespace(
        classes=[
            SimpleNamespace(point=np.eye(3)[1], index=7, verdict="degenerate", cost=0, count=3)
        ]
    )
    fig = plots.sphere_landscape(sphere_problem, resolution=6, critical_points=fake)
    (scatter,) = by_gid(fig.axes[0], "critical-index-").values()
    assert scatter.get_gid() == "critical-index-7-degenerate"
    assert scatter.get_label() == "index 7: degenerate"
    lon, lat = np.asarray(scatter.get_offsets(), dtype=float).T
    assert np.allclose(sorted(lon), [-np.pi / 2, np.pi / 2]) and np.allclose(lat, 0.0)


def test_sphere_refuses_other_manifolds():
    with pytest.raises(ValueError, match=r"sphere S² in R³.*Sphere manifold of 4-vectors"):
        plots.sphere_landscape(rayleigh(np.diag([1.0, 2.0, 3.0, 4.0])))
    with pytest.raises(ValueError, match=r"sphere S² in R³.*Grassmann"):
        plots.sphere_landscape(eigenspace(n=3, p=1, seed=0))
    with pytest.raises(ValueError, match="resolution must be an integer ≥ 4"):
        plots.sphere_landscape(rayleigh(np.diag(LAMBDA)), resolution=2)


# --------------------------------------------------------------------------- 2-D slices
def test_slice_default_directions_at_a_saddle_toward_truth_and_negative_curvature(sphere_problem):
    """At e₂: d₁ = ±e₁ (toward x♮ = ±e₁), d₂ = ±e₃ (the only direction left)."""
    radius, n = 1.5, 21
    fig = plots.slice_2d(sphere_problem, np.eye(3)[1], radius=radius, resolution=n)
    ax = fig.axes[0]
    (mesh,) = by_gid(ax, "slice").values()
    values = np.asarray(mesh.get_array()).reshape(n, n)  # rows t₂, columns t₁
    t = np.linspace(-radius, radius, n)
    t1, t2 = np.meshgrid(t, t)
    points = np.stack([t1, np.ones_like(t1), t2], -1)  # e₂ + t₁e₁ + t₂e₃, then normalised
    points /= np.linalg.norm(points, axis=-1, keepdims=True)
    np.testing.assert_allclose(values, rayleigh_cost(points), rtol=1e-10, atol=1e-14)
    assert values[n // 2, n // 2] == pytest.approx(sphere_problem.cost(np.eye(3)[1]), abs=1e-15)
    assert "toward the truth" in ax.get_xlabel() and "curvature" in ax.get_ylabel()


def test_slice_along_given_directions_is_the_cost_at_retracted_points():
    problem = rayleigh(n=5, seed=3)
    rng = np.random.default_rng(0)
    x = ms.geometry.random_point(problem.manifold, rng)
    u, v = (problem.manifold.projection(x, rng.standard_normal(5)) for _ in range(2))
    u /= np.linalg.norm(u)
    v -= (u @ v) * u
    v /= np.linalg.norm(v)
    n, radius = 9, 0.8
    for mapping, mapper in (
        ("retraction", problem.manifold.retraction),
        ("exp", problem.manifold.exp),
    ):
        fig = plots.slice_2d(problem, x, [u, v], radius=radius, resolution=n, mapping=mapping)
        (mesh,) = by_gid(fig.axes[0], "slice").values()
        values = np.asarray(mesh.get_array()).reshape(n, n)
        t = np.linspace(-radius, radius, n)
        expected = [[problem.cost(mapper(x, a * u + b * v)) for a in t] for b in t]
        np.testing.assert_allclose(values, expected, rtol=1e-12)
        assert values[n // 2, n // 2] == pytest.approx(problem.cost(x), rel=1e-14)


def test_slice_marks_the_truth_and_its_sign_copy_on_the_geodesic_slice(sphere_problem):
    fig = plots.slice_2d(sphere_problem, np.eye(3)[1], mapping="exp", resolution=11)
    (star,) = [c for c in fig.axes[0].collections if "ground truth" in c.get_label()]
    np.testing.assert_allclose(
        np.sort(np.asarray(star.get_offsets())[:, 0]), [-np.pi / 2, np.pi / 2], atol=1e-6
    )


def test_slice_refuses_bad_input(sphere_problem):
    x = np.eye(3)[1]
    with pytest.raises(ValueError, match="linearly independent"):
        plots.slice_2d(sphere_problem, x, [np.eye(3)[0], 2 * np.eye(3)[0]])
    with pytest.raises(ValueError, match="mapping must be 'retraction' or 'exp'"):
        plots.slice_2d(sphere_problem, x, mapping="geodesic")
    with pytest.raises(ValueError, match="radius must be a positive number"):
        plots.slice_2d(sphere_problem, x, radius=-1.0)
    with pytest.raises(ValueError, match="point"):
        plots.slice_2d(sphere_problem, np.ones(3))
    fixed_rank = rank1_phase_retrieval(n=4, seed=0)
    with pytest.raises(ValueError, match="no exponential map"):
        plots.slice_2d(fixed_rank, fixed_rank.truth, mapping="exp")


# --------------------------------------------------------------------------- profiles
def test_geodesic_profile_between_a_saddle_and_the_minimizer(sphere_problem):
    x, y = np.eye(3)[1], np.eye(3)[0]
    fig = plots.geodesic_profile(sphere_problem, x, y, samples=11)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "profile"]
    s = np.linspace(0, 1, 11) * np.pi / 2  # the great circle cos(s) e₂ + sin(s) e₁
    np.testing.assert_allclose(line.get_xdata(), s, rtol=1e-12)
    expected = rayleigh_cost(np.outer(np.cos(s), x) + np.outer(np.sin(s), y))
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12, atol=1e-15)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "x: strict saddle (index 1)" in labels and "y: minimizer (index 0)" in labels
    assert "geodesic" in ax.get_title()


def test_profile_falls_back_to_the_retraction_without_a_logarithm():
    problem = eigenspace(n=4, p=2, manifold="stiefel", seed=0)
    rng = np.random.default_rng(1)
    x, y = (ms.geometry.random_point(problem.manifold, rng) for _ in range(2))
    fig = plots.geodesic_profile(problem, x, y, samples=5, certify_ends=False)
    ax = fig.axes[0]
    v = problem.manifold.projection(x, y - x)
    expected = [problem.cost(problem.manifold.retraction(x, t * v)) for t in np.linspace(0, 1, 5)]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected, rtol=1e-12)
    assert "retraction" in ax.get_title() and "ends" in ax.get_title()


# --------------------------------------------------------------------------- spectra
def test_spectrum_shows_the_certificate_eigenvalues_of_a_rayleigh_saddle():
    problem = rayleigh(n=6, spectrum="random", seed=0)
    lam, vectors = problem.objective.eigenvalues, problem.objective.eigenvectors
    fig = plots.hessian_spectrum(problem, vectors[:, 2])
    groups = by_gid(fig.axes[0], "eigenvalues-")
    assert set(groups) == {"eigenvalues-negative", "eigenvalues-positive"}
    shown = np.sort(np.concatenate([np.asarray(c.get_offsets())[:, 1] for c in groups.values()]))
    np.testing.assert_allclose(shown, np.sort(-2 * (np.delete(lam, 2) - lam[2])), rtol=1e-10)
    assert len(groups["eigenvalues-negative"].get_offsets()) == 2  # index 2 = i − 1 for v_3
    assert any("index 2" in t.get_text() for t in fig.axes[0].texts)


def test_spectrum_marks_the_phase_direction_as_symmetry():
    problem = phase_retrieval_one_unknown(m=4, seed=0)
    cert = ms.certify(problem, problem.truth)
    fig = plots.hessian_spectrum(problem, problem.truth, certificate=cert)
    groups = by_gid(fig.axes[0], "eigenvalues-")
    assert set(groups) == {"eigenvalues-symmetry", "eigenvalues-positive"}
    np.testing.assert_allclose(
        np.asarray(groups["eigenvalues-symmetry"].get_offsets())[:, 1], cert.symmetry_eigenvalues
    )
    np.testing.assert_allclose(
        np.asarray(groups["eigenvalues-positive"].get_offsets())[:, 1], cert.eigenvalues
    )


# --------------------------------------------------------------------------- convergence
def test_convergence_lines_are_the_histories():
    problem = rayleigh(n=8, seed=1)
    x0 = ms.geometry.random_point(problem.manifold, 5)
    results = {
        s: ms.solve(problem, solver=s, x0=x0, keep_iterates=True)
        for s in ("gradient-descent", "trust-regions")
    }
    fig = plots.convergence(results, problem=problem)
    gap_ax, grad_ax, dist_ax = fig.axes
    reference = min(min(r.history.cost) for r in results.values())
    reference = min(reference, problem.cost(problem.truth))
    for name, r in results.items():
        (gap,) = [ln for ln in gap_ax.lines if ln.get_gid() == name]
        expected = r.history.cost - reference
        np.testing.assert_array_equal(gap.get_ydata(), np.where(expected > 0, expected, np.nan))
        (grad,) = [ln for ln in grad_ax.lines if ln.get_gid() == name]
        np.testing.assert_array_equal(grad.get_ydata(), r.history.gradient_norm)
        (dist,) = [ln for ln in dist_ax.lines if ln.get_gid() == name]
        expected = [problem.symmetry.distance(p, problem.truth) for p in r.history.iterates]
        np.testing.assert_allclose(dist.get_ydata(), expected, rtol=1e-12)
        assert dist.get_ydata()[-1] < 1e-5  # both reach ±v₁
    assert all(a.get_yscale() == "log" for a in fig.axes)


def test_convergence_without_iterates_says_what_is_missing():
    problem = rayleigh(n=5, seed=1)
    runs = [ms.solve(problem, seed=s, max_iterations=3) for s in (1, 2)]
    fig = plots.convergence(runs, problem=problem)
    assert [ln.get_gid() for ln in fig.axes[0].lines] == ["trust-regions", "trust-regions #2"]
    assert not fig.axes[2].lines and "keep_iterates=True" in fig.axes[2].texts[0].get_text()
    with pytest.raises(TypeError, match="must be a Result"):
        plots.convergence([runs[0], "not a result"])
    with pytest.raises(ValueError, match="results is empty"):
        plots.convergence([])


# --------------------------------------------------------------------------- Morse diagram
def fake_classes():
    rows = [
        (0, -1.0, "local_minimizer", 30),
        (1, -0.3, "strict_saddle", 12),
        (1, -0.2, "degenerate", 1),
        (2, 1.0, "local_maximizer", 4),
    ]
    return [SimpleNamespace(index=i, cost=c, verdict=v, count=n) for i, c, v, n in rows]


def test_morse_offsets_are_index_and_cost_sized_by_count():
    classes = fake_classes()
    fig = plots.morse_diagram(SimpleNamespace(classes=classes, problem="toy"))
    ax = fig.axes[0]
    groups = by_gid(ax, "morse-")
    assert set(groups) == {f"morse-{c.verdict}" for c in classes}
    for c in classes:
        scatter = groups[f"morse-{c.verdict}"]
        np.testing.assert_array_equal(np.asarray(scatter.get_offsets()), [[c.index, c.cost]])
    sizes = {c.count: groups[f"morse-{c.verdict}"].get_sizes()[0] for c in classes}
    assert sizes[1] < sizes[4] < sizes[12] < sizes[30]
    assert "toy" in ax.get_title()
    assert {t.get_text() for t in ax.texts} == {"×30", "×12", "×1", "×4"}


def test_morse_of_a_real_census_of_the_rayleigh_quotient():
    census = pytest.importorskip("manifoldscape.landscape.census")
    problem = rayleigh(n=4, spectrum="linear", seed=0)
    found = census.census(problem, starts=20, seed=0)
    fig = plots.morse_diagram(found)
    offsets = np.concatenate(
        [np.asarray(c.get_offsets()) for c in by_gid(fig.axes[0], "morse-").values()]
    )
    lam = problem.objective.eigenvalues
    expected = sorted((i, -lam[i]) for i in range(4))  # ±v_i: index i − 1, cost −λ_i
    got = sorted((int(i), float(f)) for i, f in offsets)
    assert [g[0] for g in got] == [e[0] for e in expected]
    np.testing.assert_allclose([g[1] for g in got], [e[1] for e in expected], atol=1e-10)


def test_morse_refuses_items_without_cost_index_verdict():
    with pytest.raises(TypeError, match="lacks verdict"):
        plots.morse_diagram([SimpleNamespace(index=0, cost=1.0)])
    with pytest.raises(ValueError, match="unknown verdict 'wobbly'"):
        plots.morse_diagram([SimpleNamespace(index=0, cost=1.0, verdict="wobbly")])


# --------------------------------------------------------------------------- files and CLI
def test_save_figure_writes_png_and_svg_and_refuses_other_suffixes(tmp_path):
    fig = plots.morse_diagram(fake_classes())
    assert plots.save_figure(fig, tmp_path / "m.png").read_bytes()[:8] == PNG_MAGIC
    root = ET.parse(plots.save_figure(fig, tmp_path / "m.svg")).getroot()
    assert root.tag.endswith("svg")
    with pytest.raises(ValueError, match=r"must end in \.png or \.svg"):
        plots.save_figure(fig, tmp_path / "m.pdf")
    with pytest.raises(ValueError, match="does not exist"):
        plots.save_figure(fig, tmp_path / "missing" / "m.png")


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_plot_kinds_write_files(tmp_path, capsys):
    point = tmp_path / "p.npy"
    status, _, err = run(capsys, "solve", "rayleigh", "--param", "n=3", "--save-point", str(point))
    assert status == 0, err
    sphere = tmp_path / "sphere.png"
    status, out, err = run(
        capsys,
        "plot",
        "sphere",
        "rayleigh",
        "--param",
        "n=3",
        "--starts",
        "6",
        "--resolution",
        "12",
        "--point",
        str(point),
        "--output",
        str(sphere),
        "--json",
    )
    assert status == 0, err
    data = json.loads(out)
    assert data["output"] == str(sphere) and sphere.read_bytes()[:8] == PNG_MAGIC
    assert {c["verdict"] for c in data["critical_points"]} <= set(plots.VERDICT_STYLES)
    for kind, extra, name in (
        ("slice", ["--resolution", "9"], "slice.svg"),
        ("spectrum", ["--point", str(point)], "spectrum.png"),
        ("profile", ["--from", str(point), "--to", str(point), "--samples", "5"], "p.svg"),
    ):
        out_path = tmp_path / name
        status, out, err = run(
            capsys, "plot", kind, "rayleigh", "--param", "n=3", *extra, "--output", str(out_path)
        )
        assert status == 0, err
        assert out.strip() == f"wrote {out_path}"
        if name.endswith(".svg"):
            assert ET.parse(out_path).getroot().tag.endswith("svg")
        else:
            assert out_path.read_bytes()[:8] == PNG_MAGIC


def test_cli_plot_convergence_of_two_solvers(tmp_path, capsys):
    out_path = tmp_path / "conv.png"
    status, out, err = run(
        capsys,
        "plot",
        "convergence",
        "rayleigh",
        "--param",
        "n=6",
        "--solver",
        "trust-regions",
        "--solver",
        "gradient-descent",
        "--output",
        str(out_path),
        "--json",
    )
    assert status == 0, err
    data = json.loads(out)
    assert set(data["runs"]) == {"trust-regions", "gradient-descent"}
    assert all(r["verdict"] == "local_minimizer" for r in data["runs"].values())
    assert out_path.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sphere", "rayleigh", "--output", "x.pdf"], "--output must end in .png or .svg"),
        (["sphere", "rayleigh", "--starts", "0", "--output", "x.png"], "sphere S² in R³"),
        (["slice", "rayleigh", "--output", "nowhere/x.png"], "does not exist"),
        (["spectrum", "rayleigh", "--output", "x.png"], "--point"),
        (["convergence", "rayleigh", "--solver", "nope", "--output", "x.png"], "nope"),
        (["slice", "rayleigh", "--radius", "-1", "--output", "x.png"], "positive number"),
    ],
)
def test_cli_plot_refuses_bad_input_on_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "plot", *argv)
    assert status == 2 and out == ""
    assert err.startswith("manifoldscape: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
