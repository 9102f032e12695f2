"""The phase-transition picture of a sweep: success-rate curves or a heat map.

Read from a ``SweepResult`` or a store file (opened read-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from manifoldscape.boundary.expressions import parse_expression
from manifoldscape.experiments.store import open_store
from manifoldscape.experiments.sweep.plan import SweepError
from manifoldscape.experiments.sweep.summary import summarize


def _load(source: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if hasattr(source, "summary") and hasattr(source, "definition"):  # a SweepResult
        return source.summary(), source.definition
    with open_store(source, readonly=True) as store:
        stored = store.definition()
        if stored is None:
            raise SweepError(f"{source} holds no sweep")
        return summarize(store.records(), stored[1]), stored[1]


def _default_axis(definition: Mapping[str, Any], exclude: str | None) -> str:
    """The first varying grid key given as ratios c*name (then "key/name"), else the first one."""
    grid = [(k, v) for k, v in definition.get("grid", []) if k != exclude]
    if not grid:
        raise SweepError("the sweep has no grid parameter to plot against")
    varying = [(k, v) for k, v in grid if len(v) > 1] or grid
    for key, values in varying:
        bases = {_ratio_base(value) for value in values}
        if len(bases) == 1 and None not in bases:
            return f"{key}/{bases.pop()}"
    return varying[0][0]


def _ratio_base(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        ratio = parse_expression(value).ratio()
    except ValueError:
        return None
    return None if ratio is None else ratio[1]


def _axis_values(
    rows: Sequence[Mapping[str, Any]], axis: str, definition: Mapping[str, Any]
) -> list[Any]:
    keys = [k for k, _ in definition.get("grid", [])]
    fixed = dict(definition.get("problem_options", {}))
    if axis in keys:
        return [row[axis] for row in rows]
    try:
        expression = parse_expression(axis)
    except ValueError as exc:
        raise SweepError(f"axis {axis!r}: not a grid key ({', '.join(keys)}) nor {exc}") from None
    unknown = expression.names - set(keys) - set(fixed)
    if unknown:
        raise SweepError(
            f"axis {axis!r}: unknown {', '.join(sorted(unknown))}; grid keys: {', '.join(keys)}"
        )
    return [expression.evaluate({**fixed, **row}) for row in rows]


def phase_transition(
    source: Any,
    x: str | None = None,
    y: str | None = None,
    *,
    lines: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Any:
    """The phase-transition picture of a sweep (a ``SweepResult`` or a store file).

    One parameter (``x``: a grid key or an expression of them like ``"m/n"``; by default the
    varying grid key, as a ratio when its values were given as ``c*name``): success rate against
    x with Wilson 95% intervals, one curve per value of the other varying keys, and below it the
    failures the certificates call spurious minimizers, saddles, and minimizers as good as the
    truth but not it (see ``summarize``).  Two (``x`` and ``y``): a
    heat map of the success rate, each cell annotated with its rate.  ``lines`` draws labelled
    vertical lines (e.g. the information-theoretic m = 2n − 1, seed 000 "Solvability").
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    rows, definition = _load(source)
    if not rows:
        raise SweepError("the sweep has no trials to plot yet")
    x = x or _default_axis(definition, y)
    xs = _axis_values(rows, x, definition)
    name = definition.get("problem", "")
    fixed = ", ".join(f"{k}={v}" for k, v in definition.get("problem_options", {}).items())
    name = f"{name} ({fixed})" if fixed else name
    if y is not None:
        ys = _axis_values(rows, y, definition)
        x_levels = sorted(set(xs), key=_sort_key)
        y_levels = sorted(set(ys), key=_sort_key)
        grid = np.full((len(y_levels), len(x_levels)), np.nan)
        for row, xv, yv in zip(rows, xs, ys, strict=True):
            if row["rate"] is not None:
                grid[y_levels.index(yv), x_levels.index(xv)] = row["rate"]
        figure, ax = plt.subplots(figsize=(1.0 + 0.55 * len(x_levels), 1.5 + 0.45 * len(y_levels)))
        image = ax.imshow(grid, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
        for i in range(len(y_levels)):
            for j in range(len(x_levels)):
                if np.isfinite(grid[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{grid[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if grid[i, j] < 0.5 else "black",
                    )
        ax.set_xticks(range(len(x_levels)), [_label(v) for v in x_levels], rotation=45)
        ax.set_yticks(range(len(y_levels)), [_label(v) for v in y_levels])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        figure.colorbar(image, ax=ax, label="success rate")
        ax.set_title(title or f"{name}: success rate")
        figure.tight_layout()
        return figure

    varying = [k for k, v in definition.get("grid", []) if len(v) > 1]
    along = next((k for k in _ordered_names(x) if k in varying), None)
    keys = [k for k in varying if k != along]
    curves: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for row, xv in zip(rows, xs, strict=True):
        label = ", ".join(f"{k}={row[k]}" for k in keys)
        curves.setdefault(label, []).append((xv, row))
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.4, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}
    )
    for index, (label, points) in enumerate(curves.items()):
        points.sort(key=lambda p: _sort_key(p[0]))
        px = [p[0] for p in points if p[1]["rate"] is not None]
        rate = np.array([p[1]["rate"] for p in points if p[1]["rate"] is not None])
        low = np.array([p[1]["rate_low"] for p in points if p[1]["rate"] is not None])
        high = np.array([p[1]["rate_high"] for p in points if p[1]["rate"] is not None])
        color = f"C{index}"
        top.fill_between(px, low, high, color=color, alpha=0.2, linewidth=0)
        top.errorbar(
            px,
            rate,
            yerr=[rate - low, high - rate],
            color=color,
            marker="o",
            ms=4,
            capsize=2,
            label=label or None,
        )
        fx = [p[0] for p in points]
        bottom.plot(
            fx,
            [p[1]["spurious_minimizers"] for p in points],
            color=color,
            marker="v",
            ms=4,
            label="spurious minimizers" if index == 0 else None,
        )
        bottom.plot(
            fx,
            [p[1]["saddles"] for p in points],
            color=color,
            marker="x",
            ms=4,
            linestyle="--",
            label="saddles" if index == 0 else None,
        )
        bottom.plot(
            fx,
            [p[1]["other_global_minimizers"] for p in points],
            color=color,
            marker="s",
            ms=3,
            linestyle=":",
            label="minimizers as good as the truth" if index == 0 else None,
        )
    for text, position in (lines or {}).items():
        for ax in (top, bottom):
            ax.axvline(position, color="0.3", linestyle=":", linewidth=1.2)
        top.text(position, 0.5, f" {text}", rotation=90, va="center", ha="right", fontsize=8)
    top.set_ylim(-0.03, 1.03)
    top.set_ylabel("success rate (Wilson 95%)")
    top.grid(alpha=0.3)
    if any(curves):
        top.legend(fontsize=8, loc="lower right")
    top.set_title(title or f"{name}: phase transition")
    bottom.set_ylabel("failures")
    bottom.set_xlabel(x)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return figure


def _ordered_names(text: str) -> list[str]:
    try:
        return parse_expression(text).ordered_names()
    except ValueError:
        return [text]


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
