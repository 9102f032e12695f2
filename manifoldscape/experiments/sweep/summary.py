"""Summaries of a sweep: success rates with Wilson 95% intervals, failures sorted by certificate.

Every value a summary reads from a stored trial was checked by the store when it opened the file
(types of every column, the grid point's JSON), so a summary of an edited file never fails half
way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

_Z95 = 1.959963984540054  # the 0.975 quantile of N(0, 1)


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927), 95% by default.

    (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n); (0, 1) when n = 0.
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def summarize(
    records: Iterable[Mapping[str, Any]], definition: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per grid point: trials, successes, success rate and its Wilson 95% interval.

    The rate counts the trials that ran to the end (errors are listed apart).  Among failures,
    the certificates sort the final points: ``spurious_minimizers`` (a local minimizer whose cost
    is above the truth's), ``other_global_minimizers`` (a local minimizer as good as the truth
    but not it, cost ≤ f(x♮) + 1e-6 |f(x₀)|: the data do not determine x, as below m = 2n − 1
    for real phase retrieval, seed 000 "Solvability"), ``saddles`` (strict saddles),
    ``degenerate`` and ``other_failures`` (not critical — the solver stopped early — or a
    maximizer).
    """
    keys = [key for key, _ in definition.get("grid", [])]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    order: dict[str, int] = {}
    for record in records:
        groups.setdefault(record["point"], []).append(record)
        order[record["point"]] = int(record["point_index"])
    rows = []
    for point in sorted(groups, key=lambda p: order[p]):
        trials = groups[point]
        finished = [r for r in trials if not r.get("error")]
        judged = [r for r in finished if r.get("success") is not None]
        successes = sum(1 for r in judged if r["success"])
        failures = [r for r in judged if not r["success"]]
        low, high = wilson_interval(successes, len(judged))
        verdicts = [r.get("verdict") for r in failures]
        minimizers = [r for r in failures if r.get("verdict") == "local_minimizer"]
        global_ = sum(1 for r in minimizers if _as_good_as_truth(r))
        spurious = len(minimizers) - global_
        saddles = verdicts.count("strict_saddle")
        degenerate = verdicts.count("degenerate")
        values = json.loads(point)
        row: dict[str, Any] = {key: values.get(key) for key in keys}
        row.update(
            point_index=order[point],
            trials=len(trials),
            successes=successes,
            rate=successes / len(judged) if judged else None,
            rate_low=low if judged else None,
            rate_high=high if judged else None,
            spurious_minimizers=spurious,
            other_global_minimizers=global_,
            saddles=saddles,
            degenerate=degenerate,
            other_failures=len(failures) - len(minimizers) - saddles - degenerate,
            errors=len(trials) - len(finished),
            median_iterations=_median([r.get("iterations") for r in finished]),
            median_solve_time=_median([r.get("solve_time") for r in finished]),
        )
        rows.append(row)
    return rows


def _as_good_as_truth(record: Mapping[str, Any]) -> bool:
    cost, truth, start = record.get("cost"), record.get("truth_cost"), record.get("start_cost")
    if cost is None or truth is None:
        return False
    return cost <= truth + 1e-6 * abs(start if start is not None else cost)


def _median(values: Sequence[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return float(np.median(present)) if present else None


def format_summary(rows: Sequence[Mapping[str, Any]], definition: Mapping[str, Any]) -> str:
    """The summary as an aligned text table."""
    keys = [key for key, _ in definition.get("grid", [])]
    header = [
        *keys,
        "trials",
        "success",
        "rate",
        "95% CI",
        "spurious min",
        "other global",
        "saddles",
        "degenerate",
        "other",
        "errors",
        "median it",
    ]
    lines = [header]
    for row in rows:
        rate = "-" if row["rate"] is None else f"{row['rate']:.2f}"
        interval = (
            "-" if row["rate_low"] is None else f"[{row['rate_low']:.2f}, {row['rate_high']:.2f}]"
        )
        iterations = "-" if row["median_iterations"] is None else f"{row['median_iterations']:g}"
        lines.append(
            [
                *(str(row[k]) for k in keys),
                str(row["trials"]),
                str(row["successes"]),
                rate,
                interval,
                str(row["spurious_minimizers"]),
                str(row["other_global_minimizers"]),
                str(row["saddles"]),
                str(row["degenerate"]),
                str(row["other_failures"]),
                str(row["errors"]),
                iterations,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
