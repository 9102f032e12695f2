"""What the pictures of ``manifoldscape.landscape.plots`` share: verdict styles, figures, marks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.certificate import certify
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    point_norm,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
