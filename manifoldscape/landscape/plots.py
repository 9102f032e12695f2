"""Pictures of a landscape: the cost on S², 2-D slices, profiles, spectra, convergence, Morse.

Every function returns a ``matplotlib.figure.Figure`` and takes an optional ``ax`` to draw into
(``convergence`` takes three); without one it makes its own ``Figure`` — never pyplot's global
state, so the functions work under any backend, in threads and in notebooks (a ``Figure`` shows
itself in Jupyter).  ``save_figure`` writes PNG or SVG.  matplotlib is imported lazily.

The pictures follow the seeds:

* ``sphere_landscape`` — the cost on S² as an equal-area (Mollweide) heat map with the critical
  points marked by index, as seed 003 Fig. 9 (dictionary learning with one-sparse data, minimizers
  ±e_i) and seed 001 ("A classical example: the Rayleigh quotient", critical points ±v_i of index
  i − 1);
* ``slice_2d`` — the cost on a 2-D slice through a point along two tangent directions, mapped to
  the manifold by the retraction (seed 002, "Simulation results": "x-axis and y-axis as two
  orthogonal directions from the critical point to the ground truth"; seed 003 Fig. 7 middle, a
  slice through the truth and an orthogonal direction);
* ``geodesic_profile`` — the cost along the geodesic between two points (seed 003 Appendix B: the
  paths between critical points);
* ``hessian_spectrum`` — the Riemannian Hessian eigenvalues with the symmetry directions apart
  (seed 003 §2: "negative curvature in directions that break symmetry", zero curvature along the
  orbit);
* ``convergence`` — cost gap, gradient norm and distance to the truth per iteration (seed 002,
  "the evolution of the objective function and the error ... during the iterations");
* ``morse_diagram`` — critical points by cost against index, sized by how often a census found
  them and coloured by verdict (seed 003 Fig. 6, 7 and 8, right panels).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.certificate import Certificate, certify
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import Result
from manifoldscape.geometry import (
    batch_item,
    point_norm,
    point_shape,
    tangent_basis,
    zero_tangent_vector,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

__all__ = [
    "VERDICT_STYLES",
    "convergence",
    "geodesic_profile",
    "hessian_spectrum",
    "morse_diagram",
    "save_figure",
    "slice_2d",
    "sphere_landscape",
]

#: colour, marker and legend text of each verdict (minimizers red and maximizers green as in
#: seed 003 Fig. 6), shared by every picture
VERDICT_STYLES: dict[str, dict[str, str]] = {
    "local_minimizer": {"color": "#d62728", "marker": "o", "label": "minimizer"},
    "strict_saddle": {"color": "#ff9f1c", "marker": "s", "label": "strict saddle"},
    "local_maximizer": {"color": "#2ca02c", "marker": "^", "label": "maximizer"},
    "degenerate": {"color": "#9467bd", "marker": "D", "label": "degenerate"},
    "not_critical": {"color": "#7f7f7f", "marker": "X", "label": "not critical"},
}
_VERDICT_ORDER = list(VERDICT_STYLES)
_SUFFIXES = (".png", ".svg")
_DENSE_LIMIT = 2000
_TRUTH_LABEL = r"ground truth $x^\star$"


# --------------------------------------------------------------------------- helpers
def _figure_and_axes(
    ax: Axes | None, figsize: tuple[float, float], projection: str | None = None
) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new constrained-layout Figure with one axes."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax.get_figure(root=True), ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot(projection=projection)


def _require_problem(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a manifoldscape Problem, got {type(problem).__name__}")
    return problem


def _require_count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _verdict_name(verdict: Any) -> str:
    """'local_minimizer' for ``Verdict.LOCAL_MINIMIZER`` or the string itself."""
    name = str(getattr(verdict, "value", verdict))
    if name not in VERDICT_STYLES:
        valid = ", ".join(VERDICT_STYLES)
        raise ValueError(f"unknown verdict {verdict!r}; expected one of {valid}")
    return name


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` (PNG or SVG, chosen by the suffix) and return the path."""
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"path must end in .png or .svg, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"directory {str(path.parent)!r} of {str(path)!r} does not exist")
    figure.savefig(path, dpi=dpi)
    return path


@dataclass(frozen=True)
class _Marked:
    """A critical point to draw: where, its index and verdict, how often it was found."""

    point: Any
    index: int
    verdict: str
    cost: float
    count: int = 1


def _as_marked(problem: Problem, items: Any) -> list[_Marked]:
    """Census (``.classes``), class-like items (``.point``, ``.index`` …) or bare points."""
    if items is None:
        return []
    if hasattr(items, "classes"):
        items = items.classes
    if isinstance(items, np.ndarray) and items.ndim == 1:
        items = [items]
    out = []
    for item in items:
        if hasattr(item, "point") and hasattr(item, "index"):
            out.append(
                _Marked(
                    item.point,
                    int(item.index),
                    _verdict_name(item.verdict),
                    float(item.cost),
                    int(getattr(item, "count", 1)),
                )
            )
        else:
            x = problem.check_point(item, "critical_points item")
            cert = certify(problem, x)
            out.append(_Marked(x, cert.index, cert.verdict.value, cert.cost))
    return out


