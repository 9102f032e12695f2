"""``hessian_spectrum``, ``convergence`` and ``morse_diagram``: spectra, runs and censuses.

Seed 003 §2 and Fig. 6–8, seed 002; see ``manifoldscape.landscape.plots`` for the catalogue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from manifoldscape.core.certificate import Certificate, certify
from manifoldscape.core.problem import Problem
from manifoldscape.core.result import Result
from manifoldscape.landscape.plot_support import (
    _VERDICT_ORDER,
    VERDICT_STYLES,
    _figure_and_axes,
    _legend_handle,
    _require_problem,
    _verdict_name,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
