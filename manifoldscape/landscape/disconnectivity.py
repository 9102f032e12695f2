"""Pictures of the cascade graph: the cascade over the Morse diagram, the disconnectivity graph.

* ``cascade_diagram`` — the Morse diagram (cost against index, seed 003 Fig. 6–8 right panels)
  with an arrow for every edge x↑ → y of the cascade graph, its width growing with the number of
  flow lines; the edges of seed 003's "graded" cascade all point down and to the left.
* ``disconnectivity_graph`` — the Becker–Karplus disconnectivity graph (Becker and Karplus,
  J. Chem. Phys. 106, 1495, 1997; Wales, Miller and Walsh, Nature 394, 758, 1998): every minima
  class is a vertical line from its cost up to the level where the lowest barrier joins it to
  others; lines merge at the barrier levels (``landscape.barriers.merge_tree``).  A class whose
  copies are joined by a barrier (±v₁ through ±v₂ for the Rayleigh quotient) forks into two
  lines below that level, labelled with the number of copies (the orbit size).

Both return a ``matplotlib.figure.Figure`` (an ``ax`` may be given); matplotlib is imported
lazily, as in ``manifoldscape.landscape.plots``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from manifoldscape.landscape.barriers import MergeNode, merge_tree

if TYPE_CHECKING:
    from manifoldscape.landscape.graph import CascadeGraph

__all__ = ["cascade_diagram", "disconnectivity_graph"]


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax.get_figure(root=True), ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _check_graph(graph: Any) -> CascadeGraph:
    from manifoldscape.landscape.graph import CascadeGraph

    if not isinstance(graph, CascadeGraph):
        raise TypeError(f"graph must be a CascadeGraph, got {type(graph).__name__}")
    return graph


def cascade_diagram(graph: CascadeGraph, *, ax: Any = None, title: str | None = None) -> Any:
    """The cascade graph over the Morse diagram (module docstring); returns the figure."""
    from manifoldscape.landscape.plots import morse_diagram

    graph = _check_graph(graph)
    fig, ax = _axes(ax, (7.0, 5.0))
    morse_diagram(list(graph.nodes), ax=ax, title=title or f"cascade of {graph.problem}")
    position = {n.number: (int(n.index), float(n.cost)) for n in graph.nodes}
    biggest = max((e.count for e in graph.edges), default=1)
    for e in graph.edges:
        start, end = position[e.source], position[e.target]
        width = 0.6 + 2.2 * math.sqrt(e.count / biggest)
        color = "0.2" if e.constrained else "0.55"
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>",
                "color": color,
                "lw": width,
                "shrinkA": 7,
                "shrinkB": 7,
                "alpha": 0.75,
                "connectionstyle": "arc3,rad=0.08",
            },
            zorder=2,
        )
    for n in graph.nodes:
        ax.annotate(
            f"#{n.number}",
            position[n.number],
            xytext=(-6, 7),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.1",
        )
    dispersive = graph.dispersive
    note = f"{len(graph.edges)} edges; graded: {'yes' if graph.graded else 'no'}; dispersive: " + (
        "—" if dispersive is None else "yes" if dispersive else "no"
    )
    ax.text(0.99, 0.01, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
    return fig


def _leaves(node: MergeNode) -> list[MergeNode]:
    if node.is_leaf:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def disconnectivity_graph(graph: CascadeGraph, *, ax: Any = None, title: str | None = None) -> Any:
    """The Becker–Karplus disconnectivity graph of the minima classes; returns the figure."""
    graph = _check_graph(graph)
    fig, ax = _axes(ax, (6.4, 4.8))
    roots = merge_tree(graph)
    if not roots:
        ax.text(0.5, 0.5, "no minima", ha="center", va="center", transform=ax.transAxes)
        return fig
    costs = [n.cost for n in graph.nodes]
    levels = [r.level for root in roots for r in _walk(root)] + [
        leaf.copies_level for root in roots for leaf in _leaves(root) if leaf.copies_level
    ]
    low, high = min(costs), max([*levels, min(costs)])
    span = (high - low) or max(abs(low), 1.0)
    top = high + 0.15 * span
    x_of: dict[int, float] = {}
    order = [leaf for root in roots for leaf in _leaves(root)]
    for k, leaf in enumerate(order):
        x_of[id(leaf)] = float(k)

    def place(node: MergeNode) -> float:
        if node.is_leaf:
            return x_of[id(node)]
        xs = [place(c) for c in node.children]
        x_of[id(node)] = sum(xs) / len(xs)
        return x_of[id(node)]

    style = {"color": "0.15", "lw": 1.6, "solid_capstyle": "round"}
    for root in roots:
        place(root)
        _draw(ax, root, top, x_of, graph, style)
    ax.set_xlim(-0.8, len(order) - 0.2)
    ax.set_ylim(low - 0.08 * span, top + 0.02 * span)
    ax.set_xticks([x_of[id(leaf)] for leaf in order])
    ax.set_xticklabels([_leaf_label(graph, leaf) for leaf in order], fontsize=8)
    ax.set_ylabel("cost f")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"disconnectivity graph of {graph.problem}", fontsize=11)
    return fig


def _walk(node: MergeNode) -> list[MergeNode]:
    return [node, *(n for c in node.children for n in _walk(c))]


def _leaf_label(graph: CascadeGraph, leaf: MergeNode) -> str:
    number = leaf.minima[0]
    size = graph.node(number).orbit_size
    return f"#{number}" + (f"\n×{size}" if size and size > 1 else "")


def _draw(
    ax: Any, node: MergeNode, up_to: float, x_of: dict[int, float], graph: Any, style: dict
) -> None:
    x = x_of[id(node)]
    if node.is_leaf:
        fork = node.copies_level
        if fork is not None and fork < up_to:
            # copies of one class: two lines from the minimum joining at the copies' barrier
            for dx in (-0.18, 0.18):
                ax.plot([x + dx, x + dx], [node.level, fork], **style)
            ax.plot([x - 0.18, x + 0.18], [fork, fork], **style)
            ax.plot([x, x], [fork, up_to], **style)
            ax.annotate(
                f"copies joined through #{node.copies_saddle}",
                (x + 0.18, fork),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=7,
                color="0.35",
            )
        else:
            ax.plot([x, x], [node.level, up_to], **style)
        return
    ax.plot([x, x], [node.level, up_to], **style)
    xs = [x_of[id(c)] for c in node.children]
    ax.plot([min(xs), max(xs)], [node.level, node.level], **style)
    if node.saddle is not None:
        ax.annotate(
            f"#{node.saddle}",
            (x, node.level),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=7,
            color="0.35",
        )
    for child in node.children:
        _draw(ax, child, node.level, x_of, graph, style)