def _symmetric_copies(problem: Problem, x: np.ndarray) -> list[np.ndarray]:
    """The point x and its images under a small finite symmetry group (S² pictures only).

    ``Sign``: ±x.  A group with ``act(x, permutation, signs)`` and ``n ≤ 4`` (the signed
    permutations SP(n)): all 2ⁿ n! images.  Other groups: x alone.
    """
    from itertools import permutations, product

    from manifoldscape.core.symmetry import Sign

    group = problem.symmetry
    images = [np.asarray(x, dtype=float)]
    if isinstance(group, Sign):
        images.append(-images[0])
    elif callable(getattr(group, "act", None)) and 0 < int(getattr(group, "n", 0)) <= 4:
        n = int(group.n)
        for perm in permutations(range(n)):
            for signs in product((1.0, -1.0), repeat=n):
                images.append(np.asarray(group.act(x, perm, signs), dtype=float))
    unique: list[np.ndarray] = []
    for image in images:
        if all(np.linalg.norm(image - other) > 1e-8 for other in unique):
            unique.append(image)
    return unique


def _orbit_coordinates(problem: Problem, x: Any, basis: Any) -> np.ndarray:
    """Orthonormal coordinates (d × k) of the symmetry orbit's tangent directions at x."""
    vectors = problem.symmetry.orbit_tangent_vectors(x)
    if not vectors:
        return np.zeros((basis.dim, 0))
    columns = [basis.to_coordinates(problem.manifold.projection(x, v)) for v in vectors]
    u, sigma, _ = np.linalg.svd(np.stack(columns, axis=1), full_matrices=False)
    return u[:, sigma > 1e-8 * max(point_norm(x), 1.0)]


def _difference(a: Any, b: Any) -> Any:
    if isinstance(a, (list, tuple)):
        return [np.asarray(p) - np.asarray(q) for p, q in zip(a, b, strict=True)]
    return np.asarray(a) - np.asarray(b)


def _legend_handle(verdict: str, label: str | None = None, size: float = 8.0) -> Any:
    from matplotlib.lines import Line2D

    style = VERDICT_STYLES[verdict]
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=style["marker"],
        markerfacecolor=style["color"],
        markeredgecolor="black",
        markersize=size,
        label=label or style["label"],
    )


# --------------------------------------------------------------------------- the sphere
def _sphere_grid(resolution: int) -> tuple[np.ndarray, ...]:
    """Cell edges and centres of a longitude–latitude grid (radians) and the centres on S²."""
    lat_edges = np.linspace(-np.pi / 2, np.pi / 2, resolution + 1)
    lon_edges = np.linspace(-np.pi, np.pi, 2 * resolution + 1)
    lat = 0.5 * (lat_edges[1:] + lat_edges[:-1])
    lon = 0.5 * (lon_edges[1:] + lon_edges[:-1])
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    points = sphere_point(lon_grid, lat_grid)
    return lon_edges, lat_edges, points


def _costs(problem: Problem, points: np.ndarray) -> np.ndarray:
    """The cost at each row of ``points`` (the objective itself, no point cache)."""
    objective = problem.objective
    return np.array([objective.cost(p, objective.prepare(p)) for p in points], dtype=float)


