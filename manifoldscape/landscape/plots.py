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

from typing import TYPE_CHECKING, Any

from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    point_shape,
)
from manifoldscape.landscape.plot_diagrams import (
    convergence,
    hessian_spectrum,
    morse_diagram,
)
from manifoldscape.landscape.plot_slices import (
    geodesic_profile,
    slice_2d,
)
from manifoldscape.landscape.plot_support import (
    _TRUTH_LABEL,
    VERDICT_STYLES,
    _as_marked,
    _costs,
    _figure_and_axes,
    _Marked,
    _require_count,
    _require_problem,
    _seam_copies,
    _sphere_grid,
    _symmetric_copies,
    save_figure,
    sphere_coordinates,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
