"""``slice_2d`` and ``geodesic_profile``: the cost on 2-D slices and along geodesics.

Seed 002 ("Simulation results") and seed 003 Fig. 7 and Appendix B; see
``manifoldscape.landscape.plots`` for the catalogue of pictures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.certificate import certify
from manifoldscape.core.hessian import RiemannianHessian
from manifoldscape.core.problem import Problem
from manifoldscape.geometry import (
    batch_item,
    point_norm,
    tangent_basis,
    zero_tangent_vector,
)
from manifoldscape.landscape.plot_support import (
    _DENSE_LIMIT,
    _TRUTH_LABEL,
    VERDICT_STYLES,
    _difference,
    _figure_and_axes,
    _orbit_coordinates,
    _require_count,
    _require_problem,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