def _seam_copies(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points on the map's seam (longitude ±π) drawn on both edges."""
    out = list(coords)
    for lon, lat in coords:
        if abs(abs(lon) - np.pi) < 1e-9 and abs(lat) < np.pi / 2 - 1e-9:
            out.append((-lon, lat))
    return out


def sphere_point(longitude: Any, latitude: Any) -> np.ndarray:
    """The point (cos φ cos λ, cos φ sin λ, sin φ) of S² at longitude λ and latitude φ (radians)."""
    lon, lat = np.asarray(longitude, dtype=float), np.asarray(latitude, dtype=float)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def sphere_coordinates(point: Any) -> tuple[float, float]:
    """(longitude, latitude) in radians of a point of S² (inverse of ``sphere_point``)."""
    x = np.asarray(point, dtype=float) / np.linalg.norm(point)
    return float(np.arctan2(x[1], x[0])), float(np.arcsin(np.clip(x[2], -1.0, 1.0)))


def sphere_landscape(
    problem: Problem,
    *,
    resolution: int = 90,
    critical_points: Any = None,
    symmetric_copies: bool = True,
    show_truth: bool = True,
    cmap: str = "viridis",
    ax: Axes | None = None,
) -> Figure:
    """The cost of a problem on S² as an equal-area heat map, critical points marked by index.

    The sphere is drawn in the Mollweide projection (equal area: a region's share of the picture
    is its share of the sphere) over a longitude–latitude grid of ``resolution`` × 2·``resolution``
    cells; each cell shows f at its centre (``sphere_point(λ, φ)``).  ``critical_points`` may be
    a census (an object with ``.classes``), items with ``.point``, ``.index``, ``.verdict``,
    ``.cost`` (and ``.count``), or bare points, which are certified here.  Each point is marked
    with the colour and marker of its verdict, in a legend entry per index ("index k:
    minimizer"); with ``symmetric_copies`` its images under a small finite symmetry group (±x for
    ``Sign``, all signed permutations for SP(3)) are marked too, so the picture shows every
    critical point, not one per class.  The ground truth x♮ (if any) is a gold star.

    This is seed 003 Fig. 9 (dictionary learning with one-sparse data: the minimizers are ±e_i) and
    the Rayleigh quotient picture of seed 001 (±v_i of index i − 1).  Refuses problems not on the
    sphere S² ⊂ R³ (pymanopt ``Sphere(3)``).  Pass ``ax`` to draw into an existing axes
    (preferably one made with ``projection="mollweide"``; a plain axes gives a longitude–latitude
    map).
    """
    from pymanopt.manifolds import Sphere

    _require_problem(problem)
    if not isinstance(problem.manifold, Sphere) or point_shape(problem.manifold) != (3,):
        raise ValueError(
            "sphere_landscape draws problems on the sphere S² in R³ (pymanopt Sphere(3)); "
            f"problem {problem.name!r} lives on {problem.manifold}"
        )
    resolution = _require_count(resolution, "resolution", 4)
    marked = _as_marked(problem, critical_points)
    lon_edges, lat_edges, points = _sphere_grid(resolution)
    values = _costs(problem, points.reshape(-1, 3)).reshape(points.shape[:2])

    fig, ax = _figure_and_axes(ax, (9.0, 5.6), projection="mollweide")
    mesh = ax.pcolormesh(lon_edges, lat_edges, values, cmap=cmap, shading="flat", rasterized=True)
    mesh.set_gid("landscape")
    fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.6, pad=0.08, label="cost f(x)")
    ax.contour(
        0.5 * (lon_edges[1:] + lon_edges[:-1]),
        0.5 * (lat_edges[1:] + lat_edges[:-1]),
        values,
        levels=10,
        colors="white",
        linewidths=0.4,
        linestyles="solid",
        alpha=0.5,
    )
    ax.grid(True, color="white", alpha=0.25, linewidth=0.5)
    ax.tick_params(axis="x", colors="white", labelsize=7)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("latitude")

    handles = []
    groups: dict[tuple[int, str], list[_Marked]] = {}
    for item in marked:
        groups.setdefault((item.index, item.verdict), []).append(item)
    for (index, verdict), items in sorted(groups.items()):
        coords = []
        for item in items:
            copies = _symmetric_copies(problem, item.point) if symmetric_copies else [item.point]
            coords += _seam_copies([sphere_coordinates(c) for c in copies])
        style = VERDICT_STYLES[verdict]
        label = f"index {index}: {style['label']}"
        scatter = ax.scatter(
            [c[0] for c in coords],
            [c[1] for c in coords],
            s=90,
            c=style["color"],
            marker=style["marker"],
            edgecolors="black",
            linewidths=1.0,
            zorder=4,
            clip_on=False,
            label=label,
        )
        scatter.set_gid(f"critical-index-{index}-{verdict}")
        handles.append(scatter)
    if show_truth and problem.truth is not None:
        coords = _seam_copies([sphere_coordinates(problem.truth)])
        star = ax.scatter(
            [c[0] for c in coords],
            [c[1] for c in coords],
            s=60,
            marker="*",
            c="gold",
            edgecolors="black",
            linewidths=0.6,
            zorder=5,
            clip_on=False,
            label=_TRUTH_LABEL,
        )
        star.set_gid("truth")
        handles.append(star)
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncol=min(len(handles), 4),
            fontsize=8,
            frameon=False,
        )
    ax.set_title(f"{problem.name} on S²: cost and critical points (equal-area map)", pad=18)
    return fig


# --------------------------------------------------------------------------- 2-D slices
def _map_function(problem: Problem, mapping: str, x: Any) -> Any:
    """The map from T_x M to M: the retraction, or the exponential map if pymanopt has one."""
    manifold = problem.manifold
    if mapping == "retraction":
        return manifold.retraction
    if mapping == "exp":
        try:
            manifold.exp(x, zero_tangent_vector(manifold, x))
        except NotImplementedError as exc:
            raise ValueError(
                f"{manifold} has no exponential map in pymanopt; use mapping='retraction'"
            ) from exc
        return manifold.exp
    raise ValueError(f"mapping must be 'retraction' or 'exp', got {mapping!r}")


def _logarithm(problem: Problem, x: Any, y: Any) -> tuple[Any, str]:
    """log_x(y) when pymanopt has it, else P_x(y − x); and which one it is."""
    manifold = problem.manifold
    try:
        return manifold.log(x, y), "log"
    except NotImplementedError:
        return manifold.projection(x, _difference(y, x)), "projection"


def _lowest_curvature(
    problem: Problem, x: Any, basis: Any, excluded: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` lowest Hessian eigenpairs (coordinates) orthogonal to ``excluded``."""
    import scipy.linalg
    import scipy.sparse.linalg

    hessian = RiemannianHessian(problem, x, basis)
    d = basis.dim
    if excluded.shape[1]:
        q = scipy.linalg.qr(excluded, mode="full")[0][:, excluded.shape[1] :]
    else:
        q = np.eye(d)
    if d <= _DENSE_LIMIT:
        h = q.T @ hessian.matrix() @ q
        values, vectors = np.linalg.eigh(0.5 * (h + h.T))
        return values[:count], q @ vectors[:, :count]

    def matvec(c: np.ndarray) -> np.ndarray:
        return q.T @ hessian.apply_coordinates(q @ np.asarray(c).reshape(-1))

    k = q.shape[1]
    op = scipy.sparse.linalg.LinearOperator((k, k), matvec=matvec, dtype=float)
    values, vectors = scipy.sparse.linalg.eigsh(
        op, k=count, which="SA", v0=np.ones(k) / np.sqrt(k), tol=1e-8
    )
    order = np.argsort(values)
    return values[order], q @ vectors[:, order]


def _orthonormal(columns: list[np.ndarray], what: str) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for c in columns:
        v = np.asarray(c, dtype=float).copy()
        norm0 = np.linalg.norm(v)
        for w in out:
            v -= (w @ v) * w
        if norm0 == 0 or np.linalg.norm(v) <= 1e-10 * norm0:
            raise ValueError(f"{what} must be two linearly independent tangent directions")
        out.append(v / np.linalg.norm(v))
    return out


def _eigenvalue_text(value: float, x: Any) -> str:
    """'λ = −0.5', or 'λ ≈ 0' for an eigenvalue at round-off level."""
    return "λ ≈ 0" if abs(value) <= 1e-9 * max(point_norm(x), 1.0) else f"λ = {value:.3g}"


def _default_directions(
    problem: Problem, x: Any, basis: Any
) -> tuple[list[np.ndarray], list[str], float | None]:
    """Toward the truth and along the most negative curvature (see ``slice_2d``)."""
    scale = max(point_norm(x), 1e-300)
    orbit = _orbit_coordinates(problem, x, basis)
    toward, length = None, None
    if problem.truth is not None:
        target = problem.symmetry.align(problem.truth, x)
        vector, _ = _logarithm(problem, x, target)
        c = basis.to_coordinates(vector)
        if orbit.shape[1]:
            c = c - orbit @ (orbit.T @ c)
        if np.linalg.norm(c) > 1e-8 * scale:
            length = float(np.linalg.norm(c))
            toward = c / length
    if toward is not None:
        excluded = np.column_stack([toward, orbit])
        values, vectors = _lowest_curvature(problem, x, basis, excluded, 1)
        word = "most negative" if values[0] < 0 else "lowest"
        labels = [
            r"toward the truth $x^\star$",
            f"{word} curvature ({_eigenvalue_text(values[0], x)})",
        ]
        return [toward, vectors[:, 0]], labels, length
    values, vectors = _lowest_curvature(problem, x, basis, orbit, 2)
    labels = [
        f"lowest curvature ({_eigenvalue_text(values[0], x)})",
        f"next lowest ({_eigenvalue_text(values[1], x)})",
    ]
    return [vectors[:, 0], vectors[:, 1]], labels, None


def slice_2d(
    problem: Problem,
    point: Any,
    directions: Sequence[Any] | None = None,
    *,
    radius: float | None = None,
    resolution: int = 61,
    mapping: str = "retraction",
    labels: Sequence[str] | None = None,
    cmap: str = "viridis",
    ax: Axes | None = None,
) -> Figure:
    """The cost on the 2-D slice (t₁, t₂) ↦ f(R_x(t₁ d₁ + t₂ d₂)) through ``point``.

    d₁, d₂ are orthonormal tangent directions at x: the two ``directions`` given (tangent
    vectors, projected onto T_x M and orthonormalised by Gram–Schmidt in that order), or by
    default

    * d₁ toward the ground truth: log_x(x♮) (pymanopt's logarithm; the projection P_x(x♮ − x) on
      manifolds without one), x♮ first aligned with x by the symmetry group, symmetry-orbit
      directions removed;
    * d₂ along the most negative curvature orthogonal to d₁ and to the orbit: the eigenvector of
      the lowest eigenvalue of the Riemannian Hessian compressed to that complement;

    and, when the problem has no truth or x is the truth (modulo symmetry), the two lowest
    curvature directions off the orbit.  This is seed 002's picture ("two orthogonal directions
    from the critical point to the ground truth") and seed 003 Fig. 7 (middle): at a saddle the
    slice shows the descent toward x♮ and the negative curvature that breaks the symmetry.

    ``mapping`` is ``"retraction"`` (the manifold's retraction R_x, default) or ``"exp"`` (the
    exponential map, where pymanopt has one: then t is arc length along geodesics).  The grid
    has ``resolution`` points per axis on [−radius, radius] and always contains t = 0 (an even
    resolution is raised by one), so the centre cell shows f(x) itself.  ``radius`` defaults to
    1.3 times the length of the step toward the truth when there is one, else to
    max(‖x‖, 1) (π/2 with ``mapping="exp"`` on the sphere).  Where R_x(t₁ d₁) passes through the
    truth (e.g. on the sphere or a Euclidean space), the truth is marked.
    """
    _require_problem(problem)
    resolution = _require_count(resolution, "resolution", 3)
    resolution += 1 - resolution % 2
    x = problem.check_point(point, "point")
    mapper = _map_function(problem, mapping, x)
    basis = tangent_basis(problem.manifold, x)
    if basis.dim < 2:
        raise ValueError(
            f"slice_2d needs a tangent space of dimension ≥ 2; {problem.name!r} has {basis.dim}"
        )
    length = None
    if directions is None:
        coords, default_labels, length = _default_directions(problem, x, basis)
    else:
        if len(directions) != 2:
            raise ValueError(f"directions must be two tangent vectors, got {len(directions)}")
        coords = _orthonormal([basis.to_coordinates(d) for d in directions], "directions")
        default_labels = ["direction 1", "direction 2"]
    labels = list(labels) if labels is not None else default_labels
    if radius is None:
        if length is not None:
            radius = 1.3 * length
        elif mapping == "exp":
            radius = math.pi / 2 * max(point_norm(x), 1.0)
        else:
            radius = max(point_norm(x), 1.0)
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number, got {radius!r}")
    t = np.linspace(-radius, radius, resolution)
    t[resolution // 2] = 0.0
    t1, t2 = np.meshgrid(t, t)  # rows: t₂, columns: t₁
    grid = np.stack([t1.ravel(), t2.ravel()], axis=1) @ np.stack(coords)
    vectors = basis.to_vectors(grid)
    values = np.array(
        [problem.cost(mapper(x, batch_item(vectors, k))) for k in range(len(grid))]
    ).reshape(t1.shape)

    fig, ax = _figure_and_axes(ax, (6.8, 5.6))
    mesh = ax.pcolormesh(t1, t2, values, cmap=cmap, shading="nearest", rasterized=True)
    mesh.set_gid("slice")
    fig.colorbar(mesh, ax=ax, label="cost f(x)")
    ax.contour(
        t1, t2, values, levels=12, colors="white", linewidths=0.5, linestyles="solid", alpha=0.6
    )
    cert = certify(problem, x)
    verdict = cert.verdict.value
    handles = [
        ax.scatter(
            [0.0],
            [0.0],
            s=110,
            c=VERDICT_STYLES[verdict]["color"],
            marker=VERDICT_STYLES[verdict]["marker"],
            edgecolors="black",
            zorder=4,
            label=f"the point x: {VERDICT_STYLES[verdict]['label']} (index {cert.index})",
        )
    ]
    if problem.truth is not None and directions is None and length is not None:
        where = _truth_on_axis(problem, x, mapper, basis, coords[0], radius)
        if where:
            handles.append(
                ax.scatter(
                    where,
                    [0.0] * len(where),
                    s=160,
                    marker="*",
                    c="gold",
                    edgecolors="black",
                    zorder=5,
                    label=_TRUTH_LABEL + (" and its symmetric copies" if len(where) > 1 else ""),
                )
            )
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    ax.set_xlabel(f"t₁: {labels[0]}")
    ax.set_ylabel(f"t₂: {labels[1]}")
    ax.set_aspect("equal")
    kind = "retraction" if mapping == "retraction" else "exponential map"
    ax.set_title(f"{problem.name}: 2-D slice through x ({kind})", fontsize=11)
    return fig


def _truth_on_axis(
    problem: Problem, x: Any, mapper: Any, basis: Any, direction: np.ndarray, radius: float
) -> list[float]:
    """The t in [−radius, radius] at which map_x(t d₁) is a symmetric copy of the truth.

    Local minima of t ↦ dist_G(map_x(t d₁), x♮) on a fine grid, refined by a bounded scalar
    search, kept when the distance is at round-off level.
    """
    import scipy.optimize

    def distance(s: float) -> float:
        y = mapper(x, basis.to_vector(s * direction))
        return problem.symmetry.distance(y, problem.truth)

    t = np.linspace(-radius, radius, 401)
    d = np.array([distance(s) for s in t])
    tolerance = 1e-5 * max(point_norm(problem.truth), 1.0)
    found = []
    for k in range(len(t)):
        if d[k] <= d[max(k - 1, 0)] and d[k] <= d[min(k + 1, len(t) - 1)]:
            lo, hi = t[max(k - 1, 0)], t[min(k + 1, len(t) - 1)]
            best = scipy.optimize.minimize_scalar(
                distance, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
            )
            if best.fun <= tolerance and all(abs(best.x - f) > 1e-6 for f in found):
                found.append(float(best.x))
    return found


# --------------------------------------------------------------------------- 1-D profiles
def geodesic_profile(
    problem: Problem,
    x: Any,
    y: Any,
    *,
    samples: int = 201,
    align: bool = False,
    certify_ends: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """The cost along the curve from x to y: f(γ(t)), t ∈ [0, 1], γ(0) = x.

    γ is the geodesic γ(t) = exp_x(t log_x y) when pymanopt's manifold has both the logarithm
    and the exponential (the sphere, the Grassmann manifold, Euclidean spaces and products of
    them); otherwise γ(t) = R_x(t P_x(y − x)), the retraction of the projected difference, which
    need not end exactly at y (the title then says how far from y it ends).  The horizontal
    axis is the length t‖v‖ of the tangent step v (arc length for a geodesic).  With ``align``,
    y is first replaced by its symmetric copy closest to x.  With ``certify_ends``, x and y are
    marked by their verdict and index, and the highest point of the path (the barrier between
    them) is annotated — seed 003 Appendix B's paths between critical points.
    """
    _require_problem(problem)
    samples = _require_count(samples, "samples", 3)
    x = problem.check_point(x, "x")
    y = problem.check_point(y, "y")
    if align:
        y = problem.symmetry.align(y, x)
    manifold = problem.manifold
    geodesic = True
    try:
        v = manifold.log(x, y)
        manifold.exp(x, zero_tangent_vector(manifold, x))
        curve = manifold.exp
    except NotImplementedError:
        geodesic = False
        v = manifold.projection(x, _difference(y, x))
        curve = manifold.retraction
    method = "geodesic exp_x(t log_x y)" if geodesic else "retraction R_x(t P_x(y − x))"
    t = np.linspace(0.0, 1.0, samples)
    values = np.array([problem.cost(curve(x, s * v)) for s in t])
    length = float(manifold.norm(x, v))
    miss = point_norm(_difference(curve(x, v), y))

    fig, ax = _figure_and_axes(ax, (7.0, 4.4))
    (line,) = ax.plot(t * length, values, color="#1f4e79", linewidth=2.0, label="f along the path")
    line.set_gid("profile")
    handles = [line]
    if certify_ends:
        for name, s, p in (("x", 0.0, x), ("y", 1.0, y)):
            cert = certify(problem, p)
            style = VERDICT_STYLES[cert.verdict.value]
            handles.append(
                ax.scatter(
                    [s * length],
                    [problem.cost(p)],
                    s=110,
                    c=style["color"],
                    marker=style["marker"],
                    edgecolors="black",
                    zorder=4,
                    label=f"{name}: {style['label']} (index {cert.index})",
                )
            )
        top = int(np.argmax(values))
        if 0 < top < samples - 1:
            barrier = values[top] - max(values[0], values[-1])
            ax.annotate(
                f"highest point\n(+{barrier:.3g} above the higher end)",
                xy=(t[top] * length, values[top]),
                xytext=(0, -38),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "0.3"},
            )
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.grid(True, alpha=0.3)
    ax.set_xlabel("length along the path" + (" (arc length)" if geodesic else " (tangent step)"))
    ax.set_ylabel("cost f")
    title = f"{problem.name}: cost along the {method}"
    if miss > 1e-8 * max(point_norm(y), 1.0):
        title += f"\n(the curve ends {miss:.2g} from y)"
    ax.set_title(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- spectra
def hessian_spectrum(
    problem: Problem,
    point: Any,
    *,
    certificate: Certificate | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The Riemannian Hessian eigenvalues at ``point``, from its certificate, in ascending order.

    Off the symmetry orbit: negative (red), within the eigenvalue tolerance of 0 (purple,
    degenerate) and positive (blue) eigenvalues, as stems from the zero line; along the orbit of
    a continuous symmetry group: orange diamonds (zero when the point is critical — seed 003 §2,
    "the zero curvature direction is precisely the direction tangent to the set of equivalent
    solutions"); the band ± tolerance is shaded, and the verdict, the index (negative eigenvalues
    off the orbit) and the number of symmetry directions are written in the corner.  Beyond
    ``certify``'s dense limit only the eigenvalues Lanczos computed are shown (the smallest few
    and the largest).  ``certificate`` skips recomputing ``certify(problem, point)``.
    """
    _require_problem(problem)
    cert = certificate if certificate is not None else certify(problem, point)
    if not isinstance(cert, Certificate):
        raise TypeError(f"certificate must be a Certificate, got {type(cert).__name__}")
    tol = cert.eigenvalue_tolerance
    eigs = np.asarray(cert.eigenvalues, dtype=float)
    sym = np.asarray(cert.symmetry_eigenvalues, dtype=float)
    values = np.concatenate([eigs, sym])
    is_sym = np.concatenate([np.zeros(len(eigs), bool), np.ones(len(sym), bool)])
    order = np.argsort(values, kind="stable")
    values, is_sym = values[order], is_sym[order]
    position = np.arange(1, len(values) + 1)

    fig, ax = _figure_and_axes(ax, (8.6, 4.4))
    ax.axhspan(-tol, tol, color="0.85", zorder=0, label=f"|λ| ≤ tolerance {tol:.1e}")
    ax.axhline(0.0, color="black", linewidth=0.8, zorder=1)
    stems = len(values) <= 120
    size = 36 if len(values) <= 120 else 10
    groups = [
        ("negative", ~is_sym & (values < -tol), "#d62728", "o"),
        ("zero (degenerate)", ~is_sym & (np.abs(values) <= tol), "#9467bd", "o"),
        ("positive", ~is_sym & (values > tol), "#1f77b4", "o"),
        ("symmetry directions", is_sym, "#ff7f0e", "D"),
    ]
    for label, mask, color, marker in groups:
        if not np.any(mask):
            continue
        if stems:
            ax.vlines(position[mask], 0.0, values[mask], color=color, linewidth=1.2, zorder=2)
        scatter = ax.scatter(
            position[mask],
            values[mask],
            s=size,
            c=color,
            marker=marker,
            edgecolors="black" if marker == "D" else "none",
            zorder=3,
            label=f"{label} ({int(np.sum(mask))})",
        )
        scatter.set_gid(f"eigenvalues-{label.split()[0]}")
    index = f"{cert.index}" if cert.index_exact else f"≥ {cert.index}"
    text = (
        f"{VERDICT_STYLES[cert.verdict.value]['label']}\n"
        f"index {index}\n"
        f"symmetry directions {cert.symmetry_dimension}\n"
        f"‖grad f‖ = {cert.gradient_norm:.1e}"
    )
    ax.text(
        0.02,
        0.97,
        text,
        transform=ax.transAxes,
        va="top",
        fontsize=9,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_xlim(0.4, len(values) + 0.6)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_xlabel("eigenvalue number (ascending)")
    ax.set_ylabel("eigenvalue of Hess f(x)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    what = "all eigenvalues" if cert.method == "dense" else "Lanczos: smallest few and largest"
    ax.set_title(
        f"{problem.name}: Riemannian Hessian spectrum ({what}, d = {cert.tangent_dimension})",
        fontsize=10,
    )
    return fig


# --------------------------------------------------------------------------- convergence
def _named_results(results: Any) -> list[tuple[str, Result]]:
    if isinstance(results, Result):
        results = [results]
    if isinstance(results, Mapping):
        pairs = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Iterable) and not isinstance(results, (str, bytes)):
        pairs, seen = [], {}
        for r in results:
            name = str(getattr(r, "solver", "run"))
            seen[name] = seen.get(name, 0) + 1
            pairs.append((name if seen[name] == 1 else f"{name} #{seen[name]}", r))
    else:
        raise TypeError(
            "results must be a Result, a sequence of Results or a mapping name → Result, "
            f"got {type(results).__name__}"
        )
    for name, r in pairs:
        if not isinstance(r, Result):
            raise TypeError(f"results[{name!r}] must be a Result, got {type(r).__name__}")
    if not pairs:
        raise ValueError("results is empty: give at least one Result")
    return pairs


def convergence(
    results: Mapping[str, Result] | Sequence[Result] | Result,
    *,
    problem: Problem | None = None,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Cost gap, gradient norm and distance to the truth per iteration, one line per run.

    Three panels on log scales, iteration k on the horizontal axis (iteration 0 is the start):

    1. f(x_k) − f_ref, with f_ref the lowest cost any run reached (and f(x♮) if ``problem`` has a
       truth and it is lower): the suboptimality, with values ≤ 0 left out;
    2. ‖grad f(x_k)‖ from the ``History``;
    3. dist_G(x_k, x♮)/‖x♮‖, the distance to the truth modulo the symmetry group
       (``problem.distance_to_truth``) — needs ``problem`` with a truth and runs made with
       ``keep_iterates=True`` (``ms.solve(..., keep_iterates=True)``); otherwise the panel says
       what is missing.

    ``results`` is a mapping name → ``Result`` or a sequence of Results (named by solver). The
    legend gives each run's final verdict.  ``ax``: three axes to draw into.
    """
    pairs = _named_results(results)
    if problem is not None:
        _require_problem(problem)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(13.0, 4.0), layout="constrained")
        axes = list(fig.subplots(1, 3))
    else:
        axes = list(ax) if isinstance(ax, Iterable) else [ax]
        if len(axes) != 3:
            raise ValueError(f"ax must be three matplotlib Axes, got {len(axes)}")
        fig = axes[0].get_figure(root=True)
    reference = min(float(np.nanmin(r.history.cost)) for _, r in pairs if len(r.history))
    if problem is not None and problem.truth is not None:
        reference = min(reference, problem.cost(problem.truth))
    missing = None
    if problem is None:
        missing = "pass problem= to see\nthe distance to the truth"
    elif problem.truth is None:
        missing = f"{problem.name!r} has no ground truth"
    elif any(r.history.iterates is None for _, r in pairs):
        missing = "run the solvers with\nkeep_iterates=True to see\nthe distance to the truth"
    for k, (name, r) in enumerate(pairs):
        h = r.history
        it = np.arange(len(h))
        color = f"C{k % 10}"
        verdict = None if r.certificate is None else r.certificate.verdict.value
        label = name if verdict is None else f"{name} ({VERDICT_STYLES[verdict]['label']})"
        gap = h.cost - reference
        axes[0].plot(it, np.where(gap > 0, gap, np.nan), color=color, label=label, gid=name)
        axes[1].plot(it, h.gradient_norm, color=color, label=label, gid=name)
        if missing is None:
            distance = np.array([problem.distance_to_truth(p) for p in h.iterates])
            axes[2].plot(it, distance, color=color, label=label, gid=name)
    titles = [
        f"cost gap (f_ref = {reference:.6g})",
        "Riemannian gradient norm",
        "distance to the truth (mod symmetry)",
    ]
    ylabels = ["f(x_k) − f_ref", "‖grad f(x_k)‖", r"dist$(x_k, x^\star)\,/\,\|x^\star\|$"]
    for a, title, ylabel in zip(axes, titles, ylabels, strict=True):
        a.set_yscale("log")
        a.set_xlabel("iteration k")
        a.set_ylabel(ylabel)
        a.set_title(title, fontsize=10)
        a.grid(True, which="major", alpha=0.3)
    if missing is not None:
        axes[2].text(0.5, 0.5, missing, ha="center", va="center", transform=axes[2].transAxes)
    axes[0].legend(fontsize=8)
    if problem is not None and ax is None:
        fig.suptitle(f"{problem.name}: convergence of {len(pairs)} run(s)")
    return fig


# --------------------------------------------------------------------------- Morse diagram
def _classes(census_or_classes: Any) -> list[Any]:
    items = getattr(census_or_classes, "classes", census_or_classes)
    if not isinstance(items, Iterable):
        raise TypeError(
            "morse_diagram needs a census (with .classes) or an iterable of critical points "
            f"with cost, index, verdict and count, got {type(census_or_classes).__name__}"
        )
    items = list(items)
    for item in items:
        missing = [a for a in ("cost", "index", "verdict") if not hasattr(item, a)]
        if missing:
            raise TypeError(
                f"a critical point for morse_diagram needs cost, index and verdict; "
                f"{type(item).__name__} lacks {', '.join(missing)}"
            )
    return items


def morse_diagram(
    census_or_classes: Any, *, title: str | None = None, ax: Axes | None = None
) -> Figure:
    """Critical points by cost against index: seed 003 Fig. 6, 7 and 8 (right panels).

    Each class of critical points (a census's ``.classes``, or any iterable of items with
    ``cost``, ``index``, ``verdict`` and optionally ``count``) is a marker at (index, cost),
    coloured by verdict, its area growing with ``count`` (how many starts reached it) and
    labelled "×count".  A landscape whose cost grows with the index — "critical points with
    higher objective values have more negative eigenvalues" (seed 003 §2.2, the cascade of
    saddle points) — shows as a staircase from the minimizers at index 0 up.
    """
    items = _classes(census_or_classes)
    fig, ax = _figure_and_axes(ax, (6.4, 4.8))
    counts = np.array([max(int(getattr(i, "count", 1)), 1) for i in items], dtype=float)
    biggest = float(counts.max()) if len(counts) else 1.0

    def area(count: float) -> float:
        return 40.0 + 260.0 * math.sqrt(count / biggest)

    by_verdict: dict[str, list[int]] = {}
    for k, item in enumerate(items):
        by_verdict.setdefault(_verdict_name(item.verdict), []).append(k)
    for verdict in sorted(by_verdict, key=_VERDICT_ORDER.index):
        ks = by_verdict[verdict]
        style = VERDICT_STYLES[verdict]
        scatter = ax.scatter(
            [int(items[k].index) for k in ks],
            [float(items[k].cost) for k in ks],
            s=[area(counts[k]) for k in ks],
            c=style["color"],
            marker=style["marker"],
            edgecolors="black",
            linewidths=0.8,
            alpha=0.9,
            zorder=3,
            label=f"{style['label']} ({len(ks)})",
        )
        scatter.set_gid(f"morse-{verdict}")
    if len(items) <= 40:
        for k, item in enumerate(items):
            ax.annotate(
                f"×{int(counts[k])}",
                (int(item.index), float(item.cost)),
                xytext=(0.5 * math.sqrt(area(counts[k])) + 4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color="0.25",
            )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if items:
        indices = [int(i.index) for i in items]
        ax.set_xlim(min(indices) - 0.6, max(indices) + 0.9)
        costs = np.array([float(i.cost) for i in items])
        span = float(np.ptp(costs)) or max(abs(float(costs[0])), 1.0)
        ax.set_ylim(costs.min() - 0.08 * span, costs.max() + 0.08 * span)
    ax.grid(True, alpha=0.3)
    ax.set_xlabel("index (number of negative Hessian eigenvalues)")
    ax.set_ylabel("cost f")
    if title is None:
        problem = getattr(census_or_classes, "problem", None)
        name = problem if isinstance(problem, str) else getattr(problem, "name", None)
        title = "Morse diagram" + (f" of {name}" if name else "") + ": critical points by index"
    ax.set_title(title, fontsize=11)
    if items:
        handles = [
            _legend_handle(v, f"{VERDICT_STYLES[v]['label']} ({len(by_verdict[v])})")
            for v in sorted(by_verdict, key=_VERDICT_ORDER.index)
        ]
        ax.legend(
            handles=handles,
            fontsize=8,
            loc="upper left",
            title="classes (×n: found n times;\nmarker area grows with n)",
            title_fontsize=8,
        )
    else:
        ax.text(0.5, 0.5, "no critical points", ha="center", va="center", transform=ax.transAxes)
    return fig
